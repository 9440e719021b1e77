//! The GPT-2 graphs: the full forward pass over a sequence, and the decode step that runs one
//! new token against the KV cache. Both share the layer body built here; only the attention core
//! (how keys and values reach the scores) and the ends differ.

use super::probe::Ablations;
use super::{Builder, DType, Dim, Graph, OpKind, Path, Role, TensorId, MAX_FUSED_HEAD_DIM};
use crate::model::{Arch, Config};

use Dim::*;
use Role::*;

/// Builds the attention core of layer `prefix` from its `qkv` [t, 3C], returning the heads'
/// outputs merged back into channels, [t, C].
pub(super) type AttentionCore<'a> = &'a dyn Fn(&mut Builder, &str, TensorId) -> TensorId;

impl Graph {
    /// Builds the forward pass of the config's architecture (GPT-2 or the Llama family) for
    /// `seq_len` tokens. `seq_len` must be in 1..=n_positions (the model loader and CLI check
    /// this and report it; here it is a programming error).
    pub fn forward(config: &Config, seq_len: usize) -> Graph {
        Graph::forward_ablated(config, seq_len, &Ablations::default())
    }

    /// [`Graph::forward`] with `ablations` applied where their units' outputs are made (checked
    /// against the model by the caller).
    pub fn forward_ablated(config: &Config, seq_len: usize, ablations: &Ablations) -> Graph {
        Graph::forward_on(config, seq_len, ablations, Path::Picture)
    }

    /// [`Graph::forward_ablated`] with its attention built on `path`.
    pub fn forward_on(config: &Config, seq_len: usize, ablations: &Ablations, path: Path) -> Graph {
        let b = Builder {
            ablations: ablations.clone(),
            path,
            ..Builder::default()
        };
        assert!(
            (1..=config.n_positions).contains(&seq_len),
            "sequence length {seq_len} outside 1..={}",
            config.n_positions
        );
        match &config.arch {
            Arch::Gpt2 => Graph::gpt2_on(b, config, seq_len),
            Arch::Llama(llama) => Graph::llama_on(b, config, llama, seq_len),
        }
    }

    fn gpt2_on(mut b: Builder, config: &Config, seq_len: usize) -> Graph {
        let (t, c) = (seq_len, config.n_embd);
        let ids = b.tensor_typed("input_ids", &[t], &[Token], Input, DType::U32);
        let (wte, wpe) = b.embeddings(config);
        let embed = b.tensor("embed", &[t, c], &[Token, Channel], Activation);
        b.op(
            "embed",
            OpKind::Embed { t, c },
            &[ids, wte, wpe],
            &[embed],
            "x[t] = wte[token t] + wpe[t]: the token's vector plus its position's vector",
        );
        let ln_f = b.layers(config, t, embed, &|b, p, qkv| {
            causal_attention(b, config, t, p, qkv)
        });
        b.head(config, t, ln_f, wte);
        Graph {
            config: config.clone(),
            seq_len,
            decode_capacity: None,
            tensors: b.tensors,
            ops: b.ops,
        }
    }
}

/// Attention over the `t` tokens of the sequence itself, with the causal mask.
fn causal_attention(
    b: &mut Builder,
    config: &Config,
    t: usize,
    p: &str,
    qkv: TensorId,
) -> TensorId {
    let (h, d) = (config.n_head, config.n_embd / config.n_head);
    let head_shape = [h, t, d];
    let head_dims = [Head, Token, HeadChannel];
    let q = b.tensor(&format!("{p}.attn.q"), &head_shape, &head_dims, Activation);
    let k = b.tensor(&format!("{p}.attn.k"), &head_shape, &head_dims, Activation);
    let v = b.tensor(&format!("{p}.attn.v"), &head_shape, &head_dims, Activation);
    b.op(
        &format!("{p}.attn.split"),
        OpKind::SplitHeads { t, h, d },
        &[qkv],
        &[q, k, v],
        "q, k, v = qkv cut into H heads of D channels each",
    );
    b.causal_scores_and_mix(p, [q, k, v], (t, h, h, d))
}

/// What the causal attention formulas say: plain heads, or query heads sharing key/value heads.
fn attention_formulas(h: usize, kv: usize) -> [&'static str; 2] {
    if h == kv {
        [
            "s[h, i, j] = q[h, i] . k[h, j] / sqrt(D) where j <= i; -inf where j > i (causal mask)",
            "mix[i, h*D + d] = sum_j p[h, i, j] v[h, j, d]: each head's weighted sum of values",
        ]
    } else {
        [
            "s[h, i, j] = q[h, i] . k[h / (H/G), j] / sqrt(D) for j <= i: H/G query heads share each key head",
            "mix[i, h*D + d] = sum_j p[h, i, j] v[h / (H/G), j, d]: shared values, weighted per query head",
        ]
    }
}

impl Builder {
    /// Causal attention over the sequence from its heads: q [H, T, D], k and v [KV, T, D] (KV =
    /// H for GPT-2): scores, their softmax, and the mix merged back into channels [T, H*D].
    pub(super) fn causal_scores_and_mix(
        &mut self,
        p: &str,
        [q, k, v]: [TensorId; 3],
        (t, h, kv, d): (usize, usize, usize, usize),
    ) -> TensorId {
        if self.path == Path::Fast && d <= MAX_FUSED_HEAD_DIM {
            return self.fused_attention(p, [q, k, v], (t, h, kv, d));
        }
        let [scores_formula, mix_formula] = attention_formulas(h, kv);
        let scores = self.tensor(
            &format!("{p}.attn.scores"),
            &[h, t, t],
            &[Head, Token, KeyToken],
            Activation,
        );
        self.op(
            &format!("{p}.attn.scores"),
            OpKind::AttnScores { t, h, d, kv },
            &[q, k],
            &[scores],
            scores_formula,
        );
        let probs = self.attention_softmax(p, scores, h, t, t, true);
        let mix = self.attention_output(p, t, h * d);
        self.op(
            &format!("{p}.attn.mix"),
            OpKind::AttnMix { t, h, d, kv },
            &[probs, v],
            &[mix],
            mix_formula,
        );
        mix
    }

    /// `{p}.attn.mix` [t, c]: the heads' outputs merged back into channels, on either path.
    pub(super) fn attention_output(&mut self, p: &str, t: usize, c: usize) -> TensorId {
        self.tensor(
            &format!("{p}.attn.mix"),
            &[t, c],
            &[Token, Channel],
            Activation,
        )
    }

    /// The fast path's attention: one op, scores and probabilities never stored.
    fn fused_attention(
        &mut self,
        p: &str,
        [q, k, v]: [TensorId; 3],
        (t, h, kv, d): (usize, usize, usize, usize),
    ) -> TensorId {
        let mix = self.attention_output(p, t, h * d);
        self.op(
            &format!("{p}.attn.fused"),
            OpKind::AttnFused { t, h, d, kv },
            &[q, k, v],
            &[mix],
            "mix[i, h*D + d] = sum_{j <= i} softmax_j(q[h, i] . k[h / (H/G), j] / sqrt(D)) v[h / (H/G), j, d], online softmax",
        );
        mix
    }
}

impl Builder {
    pub(super) fn embeddings(&mut self, config: &Config) -> (TensorId, TensorId) {
        let c = config.n_embd;
        let wte = self.tensor(
            "wte.weight",
            &[config.vocab_size, c],
            &[Vocab, Channel],
            Weight,
        );
        let wpe = self.tensor(
            "wpe.weight",
            &[config.n_positions, c],
            &[Position, Channel],
            Weight,
        );
        (wte, wpe)
    }

    /// The softmax over attention scores [h, rows, cols], with its max and sum per row.
    pub(super) fn attention_softmax(
        &mut self,
        p: &str,
        scores: TensorId,
        h: usize,
        rows: usize,
        cols: usize,
        causal: bool,
    ) -> TensorId {
        let probs = self.tensor(
            &format!("{p}.attn.probs"),
            &[h, rows, cols],
            &[Head, Token, KeyToken],
            Activation,
        );
        let pmax = self.tensor(
            &format!("{p}.attn.probs.max"),
            &[h, rows],
            &[Head, Token],
            Aggregate,
        );
        let psum = self.tensor(
            &format!("{p}.attn.probs.sum"),
            &[h, rows],
            &[Head, Token],
            Aggregate,
        );
        self.op(
            &format!("{p}.attn.softmax"),
            OpKind::Softmax {
                rows: h * rows,
                cols,
                causal,
            },
            &[scores],
            &[probs, pmax, psum],
            "p[h, i, j] = exp(s[h, i, j] - max_j s) / sum_j exp(s[h, i, j] - max_j s)",
        );
        probs
    }

    /// The transformer blocks over `t` rows of the residual stream starting at `x`, then the
    /// final layer norm, whose output is returned.
    pub(super) fn layers(
        &mut self,
        config: &Config,
        t: usize,
        x: TensorId,
        attention: AttentionCore,
    ) -> TensorId {
        let c = config.n_embd;
        let eps = config.layer_norm_epsilon;
        let mut resid = x;
        for l in 0..config.n_layer {
            let p = format!("h.{l}");
            let a = |b: &mut Builder, n: &str, shape: &[usize]| {
                b.tensor(&format!("{p}.{n}"), shape, &[Token, Channel], Activation)
            };
            let ln1 = self.layernorm(&format!("{p}.ln_1"), resid, t, c, eps);
            let qkv = self.linear(
                &p,
                "attn.c_attn",
                "attn.qkv",
                ln1,
                t,
                c,
                3 * c,
                "qkv = ln_1 . W_attn + b: each token's query, key and value side by side",
            );
            let mix = attention(self, &p, qkv);
            let mix = self.ablate(mix, config, t);
            let proj = self.linear(
                &p,
                "attn.c_proj",
                "attn.proj",
                mix,
                t,
                c,
                c,
                "proj = mix . W_proj + b: the heads' outputs mixed back into the residual width",
            );
            let resid_mid = a(self, "resid_mid", &[t, c]);
            self.op(
                &format!("{p}.resid_mid"),
                OpKind::Add { n: t * c },
                &[resid, proj],
                &[resid_mid],
                "resid_mid = x + proj: attention's contribution added to the residual stream",
            );
            let ln2 = self.layernorm(&format!("{p}.ln_2"), resid_mid, t, c, eps);
            let fc = self.linear(
                &p,
                "mlp.c_fc",
                "mlp.fc",
                ln2,
                t,
                c,
                4 * c,
                "fc = ln_2 . W_fc + b: each token expanded to 4C channels",
            );
            let gelu = a(self, "mlp.gelu", &[t, 4 * c]);
            self.op(
                &format!("{p}.mlp.gelu"),
                OpKind::Gelu { n: t * 4 * c },
                &[fc],
                &[gelu],
                "gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
            );
            let gelu = self.ablate(gelu, config, t);
            let mproj = self.linear(
                &p,
                "mlp.c_proj",
                "mlp.proj",
                gelu,
                t,
                4 * c,
                c,
                "proj = gelu . W_proj + b: back down to C channels",
            );
            let mproj = self.ablate(mproj, config, t);
            let resid_out = a(self, "resid_out", &[t, c]);
            self.op(
                &format!("{p}.resid_out"),
                OpKind::Add { n: t * c },
                &[resid_mid, mproj],
                &[resid_out],
                "resid_out = resid_mid + mlp: the MLP's contribution added to the residual stream",
            );
            resid = resid_out;
        }
        self.layernorm("ln_f", resid, t, c, eps)
    }

    /// The output head: logits against the tied embedding, and their softmax.
    pub(super) fn head(
        &mut self,
        config: &Config,
        t: usize,
        ln_f: TensorId,
        wte: TensorId,
    ) -> TensorId {
        let (c, v) = (config.n_embd, config.vocab_size);
        let logits = self.tensor("logits", &[t, v], &[Token, Vocab], Activation);
        self.op("logits", OpKind::Logits { t, c, v }, &[ln_f, wte], &[logits],
            "logits[t, v] = ln_f[t] . wte[v]: similarity of the final vector to every token's embedding");
        let probs = self.tensor("probs", &[t, v], &[Token, Vocab], Activation);
        let pmax = self.tensor("probs.max", &[t], &[Token], Aggregate);
        let psum = self.tensor("probs.sum", &[t], &[Token], Aggregate);
        self.op(
            "probs",
            OpKind::Softmax {
                rows: t,
                cols: v,
                causal: false,
            },
            &[logits],
            &[probs, pmax, psum],
            "probs[t, v] = exp(logits[t, v] - max) / sum: the next-token distribution",
        );
        logits
    }
}
