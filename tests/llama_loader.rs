//! Llama-family checkpoints as the hub ships them: both ways of writing the rope settings, F16
//! and BF16 weights, sharded files with an index, and clear refusals of what glassbox does not
//! compute.

mod common;

use std::path::{Path, PathBuf};

use glassbox::graph::Graph;
use glassbox::model::{Arch, Config, LoadError, Model};
use glassbox::values::compare::compare;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

type Tensors = Vec<(String, Dtype, Vec<usize>, Vec<u8>)>;

fn read_tensors(path: &Path) -> Tensors {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Tensors = st
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let shape = view.shape().to_vec();
            (name, view.dtype(), shape, view.data().to_vec())
        })
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
}

fn write_tensors(path: &Path, tensors: &[(String, Dtype, Vec<usize>, Vec<u8>)]) {
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            (
                name.clone(),
                TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

/// A fresh folder holding the oracle case's config (edited by `edit_config`).
fn fresh_dir(test: &str, case: &str, edit_config: impl FnOnce(String) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glassbox-llama-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = std::fs::read_to_string(common::oracle_dir(case).join("config.json")).unwrap();
    std::fs::write(dir.join("config.json"), edit_config(config)).unwrap();
    dir
}

/// `case`'s weights copied beside an edited config.
fn edited_config(test: &str, case: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let dir = fresh_dir(test, case, edit);
    std::fs::copy(
        common::oracle_dir(case).join("model.safetensors"),
        dir.join("model.safetensors"),
    )
    .unwrap();
    dir
}

/// The error loading tiny_llama with its config edited: it must name config.json and `field`.
fn assert_config_refused(test: &str, field: &str, edit: impl FnOnce(String) -> String) {
    let dir = edited_config(test, "tiny_llama", edit);
    let error = Model::load_dir(&dir).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(&error, LoadError::ConfigField { field: f, .. } if f == field),
        "{test}: {message}"
    );
    assert!(message.contains("config.json"), "{test}: {message}");
}

/// The CPU forward pass of the model in `dir` against the oracle case's expected logits.
fn assert_logits_match(dir: &Path, case: &str) {
    let model = Model::load_dir(dir).unwrap();
    let expected = common::read_expected(&common::oracle_dir(case).join("expected.safetensors"));
    let ids: Vec<u32> = expected
        .iter()
        .find(|(n, _, _)| n == "input_ids")
        .unwrap()
        .2
        .iter()
        .map(|&v| v as u32)
        .collect();
    let graph = Graph::forward(&model.config, ids.len());
    let values = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    let (_, _, want) = expected.iter().find(|(n, _, _)| n == "logits").unwrap();
    let logits = graph.tensor_id("logits").unwrap();
    let diff = compare(values.get(logits), want);
    assert!(diff.passes(), "{case} from {}: {diff:?}", dir.display());
}

#[test]
fn reads_the_family_and_its_settings() {
    let llama = Model::load_dir(&common::oracle_dir("tiny_llama")).unwrap();
    let Arch::Llama(l) = &llama.config.arch else {
        panic!("tiny_llama read as {:?}", llama.config.arch)
    };
    assert_eq!((l.n_kv_head, l.intermediate, l.tied), (2, 96, false));
    assert_eq!((l.qkv_bias, l.o_bias, l.mlp_bias), (false, false, false));
    assert_eq!(l.rope.theta, 10000.0);
    let qwen = Model::load_dir(&common::oracle_dir("tiny_qwen2")).unwrap();
    let Arch::Llama(q) = &qwen.config.arch else {
        panic!("tiny_qwen2 read as {:?}", qwen.config.arch)
    };
    assert_eq!((q.n_kv_head, q.intermediate, q.tied), (2, 80, true));
    assert_eq!((q.qkv_bias, q.o_bias), (true, false));
    assert_eq!(q.rope.theta, 1_000_000.0);
    assert_eq!(qwen.config.layer_norm_epsilon, 1e-6);
}

/// transformers 5 writes the rope settings as `rope_parameters`; the hub's files write
/// `rope_theta` and `rope_scaling` at the top level. Both give the same model.
#[test]
fn rope_parameters_as_transformers_5_writes_them() {
    let dir = edited_config("rope-parameters", "tiny_llama", |c| {
        c.replace("\"rope_theta\": 10000.0,", "").replace(
            "\"rope_scaling\": null",
            "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0}",
        )
    });
    let model = Model::load_dir(&dir).unwrap();
    let hub = Model::load_dir(&common::oracle_dir("tiny_llama")).unwrap();
    assert_eq!(model.config, hub.config);
    assert_logits_match(&dir, "tiny_llama");
}

#[test]
fn llama3_scaling_is_read_and_changes_the_frequencies() {
    let dir = edited_config("llama3", "tiny_llama", |c| {
        c.replace(
            "\"rope_scaling\": null",
            "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}",
        )
    });
    let model = Model::load_dir(&dir).unwrap();
    let Arch::Llama(l) = &model.config.arch else {
        panic!()
    };
    let scaling = l.rope.scaling.expect("llama3 scaling read");
    assert_eq!(scaling.original_context, 64);
    let plain = glassbox::model::arch::Rope {
        theta: 10000.0,
        scaling: None,
    };
    let (scaled, unscaled) = (l.rope.inv_freq(16), plain.inv_freq(16));
    // Wavelengths 2 pi / f: the fastest pair (6.3, under 64 / 4) keeps its frequency, the next
    // (19.9) is blended between kept and divided by the factor, and the slowest (above 64 / 1)
    // are divided.
    assert_eq!(scaled[0], unscaled[0]);
    assert!(scaled[1] < unscaled[1] && scaled[1] > unscaled[1] / 8.0);
    assert_eq!(scaled[7], unscaled[7] / 8.0);
}

/// Half-precision checkpoints of both architectures load, every value widened exactly, and the
/// model computes from them.
#[test]
fn f16_and_bf16_weights_are_widened() {
    for case in ["tiny_llama", "tiny_prefixed"] {
        let source = read_tensors(&common::oracle_dir(case).join("model.safetensors"));
        for dtype in [Dtype::F16, Dtype::BF16] {
            let dir = fresh_dir(&format!("{case}-{dtype:?}"), case, |c| c);
            let narrowed: Tensors = source
                .iter()
                .map(|(name, _, shape, data)| {
                    let floats: Vec<f32> = bytemuck::pod_collect_to_vec(data);
                    let bytes: Vec<u8> = floats
                        .iter()
                        .flat_map(|&f| match dtype {
                            Dtype::F16 => half::f16::from_f32(f).to_le_bytes(),
                            _ => half::bf16::from_f32(f).to_le_bytes(),
                        })
                        .collect();
                    (name.clone(), dtype, shape.clone(), bytes)
                })
                .collect();
            write_tensors(&dir.join("model.safetensors"), &narrowed);
            let model = Model::load_dir(&dir).unwrap();
            let mut checked = 0;
            for (name, _, _, data) in &narrowed {
                let short = name
                    .trim_start_matches("model.")
                    .trim_start_matches("transformer.");
                let Some(stored) = model.weights.get(short) else {
                    continue;
                };
                let widened: Vec<f32> = data
                    .chunks_exact(2)
                    .map(|b| match dtype {
                        Dtype::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f32(),
                        _ => half::bf16::from_le_bytes([b[0], b[1]]).to_f32(),
                    })
                    .collect();
                // Llama projections are stored [out, in] and kept [in, out]: compare as sets.
                let mut a = stored.to_vec();
                let mut b = widened;
                a.sort_by(f32::total_cmp);
                b.sort_by(f32::total_cmp);
                assert_eq!(a, b, "{case} {dtype:?}: {name}");
                checked += 1;
            }
            assert!(checked >= 10, "{case} {dtype:?}: {checked} tensors");
            let graph = Graph::forward(&model.config, 3);
            let values = glassbox::cpu::forward(&graph, &model, &[1, 2, 3]).unwrap();
            let logits = values.get(graph.tensor_id("logits").unwrap());
            assert!(logits.iter().all(|l| l.is_finite()), "{case} {dtype:?}");
        }
    }
}

#[test]
fn a_non_finite_bf16_weight_is_named() {
    let mut tensors = read_tensors(&common::oracle_dir("tiny_qwen2").join("model.safetensors"));
    let dir = fresh_dir("nan", "tiny_qwen2", |c| c);
    let target = tensors
        .iter_mut()
        .find(|(name, ..)| name == "model.layers.1.mlp.up_proj.weight")
        .unwrap();
    assert_eq!(target.1, Dtype::BF16);
    target.3[6..8].copy_from_slice(&half::bf16::NAN.to_le_bytes());
    write_tensors(&dir.join("model.safetensors"), &tensors);
    let message = Model::load_dir(&dir).unwrap_err().to_string();
    assert!(
        message.contains("model.safetensors") && message.contains("layers.1.mlp.up_proj.weight"),
        "{message}"
    );
}

/// Two shards and `model.safetensors.index.json`, as `save_pretrained` writes a large model.
#[test]
fn sharded_checkpoints_load() {
    let tensors = read_tensors(&common::oracle_dir("tiny_llama").join("model.safetensors"));
    let dir = fresh_dir("shards", "tiny_llama", |c| c);
    let (first, second) = tensors.split_at(tensors.len() / 2);
    let names = [
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    ];
    write_tensors(&dir.join(names[0]), first);
    write_tensors(&dir.join(names[1]), second);
    let map: serde_json::Map<String, serde_json::Value> = first
        .iter()
        .map(|t| (t.0.clone(), names[0].into()))
        .chain(second.iter().map(|t| (t.0.clone(), names[1].into())))
        .collect();
    let index = serde_json::json!({"metadata": {}, "weight_map": map});
    std::fs::write(dir.join("model.safetensors.index.json"), index.to_string()).unwrap();
    assert_logits_match(&dir, "tiny_llama");

    // A shard the index names that is not there is an error naming it.
    std::fs::remove_file(dir.join(names[1])).unwrap();
    let message = Model::load_dir(&dir).unwrap_err().to_string();
    assert!(message.contains(names[1]), "{message}");

    // An index pointing outside the folder is refused, naming the field.
    let outside = serde_json::json!({"weight_map": {"lm_head.weight": "../elsewhere.safetensors"}});
    std::fs::write(
        dir.join("model.safetensors.index.json"),
        outside.to_string(),
    )
    .unwrap();
    let message = Model::load_dir(&dir).unwrap_err().to_string();
    assert!(
        message.contains("model.safetensors.index.json")
            && message.contains("weight_map.lm_head.weight"),
        "{message}"
    );
}

#[test]
fn an_untied_model_without_its_head_is_named() {
    let tensors = read_tensors(&common::oracle_dir("tiny_llama").join("model.safetensors"));
    let dir = fresh_dir("no-head", "tiny_llama", |c| c);
    let kept: Tensors = tensors
        .into_iter()
        .filter(|t| t.0 != "lm_head.weight")
        .collect();
    write_tensors(&dir.join("model.safetensors"), &kept);
    let error = Model::load_dir(&dir).unwrap_err();
    assert!(matches!(error, LoadError::MissingTensor { .. }), "{error}");
    assert!(error.to_string().contains("lm_head.weight"), "{error}");
}

#[test]
fn what_glassbox_does_not_compute_is_refused_by_field() {
    for (test, from, to, field) in [
        ("falcon", "\"llama\"", "\"falcon\"", "model_type"),
        ("gelu", "\"silu\"", "\"gelu\"", "hidden_act"),
        (
            "yarn",
            "\"rope_scaling\": null",
            "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}",
            "rope_scaling.rope_type",
        ),
        (
            "kv-heads",
            "\"num_key_value_heads\": 2",
            "\"num_key_value_heads\": 3",
            "num_key_value_heads",
        ),
        (
            "head-dim",
            "\"hidden_act\"",
            "\"head_dim\": 32, \"hidden_act\"",
            "head_dim",
        ),
    ] {
        assert_config_refused(test, field, |c| c.replace(from, to));
    }
    // Mistral's sliding window shorter than the context would change which tokens attend.
    assert_config_refused("window", "sliding_window", |c| {
        c.replace("\"llama\"", "\"mistral\"")
            .replace("LlamaForCausalLM", "MistralForCausalLM")
            .replace("\"hidden_act\"", "\"sliding_window\": 8, \"hidden_act\"")
    });
}

/// The config written back out reads as the same model, so a saved Llama checkpoint round-trips.
#[test]
fn config_round_trips_through_json() {
    for config in [Config::smollm2_135m(), {
        Model::load_dir(&common::oracle_dir("tiny_qwen2"))
            .unwrap()
            .config
    }] {
        let text = config.to_json();
        assert_eq!(Config::from_json("config.json", &text).unwrap(), config);
    }
}
