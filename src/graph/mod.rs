//! The shared vocabulary of glassbox: the ordered ops of a GPT-2 forward pass and the table of
//! named tensors they read and write. The CPU reference, the GPU executor, dumps, checks and
//! benchmarks all refer to tensors and ops by the names built here.

mod decode;
mod gpt2;
mod llama;
pub mod probe;

use crate::model::arch::Rope;
use crate::model::Config;

/// Index of a tensor in [`Graph::tensors`].
pub type TensorId = usize;

/// What a tensor is for; the renderer gives each role its own colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The token ids fed to the model.
    Input,
    /// A trained parameter, loaded from the weights file.
    Weight,
    /// An intermediate result of one op.
    Activation,
    /// A per-row statistic an op keeps on the side (layer norm mean and 1/std, softmax max and sum).
    Aggregate,
    /// Keys and values kept from one decode step to the next (the KV cache).
    Cache,
}

/// What one axis of a tensor counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// Query positions in the sequence (T).
    Token,
    /// Key positions attended to (T, as the last axis of attention scores).
    KeyToken,
    /// Model channels (C = n_embd), or a multiple of them (3C for qkv, 4C in the MLP).
    Channel,
    /// Attention heads (H).
    Head,
    /// Channels inside one head (D = C / H).
    HeadChannel,
    /// Vocabulary entries (V).
    Vocab,
    /// Learned positions (n_positions).
    Position,
    /// Places in a ranking (the k best tokens of the logit lens or of nearest neighbours).
    Rank,
    /// Named scores (a head's previous-token, first-token, diagonal and induction scores).
    Score,
    /// Stretches of the KV cache a decode step's fast attention takes one workgroup each.
    Split,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    U32,
}

#[derive(Clone, Debug)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub dims: Vec<Dim>,
    pub role: Role,
    pub dtype: DType,
}

impl Tensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> usize {
        self.len() * 4
    }

    /// Whether an op computes it as floats: what the difference view compares with the CPU
    /// reference (weights and inputs are given, token ids are integers).
    pub fn is_computed_float(&self) -> bool {
        matches!(self.role, Role::Activation | Role::Aggregate | Role::Cache)
            && self.dtype == DType::F32
    }
}

/// The kind of computation an op performs, with the sizes it needs. Each kind has one WGSL kernel
/// and one CPU function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OpKind {
    /// x[t, c] = wte[id[t], c] + wpe[t, c]
    Embed { t: usize, c: usize },
    /// y = (x - mean) * rstd * w + b per row; also writes mean and rstd.
    LayerNorm { rows: usize, c: usize, eps: f32 },
    /// y[r, n] = b[n] + sum_k x[r, k] w[k, n] (GPT-2's Conv1D layout: w is [in, out]); without
    /// `bias`, no b (the Llama family's projections mostly have none).
    Linear {
        rows: usize,
        k: usize,
        n: usize,
        bias: bool,
    },
    /// qkv [T, 3C] -> q, k, v [H, T, D].
    SplitHeads { t: usize, h: usize, d: usize },
    /// s[h, i, j] = q[h, i] . k[h / (h / kv), j] / sqrt(D) for j <= i, -inf above the diagonal:
    /// `kv` key heads, each shared by h / kv query heads (kv = h for GPT-2).
    AttnScores {
        t: usize,
        h: usize,
        d: usize,
        kv: usize,
    },
    /// p[r, j] = exp(x[r, j] - max_r) / sum_r; with `causal`, row r only sees columns
    /// j <= r mod cols. Also writes max_r and sum_r.
    Softmax {
        rows: usize,
        cols: usize,
        causal: bool,
    },
    /// y[i, h*D + d] = sum_j p[h, i, j] v[h / (h / kv), j, d] (heads merged back into channels).
    AttnMix {
        t: usize,
        h: usize,
        d: usize,
        kv: usize,
    },
    /// x[t, c] = embed_tokens[id[t], c]: the Llama family's embedding, with no position table.
    EmbedTokens { t: usize, c: usize },
    /// y = x / sqrt(mean(x^2) + eps) * w per row; also writes 1 / sqrt(mean(x^2) + eps).
    RmsNorm { rows: usize, c: usize, eps: f32 },
    /// x [t, heads * d] -> y [heads, t, d], each head's channel pairs (i, i + d/2) turned by
    /// the angle t * inv_freq[i].
    Rope {
        t: usize,
        heads: usize,
        d: usize,
        rope: Rope,
    },
    /// x [t, h * d] -> y [h, t, d]: heads cut out of channels (the values, which are not turned).
    Heads { t: usize, h: usize, d: usize },
    /// y = silu(gate) * up, silu(x) = x / (1 + exp(-x)): the gated MLP's activation.
    SwiGlu { n: usize },
    /// y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), GPT-2's tanh approximation.
    Gelu { n: usize },
    /// y = a + b, the residual stream.
    Add { n: usize },
    /// logits[t, v] = x[t] . wte[v] (the output head is tied to the token embedding).
    Logits { t: usize, c: usize, v: usize },
    /// Decode: x[c] = wte[id, c] + wpe[pos, c] for one token at the position held in a buffer.
    EmbedAt { c: usize },
    /// Decode: qkv [1, 3C] -> q [H, 1, D]; k and v written into row `pos` of the caches
    /// [H, capacity, D].
    KvAppend { h: usize, d: usize, capacity: usize },
    /// Decode, Llama family: q_proj [1, H*D] -> q [H, 1, D] turned by the position; k_proj and
    /// v_proj [1, KV*D] written into row `pos` of the caches [KV, capacity, D], the key turned.
    RopeAppend {
        h: usize,
        kv: usize,
        d: usize,
        capacity: usize,
        rope: Rope,
    },
    /// Decode: s[h, j] = q[h] . k_cache[h / (H/KV), j] / sqrt(D) for j <= pos, -inf after.
    AttnScoresCached {
        h: usize,
        d: usize,
        capacity: usize,
        kv: usize,
    },
    /// Decode: y[h*D + d] = sum_{j <= pos} p[h, j] v_cache[h / (H/KV), j, d].
    AttnMixCached {
        h: usize,
        d: usize,
        capacity: usize,
        kv: usize,
    },
    /// The fast path's causal attention in one op: y[i, h*D + d] = sum_{j <= i}
    /// softmax_j(q[h, i] . k[g, j] / sqrt(D)) v[g, j, d], g = h / (h / kv), with the online
    /// softmax: no [H, T, T] tensor.
    AttnFused {
        t: usize,
        h: usize,
        d: usize,
        kv: usize,
    },
    /// Decode, fast path: the cache cut into splits of `span` slots; per (head, split) the
    /// largest score m, sum_j exp(s_j - m) and sum_j exp(s_j - m) v_cache[g, j] over the slots
    /// j <= pos (empty splits: m = -inf, sums 0).
    AttnSplit {
        h: usize,
        d: usize,
        capacity: usize,
        kv: usize,
        span: usize,
    },
    /// Decode, fast path: the splits joined, y[h*D + d] = sum_s w_s mix[h, s, d] / sum_s w_s
    /// sum[h, s] with w_s = exp(max[h, s] - max_s max[h, s]).
    AttnCombine {
        h: usize,
        d: usize,
        splits: usize,
        span: usize,
    },
    /// Decode: the next token from one row of logits, greedy or sampled with temperature, top-k
    /// and top-p, drawn with a uniform number hashed from the seed and the position.
    Sample { v: usize },
    /// y = x with columns start..start+len of every row set to zero, or with `mean` to their
    /// mean over the rows (positions): a unit switched off.
    Ablate {
        rows: usize,
        cols: usize,
        start: usize,
        len: usize,
        mean: bool,
    },
    /// The k largest values of each row and their columns, largest first (ties: lower column).
    TopK { rows: usize, cols: usize, k: usize },
    /// Per head of probabilities [h, t, t]: the previous-token, first-token, diagonal and
    /// induction scores.
    HeadScores { t: usize, h: usize },
    /// g = ln_f.weight * wte[token] minus its mean over channels, and ln_f.bias . wte[token].
    AttributeDirection { c: usize, v: usize, token: u32 },
    /// rstd[position] * (x[position] . g): one residual term's direct effect on a logit.
    AttributeVector { t: usize, c: usize, position: usize },
    /// Per head h: rstd[position] * sum over the head's channels r of mix[position, r] (W[r] . g);
    /// then the same for the projection's bias.
    AttributeHeads {
        t: usize,
        h: usize,
        d: usize,
        position: usize,
    },
    /// cos[r, v] = q[r] . wte[v] / (|q[r]| |wte[v]|): every token's cosine similarity to a vector.
    Cosine { rows: usize, c: usize, v: usize },
    /// The k principal components of n points in c dimensions, by power iteration on their
    /// Gram matrix: mean, components, variances.
    Pca {
        n: usize,
        c: usize,
        k: usize,
        iterations: usize,
    },
    /// coords[r, q] = (x[r] - mean) . components[q].
    Project { rows: usize, c: usize, k: usize },
}

impl OpKind {
    /// The kernel file (without `.wgsl`) and CPU function family this op uses.
    pub fn kernel_name(&self) -> &'static str {
        match self {
            OpKind::Embed { .. } => "embed",
            OpKind::LayerNorm { .. } => "layernorm",
            OpKind::Linear { .. } => "linear",
            OpKind::SplitHeads { .. } => "split_heads",
            OpKind::AttnScores { .. } => "attn_scores",
            OpKind::Softmax { .. } => "softmax",
            OpKind::AttnMix { .. } => "attn_mix",
            OpKind::Gelu { .. } => "gelu",
            OpKind::Add { .. } => "add",
            OpKind::Logits { .. } => "logits",
            OpKind::EmbedAt { .. } => "embed_at",
            OpKind::KvAppend { .. } => "kv_append",
            OpKind::RopeAppend { .. } => "rope_append",
            OpKind::AttnScoresCached { .. } => "attn_scores_cached",
            OpKind::AttnMixCached { .. } => "attn_mix_cached",
            OpKind::AttnFused { .. } => "attn_fused",
            OpKind::AttnSplit { .. } => "attn_split",
            OpKind::AttnCombine { .. } => "attn_combine",
            OpKind::Sample { .. } => "sample",
            OpKind::Ablate { .. } => "ablate",
            OpKind::TopK { .. } => "top_k",
            OpKind::HeadScores { .. } => "head_scores",
            OpKind::AttributeDirection { .. } => "attribute_direction",
            OpKind::AttributeVector { .. } => "attribute_vector",
            OpKind::AttributeHeads { .. } => "attribute_heads",
            OpKind::Cosine { .. } => "cosine",
            OpKind::Pca { .. } => "pca",
            OpKind::Project { .. } => "project",
            OpKind::EmbedTokens { .. } => "embed_tokens",
            OpKind::RmsNorm { .. } => "rmsnorm",
            OpKind::Rope { .. } => "rope",
            OpKind::Heads { .. } => "heads",
            OpKind::SwiGlu { .. } => "swiglu",
        }
    }

    /// Floating-point operations, counting a multiply-add as two.
    pub fn flops(&self) -> u64 {
        let f = |x: usize| x as u64;
        match *self {
            OpKind::Embed { t, c } => f(t * c),
            OpKind::LayerNorm { rows, c, .. } => f(rows * c * 8),
            OpKind::Linear { rows, k, n, .. } => 2 * f(rows) * f(k) * f(n),
            OpKind::SplitHeads { .. } => 0,
            // Only the causal half (plus the diagonal) is computed.
            OpKind::AttnScores { t, h, d, .. } => 2 * f(h) * f(d) * f(t * (t + 1) / 2),
            OpKind::Softmax { rows, cols, .. } => f(rows * cols * 4),
            OpKind::AttnMix { t, h, d, .. } => 2 * f(h) * f(d) * f(t * (t + 1) / 2),
            OpKind::Gelu { n } => f(n * 12),
            OpKind::Add { n } => f(n),
            OpKind::Logits { t, c, v } => 2 * f(t) * f(c) * f(v),
            OpKind::EmbedAt { c } => f(c),
            OpKind::KvAppend { .. } => 0,
            // Decode ops are counted at a full cache, their most expensive step.
            OpKind::AttnScoresCached { h, d, capacity, .. }
            | OpKind::AttnMixCached { h, d, capacity, .. } => 2 * f(h * d * capacity),
            OpKind::RopeAppend { h, kv, d, .. } => f((h + kv) * d * 3),
            // Scores and mix over the causal half, plus the softmax's exponentials.
            OpKind::AttnFused { t, h, d, .. } => f(h * t * (t + 1) / 2 * (4 * d + 4)),
            OpKind::AttnSplit { h, d, capacity, .. } => f(h * capacity * (4 * d + 4)),
            OpKind::AttnCombine { h, d, splits, .. } => f(h * splits * (2 * d + 4)),
            OpKind::Sample { v } => f(v * 4),
            OpKind::Ablate {
                rows, len, mean, ..
            } => f(rows * len * if mean { 2 } else { 0 }),
            OpKind::TopK { rows, cols, k } => f(rows * cols * k),
            OpKind::HeadScores { t, h } => f(h * t * t),
            OpKind::AttributeDirection { c, .. } => f(4 * c),
            OpKind::AttributeVector { c, .. } => 2 * f(c),
            OpKind::AttributeHeads { h, d, .. } => 2 * f(h * d) * f(h * d + 1),
            OpKind::Cosine { rows, c, v } => 2 * f(rows * c * v + v * c),
            OpKind::Pca {
                n,
                c,
                k,
                iterations,
            } => 2 * f(n * n * c + k * iterations * n * n + k * n * c),
            OpKind::Project { rows, c, k } => 2 * f(rows * c * k),
            OpKind::EmbedTokens { t, .. } => f(t),
            OpKind::RmsNorm { rows, c, .. } => f(rows * c * 4),
            // A cosine, a sine and two multiply-adds per pair.
            OpKind::Rope { t, heads, d, .. } => f(t * heads * d * 6),
            OpKind::Heads { .. } => 0,
            OpKind::SwiGlu { n } => f(n * 6),
        }
    }

    /// Bytes an ideal kernel must move: every input read once and every output written once.
    pub fn bytes(&self) -> u64 {
        let w = |x: usize| 4 * x as u64;
        match *self {
            OpKind::Embed { t, c } => w(t + 3 * t * c),
            OpKind::LayerNorm { rows, c, .. } => w(2 * rows * c + 2 * c + 2 * rows),
            OpKind::Linear { rows, k, n, bias } => {
                w(rows * k + k * n + if bias { n } else { 0 } + rows * n)
            }
            OpKind::SplitHeads { t, h, d } => w(2 * 3 * t * h * d),
            OpKind::AttnScores { t, h, d, kv } => w(h * t * d + kv * t * d + h * t * t),
            OpKind::Softmax { rows, cols, .. } => w(2 * rows * cols + 2 * rows),
            OpKind::AttnMix { t, h, d, kv } => w(h * t * t + kv * t * d + h * t * d),
            OpKind::Gelu { n } => w(2 * n),
            OpKind::Add { n } => w(3 * n),
            OpKind::Logits { t, c, v } => w(t * c + v * c + t * v),
            OpKind::EmbedAt { c } => w(2 + 3 * c),
            OpKind::KvAppend { h, d, .. } => w(1 + 6 * h * d),
            OpKind::RopeAppend { h, kv, d, .. } => w(1 + 2 * (h + 2 * kv) * d),
            OpKind::AttnScoresCached { h, d, capacity, kv } => {
                w(1 + h * d + kv * capacity * d + h * capacity)
            }
            OpKind::AttnMixCached { h, d, capacity, kv } => {
                w(1 + h * capacity + kv * capacity * d + h * d)
            }
            OpKind::AttnFused { t, h, d, kv } => w(2 * h * t * d + 2 * kv * t * d),
            OpKind::AttnSplit {
                h,
                d,
                capacity,
                kv,
                span,
            } => w(1 + h * d + 2 * kv * capacity * d + h * capacity.div_ceil(span) * (d + 2)),
            OpKind::AttnCombine { h, d, splits, .. } => w(1 + h * splits * (d + 2) + h * d),
            OpKind::Sample { v } => w(v + 7),
            OpKind::Ablate { rows, cols, .. } => w(2 * rows * cols),
            OpKind::TopK { rows, cols, k } => w(rows * cols + 2 * rows * k),
            OpKind::HeadScores { t, h } => w(h * t * t + t + 4 * h),
            OpKind::AttributeDirection { c, .. } => w(4 * c + 1),
            OpKind::AttributeVector { c, .. } => w(2 * c + 2),
            OpKind::AttributeHeads { h, d, .. } => w((h * d + 3) * h * d + h + 1),
            OpKind::Cosine { rows, c, v } => w(rows * c + v * c + rows * v),
            OpKind::Pca { n, c, k, .. } => w(n * c + c + k * c + k + n * n + k * n),
            OpKind::Project { rows, c, k } => w(rows * c + c + k * c + rows * k),
            OpKind::EmbedTokens { t, c } => w(t + 2 * t * c),
            OpKind::RmsNorm { rows, c, .. } => w(2 * rows * c + c + rows),
            OpKind::Rope { t, heads, d, .. } | OpKind::Heads { t, h: heads, d } => {
                w(2 * t * heads * d)
            }
            OpKind::SwiGlu { n } => w(3 * n),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Op {
    pub name: String,
    pub kind: OpKind,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
    /// The formula in words, shown beside the op.
    pub formula: &'static str,
}

/// The ops of one forward pass over `seq_len` tokens, in execution order, and every tensor they
/// touch.
#[derive(Clone, Debug)]
pub struct Graph {
    pub config: Config,
    /// Tokens computed per run: the sequence length, or 1 for a decode step.
    pub seq_len: usize,
    /// For a decode step, how many tokens its KV cache holds; `None` for a full forward pass.
    pub decode_capacity: Option<usize>,
    pub tensors: Vec<Tensor>,
    pub ops: Vec<Op>,
}

impl Graph {
    /// For a decode graph: its `input_ids` and `position` inputs, checking that `position` is
    /// inside the KV cache (callers validate positions first; past it is a programming error).
    pub fn decode_inputs(&self, position: usize) -> (TensorId, TensorId) {
        let capacity = self.decode_capacity.expect("a decode graph");
        assert!(
            position < capacity,
            "position {position} past the KV cache's {capacity} rows"
        );
        let tensor = |name| self.tensor_id(name).expect("decode graph tensor");
        (tensor("input_ids"), tensor("position"))
    }

    /// Whether a tensor holds probabilities (a softmax's output): drawn on a sequential scale.
    /// The path this graph's attention was built on: fast where any op is fused.
    pub fn path(&self) -> Path {
        let fused =
            |op: &Op| matches!(op.kind, OpKind::AttnFused { .. } | OpKind::AttnSplit { .. });
        match self.ops.iter().any(fused) {
            true => Path::Fast,
            false => Path::Picture,
        }
    }

    pub fn is_probability(&self, id: TensorId) -> bool {
        self.ops
            .iter()
            .any(|op| matches!(op.kind, OpKind::Softmax { .. }) && op.outputs.first() == Some(&id))
    }

    pub fn tensor_id(&self, name: &str) -> Option<TensorId> {
        self.tensors.iter().position(|t| t.name == name)
    }

    pub fn op_index(&self, name: &str) -> Option<usize> {
        self.ops.iter().position(|o| o.name == name)
    }

    pub fn weights(&self) -> impl Iterator<Item = &Tensor> {
        self.tensors.iter().filter(|t| t.role == Role::Weight)
    }

    /// The output of the final norm: GPT-2's `ln_f`, the Llama family's `norm`.
    pub fn final_norm(&self) -> &'static str {
        match self.config.arch {
            crate::model::Arch::Gpt2 => "ln_f",
            crate::model::Arch::Llama(_) => "norm",
        }
    }

    /// The Hugging Face names for tensors of this graph, as `transformers` returns them with
    /// `output_hidden_states` and `output_attentions`: (alias, tensor).
    pub fn hf_aliases(&self) -> Vec<(String, TensorId)> {
        let id = |n: &str| self.tensor_id(n).expect("graph tensor");
        let n_layer = self.config.n_layer;
        let mut aliases = vec![("logits".to_string(), id("logits"))];
        for i in 0..=n_layer {
            let source = match i {
                0 => "embed".to_string(),
                i if i == n_layer => self.final_norm().to_string(),
                i => format!("h.{}.resid_out", i - 1),
            };
            aliases.push((format!("hidden_states.{i}"), id(&source)));
        }
        for l in 0..n_layer {
            aliases.push((format!("attentions.{l}"), id(&format!("h.{l}.attn.probs"))));
        }
        aliases
    }
}

#[derive(Default)]
struct Builder {
    tensors: Vec<Tensor>,
    ops: Vec<Op>,
    /// Units the layers switch off as they are built.
    ablations: probe::Ablations,
    /// How attention is built.
    path: Path,
}

/// How a graph's attention is built: for the picture, or for speed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Path {
    /// Scores, softmax and mix as three ops, each writing a tensor the picture draws and the
    /// "why" tools read.
    #[default]
    Picture,
    /// Attention fused with the online softmax (one op per layer; two in a decode step, split
    /// over the cache), for generation and benchmarks: fewer dispatches and no [H, T, T] or
    /// [H, capacity] buffers. Heads wider than [`MAX_FUSED_HEAD_DIM`] keep the picture's ops.
    Fast,
}

/// The widest head the fused attention kernels take (two output channels per thread of 64).
pub const MAX_FUSED_HEAD_DIM: usize = 128;

/// Cache slots per split of the fast decode attention, one workgroup each: a quarter of the
/// cache, from 8 to 256 slots, so that a long cache spreads over many workgroups while each
/// still has several chunks of 64 keys to stream.
pub fn decode_split_span(capacity: usize) -> usize {
    (capacity / 4).clamp(8, 256)
}

impl Path {
    pub fn name(self) -> &'static str {
        match self {
            Path::Picture => "picture",
            Path::Fast => "fast",
        }
    }
}

impl Builder {
    fn tensor(&mut self, name: &str, shape: &[usize], dims: &[Dim], role: Role) -> TensorId {
        self.tensor_typed(name, shape, dims, role, DType::F32)
    }

    fn tensor_typed(
        &mut self,
        name: &str,
        shape: &[usize],
        dims: &[Dim],
        role: Role,
        dtype: DType,
    ) -> TensorId {
        self.tensors.push(Tensor {
            name: name.to_string(),
            shape: shape.to_vec(),
            dims: dims.to_vec(),
            role,
            dtype,
        });
        self.tensors.len() - 1
    }

    fn op(
        &mut self,
        name: &str,
        kind: OpKind,
        inputs: &[TensorId],
        outputs: &[TensorId],
        formula: &'static str,
    ) {
        self.ops.push(Op {
            name: name.to_string(),
            kind,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            formula,
        });
    }

    /// A layer norm named `name` (weights `{name}.weight`/`.bias`, output `{name}`, aggregates
    /// `{name}.mean` and `{name}.rstd`).
    fn layernorm(&mut self, name: &str, x: TensorId, t: usize, c: usize, eps: f32) -> TensorId {
        use Dim::*;
        let w = self.tensor(&format!("{name}.weight"), &[c], &[Channel], Role::Weight);
        let b = self.tensor(&format!("{name}.bias"), &[c], &[Channel], Role::Weight);
        self.layernorm_with(name, x, [w, b], t, c, eps)
    }

    /// A layer norm named `name` with the given gain and bias (the logit lens reuses `ln_f`'s).
    fn layernorm_with(
        &mut self,
        name: &str,
        x: TensorId,
        [w, b]: [TensorId; 2],
        t: usize,
        c: usize,
        eps: f32,
    ) -> TensorId {
        use Dim::*;
        let y = self.tensor(name, &[t, c], &[Token, Channel], Role::Activation);
        let mean = self.tensor(&format!("{name}.mean"), &[t], &[Token], Role::Aggregate);
        let rstd = self.tensor(&format!("{name}.rstd"), &[t], &[Token], Role::Aggregate);
        self.op(
            name,
            OpKind::LayerNorm { rows: t, c, eps },
            &[x, w, b],
            &[y, mean, rstd],
            "y = (x - mean) / sqrt(var + eps) * weight + bias, per token",
        );
        y
    }

    /// A Conv1D linear layer: weights `{block}.{module}.weight` [k, n] and `.bias` [n], output
    /// activation `{block}.{output}` [t, n]; the op is named after the module.
    #[allow(clippy::too_many_arguments)]
    fn linear(
        &mut self,
        block: &str,
        module: &str,
        output: &str,
        x: TensorId,
        t: usize,
        k: usize,
        n: usize,
        formula: &'static str,
    ) -> TensorId {
        use Dim::*;
        let w = self.tensor(
            &format!("{block}.{module}.weight"),
            &[k, n],
            &[Channel, Channel],
            Role::Weight,
        );
        let b = self.tensor(
            &format!("{block}.{module}.bias"),
            &[n],
            &[Channel],
            Role::Weight,
        );
        let y = self.tensor(
            &format!("{block}.{output}"),
            &[t, n],
            &[Token, Channel],
            Role::Activation,
        );
        self.op(
            &format!("{block}.{module}"),
            OpKind::Linear {
                rows: t,
                k,
                n,
                bias: true,
            },
            &[x, w, b],
            &[y],
            formula,
        );
        y
    }
}
