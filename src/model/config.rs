//! `config.json` in the Hugging Face layouts of GPT-2 and of the Llama family.

use serde_json::{Map, Value};

use super::arch::{parse_llama, Arch, LlamaFamily};
use super::LoadError;

/// The hyper-parameters glassbox needs. The sizes are named as GPT-2 names them; a Llama-family
/// config's `hidden_size`, `num_hidden_layers`, `num_attention_heads`,
/// `max_position_embeddings` and `rms_norm_eps` fill the same fields, and `arch` holds the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    pub vocab_size: usize,
    pub n_positions: usize,
    /// The layer norm's epsilon, or the RMSNorm's for the Llama family.
    pub layer_norm_epsilon: f32,
    pub arch: Arch,
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

/// The Llama family's names for the same sizes, in the order of [`LIMITS`]. Positions may go
/// further: there is no position table to index, and Llama 3.2 reads 131072.
const LLAMA_FIELDS: [(&str, usize); 5] = [
    ("num_hidden_layers", 1024),
    ("num_attention_heads", 1024),
    ("hidden_size", 65536),
    ("vocab_size", 1 << 24),
    ("max_position_embeddings", 1 << 20),
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
                    "the top level is {}, expected an object of model hyper-parameters",
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
        if let Some(family) = llama_family(&fields, &bad)? {
            let [n_layer, n_head, n_embd, vocab_size, n_positions] =
                LLAMA_FIELDS.map(|(field, max)| size(field, max));
            let (n_layer, n_head, n_embd, vocab_size, n_positions) =
                (n_layer?, n_head?, n_embd?, vocab_size?, n_positions?);
            let layer_norm_epsilon = epsilon(&fields, "rms_norm_eps", 1e-6, &bad)?;
            let arch = parse_llama(family, &fields, n_head, n_embd, n_positions, &bad)?;
            let config = Config {
                n_layer,
                n_head,
                n_embd,
                vocab_size,
                n_positions,
                layer_norm_epsilon,
                arch: Arch::Llama(arch),
            };
            config.check(file)?;
            return Ok(config);
        }
        let [n_layer, n_head, n_embd, vocab_size, n_positions] =
            LIMITS.map(|(field, max)| size(field, max));
        let (n_layer, n_head, n_embd, vocab_size, n_positions) =
            (n_layer?, n_head?, n_embd?, vocab_size?, n_positions?);
        let layer_norm_epsilon = epsilon(&fields, "layer_norm_epsilon", 1e-5, &bad)?;
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
            arch: Arch::Gpt2,
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
        let (fields, [heads, channels, epsilon]) = match &self.arch {
            Arch::Gpt2 => (LIMITS, ["n_head", "n_embd", "layer_norm_epsilon"]),
            Arch::Llama(_) => (
                LLAMA_FIELDS,
                ["num_attention_heads", "hidden_size", "rms_norm_eps"],
            ),
        };
        for ((field, max), value) in fields.into_iter().zip(values) {
            if value == 0 || value > max {
                return Err(bad(field, format!("an integer in 1..={max}, got {value}")));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(bad(
                channels,
                format!(
                    "a multiple of {heads} = {} (got {})",
                    self.n_head, self.n_embd
                ),
            ));
        }
        if !(self.layer_norm_epsilon > 0.0 && self.layer_norm_epsilon.is_finite()) {
            return Err(bad(
                epsilon,
                format!("a small positive number, got {}", self.layer_norm_epsilon),
            ));
        }
        if let Arch::Llama(llama) = &self.arch {
            if llama.n_kv_head == 0 || !self.n_head.is_multiple_of(llama.n_kv_head) {
                return Err(bad(
                    "num_key_value_heads",
                    format!(
                        "a divisor of num_attention_heads = {} (each key/value head serves the same number of query heads), got {}",
                        self.n_head, llama.n_kv_head
                    ),
                ));
            }
            if !self.head_dim().is_multiple_of(2) {
                return Err(bad(
                    channels,
                    format!(
                        "an even number of channels per head (rotary positions turn channel pairs), got {}",
                        self.head_dim()
                    ),
                ));
            }
            if llama.intermediate == 0 || llama.intermediate > 1 << 20 {
                return Err(bad(
                    "intermediate_size",
                    format!("an integer in 1..=1048576, got {}", llama.intermediate),
                ));
            }
        }
        Ok(())
    }

    /// `config.json` text in the Hugging Face layout of the architecture (the hub's, for the
    /// Llama family).
    pub fn to_json(&self) -> String {
        if let Arch::Llama(llama) = &self.arch {
            let scaling = llama.rope.scaling.map(|s| {
                serde_json::json!({
                    "rope_type": "llama3",
                    "factor": s.factor,
                    "low_freq_factor": s.low_freq_factor,
                    "high_freq_factor": s.high_freq_factor,
                    "original_max_position_embeddings": s.original_context,
                })
            });
            let mut json = serde_json::json!({
                "architectures": [llama.family.class()],
                "model_type": llama.family.model_type(),
                "num_hidden_layers": self.n_layer,
                "num_attention_heads": self.n_head,
                "num_key_value_heads": llama.n_kv_head,
                "hidden_size": self.n_embd,
                "intermediate_size": llama.intermediate,
                "vocab_size": self.vocab_size,
                "max_position_embeddings": self.n_positions,
                "rms_norm_eps": self.layer_norm_epsilon,
                "hidden_act": "silu",
                "tie_word_embeddings": llama.tied,
                "rope_theta": llama.rope.theta,
                "rope_scaling": scaling,
            });
            if llama.family == LlamaFamily::Llama {
                json["attention_bias"] = llama.qkv_bias.into();
                json["mlp_bias"] = llama.mlp_bias.into();
            }
            return json.to_string();
        }
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
            arch: Arch::Gpt2,
        }
    }

    /// SmolLM2-135M's shape (30 layers, 576 channels, 9 heads over 3 key/value heads, a
    /// 49152-token vocabulary, tied head): the Llama-family shape benchmarks use.
    pub fn smollm2_135m() -> Config {
        Config {
            n_layer: 30,
            n_head: 9,
            n_embd: 576,
            vocab_size: 49152,
            n_positions: 8192,
            layer_norm_epsilon: 1e-5,
            arch: Arch::Llama(super::arch::Llama {
                family: LlamaFamily::Llama,
                n_kv_head: 3,
                intermediate: 1536,
                rope: super::arch::Rope {
                    theta: 100000.0,
                    scaling: None,
                },
                qkv_bias: false,
                o_bias: false,
                mlp_bias: false,
                tied: true,
            }),
        }
    }

    /// The Llama-family part, if this is one.
    pub fn llama(&self) -> Option<&super::arch::Llama> {
        match &self.arch {
            Arch::Llama(llama) => Some(llama),
            Arch::Gpt2 => None,
        }
    }

    /// Neurons in one MLP: 4C for GPT-2, `intermediate_size` for the Llama family.
    pub fn mlp_width(&self) -> usize {
        self.llama().map_or(4 * self.n_embd, |l| l.intermediate)
    }

    /// Key/value heads: n_head for GPT-2.
    pub fn n_kv_head(&self) -> usize {
        self.llama().map_or(self.n_head, |l| l.n_kv_head)
    }
}

/// Which of the Llama family `model_type` (or, without it, the first of `architectures`) names;
/// `None` for GPT-2, which is also what a config naming neither is read as. Any other
/// architecture is refused by name.
fn llama_family(
    fields: &Map<String, Value>,
    bad: &dyn Fn(&str, String) -> LoadError,
) -> Result<Option<LlamaFamily>, LoadError> {
    let known = || {
        let mut names = vec!["gpt2 (GPT2LMHeadModel)".to_string()];
        names.extend(
            LlamaFamily::ALL
                .iter()
                .map(|f| format!("{} ({})", f.model_type(), f.class())),
        );
        names.join(", ")
    };
    if let Some(value) = fields.get("model_type") {
        let name = value.as_str().unwrap_or_default();
        if name == "gpt2" {
            return Ok(None);
        }
        return match LlamaFamily::ALL
            .into_iter()
            .find(|f| f.model_type() == name)
        {
            Some(family) => Ok(Some(family)),
            None => Err(bad(
                "model_type",
                format!(
                    "one of {} (the architectures glassbox computes), got {}",
                    known(),
                    describe(value)
                ),
            )),
        };
    }
    let Some(class) = fields
        .get("architectures")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    else {
        return Ok(None);
    };
    let name = class.as_str().unwrap_or_default();
    if name == "GPT2LMHeadModel" {
        return Ok(None);
    }
    match LlamaFamily::ALL.into_iter().find(|f| f.class() == name) {
        Some(family) => Ok(Some(family)),
        None => Err(bad(
            "architectures",
            format!(
                "one of {} (the architectures glassbox computes), got {}",
                known(),
                describe(class)
            ),
        )),
    }
}

/// A norm's epsilon: `default` when absent, else a small positive number.
fn epsilon(
    fields: &Map<String, Value>,
    field: &str,
    default: f32,
    bad: &dyn Fn(&str, String) -> LoadError,
) -> Result<f32, LoadError> {
    match fields.get(field) {
        None => Ok(default),
        Some(value) => value
            .as_f64()
            .map(|e| e as f32)
            .filter(|e| *e > 0.0 && e.is_finite())
            .ok_or_else(|| {
                bad(
                    field,
                    format!("a small positive number, got {}", describe(value)),
                )
            }),
    }
}

/// A JSON value as an error message shows it: its kind, and the value itself when short.
pub(super) fn describe(value: &Value) -> String {
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
