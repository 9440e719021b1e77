//! The "why" commands as a notebook runs them: the JSON they print, `forward --ablate --dump`
//! against transformers, and the errors bad requests get.

mod common;

use std::process::{Command, Output};

use glassbox::values::compare::compare;
use serde_json::Value;

const IDS: &str = "48,50,95,91,65,0,56,103,122,53,93,83,66,127,39,6";

fn glassbox(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .output()
        .expect("glassbox runs")
}

fn model() -> String {
    common::oracle_dir("tiny_2l").display().to_string()
}

/// Runs a command that must succeed and print JSON.
fn json(args: &[&str]) -> Value {
    let out = glassbox(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn fails(args: &[&str], expected: &[&str]) {
    let out = glassbox(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    for want in expected {
        assert!(stderr.contains(want), "{args:?}: {stderr:?} lacks {want:?}");
    }
}

#[test]
fn lens_json_has_every_layer_and_position_sorted() {
    let m = model();
    for backend in ["gpu", "cpu"] {
        let report = json(&[
            "lens",
            "--model",
            &m,
            "--ids",
            "3,1,4",
            "--top",
            "4",
            "--backend",
            backend,
            "--json",
        ]);
        let layers = report["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 3, "layers 0..=n_layer");
        for (i, layer) in layers.iter().enumerate() {
            assert_eq!(layer["layer"], i);
            let positions = layer["positions"].as_array().unwrap();
            assert_eq!(positions.len(), 3);
            for position in positions {
                let top = position["top"].as_array().unwrap();
                assert_eq!(top.len(), 4);
                let probs: Vec<f64> = top.iter().map(|t| t["prob"].as_f64().unwrap()).collect();
                assert!(probs.windows(2).all(|w| w[0] >= w[1]), "{probs:?}");
                assert!(top.iter().all(|t| t["id"].as_u64().unwrap() < 128));
            }
        }
    }
}

#[test]
fn forward_ablate_dump_matches_transformers_hooks() {
    let dump = std::env::temp_dir().join(format!(
        "glassbox-ablated-{}.safetensors",
        std::process::id()
    ));
    let m = model();
    let out = glassbox(&[
        "forward",
        "--model",
        &m,
        "--ids",
        IDS,
        "--ablate",
        "h.0.head.1",
        "--ablate",
        "h.1.head.3",
        "--mean-ablate",
        "--dump",
        dump.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ablated: h.0.head.1, h.1.head.3 off (mean over positions)"),
        "{text}"
    );
    let ours = common::read_expected(&dump);
    let golden = common::read_expected(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/why/ablate_heads_mean.safetensors"),
    );
    let mut checked = 0;
    for (name, _, want) in golden.iter().filter(|(n, _, _)| n != "input_ids") {
        let (_, _, got) = ours
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("{name} dumped"));
        let diff = compare(got, want);
        assert!(diff.passes(), "{name}: {diff:?}");
        checked += 1;
    }
    assert_eq!(checked, 4);
    // The ablation ops' own outputs are in the dump too.
    assert!(ours.iter().any(|(n, _, _)| n == "h.0.head.1.ablated"));
    std::fs::remove_file(&dump).unwrap();
}

#[test]
fn attribute_neighbors_heads_and_patch_print_json() {
    let m = model();
    let report = json(&["attribute", "--model", &m, "--ids", IDS, "--json"]);
    let total = report["total"].as_f64().unwrap();
    let logit = report["logit"].as_f64().unwrap();
    assert!((total - logit).abs() < 1e-3, "{report}");
    assert_eq!(report["terms"].as_array().unwrap().len(), 2 * (4 + 2) + 2);
    let report = json(&[
        "neighbors",
        "--model",
        &m,
        "--id",
        "48",
        "--k",
        "3",
        "--json",
    ]);
    let neighbors = report["neighbors"].as_array().unwrap();
    assert_eq!(neighbors.len(), 3);
    assert_eq!(neighbors[0]["id"], 48);
    assert!((neighbors[0]["cosine"].as_f64().unwrap() - 1.0).abs() < 1e-5);
    let report = json(&[
        "heads",
        "--model",
        &m,
        "--ids",
        IDS,
        "--json",
        "--backend",
        "cpu",
    ]);
    assert_eq!(report["layers"][1]["heads"].as_array().unwrap().len(), 4);
    let report = json(&[
        "patch",
        "--model",
        &m,
        "--clean-ids",
        "48,50,95,91",
        "--corrupt-ids",
        "48,51,95,91",
        "--answer",
        "75",
        "--wrong",
        "47",
        "--json",
    ]);
    assert_eq!(report["columns"], "position");
    assert_eq!(report["layers"][0]["recovery"][1], 1.0);
}

#[test]
fn bad_requests_are_clear_errors() {
    let m = model();
    fails(
        &[
            "forward",
            "--model",
            &m,
            "--ids",
            "1,2",
            "--ablate",
            "h.0.heads.1",
        ],
        &["--ablate", "h.0.heads.1", "expected h.LAYER.head.HEAD"],
    );
    fails(
        &[
            "forward", "--model", &m, "--ids", "1,2", "--ablate", "h.2.mlp",
        ],
        &["h.2.mlp: layer 2 past the model's 2 layers (0..=1)"],
    );
    fails(
        &[
            "lens",
            "--model",
            &m,
            "--ids",
            "1,2",
            "--ablate",
            "h.0.head.4",
        ],
        &["head 4 past the model's 4 heads"],
    );
    fails(
        &[
            "heads",
            "--model",
            &m,
            "--ids",
            "1,2",
            "--ablate",
            "h.0.mlp.neuron.256",
        ],
        &["neuron 256 past the MLP's 256 neurons"],
    );
    fails(
        &["forward", "--model", &m, "--ids", "1,2", "--mean-ablate"],
        &["--ablate"],
    );
    fails(
        &["lens", "--model", &m, "--ids", "1,2", "--top", "0"],
        &["--top 0: expected 1..=128"],
    );
    fails(
        &[
            "patch",
            "--model",
            &m,
            "--clean-ids",
            "1,2,3",
            "--corrupt-ids",
            "1,2",
            "--answer",
            "3",
            "--wrong",
            "4",
        ],
        &["the prompts must have the same length"],
    );
    fails(
        &[
            "patch",
            "--model",
            &m,
            "--clean-ids",
            "1,2",
            "--corrupt-ids",
            "1,2",
            "--answer",
            "3",
            "--wrong",
            "4",
        ],
        &["nothing to recover"],
    );
    fails(
        &[
            "patch",
            "--model",
            &m,
            "--clean-ids",
            "1,2",
            "--corrupt-ids",
            "1,3",
            "--answer",
            "300",
            "--wrong",
            "4",
        ],
        &["--answer 300: expected 0..=127"],
    );
    fails(
        &[
            "attribute",
            "--model",
            &m,
            "--ids",
            "1,2",
            "--position",
            "2",
        ],
        &["--position 2: expected 0..=1"],
    );
    fails(
        &["attribute", "--model", &m, "--ids", "1,2", "--token", "128"],
        &["--token 128"],
    );
    fails(
        &["neighbors", "--model", &m, "--id", "128"],
        &["token 128: expected 0..=127"],
    );
    fails(
        &[
            "neighbors",
            "--model",
            &m,
            "--text",
            "king - glassboxification",
        ],
        &["each word must be one token"],
    );
}

#[test]
fn generate_with_a_head_switched_off_breaks_the_sort_on_both_backends() {
    let mut outputs = Vec::new();
    for backend in ["gpu", "cpu"] {
        let out = glassbox(&[
            "generate",
            "--prompt",
            "BCCBCB",
            "-n",
            "3",
            "--greedy",
            "--backend",
            backend,
            "--ablate",
            "h.0.head.2",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            text.starts_with('A'),
            "without head 0.2 the sort starts with A: {text:?}"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("ablated: h.0.head.2 off (zero)"));
        outputs.push(text);
    }
    assert_eq!(
        outputs[0], outputs[1],
        "the GPU and the CPU reference agree"
    );
    let plain = glassbox(&["generate", "--prompt", "BCCBCB", "-n", "3", "--greedy"]);
    assert!(String::from_utf8_lossy(&plain.stdout)
        .trim()
        .starts_with('B'));
    fails(
        &[
            "generate",
            "--prompt",
            "BCCBCB",
            "--ablate",
            "h.0.head.2",
            "--mean-ablate",
        ],
        &["--mean-ablate needs every position at once"],
    );
}
