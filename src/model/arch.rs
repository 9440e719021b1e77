//! The Llama family's hyper-parameters (Llama, Qwen2, Mistral): what differs from GPT-2, read
//! from `config.json` as the hub's checkpoints write it (`rope_theta` and `rope_scaling` at the
//! top level) and as transformers 5 writes it (`rope_parameters`).

use serde_json::{Map, Value};

use super::config::describe;
use super::LoadError;

/// Which transformer a config describes.
#[derive(Clone, Debug, PartialEq)]
pub enum Arch {
    /// GPT-2: layer norm, learned positions, one key/value head per query head, a GELU MLP.
    Gpt2,
    /// The Llama family: RMSNorm, rotary positions, grouped-query attention, a gated MLP.
    Llama(Llama),
}

/// The checkpoint classes of the Llama family that glassbox loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LlamaFamily {
    Llama,
    Qwen2,
    Mistral,
}

impl LlamaFamily {
    pub const ALL: [LlamaFamily; 3] =
        [LlamaFamily::Llama, LlamaFamily::Qwen2, LlamaFamily::Mistral];

    /// `model_type` in `config.json`.
    pub fn model_type(self) -> &'static str {
        match self {
            LlamaFamily::Llama => "llama",
            LlamaFamily::Qwen2 => "qwen2",
            LlamaFamily::Mistral => "mistral",
        }
    }

    /// The transformers class, the first of `architectures` in `config.json`.
    pub fn class(self) -> &'static str {
        match self {
            LlamaFamily::Llama => "LlamaForCausalLM",
            LlamaFamily::Qwen2 => "Qwen2ForCausalLM",
            LlamaFamily::Mistral => "MistralForCausalLM",
        }
    }
}

/// What a Llama-family model adds to the sizes GPT-2 shares with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Llama {
    pub family: LlamaFamily,
    /// Key/value heads (`num_key_value_heads`); each serves n_head / n_kv_head query heads.
    pub n_kv_head: usize,
    /// The gated MLP's width (`intermediate_size`).
    pub intermediate: usize,
    pub rope: Rope,
    /// Biases on q, k and v (Qwen2 always; Llama with `attention_bias`).
    pub qkv_bias: bool,
    /// A bias on the attention's output projection (Llama with `attention_bias`).
    pub o_bias: bool,
    /// Biases on the MLP's three projections (Llama with `mlp_bias`).
    pub mlp_bias: bool,
    /// Whether the output head is the token embedding (`tie_word_embeddings`).
    pub tied: bool,
}

/// Rotary position embeddings: pair (i, i + D/2) of a head's channels turned by position p times
/// `inv_freq[i]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rope {
    pub theta: f32,
    pub scaling: Option<Llama3Scaling>,
}

/// `rope_scaling` of type `llama3`: low frequencies slowed by `factor`, high ones kept, those
/// between blended, so that a model trained on `original_context` positions reaches further.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Llama3Scaling {
    pub factor: f32,
    pub low_freq_factor: f32,
    pub high_freq_factor: f32,
    pub original_context: usize,
}

impl Rope {
    /// The angle per position of each of the `d / 2` channel pairs, in f32 as transformers
    /// computes it (`_compute_default_rope_parameters`, `_compute_llama3_parameters`). The
    /// kernels compute the same formula in WGSL.
    pub fn inv_freq(&self, d: usize) -> Vec<f32> {
        (0..d / 2)
            .map(|i| {
                let base = 1.0 / self.theta.powf((2 * i) as f32 / d as f32);
                match self.scaling {
                    None => base,
                    Some(s) => s.scale(base),
                }
            })
            .collect()
    }
}

impl Llama3Scaling {
    fn scale(&self, inv_freq: f32) -> f32 {
        let context = self.original_context as f32;
        let low_wavelen = context / self.low_freq_factor;
        let high_wavelen = context / self.high_freq_factor;
        let wavelen = 2.0 * std::f32::consts::PI / inv_freq;
        if wavelen < high_wavelen {
            inv_freq
        } else if wavelen > low_wavelen {
            inv_freq / self.factor
        } else {
            let smooth = (context / wavelen - self.low_freq_factor)
                / (self.high_freq_factor - self.low_freq_factor);
            (1.0 - smooth) * inv_freq / self.factor + smooth * inv_freq
        }
    }
}

/// The fields of a Llama-family `config.json` beyond the shared sizes, checked: `fields` is the
/// parsed object, `bad` makes the error naming a field.
pub(super) fn parse_llama(
    family: LlamaFamily,
    fields: &Map<String, Value>,
    n_head: usize,
    n_embd: usize,
    n_positions: usize,
    bad: &dyn Fn(&str, String) -> LoadError,
) -> Result<Llama, LoadError> {
    let flag = |field: &str, default: bool| match fields.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_bool()
            .ok_or_else(|| bad(field, format!("true or false, got {}", describe(value)))),
    };
    let size = |field: &str, default: Option<usize>| match fields.get(field) {
        None | Some(Value::Null) => {
            default.ok_or_else(|| bad(field, "a positive integer, but the field is missing".into()))
        }
        Some(value) => value
            .as_u64()
            .filter(|n| (1..=1 << 20).contains(n))
            .map(|n| n as usize)
            .ok_or_else(|| {
                bad(
                    field,
                    format!("an integer in 1..=1048576, got {}", describe(value)),
                )
            }),
    };
    let n_kv_head = size("num_key_value_heads", Some(n_head))?;
    let intermediate = size("intermediate_size", None)?;
    if let Some(value) = fields.get("hidden_act") {
        if value.as_str() != Some("silu") {
            return Err(bad(
                "hidden_act",
                format!(
                    "\"silu\" (the gated MLP glassbox computes), got {}",
                    describe(value)
                ),
            ));
        }
    }
    if let Some(value) = fields.get("head_dim").filter(|v| !v.is_null()) {
        if value.as_u64() != Some((n_embd / n_head.max(1)) as u64) {
            return Err(bad(
                "head_dim",
                format!(
                    "hidden_size / num_attention_heads = {} (glassbox computes no other head size), got {}",
                    n_embd / n_head.max(1),
                    describe(value)
                ),
            ));
        }
    }
    let sliding = match family {
        LlamaFamily::Qwen2 => flag("use_sliding_window", false)?,
        _ => false,
    };
    let window = fields.get("sliding_window").and_then(Value::as_u64);
    let windowed = match family {
        LlamaFamily::Qwen2 => sliding,
        LlamaFamily::Mistral => window.is_some(),
        LlamaFamily::Llama => false,
    };
    if windowed && window.is_none_or(|w| (w as usize) < n_positions) {
        return Err(bad(
            "sliding_window",
            format!(
                "no window shorter than max_position_embeddings = {n_positions} (glassbox attends to every earlier token), got {}",
                fields.get("sliding_window").map_or("none".into(), describe)
            ),
        ));
    }
    let attention_bias = flag("attention_bias", false)?;
    let (qkv_bias, o_bias, mlp_bias) = match family {
        LlamaFamily::Llama => (attention_bias, attention_bias, flag("mlp_bias", false)?),
        LlamaFamily::Qwen2 => (true, false, false),
        LlamaFamily::Mistral => (false, false, false),
    };
    Ok(Llama {
        family,
        n_kv_head,
        intermediate,
        rope: parse_rope(fields, bad)?,
        qkv_bias,
        o_bias,
        mlp_bias,
        tied: flag("tie_word_embeddings", false)?,
    })
}

/// `rope_theta` and `rope_scaling` at the top level, or both inside `rope_parameters`.
fn parse_rope(
    fields: &Map<String, Value>,
    bad: &dyn Fn(&str, String) -> LoadError,
) -> Result<Rope, LoadError> {
    let (theta_field, scaling_field, scaling) = match fields.get("rope_parameters") {
        Some(Value::Object(parameters)) => (
            parameters.get("rope_theta"),
            "rope_parameters",
            Some(parameters),
        ),
        Some(Value::Null) | None => (
            fields.get("rope_theta"),
            "rope_scaling",
            match fields.get("rope_scaling") {
                Some(Value::Object(scaling)) => Some(scaling),
                Some(Value::Null) | None => None,
                Some(other) => {
                    return Err(bad(
                        "rope_scaling",
                        format!("null or an object, got {}", describe(other)),
                    ))
                }
            },
        ),
        Some(other) => {
            return Err(bad(
                "rope_parameters",
                format!("an object, got {}", describe(other)),
            ))
        }
    };
    let theta = match theta_field {
        None | Some(Value::Null) => 10000.0,
        Some(value) => value
            .as_f64()
            .filter(|t| *t > 1.0 && t.is_finite())
            .ok_or_else(|| {
                bad(
                    "rope_theta",
                    format!("a number above 1, got {}", describe(value)),
                )
            })? as f32,
    };
    let Some(scaling) = scaling else {
        return Ok(Rope {
            theta,
            scaling: None,
        });
    };
    let kind = scaling
        .get("rope_type")
        .or_else(|| scaling.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    match kind {
        "default" => Ok(Rope {
            theta,
            scaling: None,
        }),
        "llama3" => {
            let number = |name: &str| {
                scaling
                    .get(name)
                    .and_then(Value::as_f64)
                    .filter(|x| *x > 0.0 && x.is_finite())
                    .ok_or_else(|| {
                        bad(
                            &format!("{scaling_field}.{name}"),
                            format!(
                                "a positive number, got {}",
                                scaling.get(name).map_or("nothing".into(), describe)
                            ),
                        )
                    })
            };
            let (factor, low, high) = (
                number("factor")?,
                number("low_freq_factor")?,
                number("high_freq_factor")?,
            );
            if high <= low {
                return Err(bad(
                    &format!("{scaling_field}.high_freq_factor"),
                    format!("more than low_freq_factor = {low}, got {high}"),
                ));
            }
            Ok(Rope {
                theta,
                scaling: Some(Llama3Scaling {
                    factor: factor as f32,
                    low_freq_factor: low as f32,
                    high_freq_factor: high as f32,
                    original_context: number("original_max_position_embeddings")? as usize,
                }),
            })
        }
        other => Err(bad(
            &format!("{scaling_field}.rope_type"),
            format!(
                "\"default\" or \"llama3\" (the rotary scalings glassbox computes), got {other:?}"
            ),
        )),
    }
}
