//! Property tests on hostile input: arbitrary and mutated bytes and text fed to every loader and
//! parser. None may panic; each returns a value or an error that names the file. The seed is
//! fixed, so a failure reproduces.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use glassbox::model::{validate_ids, Config, Model};
use glassbox::scene::{Scene, TextStream, Tokenizer};
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x67_6c61_7373),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The oracle's `tiny_2l` model: its config and its safetensors bytes.
fn tiny() -> &'static (Config, Vec<u8>) {
    static TINY: OnceLock<(Config, Vec<u8>)> = OnceLock::new();
    TINY.get_or_init(|| {
        let text = String::from_utf8(read("tests/data/oracle/tiny_2l/config.json")).unwrap();
        let config = Config::from_json("config.json", &text).unwrap();
        (config, read("tests/data/oracle/tiny_2l/model.safetensors"))
    })
}

fn sort_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Scene::embedded().model)
}

/// Loads `bytes` as the tiny model's weights: an error names the file, a model holds only
/// finite weights.
fn check_load(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (config, _) = tiny();
    match Model::from_safetensors(config.clone(), "config.json", "model.safetensors", bytes) {
        Ok(model) => {
            let graph = glassbox::graph::Graph::forward(config, 1);
            for tensor in graph.weights() {
                let values = model.weights.get(&tensor.name).unwrap();
                prop_assert!(values.iter().all(|v| v.is_finite()), "{}", tensor.name);
            }
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.starts_with("model.safetensors: "), "{message}");
        }
    }
    Ok(())
}

/// One change to a byte string.
#[derive(Clone, Debug)]
enum Mutation {
    /// Set the byte at (position modulo the length).
    Set(usize, u8),
    /// Write four bytes (an f32 such as NaN, or a length) at a position.
    Word(usize, [u8; 4]),
    /// Remove a range.
    Cut(usize, usize),
    /// Insert bytes.
    Insert(usize, Vec<u8>),
    /// Keep only a prefix.
    Truncate(usize),
}

fn mutation(max_insert: usize) -> impl Strategy<Value = Mutation> {
    let nan = f32::NAN.to_le_bytes();
    let inf = f32::INFINITY.to_le_bytes();
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        (
            any::<usize>(),
            prop_oneof![Just(nan), Just(inf), any::<[u8; 4]>()]
        )
            .prop_map(|(at, w)| Mutation::Word(at, w)),
        (any::<usize>(), 0..64usize).prop_map(|(at, n)| Mutation::Cut(at, n)),
        (
            any::<usize>(),
            prop::collection::vec(any::<u8>(), 1..=max_insert)
        )
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Applies `mutation` to `bytes`, its positions taken modulo `reach` (to aim at a header).
fn apply(bytes: &mut Vec<u8>, mutation: &Mutation, reach: usize) {
    let reach = reach.min(bytes.len()).max(1);
    match mutation {
        Mutation::Set(at, b) => {
            if let Some(byte) = bytes.get_mut(at % reach) {
                *byte = *b;
            }
        }
        Mutation::Word(at, w) => {
            let at = at % reach;
            let end = (at + 4).min(bytes.len());
            bytes[at.min(end)..end].copy_from_slice(&w[..end - at.min(end)]);
        }
        Mutation::Cut(at, n) => {
            let at = (at % reach).min(bytes.len());
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
        }
        Mutation::Insert(at, inserted) => {
            let at = (at % reach).min(bytes.len());
            bytes.splice(at..at, inserted.iter().copied());
        }
        Mutation::Truncate(at) => bytes.truncate(at % (bytes.len() + 1)),
    }
}

/// Valid UTF-8 after a mutation: positions moved to character boundaries.
fn apply_text(text: &str, mutation: &Mutation) -> String {
    let mut bytes = text.as_bytes().to_vec();
    apply(&mut bytes, mutation, usize::MAX);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A two-layer Llama-family model as llama.cpp writes it, and where its tensor infos end.
fn tiny_gguf() -> &'static (Vec<u8>, usize) {
    static GGUF: OnceLock<(Vec<u8>, usize)> = OnceLock::new();
    GGUF.get_or_init(|| {
        let config = common::llama_config(common::LlamaShape {
            n_layer: 2,
            n_head: 4,
            n_kv_head: 2,
            n_embd: 32,
            intermediate: 48,
            vocab_size: 40,
            n_positions: 16,
            qkv_bias: false,
            tied: true,
            scaled: false,
        });
        let bytes = common::gguf::write_llama(&Model::random(config, 1));
        let parsed = glassbox::model::gguf::Gguf::parse("x", &bytes).unwrap();
        let data_start = parsed.tensors.values().map(|t| t.start).min().unwrap();
        (bytes, data_start)
    })
}

/// Loads `bytes` as a GGUF model: an error names the file, a model holds only finite weights.
fn check_gguf(bytes: &[u8]) -> Result<(), TestCaseError> {
    match Model::from_gguf("model.gguf", bytes) {
        Ok(model) => {
            let graph = glassbox::graph::Graph::forward(&model.config, 1);
            for tensor in graph.weights() {
                let values = model.weights.get(&tensor.name).unwrap();
                prop_assert!(values.iter().all(|v| v.is_finite()), "{}", tensor.name);
            }
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.starts_with("model.gguf: "), "{message}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn gguf_loader_survives_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_gguf(&bytes)?;
        let mut framed = b"GGUF\x03\0\0\0".to_vec();
        framed.extend_from_slice(&bytes);
        check_gguf(&framed)?;
    }

    #[test]
    fn gguf_loader_survives_mutated_files(
        mutations in prop::collection::vec(mutation(16), 1..4),
        in_header in any::<bool>(),
    ) {
        let (valid, data_start) = tiny_gguf();
        let mut bytes = valid.clone();
        for m in &mutations {
            apply(&mut bytes, m, if in_header { *data_start } else { usize::MAX });
        }
        check_gguf(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn loader_survives_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_load(&bytes)?;
        // The same bytes after a header length that fits them, so the JSON parser sees them.
        let mut framed = (bytes.len() as u64).to_le_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        check_load(&framed)?;
    }

    #[test]
    fn loader_survives_mutated_files(
        mutations in prop::collection::vec(mutation(16), 1..4),
        in_header in any::<bool>(),
    ) {
        let (_, valid) = tiny();
        let header_end = 8 + u64::from_le_bytes(valid[..8].try_into().unwrap()) as usize;
        let mut bytes = valid.clone();
        for m in &mutations {
            apply(&mut bytes, m, if in_header { header_end } else { usize::MAX });
        }
        check_load(&bytes)?;
    }

    #[test]
    fn loader_survives_mutated_header_json(
        tensor in 0..40usize,
        key in prop::sample::select(vec!["dtype", "shape", "data_offsets", "extra"]),
        value in json_value(),
    ) {
        let (_, valid) = tiny();
        let header_end = 8 + u64::from_le_bytes(valid[..8].try_into().unwrap()) as usize;
        let mut header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&valid[8..header_end]).unwrap();
        let name = header.keys().nth(tensor % header.len()).unwrap().clone();
        header[&name][key] = value;
        let header = serde_json::to_vec(&header).unwrap();
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(&valid[header_end..]);
        check_load(&bytes)?;
    }

    #[test]
    fn config_survives_random_text(text in ".{0,200}") {
        check_config(&text)?;
    }

    #[test]
    fn config_survives_mutated_text(mutations in prop::collection::vec(mutation(8), 1..4)) {
        let mut text = String::from_utf8(read("tests/data/oracle/tiny_2l/config.json")).unwrap();
        for m in &mutations {
            text = apply_text(&text, m);
        }
        check_config(&text)?;
    }

    #[test]
    fn config_survives_hostile_fields(
        field in prop::sample::select(vec![
            "n_layer", "n_head", "n_embd", "vocab_size", "n_positions", "layer_norm_epsilon",
            "activation_function", "scale_attn_weights", "tie_word_embeddings", "n_ctx",
        ]),
        value in json_value(),
    ) {
        let text = String::from_utf8(read("tests/data/oracle/tiny_2l/config.json")).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json[field] = value;
        check_config(&json.to_string())?;
    }

    #[test]
    fn scene_survives_mutated_toml(mutations in prop::collection::vec(mutation(24), 1..4)) {
        let mut text = String::from_utf8(read("scenes/sort/scene.toml")).unwrap();
        for m in &mutations {
            text = apply_text(&text, m);
        }
        check_scene(&text)?;
    }

    #[test]
    fn scene_survives_random_toml(text in "[a-z_\\[\\]\\.=\" {}:0-9\n#-]{0,200}") {
        check_scene(&text)?;
    }

    #[test]
    fn gpt2_encodes_any_text_losslessly(text in any::<String>()) {
        let ids = Tokenizer::Gpt2.encode(&text).unwrap();
        prop_assert!(ids.iter().all(|&id| id < 50257));
        prop_assert_eq!(Tokenizer::Gpt2.try_decode(&ids).unwrap(), text.clone());
        let mut stream = TextStream::new(&Tokenizer::Gpt2);
        let streamed: String = ids.iter().map(|&id| stream.push(id)).collect();
        prop_assert_eq!(streamed + &stream.finish(), text);
    }

    #[test]
    fn tokenizers_survive_any_text(text in any::<String>(), alphabet in ".{0,8}") {
        let chars = Tokenizer::Chars { alphabet: alphabet.clone() };
        match chars.encode(&text) {
            Ok(ids) => {
                prop_assert!(ids.iter().all(|&id| (id as usize) < alphabet.chars().count()));
                prop_assert_eq!(chars.try_decode(&ids).unwrap(), text.as_str());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        match Tokenizer::Ids.encode(&text) {
            Ok(ids) => prop_assert_eq!(Tokenizer::Ids.encode(&Tokenizer::Ids.decode(&ids)).unwrap(), ids),
            Err(e) => prop_assert!(e.to_string().contains("is not a token id")),
        }
    }

    #[test]
    fn tokenizers_survive_any_ids(
        ids in prop::collection::vec(prop_oneof![0..60000u32, any::<u32>()], 0..64),
    ) {
        let tokenizers = [
            Tokenizer::Gpt2,
            Tokenizer::Ids,
            Tokenizer::Chars { alphabet: "ABC".into() },
        ];
        for tokenizer in &tokenizers {
            let text = tokenizer.decode(&ids);
            let in_vocab = tokenizer
                .vocab_size()
                .is_none_or(|n| ids.iter().all(|&id| (id as usize) < n));
            match tokenizer.try_decode(&ids) {
                Ok(decoded) => {
                    prop_assert!(in_vocab);
                    prop_assert_eq!(decoded, text);
                }
                Err(e) => {
                    prop_assert!(!in_vocab);
                    prop_assert!(e.to_string().contains("outside the tokenizer's vocabulary"));
                }
            }
            let mut stream = TextStream::new(tokenizer);
            for &id in &ids {
                stream.push(id);
            }
            stream.finish();
            for &id in ids.iter().take(4) {
                tokenizer.decode_one(id);
            }
        }
        let model = sort_model();
        let config = &model.config;
        let valid = !ids.is_empty()
            && ids.len() <= config.n_positions
            && ids.iter().all(|&id| (id as usize) < config.vocab_size);
        prop_assert_eq!(validate_ids(config, &ids).is_ok(), valid);
    }
}

/// JSON values of every kind, with the numbers that break arithmetic.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop_oneof![
            Just(0u64),
            Just(1),
            Just(3),
            Just(u64::MAX),
            Just(1 << 32),
            any::<u64>()
        ]
        .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
        Just(json!([1, 2])),
        Just(json!({"a": 1})),
        Just(json!([-1])),
        Just(json!([0, 18446744073709551615u64])),
        Just(json!("F16")),
        Just(json!("I64")),
    ]
}

fn check_config(text: &str) -> Result<(), TestCaseError> {
    match Config::from_json("config.json", text) {
        Ok(config) => {
            prop_assert!(config.check("config.json").is_ok());
            prop_assert!(config.n_embd % config.n_head == 0);
            prop_assert!(config.n_layer > 0 && config.vocab_size > 0 && config.n_positions > 0);
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.starts_with("config.json: "), "{message}");
        }
    }
    Ok(())
}

fn check_scene(text: &str) -> Result<(), TestCaseError> {
    match Scene::from_toml("scene.toml", text, sort_model().clone()) {
        Ok(scene) => {
            let duration = scene.walkthrough.duration();
            prop_assert!(duration.is_finite() && duration >= 0.0);
            for t in [0.0, duration / 2.0, duration, duration + 1.0] {
                scene.walkthrough.at(t);
            }
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.starts_with("scene.toml: "), "{message}");
        }
    }
    Ok(())
}
