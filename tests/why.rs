//! The "why" tools on both backends: the logit lens and the ablations against transformers
//! (tests/data/why, made by tools/why_oracle/make.py), every new op against the CPU reference,
//! the attribution identity, and patching's fixed points.

mod common;

use glassbox::gpu::GpuOptions;
use glassbox::graph::probe::{Ablation, Ablations, AttributionTarget, Probes};
use glassbox::graph::{DType, Graph};
use glassbox::model::Model;
use glassbox::values::compare::{compare, TOLERANCE};
use glassbox::why::patch::Site;
use glassbox::why::{self, GpuBackend, Runner};

fn model() -> Model {
    Model::load_dir(&common::oracle_dir("tiny_2l")).unwrap()
}

fn why_file(name: &str) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    common::read_expected(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/why")
            .join(name),
    )
}

fn ids() -> Vec<u32> {
    let lens = why_file("lens.safetensors");
    let (_, _, ids) = lens.iter().find(|(n, _, _)| n == "input_ids").unwrap();
    ids.iter().map(|&v| v as u32).collect()
}

/// A device with the model on it; a test with no adapter fails here.
fn backend(model: &Model) -> GpuBackend {
    pollster::block_on(GpuBackend::open(model, &GpuOptions::default()))
        .expect("a GPU adapter (lavapipe on CI)")
}

/// Both backends, GPU first.
fn runners<'a>(model: &'a Model, gpu: &'a GpuBackend) -> Vec<(&'static str, Runner<'a>)> {
    vec![("gpu", gpu.runner()), ("cpu", Runner::Cpu(model))]
}

#[test]
fn lens_matches_transformers_on_both_backends() {
    let model = model();
    let gpu = backend(&model);
    let ids = ids();
    let expected = why_file("lens.safetensors");
    let v = model.config.vocab_size;
    let top = 5;
    for (backend, runner) in runners(&model, &gpu) {
        let report = pollster::block_on(why::lens::lens(
            &runner,
            &model.config,
            &ids,
            top,
            &Ablations::default(),
        ))
        .unwrap();
        assert_eq!(report.layers.len(), model.config.n_layer + 1);
        for layer in &report.layers {
            let (_, _, want) = expected
                .iter()
                .find(|(n, _, _)| *n == format!("lens.{}", layer.layer))
                .unwrap();
            assert_eq!(layer.positions.len(), ids.len());
            for (t, position) in layer.positions.iter().enumerate() {
                let row = &want[t * v..][..v];
                let mut sorted = row.to_vec();
                sorted.sort_by(|a, b| b.total_cmp(a));
                for (rank, ranked) in position.top.iter().enumerate() {
                    let truth = row[ranked.id as usize];
                    let what = format!("{backend} layer {} position {t} rank {rank}", layer.layer);
                    assert!(
                        (ranked.prob - truth).abs() <= TOLERANCE,
                        "{what}: {} vs {truth}",
                        ranked.prob
                    );
                    // The rank-th best of transformers' probabilities: the same token or a tie.
                    assert!(
                        (sorted[rank] - truth).abs() <= TOLERANCE,
                        "{what}: not the {rank}-th best"
                    );
                }
                assert!(
                    position.top.windows(2).all(|w| w[0].prob >= w[1].prob),
                    "{backend}: sorted"
                );
            }
        }
    }
}

fn cases() -> Vec<(String, Ablations)> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/why/cases.json"),
    )
    .unwrap();
    let cases: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    cases
        .into_iter()
        .map(|(name, case)| {
            let units = case["units"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap().parse::<Ablation>().unwrap())
                .collect();
            let mean = case["mean"].as_bool().unwrap();
            (name, Ablations { units, mean })
        })
        .collect()
}

#[test]
fn ablations_match_transformers_hooks_on_both_backends() {
    let model = model();
    let gpu = backend(&model);
    let ids = ids();
    let cases = cases();
    assert_eq!(cases.len(), 7, "every case of tools/why_oracle/make.py");
    for (backend, runner) in runners(&model, &gpu) {
        for (name, ablations) in &cases {
            let graph = Graph::forward_ablated(&model.config, ids.len(), ablations);
            let aliases = graph.hf_aliases();
            let expected = why_file(&format!("ablate_{name}.safetensors"));
            let wanted: Vec<_> = expected
                .iter()
                .filter(|(n, _, _)| n != "input_ids")
                .map(|(n, _, _)| aliases.iter().find(|(a, _)| a == n).unwrap().1)
                .collect();
            let values = pollster::block_on(runner.run(&graph, &ids, &[], &wanted)).unwrap();
            let expected = expected.iter().filter(|(n, _, _)| n != "input_ids");
            let mut checked = 0;
            for ((tensor, _, want), got) in expected.zip(&values) {
                let diff = compare(got, want);
                assert!(diff.passes(), "{backend} {name} {tensor}: {diff:?}");
                checked += 1;
            }
            assert_eq!(
                checked,
                1 + model.config.n_layer + 1,
                "{name}: logits and hidden states"
            );
            // The ablation changes the answer: a test that passes without ablating cannot pass.
            let plain = why_file("lens.safetensors");
            let (_, _, last_layer) = plain.iter().find(|(n, _, _)| n == "lens.2").unwrap();
            assert!(
                compare(
                    &softmax_rows(&values[0], model.config.vocab_size),
                    last_layer
                )
                .max_abs
                    > 1e-3,
                "{backend} {name}: the ablation changed nothing"
            );
        }
    }
}

fn softmax_rows(logits: &[f32], cols: usize) -> Vec<f32> {
    logits
        .chunks_exact(cols)
        .flat_map(|row| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|x| (x - max).exp()).sum();
            row.iter()
                .map(move |x| (x - max).exp() / sum)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every op of a graph carrying every probe, GPU against the CPU reference, and with the
/// vocabulary split into chunks (the large-model path).
#[test]
fn every_probe_op_matches_the_cpu_reference() {
    let model = model();
    let ids = ids();
    let probes = Probes {
        ablations: Ablations {
            units: vec![
                Ablation::Head { layer: 1, head: 2 },
                Ablation::Neuron {
                    layer: 0,
                    neuron: 3,
                },
            ],
            mean: true,
        },
        lens_top: Some(7),
        head_scores: true,
        attribution: Some(AttributionTarget {
            token: 99,
            position: 9,
        }),
    };
    let graph = Graph::probed(&model.config, ids.len(), &probes);
    let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    for max_chunk_rows in [None, Some(5)] {
        let options = GpuOptions {
            max_chunk_rows,
            ..GpuOptions::default()
        };
        let values = glassbox::cli::gpu_forward(&model, &graph, &ids, &options).unwrap();
        let mut checked = 0;
        for op in &graph.ops {
            for &out in &op.outputs {
                let tensor = &graph.tensors[out];
                if tensor.dtype == DType::U32 {
                    // Ranked token ids: the same, where the values ranked differ beyond rounding.
                    let value_id = graph
                        .tensor_id(&tensor.name.replace(".index", ".value"))
                        .unwrap();
                    let (gpu_values, cpu_values) = (values.get(value_id), reference.get(value_id));
                    for (i, (&g, &c)) in values.get(out).iter().zip(reference.get(out)).enumerate()
                    {
                        let tie = (gpu_values[i] - cpu_values[i]).abs() <= TOLERANCE
                            && cpu_values
                                .iter()
                                .filter(|&&x| (x - cpu_values[i]).abs() <= TOLERANCE)
                                .count()
                                > 1;
                        assert!(
                            g == c || tie,
                            "{:?} {}: {g} vs {c} at {i}",
                            max_chunk_rows,
                            tensor.name
                        );
                    }
                } else {
                    let diff = compare(values.get(out), reference.get(out));
                    assert!(
                        diff.passes(),
                        "{max_chunk_rows:?} {}: {diff:?}",
                        tensor.name
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 60, "{checked} outputs");
    }
}

#[test]
fn attribution_terms_sum_to_the_logit_on_both_backends() {
    let model = model();
    let gpu = backend(&model);
    let ids = ids();
    let n = model.config.n_layer * (model.config.n_head + 2) + 2;
    for (backend, runner) in runners(&model, &gpu) {
        for ablations in [
            Ablations::default(),
            Ablations {
                units: vec![
                    Ablation::Mlp { layer: 0 },
                    Ablation::Head { layer: 1, head: 0 },
                ],
                mean: false,
            },
        ] {
            for (token, position) in [(None, None), (Some(3), Some(4))] {
                let report = pollster::block_on(why::attribution::attribute(
                    &runner,
                    &model.config,
                    &ids,
                    token,
                    position,
                    &ablations,
                ))
                .unwrap();
                assert_eq!(report.terms.len(), n);
                let scale = report
                    .terms
                    .iter()
                    .map(|t| t.value.abs())
                    .fold(1.0, f32::max);
                assert!(
                    (report.total - report.logit).abs() <= TOLERANCE * scale,
                    "{backend} {ablations:?}: terms sum to {} but the logit is {}",
                    report.total,
                    report.logit
                );
                if !ablations.is_empty() {
                    let zeroed = report.terms.iter().find(|t| t.name == "h.0.mlp").unwrap();
                    assert_eq!(zeroed.value, 0.0, "an ablated MLP writes nothing");
                }
            }
        }
    }
}

#[test]
fn patching_recovers_exactly_where_the_prompts_differ() {
    let model = model();
    let gpu = backend(&model);
    let clean = ids();
    let mut corrupt = clean.clone();
    corrupt[6] = (corrupt[6] + 1) % model.config.vocab_size as u32;
    let (answer, wrong) = (75, 47);
    for site in [Site::Resid, Site::Attn, Site::Mlp] {
        let mut reports = Vec::new();
        for (backend, runner) in runners(&model, &gpu) {
            let report = pollster::block_on(why::patch::patch(
                &runner,
                &model.config,
                (&clean, &corrupt),
                (answer, wrong),
                site,
                &Ablations::default(),
            ))
            .unwrap();
            // Layer 0 at position 6 makes the corrupted run the clean one: 100% back; anywhere
            // else at layer 0 the prompts agree, so nothing changes.
            if site == Site::Resid {
                for (t, &r) in report.layers[0].recovery.iter().enumerate() {
                    let want = if t == 6 { 1.0 } else { 0.0 };
                    assert!((r - want).abs() <= 1e-3, "{backend} position {t}: {r}");
                }
            }
            // Before position 6 causal attention cannot see the change at any layer, whatever
            // was patched before (each patch is undone before the next).
            for row in &report.layers {
                assert!(
                    row.recovery[..6].iter().all(|r| r.abs() <= 1e-3),
                    "{backend} {site:?}: {row:?}"
                );
            }
            reports.push(report);
        }
        for (g, c) in reports[0].layers.iter().zip(&reports[1].layers) {
            let diff = compare(&g.logit_diff, &c.logit_diff);
            assert!(
                diff.passes(),
                "{site:?}: patched logit differences, gpu vs cpu: {diff:?}"
            );
        }
    }
}

#[test]
fn patching_each_site_agrees_between_backends() {
    let model = model();
    let gpu = backend(&model);
    let clean = ids()[..8].to_vec();
    let mut corrupt = clean.clone();
    corrupt[2] = (corrupt[2] + 7) % model.config.vocab_size as u32;
    let runners = runners(&model, &gpu);
    for site in Site::ALL {
        let reports: Vec<_> = runners
            .iter()
            .map(|(_, runner)| {
                pollster::block_on(why::patch::patch(
                    runner,
                    &model.config,
                    (&clean, &corrupt),
                    (75, 47),
                    site,
                    &Ablations::default(),
                ))
                .unwrap()
            })
            .collect();
        let width = if site == Site::Head {
            model.config.n_head
        } else {
            clean.len()
        };
        for (g, c) in reports[0].layers.iter().zip(&reports[1].layers) {
            assert_eq!(g.logit_diff.len(), width);
            let diff = compare(&g.logit_diff, &c.logit_diff);
            assert!(diff.passes(), "{site:?} layer {}: {diff:?}", g.layer);
        }
    }
}

#[test]
fn neighbors_agree_and_start_with_the_token_itself() {
    let model = model();
    let gpu = backend(&model);
    let mut reports = Vec::new();
    for (backend, runner) in runners(&model, &gpu) {
        for id in [0, 48, 127] {
            let report =
                pollster::block_on(why::neighbors::neighbors(&runner, &model, &[(1, id)], 6))
                    .unwrap();
            assert_eq!(report.neighbors[0].id, id, "{backend}");
            assert!(
                (report.neighbors[0].cosine - 1.0).abs() <= 1e-5,
                "{backend}"
            );
            assert!(report
                .neighbors
                .windows(2)
                .all(|w| w[0].cosine >= w[1].cosine));
            reports.push(report);
        }
        let sum = pollster::block_on(why::neighbors::neighbors(
            &runner,
            &model,
            &[(1, 5), (-1, 9), (1, 12)],
            3,
        ))
        .unwrap();
        let want = why::neighbors::query_vector(&model, &[(1, 5), (-1, 9), (1, 12)]).unwrap();
        let c = model.config.n_embd;
        let wte = model.weights.get("wte.weight").unwrap();
        let cosine = |id: usize| {
            let w = &wte[id * c..][..c];
            let dot: f32 = w.iter().zip(&want).map(|(a, b)| a * b).sum();
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
            dot / (norm(w) * norm(&want))
        };
        for n in &sum.neighbors {
            assert!(
                (n.cosine - cosine(n.id as usize)).abs() <= 1e-5,
                "{backend} {n:?}"
            );
        }
    }
    for (g, c) in reports[..3].iter().zip(&reports[3..]) {
        assert_eq!(
            g.neighbors.iter().map(|n| n.id).collect::<Vec<_>>(),
            c.neighbors.iter().map(|n| n.id).collect::<Vec<_>>()
        );
    }
}

#[test]
fn head_scores_agree_between_backends() {
    let model = model();
    let gpu = backend(&model);
    // Repeats, so that the induction score has queries to average.
    let ids = [5, 9, 14, 5, 9, 14, 5, 9, 22, 5];
    let runners = runners(&model, &gpu);
    let reports: Vec<_> = runners
        .iter()
        .map(|(_, runner)| {
            pollster::block_on(why::heads::head_scores(
                runner,
                &model.config,
                &ids,
                &Ablations::default(),
            ))
            .unwrap()
        })
        .collect();
    for (g, c) in reports[0].layers.iter().zip(&reports[1].layers) {
        for (gh, ch) in g.heads.iter().zip(&c.heads) {
            let pair = |x: f32, y: f32| (x - y).abs() <= TOLERANCE;
            assert!(
                pair(gh.previous_token, ch.previous_token)
                    && pair(gh.first_token, ch.first_token)
                    && pair(gh.diagonal, ch.diagonal)
                    && pair(gh.induction, ch.induction),
                "layer {} {gh:?} vs {ch:?}",
                g.layer
            );
            assert!(ch.induction > 0.0, "repeated tokens give induction queries");
        }
    }
}

#[test]
fn pca_agrees_between_backends_and_finds_a_known_axis() {
    let model = model();
    let gpu = backend(&model);
    let c = model.config.n_embd;
    // Points spread along channel 3 (amplitude 4), channel 10 (2) and channel 20 (1) by
    // patterns that are exactly uncorrelated over the points (cos, sin and cos of twice the
    // angle around a circle), plus a little hashed noise everywhere: the components are those
    // channels, in that order.
    let n = 40;
    let points: Vec<f32> = (0..n * c)
        .map(|i| {
            let (a, j) = (i / c, i % c);
            let angle = std::f32::consts::TAU * a as f32 / n as f32;
            let hash = ((a as u32).wrapping_mul(2_654_435_761) ^ (j as u32).wrapping_mul(40_503))
                .wrapping_mul(2_246_822_519);
            let noise = 0.01 * ((hash >> 8) as f32 / (1u32 << 24) as f32 - 0.5);
            noise
                + match j {
                    3 => 4.0 * angle.cos(),
                    10 => 2.0 * angle.sin(),
                    20 => (2.0 * angle).cos(),
                    _ => 0.0,
                }
        })
        .collect();
    let extra: Vec<f32> = points[..5 * c].to_vec();
    let graph = Graph::embedding_space(&model.config, n, 5);
    let inputs = [
        (graph.tensor_id("points").unwrap(), points.as_slice()),
        (graph.tensor_id("extra").unwrap(), extra.as_slice()),
    ];
    let names = ["pca.components", "pca.variance", "pca.points", "pca.extra"];
    let wanted: Vec<_> = names.iter().map(|n| graph.tensor_id(n).unwrap()).collect();
    let mut results = Vec::new();
    for (backend, runner) in runners(&model, &gpu) {
        let values = pollster::block_on(runner.run(&graph, &[], &inputs, &wanted)).unwrap();
        let components = &values[0];
        for (q, channel) in [3, 10, 20].into_iter().enumerate() {
            let row = &components[q * c..][..c];
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!(
                row[channel].abs() > 0.999 && norm < 1.001,
                "{backend}: component {q} is channel {channel}: {} of a row of norm {norm}",
                row[channel]
            );
        }
        assert!(
            values[1][0] > values[1][1] && values[1][1] > values[1][2],
            "{backend}: variances sorted"
        );
        // The extra rows are the first points again: the same coordinates.
        let diff = compare(&values[3], &values[2][..15]);
        assert!(diff.passes(), "{backend}: {diff:?}");
        results.push(values);
    }
    for (name, (g, c)) in names.iter().zip(results[0].iter().zip(&results[1])) {
        let diff = compare(g, c);
        assert!(diff.passes(), "{name} gpu vs cpu: {diff:?}");
    }
}

#[test]
fn embedding_report_on_both_backends() {
    let model = model();
    let gpu = backend(&model);
    let ids = [3, 1, 4, 1, 5];
    let mut reports = Vec::new();
    for (_, runner) in runners(&model, &gpu) {
        let tokens =
            pollster::block_on(why::embedding::default_tokens(&runner, &model, &ids, 4)).unwrap();
        // The distinct prompt tokens (3, 1, 4, 5) and four neighbours each, themselves first.
        assert_eq!(&tokens[..1], &[3]);
        assert!(tokens.len() <= 4 * 5 && tokens.len() >= 5);
        let report = pollster::block_on(why::embedding::embedding(
            &runner,
            &model,
            &ids,
            &tokens,
            &Ablations::default(),
        ))
        .unwrap();
        assert_eq!(report.points.len(), tokens.len());
        assert_eq!(report.paths.len(), ids.len());
        assert!(report
            .paths
            .iter()
            .all(|p| p.len() == model.config.n_layer + 1));
        let explained: f32 = report.explained.iter().sum();
        assert!(explained > 0.0 && explained <= 1.0 + 1e-4, "{explained}");
        reports.push(report);
    }
    let flat = |r: &why::embedding::EmbeddingReport| -> Vec<f32> {
        r.points
            .iter()
            .chain(r.paths.iter().flatten())
            .flatten()
            .copied()
            .collect()
    };
    let diff = compare(&flat(&reports[0]), &flat(&reports[1]));
    assert!(diff.passes(), "gpu vs cpu: {diff:?}");
}
