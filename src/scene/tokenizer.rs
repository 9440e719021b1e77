//! Turning the prompt text into token ids and back.

use serde::Deserialize;
use thiserror::Error;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Tokenizer {
    /// One token per character: the character's position in `alphabet`.
    Chars { alphabet: String },
    /// The prompt is the token ids themselves, comma- or space-separated (for models that ship
    /// no tokenizer).
    Ids,
    /// GPT-2's byte-level BPE (`r50k_base`), built in: no download.
    Gpt2,
    /// A model's own `tokenizer.json` (found beside its weights; not written in scene files).
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(skip)]
    Json(super::hf_tokenizer::HfTokenizer),
}

#[derive(Clone, Debug, Error, PartialEq)]
pub enum TokenizerError {
    #[error("character {found:?} at position {position} is not in the alphabet {alphabet:?}")]
    NotInAlphabet {
        found: char,
        position: usize,
        alphabet: String,
    },
    #[error(
        "{found:?} is not a token id (expected a whole number from 0 to {})",
        u32::MAX
    )]
    NotAnId { found: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("token id {id} at position {position} is outside the tokenizer's vocabulary of {vocab_size} tokens")]
    OutOfVocabulary {
        id: u32,
        position: usize,
        vocab_size: usize,
    },
}

/// The number of tokens of GPT-2's `r50k_base`: ids 0 to 50256 (the end-of-text marker).
const GPT2_VOCAB_SIZE: usize = 50257;

impl Tokenizer {
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        match self {
            Tokenizer::Chars { alphabet } => {
                let mut ids = std::collections::HashMap::new();
                for (i, c) in alphabet.chars().enumerate() {
                    ids.entry(c).or_insert(i as u32);
                }
                text.chars()
                    .enumerate()
                    .map(|(position, c)| {
                        ids.get(&c)
                            .copied()
                            .ok_or_else(|| TokenizerError::NotInAlphabet {
                                found: c,
                                position,
                                alphabet: alphabet.clone(),
                            })
                    })
                    .collect()
            }
            Tokenizer::Ids => text
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse().map_err(|_| TokenizerError::NotAnId {
                        found: s.to_string(),
                    })
                })
                .collect(),
            Tokenizer::Gpt2 => Ok(tiktoken_rs::r50k_base_singleton().encode_ordinary(text)),
            #[cfg(not(target_arch = "wasm32"))]
            Tokenizer::Json(json) => json.encode(text),
        }
    }

    /// The ids of a piece of text on its own: [`Tokenizer::encode`] without the special tokens
    /// a `tokenizer.json` puts before a prompt.
    pub fn encode_piece(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Tokenizer::Json(json) => json.encode_plain(text),
            _ => self.encode(text),
        }
    }

    /// How many token ids the tokenizer knows, where it is bounded (ids are any u32 for `Ids`).
    pub fn vocab_size(&self) -> Option<usize> {
        match self {
            Tokenizer::Chars { alphabet } => Some(alphabet.chars().count()),
            Tokenizer::Ids => None,
            Tokenizer::Gpt2 => Some(GPT2_VOCAB_SIZE),
            #[cfg(not(target_arch = "wasm32"))]
            Tokenizer::Json(json) => Some(json.vocab_size()),
        }
    }

    /// [`Tokenizer::decode`], refusing ids outside the vocabulary instead of showing them.
    pub fn try_decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        if let Some(vocab_size) = self.vocab_size() {
            if let Some((position, &id)) = ids
                .iter()
                .enumerate()
                .find(|(_, &id)| id as usize >= vocab_size)
            {
                return Err(TokenizerError::OutOfVocabulary {
                    id,
                    position,
                    vocab_size,
                });
            }
        }
        Ok(self.decode(ids))
    }

    /// The text of a sequence of tokens (bytes that are not valid UTF-8 on their own, such as half
    /// an emoji, are shown as U+FFFD). An id outside the vocabulary is shown as `#ID`.
    pub fn decode(&self, ids: &[u32]) -> String {
        match self {
            Tokenizer::Gpt2 => {
                let bytes: Vec<u8> = ids.iter().flat_map(|&id| gpt2_bytes(id)).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Tokenizer::Chars { .. } => ids.iter().map(|&id| self.decode_one(id)).collect(),
            Tokenizer::Ids => ids.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
            #[cfg(not(target_arch = "wasm32"))]
            Tokenizer::Json(json) => json.decode(ids),
        }
    }

    /// The text of one token, for token strips and probability bars (`#ID` outside the
    /// vocabulary).
    pub fn decode_one(&self, id: u32) -> String {
        match self {
            Tokenizer::Chars { alphabet } => alphabet
                .chars()
                .nth(id as usize)
                .map_or_else(|| format!("#{id}"), String::from),
            Tokenizer::Ids => id.to_string(),
            Tokenizer::Gpt2 => self.decode(&[id]),
            #[cfg(not(target_arch = "wasm32"))]
            Tokenizer::Json(json) => json.decode(&[id]),
        }
    }
}

/// Turns generated tokens into text as they come. A GPT-2 token can end in the middle of a
/// character (an emoji is often two or three tokens), so bytes wait here until they complete
/// one; the others print at once.
pub struct TextStream<'a> {
    tokenizer: &'a Tokenizer,
    pending: Vec<u8>,
    /// For a `tokenizer.json`: every id so far, and how many bytes of their text were given
    /// out (its decoder may join tokens, so text is taken from the decoding of them all).
    #[cfg(not(target_arch = "wasm32"))]
    ids: Vec<u32>,
    #[cfg(not(target_arch = "wasm32"))]
    shown: usize,
    /// Between tokens for tokenizers whose tokens are not text (the ids of the sorter).
    separator: &'static str,
    first: bool,
}

impl<'a> TextStream<'a> {
    pub fn new(tokenizer: &'a Tokenizer) -> TextStream<'a> {
        let separator = if matches!(tokenizer, Tokenizer::Ids) {
            ","
        } else {
            ""
        };
        TextStream {
            tokenizer,
            pending: Vec::new(),
            #[cfg(not(target_arch = "wasm32"))]
            ids: Vec::new(),
            #[cfg(not(target_arch = "wasm32"))]
            shown: 0,
            separator,
            first: true,
        }
    }

    /// The text that token `id` completes (possibly empty).
    pub fn push(&mut self, id: u32) -> String {
        let separator = if self.first { "" } else { self.separator };
        self.first = false;
        match self.tokenizer {
            Tokenizer::Gpt2 => {
                self.pending.extend(gpt2_bytes(id));
                let valid = match std::str::from_utf8(&self.pending) {
                    Ok(text) => text.len(),
                    // Bytes that can never become valid are shown as U+FFFD rather than held.
                    Err(e) if e.error_len().is_some() => self.pending.len(),
                    Err(e) => e.valid_up_to(),
                };
                let done: Vec<u8> = self.pending.drain(..valid).collect();
                String::from_utf8_lossy(&done).into_owned()
            }
            #[cfg(not(target_arch = "wasm32"))]
            Tokenizer::Json(json) => {
                self.ids.push(id);
                let text = json.decode(&self.ids);
                // A byte-fallback or byte-level token may end inside a character: wait for the
                // rest rather than print U+FFFD.
                if text.ends_with('\u{FFFD}') {
                    return String::new();
                }
                self.take_new(text)
            }
            _ => format!("{separator}{}", self.tokenizer.decode_one(id)),
        }
    }

    /// Whatever is still waiting at the end, as U+FFFD.
    pub fn finish(&mut self) -> String {
        #[cfg(not(target_arch = "wasm32"))]
        if let Tokenizer::Json(json) = self.tokenizer {
            let text = json.decode(&self.ids);
            return self.take_new(text);
        }
        String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned()
    }

    /// The part of the decoded `text` not given out yet.
    #[cfg(not(target_arch = "wasm32"))]
    fn take_new(&mut self, text: String) -> String {
        let new = text.get(self.shown..).unwrap_or_default().to_string();
        self.shown = self.shown.max(text.len());
        new
    }
}

/// The bytes of one GPT-2 token; `#ID` for an id outside the vocabulary, so that a bad id shows
/// where it is rather than vanishing.
fn gpt2_bytes(id: u32) -> Vec<u8> {
    tiktoken_rs::r50k_base_singleton()
        .decode_bytes(&[id])
        .unwrap_or_else(|_| format!("#{id}").into_bytes())
}
