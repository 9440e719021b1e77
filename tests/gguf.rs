//! GGUF files: a Llama-family model written as llama.cpp's converter writes it reads back
//! weight for weight, and hostile files are refused with errors that name the file, the field
//! or tensor, and what was expected, never a panic.

mod common;

use common::gguf::{llama_metadata, string, write_llama, GgufWriter, Q5_K};
use common::{llama_config, LlamaShape};
use glassbox::model::{LoadError, Model};

fn shape(qkv_bias: bool, tied: bool) -> LlamaShape {
    LlamaShape {
        n_layer: 2,
        n_head: 4,
        n_kv_head: 2,
        n_embd: 32,
        intermediate: 48,
        vocab_size: 40,
        n_positions: 16,
        qkv_bias,
        tied,
        scaled: false,
    }
}

/// Every weight back exactly: names mapped, [out, in] rows turned to the graph's [in, out], and
/// q and k rows put back in transformers' order (interleaved per head by llama.cpp's converter
/// for `llama`; `qwen2` files keep transformers' order).
#[test]
fn a_llama_cpp_file_reads_back_weight_for_weight() {
    for (qkv_bias, tied) in [(false, true), (false, false), (true, false)] {
        let model = Model::random(llama_config(shape(qkv_bias, tied)), 5);
        let bytes = write_llama(&model);
        let read = Model::from_gguf("model.gguf", &bytes).unwrap();
        assert_eq!(read.config, model.config);
        let graph = glassbox::graph::Graph::forward(&model.config, 1);
        for tensor in graph.weights() {
            assert_eq!(
                read.weights.get(&tensor.name),
                model.weights.get(&tensor.name),
                "{} (qkv_bias {qkv_bias}, tied {tied})",
                tensor.name
            );
        }
    }
}

fn error(bytes: &[u8]) -> String {
    match Model::from_gguf("bad.gguf", bytes) {
        Ok(_) => panic!("a hostile file was accepted"),
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with("bad.gguf: "), "{message}");
            message
        }
    }
}

fn assert_refused(bytes: &[u8], expected: &str) {
    let message = error(bytes);
    assert!(
        message.contains(expected),
        "{message}\nexpected: {expected}"
    );
}

fn valid() -> (Model, GgufWriter) {
    let model = Model::random(llama_config(shape(false, true)), 3);
    let mut w = llama_metadata(&model.config);
    let bytes = write_llama(&model);
    // The tensors of the valid file, taken back out of it to build variants from.
    let parsed = glassbox::model::gguf::Gguf::parse("x", &bytes).unwrap();
    for info in parsed.tensors.values() {
        let values: Vec<f32> = info.ty.dequantize(parsed.data(info));
        w.tensor_f32(&info.name, &info.dims, &values);
    }
    (model, w)
}

#[test]
fn hostile_headers_are_refused_by_name() {
    assert_refused(
        b"",
        "the magic number (at byte 0): needs 4 bytes, the file has 0 left",
    );
    assert_refused(b"GGML\x03\0\0\0", "not a GGUF file");
    let (_, mut w) = valid();
    w.version = 7;
    assert_refused(&w.bytes(), "the version (at byte 8): 7, expected 2 or 3");
    let mut huge = b"GGUF\x03\0\0\0".to_vec();
    huge.extend(u64::MAX.to_le_bytes());
    assert_refused(&huge, "the tensor count");
    let (_, w) = valid();
    let bytes = w.bytes();
    assert_refused(&bytes[..700], "needs");
}

#[test]
fn hostile_metadata_is_refused_by_name() {
    let (_, mut w) = valid();
    w.metadata.push(("odd".into(), 13, vec![0; 8]));
    assert_refused(&w.bytes(), "metadata `odd` (at byte");
    assert_refused(&w.bytes(), "unknown value type 13, expected 0 to 12");

    let (_, mut w) = valid();
    w.metadata.retain(|(key, _, _)| key != "llama.block_count");
    assert_refused(&w.bytes(), "metadata `llama.block_count` is missing");

    let (_, mut w) = valid();
    w.metadata[0] = ("general.architecture".into(), 8, string("gpt2"));
    assert_refused(&w.bytes(), "is `gpt2`, expected `llama` or `qwen2`");

    let (_, mut w) = valid();
    w.str("llama.block_count", "two");
    assert_refused(&w.bytes(), "metadata `llama.block_count` (at byte");

    let (_, mut w) = valid();
    w.metadata
        .retain(|(key, _, _)| key != "llama.context_length");
    w.str("llama.context_length", "long");
    assert_refused(
        &w.bytes(),
        "metadata `llama.context_length` is a string, expected an unsigned integer",
    );

    let (_, mut w) = valid();
    let mut array = 8u32.to_le_bytes().to_vec();
    array.extend((1u64 << 40).to_le_bytes());
    w.metadata.push(("tokenizer.ggml.tokens".into(), 9, array));
    assert_refused(&w.bytes(), "cannot fit");
}

#[test]
fn hostile_tensors_are_refused_by_name() {
    let (_, mut w) = valid();
    w.tensors
        .retain(|(name, ..)| name != "blk.1.ffn_down.weight");
    assert_refused(&w.bytes(), "tensor `blk.1.ffn_down.weight` is missing");

    let (_, mut w) = valid();
    let at = w
        .tensors
        .iter()
        .position(|t| t.0 == "blk.0.attn_q.weight")
        .unwrap();
    w.tensors[at].1 = vec![16, 64];
    w.tensors[at].3.truncate(16 * 64 * 4);
    assert_refused(&w.bytes(), "tensor `blk.0.attn_q.weight` (the graph's `layers.0.self_attn.q_proj.weight`) has dimensions [16, 64], expected [32, 32]");

    let (_, mut w) = valid();
    w.tensors[0].2 = Q5_K;
    w.tensors[0].1 = vec![256, 1];
    let name = w.tensors[0].0.clone();
    assert_refused(
        &w.bytes(),
        &format!("tensor `{name}`: type Q5_K is not supported"),
    );

    let (_, mut w) = valid();
    w.tensors[0].2 = 99;
    assert_refused(&w.bytes(), "unknown ggml type 99");

    // A tensor whose bytes run past the end of the file.
    let (_, w) = valid();
    let bytes = w.bytes();
    assert_refused(&bytes[..bytes.len() - 4], "run past the data section");

    let (_, mut w) = valid();
    w.tensors[1].3 = w.tensors[1].3[..8].to_vec();
    w.tensors[1].1 = vec![2];
    let mut bytes = w.bytes();
    // Point the second tensor's offset at the first's bytes: the tensor infos are the last
    // thing before the padding, each ending in its 8-byte offset.
    let second = String::from_utf8_lossy(w.tensors[1].0.as_bytes()).to_string();
    let name_at = bytes
        .windows(second.len())
        .position(|s| s == second.as_bytes())
        .unwrap();
    let offset_at = name_at + second.len() + 4 + 8 + 4;
    bytes[offset_at..offset_at + 8].copy_from_slice(&0u64.to_le_bytes());
    assert_refused(&bytes, "overlap");
}

#[test]
fn non_finite_weights_are_refused() {
    let (_, mut w) = valid();
    let at = w
        .tensors
        .iter()
        .position(|t| t.0 == "output_norm.weight")
        .unwrap();
    w.tensors[at].3[4..8].copy_from_slice(&f32::NAN.to_le_bytes());
    let message = error(&w.bytes());
    assert!(
        message.contains("output_norm.weight") && message.contains("index 1"),
        "{message}"
    );
}

/// What a loader error is when the file is a GGUF: the variant the error catalogue lists.
#[test]
fn gguf_errors_are_their_own_variant() {
    let error = Model::from_gguf("bad.gguf", b"GGUF").unwrap_err();
    assert!(matches!(error, LoadError::Gguf { .. }), "{error:?}");
}

/// The pre-tokenizer `tokenizer.ggml.pre` names decides where the BPE may merge: with merges
/// "3 4", "1 2", "12 3" (in that order), "1234" is [12, 34] whole (gpt-2), [123, 4] in runs of
/// up to three digits (llama-bpe) and [1, 2, 3, 4] digit by digit (qwen2); llama-bpe files that
/// say `add_bos_token` get their bos first.
#[test]
fn the_pre_tokenizer_the_file_names_splits_numbers_as_its_model_does() {
    use glassbox::scene::hf_tokenizer::HfTokenizer;
    let tokens = ["1", "2", "3", "4", "12", "34", "123", "<s>"];
    let cases: [(&str, bool, &[u32]); 4] = [
        ("gpt-2", false, &[4, 5]),
        ("llama-bpe", false, &[6, 3]),
        ("llama-bpe", true, &[7, 6, 3]),
        ("qwen2", false, &[0, 1, 2, 3]),
    ];
    for (pre, bos, expected) in cases {
        let mut w = GgufWriter::new();
        w.str("tokenizer.ggml.model", "gpt2");
        w.str("tokenizer.ggml.pre", pre);
        w.strings("tokenizer.ggml.tokens", &tokens);
        w.strings("tokenizer.ggml.merges", &["3 4", "1 2", "12 3"]);
        w.u32("tokenizer.ggml.bos_token_id", 7);
        w.bool("tokenizer.ggml.add_bos_token", bos);
        let path = std::env::temp_dir().join(format!(
            "glassbox-pre-{pre}-{bos}-{}.gguf",
            std::process::id()
        ));
        std::fs::write(&path, w.bytes()).unwrap();
        let tokenizer = HfTokenizer::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            tokenizer.encode("1234").unwrap(),
            expected,
            "{pre}, bos {bos}"
        );
    }
}
