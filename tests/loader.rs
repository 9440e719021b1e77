//! Malformed models and inputs get errors that name the file and the tensor or field.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use glassbox::model::{validate_ids, LoadError, Model};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

/// A copy of the oracle's `tiny_prefixed` model in a fresh folder, with its tensors changed by
/// `edit` (name -> (dtype, shape, bytes)) and its config by `edit_config`.
fn model_dir(
    test: &str,
    edit: impl FnOnce(&mut BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>),
    edit_config: impl FnOnce(String) -> String,
) -> PathBuf {
    let source = common::oracle_dir("tiny_prefixed");
    let dir = std::env::temp_dir().join(format!("glassbox-loader-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(source.join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            (
                name,
                (view.dtype(), view.shape().to_vec(), view.data().to_vec()),
            )
        })
        .collect();
    edit(&mut tensors);
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(name, (dtype, shape, data))| {
            (
                name.clone(),
                TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    std::fs::write(
        dir.join("model.safetensors"),
        safetensors::serialize(views, None).unwrap(),
    )
    .unwrap();
    let config = std::fs::read_to_string(source.join("config.json")).unwrap();
    std::fs::write(dir.join("config.json"), edit_config(config)).unwrap();
    dir
}

fn load_error(dir: &Path) -> (LoadError, String) {
    let error = Model::load_dir(dir).unwrap_err();
    let message = error.to_string();
    (error, message)
}

#[test]
fn loads_both_name_layouts() {
    for case in ["tiny_2l", "tiny_prefixed"] {
        let model = Model::load_dir(&common::oracle_dir(case)).unwrap();
        assert!(model.weights.get("wte.weight").is_some(), "{case}");
    }
}

#[test]
fn ignores_buffers_and_tied_head() {
    let dir = model_dir(
        "extras",
        |t| {
            t.insert(
                "transformer.h.0.attn.bias".into(),
                (Dtype::F32, vec![1, 1, 2, 2], vec![0; 16]),
            );
            let wte = t["transformer.wte.weight"].clone();
            t.insert("lm_head.weight".into(), wte);
        },
        |c| c,
    );
    Model::load_dir(&dir).unwrap();
}

#[test]
fn untied_output_head_is_refused() {
    let dir = model_dir(
        "untied",
        |t| {
            let mut head = t["transformer.wte.weight"].clone();
            head.2[0] ^= 1;
            t.insert("lm_head.weight".into(), head);
        },
        |c| c,
    );
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::UntiedHead { .. }), "{message}");
    assert!(
        message.contains("lm_head.weight") && message.contains("model.safetensors"),
        "{message}"
    );
}

#[test]
fn missing_folder_names_the_file() {
    let (error, message) = load_error(Path::new("/nonexistent/glassbox-model"));
    assert!(matches!(error, LoadError::Io { .. }), "{message}");
    assert!(
        message.contains("/nonexistent/glassbox-model/config.json"),
        "{message}"
    );
}

#[test]
fn missing_weights_file() {
    let dir = model_dir("noweights", |_| {}, |c| c);
    std::fs::remove_file(dir.join("model.safetensors")).unwrap();
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::Io { .. }), "{message}");
    assert!(message.contains("model.safetensors"), "{message}");
}

#[test]
fn truncated_safetensors() {
    let dir = model_dir("truncated", |_| {}, |c| c);
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::Safetensors { .. }), "{message}");
    assert!(message.contains("model.safetensors"), "{message}");
}

#[test]
fn corrupt_header() {
    let dir = model_dir("corrupt", |_| {}, |c| c);
    let path = dir.join("model.safetensors");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..20].copy_from_slice(b"not json!!!!");
    std::fs::write(&path, &bytes).unwrap();
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::Safetensors { .. }), "{message}");

    std::fs::write(&path, [0xffu8; 7]).unwrap();
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::Safetensors { .. }), "{message}");
}

#[test]
fn missing_tensor_is_named() {
    let dir = model_dir(
        "missing",
        |t| drop(t.remove("transformer.h.0.ln_1.bias")),
        |c| c,
    );
    let (error, message) = load_error(&dir);
    assert!(
        matches!(error, LoadError::MissingTensor { .. }),
        "{message}"
    );
    assert!(
        message.contains("`h.0.ln_1.bias`") && message.contains("model.safetensors"),
        "{message}"
    );
}

#[test]
fn misshaped_tensor_is_named() {
    let dir = model_dir(
        "shape",
        |t| {
            let entry = t.get_mut("transformer.h.0.attn.c_attn.weight").unwrap();
            entry.1 = vec![96, 32]; // transposed
        },
        |c| c,
    );
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::Shape { .. }), "{message}");
    assert!(
        message.contains("h.0.attn.c_attn.weight") && message.contains("[32, 96]"),
        "{message}"
    );
}

#[test]
fn wrong_dtype_is_named() {
    let dir = model_dir(
        "dtype",
        |t| {
            let entry = t.get_mut("transformer.wpe.weight").unwrap();
            entry.0 = Dtype::F16;
            entry.2.truncate(entry.2.len() / 2);
        },
        |c| c,
    );
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::DType { .. }), "{message}");
    assert!(
        message.contains("wpe.weight") && message.contains("F16"),
        "{message}"
    );
}

#[test]
fn config_contradicting_weights() {
    let dir = model_dir(
        "contradict",
        |_| {},
        |c| c.replace("\"vocab_size\": 97", "\"vocab_size\": 100"),
    );
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::Shape { .. }), "{message}");
    assert!(
        message.contains("wte.weight") && message.contains("config.json"),
        "{message}"
    );
}

#[test]
fn bad_config_fields() {
    let cases = [
        ("\"n_head\": 2", "\"n_head\": 3", "n_embd"),
        ("\"gelu_new\"", "\"relu\"", "activation_function"),
        ("\"n_layer\": 1", "\"n_layer\": 0", "n_layer"),
        ("\"n_embd\": 32", "\"n_embd\": \"32\"", "line"),
        ("\"vocab_size\": 97,", "", "vocab_size"),
        ("\"n_layer\": 1", "\"n_layer\": 1000000000", "n_layer"),
        (
            "\"n_embd\": 32",
            "\"n_embd\": 4611686018427387904",
            "n_embd",
        ),
        (
            "\"n_layer\": 1",
            "\"n_layer\": 1, \"scale_attn_by_inverse_layer_idx\": true",
            "scale_attn_by_inverse_layer_idx",
        ),
        (
            "\"n_layer\": 1",
            "\"n_layer\": 1, \"tie_word_embeddings\": false",
            "tie_word_embeddings",
        ),
    ];
    for (i, (from, to, field)) in cases.into_iter().enumerate() {
        let dir = model_dir(&format!("config{i}"), |_| {}, |c| c.replace(from, to));
        let (_, message) = load_error(&dir);
        assert!(
            message.contains("config.json") && message.contains(field),
            "{message}"
        );
    }
}

#[test]
fn bad_token_ids() {
    let model = Model::load_dir(&common::oracle_dir("tiny_prefixed")).unwrap();
    let config = &model.config;
    let error = validate_ids(config, &[1, 97, 2]).unwrap_err().to_string();
    assert!(
        error.contains("97") && error.contains("position 1") && error.contains("vocab_size = 97"),
        "{error}"
    );
    let error = validate_ids(config, &[0; 17]).unwrap_err().to_string();
    assert!(
        error.contains("17 tokens") && error.contains("n_positions = 16"),
        "{error}"
    );
    assert!(matches!(
        validate_ids(config, &[]),
        Err(LoadError::NoTokens)
    ));
    validate_ids(config, &[0; 16]).unwrap();
}
