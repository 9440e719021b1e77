//! The decode step: one new token at a position read from a buffer, attending to the keys and
//! values of every earlier token kept in a per-layer KV cache, then a sampling op that picks
//! the next token on the device. The same graph runs every step; only the `position` and
//! `input_ids` inputs change, so nothing is rebuilt while generating.

use super::probe::Ablations;
use super::{Builder, DType, Dim, Graph, OpKind, Path, Role, TensorId, MAX_FUSED_HEAD_DIM};
use crate::model::arch::Llama;
use crate::model::{Arch, Config};

use Dim::*;
use Role::*;

impl Graph {
    /// Builds the decode step of the config's architecture, with a cache holding up to
    /// `capacity` tokens (at most n_positions).
    pub fn decode(config: &Config, capacity: usize) -> Graph {
        Graph::decode_ablated(config, capacity, &Ablations::default())
    }

    /// [`Graph::decode`] with units switched off. Only zeroing: a mean over positions needs
    /// every position at once, which one decode step does not have (callers refuse it).
    pub fn decode_ablated(config: &Config, capacity: usize, ablations: &Ablations) -> Graph {
        Graph::decode_on(config, capacity, ablations, Path::Picture)
    }

    /// [`Graph::decode_ablated`] with its attention built on `path`.
    pub fn decode_on(config: &Config, capacity: usize, ablations: &Ablations, path: Path) -> Graph {
        assert!(!ablations.mean, "mean ablation in a decode step");
        assert!(
            (1..=config.n_positions).contains(&capacity),
            "KV cache capacity {capacity} outside 1..={}",
            config.n_positions
        );
        let mut b = Builder {
            ablations: ablations.clone(),
            path,
            ..Builder::default()
        };
        let ids = b.tensor_typed("input_ids", &[1], &[Token], Input, DType::U32);
        let position = b.tensor_typed("position", &[1], &[Token], Input, DType::U32);
        let logits = match &config.arch {
            Arch::Gpt2 => b.gpt2_decode(config, capacity, ids, position),
            Arch::Llama(llama) => b.llama_decode(config, llama, capacity, ids, position),
        };
        let next = b.tensor_typed("next_token", &[1], &[Token], Activation, DType::U32);
        b.op(
            "sample",
            OpKind::Sample {
                v: config.vocab_size,
            },
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

impl Builder {
    /// GPT-2's decode step up to its logits.
    fn gpt2_decode(
        &mut self,
        config: &Config,
        capacity: usize,
        ids: TensorId,
        position: TensorId,
    ) -> TensorId {
        let b = self;
        let c = config.n_embd;
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
        b.head(config, 1, ln_f, wte)
    }

    /// The Llama family's decode step up to its logits: the token's embedding (no position
    /// table: the position turns the query and key inside each layer).
    fn llama_decode(
        &mut self,
        config: &Config,
        llama: &Llama,
        capacity: usize,
        ids: TensorId,
        position: TensorId,
    ) -> TensorId {
        let c = config.n_embd;
        let embedding = self.token_embedding(config);
        let embed = self.tensor("embed", &[1, c], &[Token, Channel], Activation);
        self.op(
            "embed",
            OpKind::EmbedTokens { t: 1, c },
            &[ids, embedding],
            &[embed],
            "x = embed_tokens[token]: the new token's vector",
        );
        let norm = self.llama_layers(config, llama, 1, embed, &|b, p, qkv| {
            cached_gqa(b, config, llama, capacity, p, qkv, position)
        });
        let head = self.llama_head_weight(config, llama, embedding);
        self.head(config, 1, norm, head)
    }
}

/// Grouped-query attention of the new token over the cache: its query and key turned by the
/// position, the key and value written at the position, then scores over every cached key.
fn cached_gqa(
    b: &mut Builder,
    config: &Config,
    llama: &Llama,
    capacity: usize,
    p: &str,
    [q_proj, k_proj, v_proj]: [TensorId; 3],
    position: TensorId,
) -> TensorId {
    let (h, kv, d) = (config.n_head, llama.n_kv_head, config.head_dim());
    let [q, k_cache, v_cache] = query_and_cache(b, p, (h, kv, d), capacity);
    b.op(
        &format!("{p}.attn.append"),
        OpKind::RopeAppend {
            h,
            kv,
            d,
            capacity,
            rope: llama.rope,
        },
        &[q_proj, k_proj, v_proj, position],
        &[q, k_cache, v_cache],
        "q = q_proj turned by pos; k_cache[g, pos] = k_proj turned by pos; v_cache[g, pos] = v_proj",
    );
    cached_scores_and_mix(b, config, capacity, p, [q, k_cache, v_cache], position, kv)
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
    let [q, k_cache, v_cache] = query_and_cache(b, p, (h, h, d), capacity);
    b.op(
        &format!("{p}.attn.append"),
        OpKind::KvAppend { h, d, capacity },
        &[qkv, position],
        &[q, k_cache, v_cache],
        "q = the new query; k_cache[h, pos] and v_cache[h, pos] = its key and value",
    );
    cached_scores_and_mix(b, config, capacity, p, [q, k_cache, v_cache], position, h)
}

/// The decode step's query [H, 1, D] and layer `p`'s key and value caches [KV, capacity, D].
fn query_and_cache(
    b: &mut Builder,
    p: &str,
    (h, kv, d): (usize, usize, usize),
    capacity: usize,
) -> [TensorId; 3] {
    let q = b.tensor(
        &format!("{p}.attn.q"),
        &[h, 1, d],
        &[Head, Token, HeadChannel],
        Activation,
    );
    let cache = |b: &mut Builder, name: &str| {
        b.tensor(
            &format!("{p}.attn.{name}"),
            &[kv, capacity, d],
            &[Head, KeyToken, HeadChannel],
            Cache,
        )
    };
    [q, cache(b, "k_cache"), cache(b, "v_cache")]
}

/// The new token's scores over the cache (`kv` key/value heads shared by the query heads), their
/// softmax, and the values mixed by them.
fn cached_scores_and_mix(
    b: &mut Builder,
    config: &Config,
    capacity: usize,
    p: &str,
    [q, k_cache, v_cache]: [TensorId; 3],
    position: TensorId,
    kv: usize,
) -> TensorId {
    let (h, d) = (config.n_head, config.head_dim());
    if b.path == Path::Fast && d <= MAX_FUSED_HEAD_DIM {
        return split_attention(b, config, capacity, p, [q, k_cache, v_cache], position, kv);
    }
    let scores = b.tensor(
        &format!("{p}.attn.scores"),
        &[h, 1, capacity],
        &[Head, Token, KeyToken],
        Activation,
    );
    b.op(
        &format!("{p}.attn.scores"),
        OpKind::AttnScoresCached {
            h,
            d,
            capacity,
            kv,
        },
        &[q, k_cache, position],
        &[scores],
        "s[h, j] = q[h] . k_cache[h / (H/KV), j] / sqrt(D) for j <= pos; -inf for the empty slots after it",
    );
    let probs = b.attention_softmax(p, scores, h, 1, capacity, false);
    let mix = b.attention_output(p, 1, config.n_embd);
    b.op(
        &format!("{p}.attn.mix"),
        OpKind::AttnMixCached { h, d, capacity, kv },
        &[probs, v_cache, position],
        &[mix],
        "mix[h*D + d] = sum_{j <= pos} p[h, j] v_cache[h / (H/KV), j, d]",
    );
    mix
}

/// The fast path's decode attention: each split of the cache attended to with the online
/// softmax, then the splits joined. No scores or probabilities are stored.
fn split_attention(
    b: &mut Builder,
    config: &Config,
    capacity: usize,
    p: &str,
    [q, k_cache, v_cache]: [TensorId; 3],
    position: TensorId,
    kv: usize,
) -> TensorId {
    let (h, d) = (config.n_head, config.head_dim());
    let span = super::decode_split_span(capacity);
    let splits = capacity.div_ceil(span);
    let per_split = |b: &mut Builder, name: &str| {
        b.tensor(
            &format!("{p}.attn.split_{name}"),
            &[h, splits],
            &[Head, Split],
            Aggregate,
        )
    };
    let split_max = per_split(b, "max");
    let split_sum = per_split(b, "sum");
    let split_mix = b.tensor(
        &format!("{p}.attn.split_mix"),
        &[h, splits, d],
        &[Head, Split, HeadChannel],
        Activation,
    );
    b.op(
        &format!("{p}.attn.split"),
        OpKind::AttnSplit {
            h,
            d,
            capacity,
            kv,
            span,
        },
        &[q, k_cache, v_cache, position],
        &[split_max, split_sum, split_mix],
        "per split s of the cache: m = max_j s_j, sum = sum_j exp(s_j - m), mix = sum_j exp(s_j - m) v_cache[j], over j <= pos",
    );
    let mix = b.attention_output(p, 1, config.n_embd);
    b.op(
        &format!("{p}.attn.combine"),
        OpKind::AttnCombine {
            h,
            d,
            splits,
            span,
        },
        &[split_max, split_sum, split_mix, position],
        &[mix],
        "mix[h*D + d] = sum_s w_s mix[h, s, d] / sum_s w_s sum[h, s], w_s = exp(m[h, s] - max_s m[h, s])",
    );
    mix
}
