//! `config.json` in the Hugging Face GPT-2 layout.

use serde_json::Value;

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

/// Upper bounds far above any GPT-2 (XL has 48 layers, 1600 channels, 50257 tokens, 1024
/// positions) that keep every index inside a u32 and token ids exact in f32.
const LIMITS: [(&str, usize); 5] = [
    ("n_layer", 1024),
    ("n_head", 1024),
    ("n_embd", 65536),
    ("vocab_size", 1 << 24),
    ("n_positions", 65536),
];

/// Activation names in transformers that mean GPT-2's tanh approximation of GELU.
const TANH_GELU_NAMES: [&str; 3] = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"];

impl Config {
    /// Parses `config.json` text; `file` names it in errors, which name the field and what was
    /// expected of it.
    pub fn from_json(file: &str, text: &str) -> Result<Config, LoadError> {
        let value: Value = serde_json::from_str(text).map_err(|e| LoadError::Config {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let Value::Object(fields) = value else {
            return Err(LoadError::Config {
                file: file.to_string(),
                message: format!(
                    "the top level is {}, expected an object of GPT-2 hyper-parameters",
                    describe(&value)
                ),
            });
        };
        let bad = |field: &str, expected: String| LoadError::ConfigField {
            file: file.to_string(),
            field: field.to_string(),
            expected,
        };
        let size = |field: &str, max: usize| {
            let expected = format!("an integer in 1..={max}");
            match fields.get(field) {
                None => Err(bad(field, format!("{expected}, but the field is missing"))),
                Some(value) => value
                    .as_u64()
                    .filter(|&n| n >= 1 && n <= max as u64)
                    .map(|n| n as usize)
                    .ok_or_else(|| bad(field, format!("{expected}, got {}", describe(value)))),
            }
        };
        let [n_layer, n_head, n_embd, vocab_size, n_positions] =
            LIMITS.map(|(field, max)| size(field, max));
        let (n_layer, n_head, n_embd, vocab_size, n_positions) =
            (n_layer?, n_head?, n_embd?, vocab_size?, n_positions?);
        let layer_norm_epsilon = match fields.get("layer_norm_epsilon") {
            None => 1e-5,
            Some(value) => value
                .as_f64()
                .map(|e| e as f32)
                .filter(|e| *e > 0.0 && e.is_finite())
                .ok_or_else(|| {
                    bad(
                        "layer_norm_epsilon",
                        format!("a small positive number, got {}", describe(value)),
                    )
                })?,
        };
        if let Some(value) = fields.get("activation_function") {
            if !value
                .as_str()
                .is_some_and(|name| TANH_GELU_NAMES.contains(&name))
            {
                return Err(bad(
                    "activation_function",
                    format!(
                        "the tanh GELU of GPT-2 (one of {TANH_GELU_NAMES:?}), got {}",
                        describe(value)
                    ),
                ));
            }
        }
        // Variants of the architecture that glassbox does not compute: refuse them rather than
        // give numbers that silently differ from transformers.
        for (field, supported) in [
            ("scale_attn_weights", true),
            ("scale_attn_by_inverse_layer_idx", false),
            ("tie_word_embeddings", true),
            ("add_cross_attention", false),
        ] {
            // Absent, each takes its GPT-2 value, the supported one.
            if let Some(value) = fields.get(field) {
                if value.as_bool() != Some(supported) {
                    return Err(bad(
                        field,
                        format!(
                            "{supported} (the GPT-2 architecture glassbox computes), got {}",
                            describe(value)
                        ),
                    ));
                }
            }
        }
        let config = Config {
            n_layer,
            n_head,
            n_embd,
            vocab_size,
            n_positions,
            layer_norm_epsilon,
        };
        config.check(file)?;
        Ok(config)
    }

    /// Checks the hyper-parameters (of a config built in code, too) before any shape is computed
    /// from them; `file` names the config in errors.
    pub fn check(&self, file: &str) -> Result<(), LoadError> {
        let bad = |field: &str, expected: String| LoadError::ConfigField {
            file: file.to_string(),
            field: field.to_string(),
            expected,
        };
        let values = [
            self.n_layer,
            self.n_head,
            self.n_embd,
            self.vocab_size,
            self.n_positions,
        ];
        for ((field, max), value) in LIMITS.into_iter().zip(values) {
            if value == 0 || value > max {
                return Err(bad(field, format!("an integer in 1..={max}, got {value}")));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(bad(
                "n_embd",
                format!(
                    "a multiple of n_head = {} (got {})",
                    self.n_head, self.n_embd
                ),
            ));
        }
        if !(self.layer_norm_epsilon > 0.0 && self.layer_norm_epsilon.is_finite()) {
            return Err(bad(
                "layer_norm_epsilon",
                format!("a small positive number, got {}", self.layer_norm_epsilon),
            ));
        }
        Ok(())
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

/// A JSON value as an error message shows it: its kind, and the value itself when short.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() <= 40 => format!("the string {s:?}"),
        Value::String(_) => "a long string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
