//! A GGUF file's own tokenizer (`tokenizer.ggml.*`): the byte-level BPE of its tokens and
//! merges, with the pre-tokenizer `tokenizer.ggml.pre` names, written as the `tokenizer.json`
//! Hugging Face's `tokenizers` reads, so that it splits text exactly as transformers does for
//! the same vocabulary.

use serde_json::{json, Value as Json};

use crate::model::gguf::{Gguf, Value};

/// ggml's token types (`tokenizer.ggml.token_type`): control tokens (`<|im_start|>`) and
/// user-defined ones are matched whole in the text, before the BPE.
const CONTROL: u64 = 3;
const USER_DEFINED: u64 = 4;

/// The `tokenizer.json` of a GGUF file's tokenizer, or what is missing or not supported.
pub fn tokenizer_json(gguf: &Gguf) -> Result<String, String> {
    let model = gguf
        .str("tokenizer.ggml.model")
        .map_err(|e| e.to_string())?;
    if model != "gpt2" {
        return Err(format!(
            "metadata `tokenizer.ggml.model` is `{model}`: only byte-level BPE (`gpt2`) is read \
             so far"
        ));
    }
    let pre = match gguf.metadata.get("tokenizer.ggml.pre") {
        Some(value) => value.as_str().unwrap_or("default"),
        None => "default",
    };
    let byte_level = |use_regex: bool| {
        json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
               "use_regex": use_regex})
    };
    // Llama 3's and Qwen2's tokenizer.json: their own split, then bytes mapped to characters.
    let split_then_bytes = |pattern: &str| {
        json!({"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated",
             "invert": false},
            byte_level(false)]})
    };
    let (pre_tokenizer, normalizer) = match pre {
        // SmolLM's tokenizer.json: every digit apart, then GPT-2's split.
        "smollm" => (
            json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true}, byte_level(true)]}),
            Json::Null,
        ),
        "gpt-2" | "default" => (byte_level(true), Json::Null),
        // Numbers in runs of up to three digits.
        "llama-bpe" => (split_then_bytes(LLAMA3_SPLIT), Json::Null),
        // Every digit apart, text NFC-normalized first.
        "qwen2" => (split_then_bytes(QWEN2_SPLIT), json!({"type": "NFC"})),
        other => {
            return Err(format!(
                "metadata `tokenizer.ggml.pre` is `{other}`: the pre-tokenizers read so far are \
                 `smollm`, `gpt-2`, `llama-bpe` and `qwen2`"
            ))
        }
    };
    let tokens = strings(gguf, "tokenizer.ggml.tokens")?;
    let merges = strings(gguf, "tokenizer.ggml.merges")?;
    let types = match gguf.metadata.get("tokenizer.ggml.token_type") {
        Some(Value::Array(items)) => items.iter().map(|v| v.as_u64().unwrap_or(1)).collect(),
        _ => vec![1; tokens.len()],
    };
    let vocab: serde_json::Map<String, Json> = tokens
        .iter()
        .enumerate()
        .map(|(id, token)| (token.to_string(), json!(id)))
        .collect();
    if vocab.len() != tokens.len() {
        return Err("metadata `tokenizer.ggml.tokens` holds a token twice".to_string());
    }
    let added: Vec<Json> = tokens
        .iter()
        .zip(&types)
        .enumerate()
        .filter(|(_, (_, &ty))| ty == CONTROL || ty == USER_DEFINED)
        .map(|(id, (token, &ty))| {
            json!({"id": id, "content": token, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": ty == CONTROL})
        })
        .collect();
    let tokenizer = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": bos_first(gguf, &tokens)?,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true,
                    "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null,
                  "continuing_subword_prefix": null, "end_of_word_suffix": null,
                  "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                  "vocab": vocab, "merges": merges},
    });
    Ok(tokenizer.to_string())
}

/// Llama 3's pre-tokenizer split (its tokenizer.json).
const LLAMA3_SPLIT: &str = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/// Qwen2's: Llama 3's with single digits.
const QWEN2_SPLIT: &str = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/// Where the metadata says so (`tokenizer.ggml.add_bos_token`, as Llama 3's files do), the
/// beginning-of-sequence token put before the text, as transformers does.
fn bos_first(gguf: &Gguf, tokens: &[&str]) -> Result<Json, String> {
    let adds = matches!(
        gguf.metadata.get("tokenizer.ggml.add_bos_token"),
        Some(Value::Bool(true))
    );
    if !adds {
        return Ok(Json::Null);
    }
    let id = gguf
        .metadata
        .get("tokenizer.ggml.bos_token_id")
        .and_then(Value::as_u64)
        .ok_or("metadata `tokenizer.ggml.add_bos_token` is true but `tokenizer.ggml.bos_token_id` is missing")?;
    let token = tokens.get(id as usize).ok_or_else(|| {
        format!("metadata `tokenizer.ggml.bos_token_id` is {id}, past the vocabulary")
    })?;
    let mut special = serde_json::Map::new();
    special.insert(
        token.to_string(),
        json!({"id": token, "ids": [id], "tokens": [token]}),
    );
    Ok(json!({"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": token, "type_id": 0}},
                   {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": token, "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": special}))
}

fn strings<'g>(gguf: &'g Gguf, key: &str) -> Result<Vec<&'g str>, String> {
    let missing = || format!("metadata `{key}` is missing or not an array of strings");
    match gguf.metadata.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().ok_or_else(missing))
            .collect(),
        _ => Err(missing()),
    }
}
