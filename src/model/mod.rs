//! Models in the Hugging Face layouts of GPT-2 and the Llama family: `config.json` plus
//! `model.safetensors` (or shards listed in `model.safetensors.index.json`).

pub mod arch;
mod config;
pub mod gguf;
pub(crate) mod header;
mod quantize;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod shards;
pub(crate) mod weights;

pub use arch::Arch;
pub use config::Config;
pub(crate) use weights::{embedding_name, transpose};
pub use weights::{Blocks, Model, Progress, Weights};

use thiserror::Error;

/// Everything that can be wrong with a model folder or with the tokens fed to it. Each variant
/// names the file and the field or tensor concerned, and what was expected.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}: not valid JSON for a model config: {message}")]
    Config { file: String, message: String },
    #[error("{file}: field `{field}`: expected {expected}")]
    ConfigField {
        file: String,
        field: String,
        expected: String,
    },
    #[error("{file}: not a valid safetensors file: {message}")]
    Safetensors { file: String, message: String },
    #[error("{file}: tensor `{tensor}` is missing (also looked for `transformer.{tensor}` and `model.{tensor}`)")]
    MissingTensor { file: String, tensor: String },
    #[error("{file}: tensor `{tensor}` has dtype {found}, expected {expected}")]
    DType {
        file: String,
        tensor: String,
        found: String,
        expected: &'static str,
    },
    #[error("{file}: tensor `{tensor}` has shape {found:?}, expected {expected:?} from {config}")]
    Shape {
        file: String,
        tensor: String,
        found: Vec<usize>,
        expected: Vec<usize>,
        config: String,
    },
    #[error("{file}: tensor `{tensor}` holds {value} at index {index}; weights must be finite")]
    NonFinite {
        file: String,
        tensor: String,
        index: usize,
        value: f32,
    },
    #[error("{file}: tensor `lm_head.weight` differs from `{embedding}`, but the config ties the output head to the token embedding")]
    UntiedHead { file: String, embedding: String },
    #[error("{file}: {message}")]
    Index { file: String, message: String },
    #[error("{file}: not a GGUF model glassbox reads: {message}")]
    Gguf { file: String, message: String },
    #[error("token id {id} at position {position} is outside the vocabulary (vocab_size = {vocab_size})")]
    TokenOutOfVocab {
        id: u32,
        position: usize,
        vocab_size: usize,
    },
    #[error("{count} tokens given, but the model has n_positions = {n_positions}")]
    TooManyTokens { count: usize, n_positions: usize },
    #[error("no tokens given: at least one token id is needed")]
    NoTokens,
    #[error(
        "{count} prompt tokens given, but generation keeps at most {capacity} in its KV cache"
    )]
    PromptOverCache { count: usize, capacity: usize },
}

/// Checks token ids against the model before anything runs on them.
pub fn validate_ids(config: &Config, ids: &[u32]) -> Result<(), LoadError> {
    if ids.is_empty() {
        return Err(LoadError::NoTokens);
    }
    if ids.len() > config.n_positions {
        return Err(LoadError::TooManyTokens {
            count: ids.len(),
            n_positions: config.n_positions,
        });
    }
    if let Some((position, &id)) = ids
        .iter()
        .enumerate()
        .find(|(_, &id)| id as usize >= config.vocab_size)
    {
        return Err(LoadError::TokenOutOfVocab {
            id,
            position,
            vocab_size: config.vocab_size,
        });
    }
    Ok(())
}
