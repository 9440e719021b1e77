//! `config.json` in the Hugging Face GPT-2 layout.

use serde::Deserialize;

use super::LoadError;

/// The GPT-2 hyper-parameters glassbox needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    pub vocab_size: usize,
    pub n_positions: usize,
    pub layer_norm_epsilon: f32,
}

#[derive(Deserialize)]
struct RawConfig {
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    vocab_size: usize,
    n_positions: usize,
    #[serde(default = "default_eps")]
    layer_norm_epsilon: f32,
    #[serde(default = "default_activation")]
    activation_function: String,
    #[serde(default = "yes")]
    scale_attn_weights: bool,
    #[serde(default)]
    scale_attn_by_inverse_layer_idx: bool,
    #[serde(default = "yes")]
    tie_word_embeddings: bool,
    #[serde(default)]
    add_cross_attention: bool,
}

fn yes() -> bool {
    true
}

/// Upper bounds far above any GPT-2 (XL has 48 layers, 1600 channels, 50257 tokens, 1024
/// positions) that keep every index inside a u32 and token ids exact in f32.
const LIMITS: [(&str, usize); 5] = [
    ("n_layer", 1024),
    ("n_head", 1024),
    ("n_embd", 65536),
    ("vocab_size", 1 << 24),
    ("n_positions", 65536),
];

fn default_eps() -> f32 {
    1e-5
}

fn default_activation() -> String {
    "gelu_new".to_string()
}

/// Activation names in transformers that mean GPT-2's tanh approximation of GELU.
const TANH_GELU_NAMES: [&str; 3] = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"];

impl Config {
    /// Parses `config.json` text; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> Result<Config, LoadError> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| LoadError::Config {
            file: file.to_string(),
            message: format!("line {}, column {}: {e}", e.line(), e.column()),
        })?;
        let bad = |field: &str, expected: String| LoadError::ConfigField {
            file: file.to_string(),
            field: field.to_string(),
            expected,
        };
        let values = [
            raw.n_layer,
            raw.n_head,
            raw.n_embd,
            raw.vocab_size,
            raw.n_positions,
        ];
        for ((field, max), value) in LIMITS.into_iter().zip(values) {
            if value == 0 || value > max {
                return Err(bad(field, format!("an integer in 1..={max}, got {value}")));
            }
        }
        // Variants of the architecture that glassbox does not compute: refuse them rather than
        // give numbers that silently differ from transformers.
        for (field, value, supported) in [
            ("scale_attn_weights", raw.scale_attn_weights, true),
            (
                "scale_attn_by_inverse_layer_idx",
                raw.scale_attn_by_inverse_layer_idx,
                false,
            ),
            ("tie_word_embeddings", raw.tie_word_embeddings, true),
            ("add_cross_attention", raw.add_cross_attention, false),
        ] {
            if value != supported {
                return Err(bad(
                    field,
                    format!("{supported} (the GPT-2 architecture glassbox computes)"),
                ));
            }
        }
        if !raw.n_embd.is_multiple_of(raw.n_head) {
            return Err(bad(
                "n_embd",
                format!("a multiple of n_head = {} (got {})", raw.n_head, raw.n_embd),
            ));
        }
        if !(raw.layer_norm_epsilon > 0.0 && raw.layer_norm_epsilon.is_finite()) {
            return Err(bad("layer_norm_epsilon", "a small positive number".into()));
        }
        if !TANH_GELU_NAMES.contains(&raw.activation_function.as_str()) {
            return Err(bad(
                "activation_function",
                format!(
                    "the tanh GELU of GPT-2 (one of {TANH_GELU_NAMES:?}), got {:?}",
                    raw.activation_function
                ),
            ));
        }
        Ok(Config {
            n_layer: raw.n_layer,
            n_head: raw.n_head,
            n_embd: raw.n_embd,
            vocab_size: raw.vocab_size,
            n_positions: raw.n_positions,
            layer_norm_epsilon: raw.layer_norm_epsilon,
        })
    }

    /// `config.json` text in the Hugging Face GPT-2 layout.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_embd": self.n_embd,
            "vocab_size": self.vocab_size,
            "n_positions": self.n_positions,
            "n_ctx": self.n_positions,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "activation_function": "gelu_new",
        })
        .to_string()
    }

    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// GPT-2 small (124M): the shape benchmarks and buffer-splitting tests use.
    pub fn gpt2_small() -> Config {
        Config {
            n_layer: 12,
            n_head: 12,
            n_embd: 768,
            vocab_size: 50257,
            n_positions: 1024,
            layer_norm_epsilon: 1e-5,
        }
    }
}
