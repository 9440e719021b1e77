//! A model's own `tokenizer.json`, Hugging Face's format, read with Hugging Face's `tokenizers`
//! crate: byte-level BPE as GPT-2, Llama 3 and Qwen2 use it, and SentencePiece-style BPE with
//! byte fallback as Llama 2 and TinyLlama use it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chat::{ChatTemplate, END_OF_TURN};
use super::TokenizerError;

/// The `chat_template` of a `tokenizer_config.json`, where there is one.
fn config_chat_template(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    config["chat_template"].as_str().map(str::to_string)
}

/// The file name checkpoints carry their tokenizer under.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// A loaded `tokenizer.json`; two are equal when they were read from the same file.
#[derive(Clone)]
pub struct HfTokenizer {
    file: PathBuf,
    inner: Arc<tokenizers::Tokenizer>,
    /// The Jinja chat template beside it, if any.
    chat_template: Option<String>,
}

impl std::fmt::Debug for HfTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HfTokenizer({})", self.file.display())
    }
}

impl PartialEq for HfTokenizer {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file
    }
}

impl HfTokenizer {
    /// Reads `path`: a `tokenizer.json` file, a model folder holding one, or a GGUF file (its
    /// `tokenizer.ggml.*` metadata).
    pub fn load(path: &Path) -> Result<HfTokenizer, TokenizerError> {
        let file = if path.is_dir() {
            path.join(TOKENIZER_FILE)
        } else {
            path.to_path_buf()
        };
        let bad = |message: String| TokenizerError::File {
            file: file.display().to_string(),
            message,
        };
        let mut bytes = std::fs::read(&file).map_err(|e| bad(format!("cannot read: {e}")))?;
        let chat_template;
        if file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
        {
            let shown = file.display().to_string();
            let gguf =
                crate::model::gguf::Gguf::parse(&shown, &bytes).map_err(|e| bad(e.to_string()))?;
            chat_template = gguf
                .metadata
                .get("tokenizer.chat_template")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            bytes = super::gguf_tokenizer::tokenizer_json(&gguf)
                .map_err(bad)?
                .into_bytes();
        } else {
            chat_template = config_chat_template(&file.with_file_name("tokenizer_config.json"));
        }
        let inner = tokenizers::Tokenizer::from_bytes(&bytes)
            .map_err(|e| bad(format!("not a tokenizer.json that `tokenizers` reads: {e}")))?;
        Ok(HfTokenizer {
            file,
            inner: Arc::new(inner),
            chat_template,
        })
    }

    /// The model's chat form and the token that ends a turn, for `generate --chat`; or why
    /// there is none.
    pub fn chat(&self) -> Result<(ChatTemplate, u32), String> {
        let template = self.chat_template.as_deref().ok_or_else(|| {
            format!(
                "{}: no chat template (`tokenizer.chat_template` in a GGUF file, `chat_template` \
                 in tokenizer_config.json): not an instruct model",
                self.file.display()
            )
        })?;
        let chat = ChatTemplate::from_jinja(template)
            .map_err(|e| format!("{}: {e}", self.file.display()))?;
        let end = self.inner.token_to_id(END_OF_TURN).ok_or_else(|| {
            format!(
                "{}: the chat template ends turns with {END_OF_TURN}, which the vocabulary lacks",
                self.file.display()
            )
        })?;
        Ok((chat, end))
    }

    /// The ids `tokenizer(text)` gives in transformers: special tokens added where the file's
    /// post-processor adds them (Llama's `<s>` or `<|begin_of_text|>` first; none for Qwen2).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.encode_with(text, true)
    }

    /// The ids of `text` alone, no special tokens added.
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.encode_with(text, false)
    }

    fn encode_with(&self, text: &str, special: bool) -> Result<Vec<u32>, TokenizerError> {
        let encoding = self
            .inner
            .encode(text, special)
            .map_err(|e| TokenizerError::File {
                file: self.file.display().to_string(),
                message: format!("cannot encode {text:?}: {e}"),
            })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Tokens in the vocabulary, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The text of `ids` as the file's decoder makes it, special tokens shown. An id outside
    /// the vocabulary is shown as `#ID` where it stands.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut text = String::new();
        for run in ids.chunk_by(|a, b| self.known(*a) == self.known(*b)) {
            if self.known(run[0]) {
                text += &self.inner.decode(run, false).unwrap_or_default();
            } else {
                text.extend(run.iter().map(|id| format!("#{id}")));
            }
        }
        text
    }

    fn known(&self, id: u32) -> bool {
        self.inner.id_to_token(id).is_some()
    }
}
