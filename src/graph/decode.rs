//! The decode step: one new token at a position read from a buffer, attending to the keys and
//! values of every earlier token kept in a per-layer KV cache, then a sampling op that picks
//! the next token on the device. The same graph runs every step; only the `position` and
//! `input_ids` inputs change, so nothing is rebuilt while generating.

use super::probe::Ablations;
use super::{Builder, DType, Dim, Graph, OpKind, Role, TensorId};
use crate::model::Config;

use Dim::*;
use Role::*;

impl Graph {
    /// Builds the decode step of a cache holding up to `capacity` tokens (at most n_positions).
    pub fn gpt2_decode(config: &Config, capacity: usize) -> Graph {
        Graph::gpt2_decode_ablated(config, capacity, &Ablations::default())
    }

    /// [`Graph::gpt2_decode`] with units switched off. Only zeroing: a mean over positions
    /// needs every position at once, which one decode step does not have (callers refuse it).
    pub fn gpt2_decode_ablated(config: &Config, capacity: usize, ablations: &Ablations) -> Graph {
        assert!(!ablations.mean, "mean ablation in a decode step");
        assert!(
            (1..=config.n_positions).contains(&capacity),
            "KV cache capacity {capacity} outside 1..={}",
            config.n_positions
        );
        let mut b = Builder {
            ablations: ablations.clone(),
            ..Builder::default()
        };
        let (c, v) = (config.n_embd, config.vocab_size);
        let ids = b.tensor_typed("input_ids", &[1], &[Token], Input, DType::U32);
        let position = b.tensor_typed("position", &[1], &[Token], Input, DType::U32);
        let (wte, wpe) = b.embeddings(config);
        let embed = b.tensor("embed", &[1, c], &[Token, Channel], Activation);
        b.op(
            "embed",
            OpKind::EmbedAt { c },
            &[ids, position, wte, wpe],
            &[embed],
            "x = wte[token] + wpe[position]: the new token's vector plus its position's vector",
        );
        let ln_f = b.layers(config, 1, embed, &|b, p, qkv| {
            cached_attention(b, config, capacity, p, qkv, position)
        });
        let logits = b.head(config, 1, ln_f, wte);
        let next = b.tensor_typed("next_token", &[1], &[Token], Activation, DType::U32);
        b.op(
            "sample",
            OpKind::Sample { v },
            &[logits, position],
            &[next],
            "next = argmax, or a draw from softmax(logits / T) cut to the top k and the top p",
        );
        Graph {
            config: config.clone(),
            seq_len: 1,
            decode_capacity: Some(capacity),
            tensors: b.tensors,
            ops: b.ops,
        }
    }
}

/// Attention of the new token over the cache: its key and value are written at `position`,
/// then it scores every cached key up to and including its own.
fn cached_attention(
    b: &mut Builder,
    config: &Config,
    capacity: usize,
    p: &str,
    qkv: TensorId,
    position: TensorId,
) -> TensorId {
    let (h, d) = (config.n_head, config.n_embd / config.n_head);
    let cache_dims = [Head, KeyToken, HeadChannel];
    let q = b.tensor(
        &format!("{p}.attn.q"),
        &[h, 1, d],
        &[Head, Token, HeadChannel],
        Activation,
    );
    let k_cache = b.tensor(
        &format!("{p}.attn.k_cache"),
        &[h, capacity, d],
        &cache_dims,
        Cache,
    );
    let v_cache = b.tensor(
        &format!("{p}.attn.v_cache"),
        &[h, capacity, d],
        &cache_dims,
        Cache,
    );
    b.op(
        &format!("{p}.attn.append"),
        OpKind::KvAppend { h, d, capacity },
        &[qkv, position],
        &[q, k_cache, v_cache],
        "q = the new query; k_cache[h, pos] and v_cache[h, pos] = its key and value",
    );
    let scores = b.tensor(
        &format!("{p}.attn.scores"),
        &[h, 1, capacity],
        &[Head, Token, KeyToken],
        Activation,
    );
    b.op(
        &format!("{p}.attn.scores"),
        OpKind::AttnScoresCached { h, d, capacity },
        &[q, k_cache, position],
        &[scores],
        "s[h, j] = q[h] . k_cache[h, j] / sqrt(D) for j <= pos; -inf for the empty slots after it",
    );
    let probs = b.attention_softmax(p, scores, h, 1, capacity, false);
    let mix = b.tensor(
        &format!("{p}.attn.mix"),
        &[1, config.n_embd],
        &[Token, Channel],
        Activation,
    );
    b.op(
        &format!("{p}.attn.mix"),
        OpKind::AttnMixCached { h, d, capacity },
        &[probs, v_cache, position],
        &[mix],
        "mix[h*D + d] = sum_{j <= pos} p[h, j] v_cache[h, j, d]",
    );
    mix
}
