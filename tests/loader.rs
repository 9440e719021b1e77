//! Malformed models and inputs get errors that name the file and the tensor or field.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use glassbox::model::{validate_ids, Config, LoadError, Model};
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
        let dir = common::oracle_dir(case);
        let model = Model::load_dir(&dir).unwrap();
        // Every weight of the graph, at its shape, holding the file's numbers.
        let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let graph = glassbox::graph::Graph::forward(&model.config, 1);
        for tensor in graph.weights() {
            let loaded = model
                .weights
                .get(&tensor.name)
                .unwrap_or_else(|| panic!("{case}: {}", tensor.name));
            assert_eq!(loaded.len(), tensor.len(), "{case}: {}", tensor.name);
            let stored = file
                .tensor(&tensor.name)
                .or_else(|_| file.tensor(&format!("transformer.{}", tensor.name)))
                .unwrap();
            let expected: Vec<f32> = bytemuck::pod_collect_to_vec(stored.data());
            assert_eq!(loaded, expected.as_slice(), "{case}: {}", tensor.name);
        }
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
            entry.0 = Dtype::I32;
        },
        |c| c,
    );
    let (error, message) = load_error(&dir);
    assert!(matches!(error, LoadError::DType { .. }), "{message}");
    assert!(
        message.contains("wpe.weight")
            && message.contains("I32")
            && message.contains("expected F32, F16 or BF16"),
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
        ("\"n_embd\": 32", "\"n_embd\": \"32\"", "n_embd"),
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

/// The oracle's `tiny_prefixed` model as (config, header, data) for building hostile files.
fn tiny_parts() -> (Config, serde_json::Map<String, serde_json::Value>, Vec<u8>) {
    let dir = common::oracle_dir("tiny_prefixed");
    let config_text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let config = Config::from_json("config.json", &config_text).unwrap();
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (config, header, bytes[8 + n..].to_vec())
}

fn safetensors_bytes(header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(data);
    bytes
}

/// The message of loading `bytes` as the weights of the tiny model.
fn bytes_error(config: &Config, bytes: &[u8]) -> String {
    Model::from_safetensors(config.clone(), "config.json", "model.safetensors", bytes)
        .unwrap_err()
        .to_string()
}

/// The tiny model with its header changed by `edit` and its data by `edit_data`.
fn edited_error(
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    edit_data: impl FnOnce(&mut Vec<u8>),
) -> String {
    let (config, mut header, mut data) = tiny_parts();
    edit(&mut header);
    edit_data(&mut data);
    let header = serde_json::to_vec(&header).unwrap();
    bytes_error(&config, &safetensors_bytes(&header, &data))
}

#[test]
fn the_unedited_tiny_parts_load() {
    let (config, header, data) = tiny_parts();
    let header = serde_json::to_vec(&header).unwrap();
    Model::from_safetensors(
        config,
        "config.json",
        "model.safetensors",
        &safetensors_bytes(&header, &data),
    )
    .unwrap();
}

#[test]
fn non_finite_weights_are_refused() {
    let (_, header, _) = tiny_parts();
    let offset = |name: &str| header[name]["data_offsets"][0].as_u64().unwrap() as usize;
    let cases = [
        ("h.0.attn.c_attn.weight", 17, f32::NAN, "NaN"),
        ("ln_f.bias", 0, f32::INFINITY, "inf"),
        ("wte.weight", 97 * 32 - 1, f32::NEG_INFINITY, "-inf"),
    ];
    for (tensor, index, value, shown) in cases {
        let at = offset(&format!("transformer.{tensor}")) + 4 * index;
        let message = edited_error(
            |_| {},
            |data| data[at..at + 4].copy_from_slice(&value.to_le_bytes()),
        );
        assert_eq!(
            message,
            format!("model.safetensors: tensor `{tensor}` holds {shown} at index {index}; weights must be finite")
        );
    }
}

#[test]
fn non_finite_weights_are_refused_from_a_folder() {
    let dir = model_dir(
        "nan",
        |t| {
            let entry = t.get_mut("transformer.h.0.mlp.c_fc.weight").unwrap();
            entry.2[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
        },
        |c| c,
    );
    let (error, message) = load_error(&dir);
    assert!(
        matches!(error, LoadError::NonFinite { index: 2, .. }),
        "{message}"
    );
    assert!(
        message.contains("model.safetensors: tensor `h.0.mlp.c_fc.weight` holds NaN at index 2"),
        "{message}"
    );
}

#[test]
fn hostile_safetensors_layouts() {
    let (config, _, _) = tiny_parts();
    let at = |message: &str| format!("model.safetensors: not a valid safetensors file: {message}");
    let cases: [(&str, Vec<u8>, String); 5] = [
        (
            "empty",
            Vec::new(),
            at("the file is empty; a safetensors file starts with an 8-byte header length"),
        ),
        (
            "short",
            vec![1, 2, 3],
            at("the file is 3 bytes, shorter than the 8-byte header length a safetensors file starts with"),
        ),
        (
            "header past the end",
            safetensors_bytes(b"{}", b"")[..8]
                .iter()
                .map(|_| 0xff)
                .chain(*b"{}")
                .collect(),
            at("the header length in the first 8 bytes is 18446744073709551615, past the end of the file (10 bytes): the file is truncated or not safetensors"),
        ),
        (
            "not UTF-8",
            safetensors_bytes(b"{\"\xff\": 1}", b""),
            at("the header (bytes 8..16) is not UTF-8: invalid utf-8 sequence of 1 bytes from index 2"),
        ),
        (
            "not an object",
            safetensors_bytes(b"[1, 2]", b""),
            at("the header is an array, expected a JSON object of tensors"),
        ),
    ];
    for (case, bytes, expected) in cases {
        assert_eq!(bytes_error(&config, &bytes), expected, "{case}");
    }
    assert_eq!(
        bytes_error(&config, &safetensors_bytes(b"{\"a\": ", b"")),
        at("the header is not JSON: EOF while parsing a value at line 1 column 6")
    );
    // A valid but empty file: the first tensor the graph needs is missing.
    assert_eq!(
        bytes_error(&config, &safetensors_bytes(b"{}", b"")),
        "model.safetensors: tensor `wte.weight` is missing (also looked for `transformer.wte.weight` and `model.wte.weight`)"
    );
}

#[test]
fn hostile_tensor_entries_are_named() {
    let tensor = "transformer.h.0.attn.c_proj.bias";
    let at = |message: &str| {
        format!("model.safetensors: not a valid safetensors file: tensor `{tensor}` in the header: {message}")
    };
    type Edit = Box<dyn FnOnce(&mut serde_json::Map<String, serde_json::Value>)>;
    let set = |key: &'static str, value: serde_json::Value| -> Edit {
        Box::new(move |h| h[tensor][key] = value)
    };
    let cases: Vec<(Edit, String)> = vec![
        (
            Box::new(|h| drop(h[tensor].as_object_mut().unwrap().remove("data_offsets"))),
            at("expected {\"dtype\", \"shape\", \"data_offsets\"}: missing field `data_offsets`"),
        ),
        (
            set("dtype", "F33".into()),
            at("dtype \"F33\" is not a safetensors dtype (F32, F16, BF16, I64, ...)"),
        ),
        (
            set("shape", serde_json::json!([-32])),
            at("expected {\"dtype\", \"shape\", \"data_offsets\"}: invalid value: integer `-32`, expected usize"),
        ),
        (
            set("shape", serde_json::json!([1u64 << 62, 1u64 << 62])),
            at("shape [4611686018427387904, 4611686018427387904] of F32 is not a whole number of bytes that fits in memory"),
        ),
        (
            set("data_offsets", serde_json::json!([12800, 12672])),
            at("data_offsets [12800, 12672] end before they begin"),
        ),
        (
            set("data_offsets", serde_json::json!([65536, 65664])),
            at("data_offsets [65536, 65664] run past the end of the data (65536 bytes after the header): the file is truncated"),
        ),
        (
            set("data_offsets", serde_json::json!([12672, 12804])),
            at("data_offsets [12672, 12804] hold 132 bytes, but shape [32] of F32 needs 128"),
        ),
        (
            set("data_offsets", serde_json::json!([0, 128])),
            "model.safetensors: not a valid safetensors file: tensor `transformer.h.0.attn.c_attn.bias` (data bytes 0..384) overlaps tensor `transformer.h.0.attn.c_proj.bias` (data bytes 0..128)".into(),
        ),
        (
            Box::new(|h| drop(h.remove(tensor))),
            "model.safetensors: not a valid safetensors file: data bytes 12672..12800 belong to no tensor (the next one is `transformer.h.0.attn.c_proj.weight`)".into(),
        ),
        (
            Box::new(|h| h["__metadata__"] = serde_json::json!({"format": 1})),
            "model.safetensors: not a valid safetensors file: `__metadata__` is an object, expected an object of strings".into(),
        ),
    ];
    for (edit, expected) in cases {
        assert_eq!(edited_error(edit, |_| {}), expected);
    }
    assert_eq!(
        edited_error(|_| {}, |data| data.extend([0; 4])),
        "model.safetensors: not a valid safetensors file: data bytes 65536..65540 at the end of the file belong to no tensor"
    );
}

#[test]
fn unsupported_dtypes_say_what_is_read() {
    // The 128 bytes of `ln_f.bias` (32 F32 values) read as 16 I64, 32 I32 or 128 U8 values.
    let tensor = "transformer.ln_f.bias";
    for (dtype, values) in [("I64", 16), ("I32", 32), ("U8", 128)] {
        let message = edited_error(
            |h| {
                h[tensor]["dtype"] = dtype.into();
                h[tensor]["shape"] = serde_json::json!([values]);
            },
            |_| {},
        );
        assert_eq!(
            message,
            format!("model.safetensors: tensor `ln_f.bias` has dtype {dtype}, expected F32, F16 or BF16")
        );
    }
    // Half precision is read, so the same bytes as 64 of them are the wrong shape.
    for dtype in ["BF16", "F16"] {
        let message = edited_error(
            |h| {
                h[tensor]["dtype"] = dtype.into();
                h[tensor]["shape"] = serde_json::json!([64]);
            },
            |_| {},
        );
        assert!(
            message
                .starts_with("model.safetensors: tensor `ln_f.bias` has shape [64], expected [32]"),
            "{dtype}: {message}"
        );
    }
}

#[test]
fn hostile_configs() {
    let (config, _, _) = tiny_parts();
    let valid = config.to_json();
    let with = |field: &str, value: &str| {
        let mut json: serde_json::Value = serde_json::from_str(&valid).unwrap();
        json[field] = serde_json::from_str(value).unwrap();
        json.to_string()
    };
    let without = |field: &str| {
        let mut json: serde_json::Value = serde_json::from_str(&valid).unwrap();
        json.as_object_mut().unwrap().remove(field);
        json.to_string()
    };
    let field =
        |name: &str, expected: &str| format!("config.json: field `{name}`: expected {expected}");
    let cases = [
        (String::new(), "config.json: not valid JSON for a model config: EOF while parsing a value at line 1 column 0".to_string()),
        ("{\"n_layer\": 1,".into(), "config.json: not valid JSON for a model config: EOF while parsing a value at line 1 column 14".into()),
        ("[1, 2]".into(), "config.json: not valid JSON for a model config: the top level is an array, expected an object of model hyper-parameters".into()),
        (without("n_layer"), field("n_layer", "an integer in 1..=1024, but the field is missing")),
        (without("vocab_size"), field("vocab_size", "an integer in 1..=16777216, but the field is missing")),
        (with("n_layer", "0"), field("n_layer", "an integer in 1..=1024, got 0")),
        (with("n_head", "0"), field("n_head", "an integer in 1..=1024, got 0")),
        (with("vocab_size", "0"), field("vocab_size", "an integer in 1..=16777216, got 0")),
        (with("n_positions", "0"), field("n_positions", "an integer in 1..=65536, got 0")),
        (with("n_embd", "0"), field("n_embd", "an integer in 1..=65536, got 0")),
        (with("n_head", "3"), field("n_embd", "a multiple of n_head = 3 (got 32)")),
        (with("n_layer", "-1"), field("n_layer", "an integer in 1..=1024, got -1")),
        (with("n_layer", "2.5"), field("n_layer", "an integer in 1..=1024, got 2.5")),
        (with("n_embd", "18446744073709551615"), field("n_embd", "an integer in 1..=65536, got 18446744073709551615")),
        (with("vocab_size", "1e30"), field("vocab_size", "an integer in 1..=16777216, got 1e+30")),
        (with("n_positions", "\"16\""), field("n_positions", "an integer in 1..=65536, got the string \"16\"")),
        (with("n_head", "null"), field("n_head", "an integer in 1..=1024, got null")),
        (with("n_embd", "[32]"), field("n_embd", "an integer in 1..=65536, got an array")),
        (with("layer_norm_epsilon", "0"), field("layer_norm_epsilon", "a small positive number, got 0")),
        (with("layer_norm_epsilon", "1e300"), field("layer_norm_epsilon", "a small positive number, got 1e+300")),
        (with("layer_norm_epsilon", "\"1e-5\""), field("layer_norm_epsilon", "a small positive number, got the string \"1e-5\"")),
        (with("activation_function", "\"relu\""), field("activation_function", "the tanh GELU of GPT-2 (one of [\"gelu_new\", \"gelu_pytorch_tanh\", \"gelu_fast\"]), got the string \"relu\"")),
        (with("activation_function", "7"), field("activation_function", "the tanh GELU of GPT-2 (one of [\"gelu_new\", \"gelu_pytorch_tanh\", \"gelu_fast\"]), got 7")),
        (with("scale_attn_weights", "\"yes\""), field("scale_attn_weights", "true (the GPT-2 architecture glassbox computes), got the string \"yes\"")),
        (with("add_cross_attention", "true"), field("add_cross_attention", "false (the GPT-2 architecture glassbox computes), got true")),
    ];
    for (text, expected) in cases {
        assert_eq!(
            Config::from_json("config.json", &text)
                .unwrap_err()
                .to_string(),
            expected,
            "{text}"
        );
    }
    // A config built in code is checked too, before any shape is computed from it.
    let zero_heads = Config {
        n_head: 0,
        ..config
    };
    assert_eq!(
        bytes_error(&zero_heads, &[]),
        field("n_head", "an integer in 1..=1024, got 0")
    );
}

#[test]
fn hostile_files_in_a_folder() {
    let dir = model_dir("binaryconfig", |_| {}, |c| c);
    std::fs::write(dir.join("model.safetensors"), []).unwrap();
    let (_, message) = load_error(&dir);
    assert_eq!(
        message,
        format!(
            "{}: not a valid safetensors file: the file is empty; a safetensors file starts with an 8-byte header length",
            dir.join("model.safetensors").display()
        )
    );
    std::fs::write(dir.join("config.json"), [0xff, b'{']).unwrap();
    let (_, message) = load_error(&dir);
    assert_eq!(
        message,
        format!(
            "{}: not valid JSON for a model config: invalid utf-8 sequence of 1 bytes from index 0",
            dir.join("config.json").display()
        )
    );
}
