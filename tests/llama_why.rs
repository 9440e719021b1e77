//! The "why" tools on the Llama family: the logit lens through the final RMSNorm and the output
//! head against transformers' hidden states, every probe op against the CPU reference,
//! neighbours in `embed_tokens`, and attribution refused by name (not built for RMSNorm yet).

mod common;

use glassbox::graph::probe::{Ablation, Ablations, Probes};
use glassbox::graph::{DType, Graph};
use glassbox::model::Model;
use glassbox::values::compare::{compare, TOLERANCE};
use glassbox::why::patch::Site;
use glassbox::why::{self, GpuBackend, Runner};

const CASES: [&str; 2] = ["tiny_llama", "tiny_qwen2"];

fn expected(case: &str) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    common::read_expected(&common::oracle_dir(case).join("expected.safetensors"))
}

fn tensor<'a>(expected: &'a [(String, Vec<usize>, Vec<f32>)], name: &str) -> &'a [f32] {
    &expected.iter().find(|(n, _, _)| n == name).unwrap().2
}

/// softmax(rmsnorm(hidden) . head) per row, in f64: the lens computed here from transformers'
/// hidden states, independently of glassbox's ops.
fn lens_reference(model: &Model, hidden: &[f32]) -> Vec<f64> {
    let config = &model.config;
    let (c, v) = (config.n_embd, config.vocab_size);
    let gain = model.weights.get("norm.weight").unwrap();
    let head = model
        .weights
        .get("lm_head.weight")
        .or_else(|| model.weights.get("embed_tokens.weight"))
        .unwrap();
    hidden
        .chunks_exact(c)
        .flat_map(|row| {
            let mean_square = row.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / c as f64;
            let scale = 1.0 / (mean_square + f64::from(config.layer_norm_epsilon)).sqrt();
            let normed: Vec<f64> = row
                .iter()
                .zip(gain)
                .map(|(&x, &g)| f64::from(x) * scale * f64::from(g))
                .collect();
            let logits: Vec<f64> = head
                .chunks_exact(c)
                .map(|w| normed.iter().zip(w).map(|(a, &b)| a * f64::from(b)).sum())
                .collect();
            let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = logits.iter().map(|l| (l - max).exp()).sum();
            logits
                .into_iter()
                .map(|l| (l - max).exp() / sum)
                .collect::<Vec<_>>()
        })
        .take(hidden.len() / c * v)
        .collect()
}

#[test]
fn lens_matches_transformers_hidden_states_on_both_backends() {
    for case in CASES {
        let model = Model::load_dir(&common::oracle_dir(case)).unwrap();
        let gpu = pollster::block_on(GpuBackend::open(&model, &Default::default()))
            .expect("a GPU adapter (lavapipe on CI)");
        let expected = expected(case);
        let ids: Vec<u32> = tensor(&expected, "input_ids")
            .iter()
            .map(|&v| v as u32)
            .collect();
        let (n_layer, v) = (model.config.n_layer, model.config.vocab_size);
        for (backend, runner) in [("gpu", gpu.runner()), ("cpu", Runner::Cpu(&model))] {
            let report = pollster::block_on(why::lens::lens(
                &runner,
                &model.config,
                &ids,
                3,
                &Ablations::default(),
            ))
            .unwrap();
            assert_eq!(report.layers.len(), n_layer + 1);
            for layer in &report.layers {
                // The last hidden state is already after the final norm: only the head applies,
                // which gives the model's own probabilities.
                let want: Vec<f64> = if layer.layer == n_layer {
                    let logits: Vec<f64> = tensor(&expected, "logits")
                        .iter()
                        .map(|&l| f64::from(l))
                        .collect();
                    logits
                        .chunks_exact(v)
                        .flat_map(|row| {
                            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                            let sum: f64 = row.iter().map(|l| (l - max).exp()).sum();
                            row.iter().map(move |l| (l - max).exp() / sum)
                        })
                        .collect()
                } else {
                    let hidden = tensor(&expected, &format!("hidden_states.{}", layer.layer));
                    lens_reference(&model, hidden)
                };
                for (t, position) in layer.positions.iter().enumerate() {
                    let row = &want[t * v..][..v];
                    let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let what = format!("{case} {backend} layer {} position {t}", layer.layer);
                    assert!(
                        (f64::from(position.top[0].prob) - best).abs() <= f64::from(TOLERANCE),
                        "{what}: top {} vs {best}",
                        position.top[0].prob
                    );
                    for ranked in &position.top {
                        let truth = row[ranked.id as usize];
                        assert!(
                            (f64::from(ranked.prob) - truth).abs() <= f64::from(TOLERANCE),
                            "{what}: token {} {} vs {truth}",
                            ranked.id,
                            ranked.prob
                        );
                    }
                }
            }
        }
    }
}

/// A Llama graph carrying the lens, head scores and ablations of a head and a gated neuron:
/// every output on the GPU against the CPU reference.
#[test]
fn every_probe_op_matches_the_cpu_reference() {
    let model = Model::load_dir(&common::oracle_dir("tiny_llama")).unwrap();
    let ids = common::ids(9, model.config.vocab_size, 3);
    let probes = Probes {
        ablations: Ablations {
            units: vec![
                Ablation::Head { layer: 1, head: 3 },
                Ablation::Neuron {
                    layer: 0,
                    neuron: 50,
                },
            ],
            mean: false,
        },
        lens_top: Some(4),
        head_scores: true,
        attribution: None,
    };
    let graph = Graph::probed(&model.config, ids.len(), &probes);
    let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    let values = glassbox::cli::gpu_forward(&model, &graph, &ids, &Default::default()).unwrap();
    let mut checked = 0;
    for op in &graph.ops {
        for &out in &op.outputs {
            if graph.tensors[out].dtype == DType::U32 {
                continue;
            }
            let diff = compare(values.get(out), reference.get(out));
            assert!(diff.passes(), "{}: {diff:?}", graph.tensors[out].name);
            checked += 1;
        }
    }
    assert!(
        graph.ops.iter().any(|op| op.name == "h.1.head.3.ablated")
            && graph
                .ops
                .iter()
                .any(|op| op.name == "h.0.mlp.neuron.50.ablated"),
        "both ablations are in the graph"
    );
    assert!(checked > 60, "{checked} outputs");
}

#[test]
fn neighbors_search_embed_tokens_and_attribution_is_refused() {
    let model = Model::load_dir(&common::oracle_dir("tiny_qwen2")).unwrap();
    let gpu = pollster::block_on(GpuBackend::open(&model, &Default::default())).unwrap();
    for runner in [gpu.runner(), Runner::Cpu(&model)] {
        let report =
            pollster::block_on(why::neighbors::neighbors(&runner, &model, &[(1, 7)], 3)).unwrap();
        assert_eq!(report.neighbors[0].id, 7);
        assert!((report.neighbors[0].cosine - 1.0).abs() < 1e-5);
        let error = pollster::block_on(why::attribution::attribute(
            &runner,
            &model.config,
            &[1, 2, 3],
            None,
            None,
            &Ablations::default(),
        ))
        .unwrap_err()
        .to_string();
        assert!(error.contains("RMSNorm"), "{error}");
    }
}

/// Patching every site of a Llama: positions before the one where the prompts differ never
/// recover anything, and both backends give the same logit differences.
#[test]
fn patching_each_site_on_both_backends() {
    let model = Model::load_dir(&common::oracle_dir("tiny_llama")).unwrap();
    let gpu = pollster::block_on(GpuBackend::open(&model, &Default::default())).unwrap();
    let clean = [5, 9, 17, 33, 2];
    let corrupt = [5, 9, 18, 33, 2];
    for site in [Site::Resid, Site::Attn, Site::Mlp, Site::Head] {
        let mut reports = Vec::new();
        for runner in [gpu.runner(), Runner::Cpu(&model)] {
            let report = pollster::block_on(why::patch::patch(
                &runner,
                &model.config,
                (&clean, &corrupt),
                (73, 10),
                site,
                &Ablations::default(),
            ))
            .unwrap();
            if site != Site::Head {
                for row in &report.layers {
                    assert!(
                        row.recovery[..2].iter().all(|r| r.abs() <= 1e-3),
                        "{site:?}: {row:?}"
                    );
                }
            }
            reports.push(report);
        }
        for (g, c) in reports[0].layers.iter().zip(&reports[1].layers) {
            let diff = compare(&g.logit_diff, &c.logit_diff);
            assert!(diff.passes(), "{site:?}: gpu vs cpu: {diff:?}");
        }
    }
}
