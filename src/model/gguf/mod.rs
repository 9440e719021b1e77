//! Models from GGUF files (llama.cpp's format; what Ollama and llama.cpp users have on disk):
//! the Llama family's `llama` and `qwen2` architectures, their config from the `{arch}.*`
//! metadata, their tensors mapped from llama.cpp's names to the graph's and dequantized to f32
//! from F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K or Q6_K.

mod quant;
mod reader;

pub use quant::GgmlType;
pub use reader::{Gguf, TensorInfo, Value};

use super::arch::{Arch, Llama, LlamaFamily, Rope};
use super::weights::{expected_weights, stored_transposed, transpose};
use super::{Blocks, Config, LoadError, Model, Weights};

/// The file's architecture, as `general.architecture` names it.
fn family(gguf: &Gguf) -> Result<(LlamaFamily, &'static str), LoadError> {
    match gguf.str("general.architecture")? {
        "llama" => Ok((LlamaFamily::Llama, "llama")),
        "qwen2" => Ok((LlamaFamily::Qwen2, "qwen2")),
        other => Err(LoadError::Gguf {
            file: gguf.file.clone(),
            message: format!(
                "metadata `general.architecture` is `{other}`, expected `llama` or `qwen2`"
            ),
        }),
    }
}

/// The Llama-family config the metadata describes.
pub fn config(gguf: &Gguf) -> Result<Config, LoadError> {
    let (family, arch) = family(gguf)?;
    let key = |name: &str| format!("{arch}.{name}");
    let size = |name: &str| gguf.u64(&key(name)).map(|v| v as usize);
    let n_head = size("attention.head_count")?;
    let n_kv_head = match gguf.metadata.contains_key(&key("attention.head_count_kv")) {
        true => size("attention.head_count_kv")?,
        false => n_head,
    };
    let theta = match gguf.metadata.contains_key(&key("rope.freq_base")) {
        true => gguf.f64(&key("rope.freq_base"))? as f32,
        false => 10000.0,
    };
    if gguf.tensors.contains_key("rope_freqs.weight") {
        return Err(LoadError::Gguf {
            file: gguf.file.clone(),
            message: "tensor `rope_freqs.weight`: scaled rotary frequencies (Llama 3.1's) are not \
                      read from GGUF files yet"
                .into(),
        });
    }
    let embedding = tensor(gguf, "token_embd.weight")?;
    let vocab_size = embedding.dims.get(1).copied().unwrap_or(0) as usize;
    let config = Config {
        n_layer: size("block_count")?,
        n_head,
        n_embd: size("embedding_length")?,
        vocab_size,
        n_positions: size("context_length")?,
        layer_norm_epsilon: gguf.f64(&key("attention.layer_norm_rms_epsilon"))? as f32,
        arch: Arch::Llama(Llama {
            family,
            n_kv_head,
            intermediate: size("feed_forward_length")?,
            rope: Rope {
                theta,
                scaling: None,
            },
            qkv_bias: gguf.tensors.contains_key("blk.0.attn_q.bias"),
            o_bias: gguf.tensors.contains_key("blk.0.attn_output.bias"),
            mlp_bias: gguf.tensors.contains_key("blk.0.ffn_up.bias"),
            tied: !gguf.tensors.contains_key("output.weight"),
        }),
    };
    config.check(&gguf.file)?;
    Ok(config)
}

fn tensor<'g>(gguf: &'g Gguf, name: &str) -> Result<&'g TensorInfo, LoadError> {
    gguf.tensors.get(name).ok_or_else(|| LoadError::Gguf {
        file: gguf.file.clone(),
        message: format!("tensor `{name}` is missing"),
    })
}

/// llama.cpp's name for a weight of the graph (`layers.3.self_attn.q_proj.weight` is
/// `blk.3.attn_q.weight`).
pub fn gguf_name(graph_name: &str) -> Option<String> {
    let fixed = match graph_name {
        "embed_tokens.weight" => Some("token_embd.weight"),
        "norm.weight" => Some("output_norm.weight"),
        "lm_head.weight" => Some("output.weight"),
        _ => None,
    };
    if let Some(name) = fixed {
        return Some(name.to_string());
    }
    let rest = graph_name.strip_prefix("layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    let (part, kind) = rest.rsplit_once('.')?;
    let gguf_part = match part {
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        _ => return None,
    };
    Some(format!("blk.{layer}.{gguf_part}.{kind}"))
}

/// llama.cpp's converter interleaves the two halves of each head's rows of q and k for the
/// `llama` architecture (its rotary pairs channels 2i and 2i + 1, transformers' i and i + D/2):
/// row 2i + half of a head in the file is row half * D/2 + i in transformers' layout. `rows`
/// holds `heads` heads of `d` rows of `width` values.
fn unpermute_heads<T: Copy + Default>(rows: &[T], heads: usize, d: usize, width: usize) -> Vec<T> {
    let mut out = vec![T::default(); rows.len()];
    for head in 0..heads {
        for i in 0..d / 2 {
            for half in 0..2 {
                let from = (head * d + 2 * i + half) * width;
                let to = (head * d + half * d / 2 + i) * width;
                out[to..to + width].copy_from_slice(&rows[from..from + width]);
            }
        }
    }
    out
}

impl Model {
    /// A Llama-family model from a GGUF file's bytes: its config from the metadata, every weight
    /// the graph needs found by its llama.cpp name, its shape checked, dequantized to f32,
    /// q and k put back in transformers' row order, and the projections laid out as the
    /// graph holds them ([in, out]).
    pub fn from_gguf(file: &str, bytes: &[u8]) -> Result<Model, LoadError> {
        let gguf = Gguf::parse(file, bytes)?;
        let config = config(&gguf)?;
        let llama = config
            .llama()
            .expect("a GGUF config is Llama-family")
            .clone();
        let interleaved = llama.family == LlamaFamily::Llama;
        let d = config.head_dim();
        let mut weights = Weights::default();
        for (name, shape) in expected_weights(&config) {
            let Some(stored) = gguf_name(&name) else {
                return Err(LoadError::Gguf {
                    file: file.to_string(),
                    message: format!("no GGUF name is known for the graph's weight `{name}`"),
                });
            };
            let info = tensor(&gguf, &stored)?;
            let transposed = stored_transposed(&config, &name);
            // ggml lists a matrix's row length first: [in, out] for a projection stored as
            // transformers' [out, in] rows, [C, vocab] for the embedding.
            let hf_shape: Vec<usize> = match transposed {
                true => shape.iter().rev().copied().collect(),
                false => shape.clone(),
            };
            let ggml_shape: Vec<u64> = hf_shape.iter().rev().map(|&n| n as u64).collect();
            if info.dims != ggml_shape {
                return Err(LoadError::Gguf {
                    file: file.to_string(),
                    message: format!(
                        "tensor `{stored}` (the graph's `{name}`) has dimensions {:?}, expected \
                         {ggml_shape:?} (ggml order) from the metadata",
                        info.dims
                    ),
                });
            }
            let bytes = gguf.data(info);
            let mut values = info.ty.dequantize(bytes);
            if let Some(index) = values.iter().position(|v| !v.is_finite()) {
                return Err(LoadError::NonFinite {
                    file: file.to_string(),
                    tensor: stored,
                    index,
                    value: values[index],
                });
            }
            let heads = match name.rsplit('.').nth(1) {
                Some("q_proj") => Some(config.n_head),
                Some("k_proj") => Some(llama.n_kv_head),
                _ => None,
            };
            let mut bytes = bytes.to_vec();
            if let (true, Some(heads)) = (interleaved, heads) {
                let width = values.len() / (heads * d);
                values = unpermute_heads(&values, heads, d, width);
                // Rows are whole blocks, so the bytes move row for row like the values.
                bytes = unpermute_heads(&bytes, heads, d, bytes.len() / (heads * d));
            }
            if let [row_len, rows] = info.dims[..] {
                let blocks = Blocks {
                    ty: info.ty,
                    rows: rows as usize,
                    row_len: row_len as usize,
                    bytes,
                    transposed,
                };
                weights.insert_blocks(&name, blocks);
            }
            if transposed {
                values = transpose(&values, hf_shape[0], hf_shape[1]);
            }
            weights.insert(&name, values);
        }
        Ok(Model { config, weights })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_llama_cpp_names() {
        let cases = [
            ("embed_tokens.weight", "token_embd.weight"),
            ("layers.12.self_attn.k_proj.weight", "blk.12.attn_k.weight"),
            ("layers.0.self_attn.q_proj.bias", "blk.0.attn_q.bias"),
            (
                "layers.3.post_attention_layernorm.weight",
                "blk.3.ffn_norm.weight",
            ),
            ("layers.29.mlp.down_proj.weight", "blk.29.ffn_down.weight"),
            ("norm.weight", "output_norm.weight"),
        ];
        for (graph, gguf) in cases {
            assert_eq!(gguf_name(graph).as_deref(), Some(gguf), "{graph}");
        }
        assert_eq!(gguf_name("layers.0.unknown.weight"), None);
    }

    #[test]
    fn unpermute_undoes_the_converters_interleaving() {
        // One head of 4 rows of width 1, as transformers holds it: rows 0, 1 | 2, 3 (halves).
        // The converter writes them as 0, 2, 1, 3 (pairs interleaved).
        let file = [0.0, 2.0, 1.0, 3.0];
        assert_eq!(unpermute_heads(&file, 1, 4, 1), [0.0, 1.0, 2.0, 3.0]);
    }
}
