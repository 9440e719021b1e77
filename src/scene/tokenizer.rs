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
}

#[derive(Clone, Debug, Error, PartialEq)]
pub enum TokenizerError {
    #[error("character {found:?} at position {position} is not in the alphabet {alphabet:?}")]
    NotInAlphabet {
        found: char,
        position: usize,
        alphabet: String,
    },
    #[error("{found:?} is not a token id (expected a number)")]
    NotAnId { found: String },
}

impl Tokenizer {
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        match self {
            Tokenizer::Chars { alphabet } => text
                .chars()
                .enumerate()
                .map(|(position, c)| {
                    alphabet
                        .chars()
                        .position(|a| a == c)
                        .map(|i| i as u32)
                        .ok_or_else(|| TokenizerError::NotInAlphabet {
                            found: c,
                            position,
                            alphabet: alphabet.clone(),
                        })
                })
                .collect(),
            Tokenizer::Ids => text
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse().map_err(|_| TokenizerError::NotAnId {
                        found: s.to_string(),
                    })
                })
                .collect(),
        }
    }

    /// The text of one token, for token strips and probability bars.
    pub fn decode_one(&self, id: u32) -> String {
        match self {
            Tokenizer::Chars { alphabet } => alphabet
                .chars()
                .nth(id as usize)
                .map_or_else(|| format!("#{id}"), String::from),
            Tokenizer::Ids => id.to_string(),
        }
    }
}
