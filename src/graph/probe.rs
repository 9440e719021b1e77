//! The "why" tools as graph ops: ablations woven into the layer body, and read-only probes
//! appended after the forward pass (the logit lens, per-head attention scores and direct logit
//! attribution). Built from the same builder as the forward pass, so the GPU executor, the CPU
//! reference, dumps and checks treat them like every other op.

use std::fmt;
use std::str::FromStr;

use super::{Builder, DType, Dim, Graph, OpKind, Role, TensorId};
use crate::model::{Arch, Config};

use Dim::*;
use Role::*;

/// One unit of the model switched off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ablation {
    /// `h.L.head.H`: the head's D channels of the merged attention output, before `c_proj`.
    Head { layer: usize, head: usize },
    /// `h.L.mlp`: the MLP's output, after `c_proj` (its bias included).
    Mlp { layer: usize },
    /// `h.L.mlp.neuron.N`: one GELU output of the MLP.
    Neuron { layer: usize, neuron: usize },
}

impl Ablation {
    pub fn layer(&self) -> usize {
        match *self {
            Ablation::Head { layer, .. }
            | Ablation::Mlp { layer }
            | Ablation::Neuron { layer, .. } => layer,
        }
    }

    /// Checks the unit exists in a model of `config`, saying what the model has when it does not.
    pub fn check(&self, config: &Config) -> Result<(), String> {
        let layers = config.n_layer;
        if self.layer() >= layers {
            return Err(format!(
                "{self}: layer {} past the model's {layers} layers (0..={})",
                self.layer(),
                layers - 1
            ));
        }
        match *self {
            Ablation::Head { head, .. } if head >= config.n_head => Err(format!(
                "{self}: head {head} past the model's {} heads (0..={})",
                config.n_head,
                config.n_head - 1
            )),
            Ablation::Neuron { neuron, .. } if neuron >= config.mlp_width() => Err(format!(
                "{self}: neuron {neuron} past the MLP's {} neurons (0..={})",
                config.mlp_width(),
                config.mlp_width() - 1
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Ablation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ablation::Head { layer, head } => write!(f, "h.{layer}.head.{head}"),
            Ablation::Mlp { layer } => write!(f, "h.{layer}.mlp"),
            Ablation::Neuron { layer, neuron } => write!(f, "h.{layer}.mlp.neuron.{neuron}"),
        }
    }
}

impl FromStr for Ablation {
    type Err = String;

    fn from_str(text: &str) -> Result<Ablation, String> {
        let expected = || {
            format!(
                "`{text}`: expected h.LAYER.head.HEAD, h.LAYER.mlp or h.LAYER.mlp.neuron.N \
                 (numbers from 0), as in h.0.head.3"
            )
        };
        let parts: Vec<&str> = text.split('.').collect();
        let number = |part: &str| part.parse::<usize>().map_err(|_| expected());
        match parts.as_slice() {
            ["h", layer, "head", head] => Ok(Ablation::Head {
                layer: number(layer)?,
                head: number(head)?,
            }),
            ["h", layer, "mlp"] => Ok(Ablation::Mlp {
                layer: number(layer)?,
            }),
            ["h", layer, "mlp", "neuron", neuron] => Ok(Ablation::Neuron {
                layer: number(layer)?,
                neuron: number(neuron)?,
            }),
            _ => Err(expected()),
        }
    }
}

/// The units an ablated run switches off, and what they are replaced with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ablations {
    pub units: Vec<Ablation>,
    /// Replace with the mean over positions (of the same run) instead of zero.
    pub mean: bool,
}

impl Ablations {
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn check(&self, config: &Config) -> Result<(), String> {
        self.units.iter().try_for_each(|unit| unit.check(config))
    }
}

/// Direct logit attribution of one token at one position: what each part of the residual
/// stream writes toward that token's logit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttributionTarget {
    pub token: u32,
    pub position: usize,
}

/// Everything a forward pass can carry besides the model's own ops.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Probes {
    pub ablations: Ablations,
    /// The logit lens, keeping this many top tokens per layer and position.
    pub lens_top: Option<usize>,
    /// Per-head attention pattern scores (previous token, first token, diagonal, induction).
    pub head_scores: bool,
    pub attribution: Option<AttributionTarget>,
}

/// Top tokens the logit lens and nearest neighbours keep when not told.
pub const DEFAULT_TOP: usize = 5;

/// The per-head scores, in the order [`OpKind::HeadScores`] writes them.
pub const HEAD_SCORE_NAMES: [&str; 4] = ["previous_token", "first_token", "diagonal", "induction"];

impl Graph {
    /// The forward pass of the config's architecture with ablations and probes. The checks of `probes` against the
    /// model (layers, heads, top-k, target token) are the caller's, as for the sequence length.
    pub fn probed(config: &Config, seq_len: usize, probes: &Probes) -> Graph {
        let mut graph = Graph::forward_ablated(config, seq_len, &probes.ablations);
        let mut b = Builder {
            tensors: std::mem::take(&mut graph.tensors),
            ops: std::mem::take(&mut graph.ops),
            ..Builder::default()
        };
        if let Some(k) = probes.lens_top {
            b.lens(config, seq_len, k);
        }
        if probes.head_scores {
            b.head_scores(config, seq_len);
        }
        if let Some(target) = probes.attribution {
            b.attribution(config, seq_len, target);
        }
        graph.tensors = b.tensors;
        graph.ops = b.ops;
        graph
    }

    /// The tensor whose rows are the residual stream entering block `layer` (`layer` =
    /// n_layer: after the final layer norm), as `hidden_states.{layer}` in transformers.
    pub fn hidden_state(&self, layer: usize) -> TensorId {
        let n_layer = self.config.n_layer;
        let name = match layer {
            0 => "embed".to_string(),
            l if l == n_layer => self.final_norm().to_string(),
            l => format!("h.{}.resid_out", l - 1),
        };
        self.tensor_id(&name).expect("forward graph tensor")
    }
}

impl Builder {
    fn existing(&self, name: &str) -> TensorId {
        self.tensors
            .iter()
            .position(|t| t.name == name)
            .unwrap_or_else(|| panic!("graph tensor {name}"))
    }

    /// Applies the ablations of `layer` that act on `tensor` (`h.L.attn.mix` for heads,
    /// `h.L.mlp.gelu`, or the Llama family's `h.L.mlp.act`, for neurons, `h.L.mlp.proj` for the
    /// whole MLP): one op per unit, each
    /// reading the previous one's output. Returns the tensor the model reads on.
    pub(super) fn ablate(&mut self, x: TensorId, config: &Config, t: usize) -> TensorId {
        let name = self.tensors[x].name.clone();
        let (h, d) = (config.n_head, config.n_embd / config.n_head);
        let cols = self.tensors[x].shape[1];
        let units: Vec<Ablation> = self.ablations.units.clone();
        let mut current = x;
        for unit in units {
            let columns = match unit {
                Ablation::Head { layer, head } if name == format!("h.{layer}.attn.mix") => {
                    (head * d, d)
                }
                Ablation::Mlp { layer } if name == format!("h.{layer}.mlp.proj") => (0, cols),
                Ablation::Neuron { layer, neuron }
                    if name == format!("h.{layer}.mlp.gelu")
                        || name == format!("h.{layer}.mlp.act") =>
                {
                    (neuron, 1)
                }
                _ => continue,
            };
            debug_assert!(h * d == config.n_embd);
            let op_name = format!("{unit}.ablated");
            let y = self.tensor(&op_name, &[t, cols], &[Token, Channel], Activation);
            let mean = self.ablations.mean;
            self.op(
                &op_name,
                OpKind::Ablate {
                    rows: t,
                    cols,
                    start: columns.0,
                    len: columns.1,
                    mean,
                },
                &[current],
                &[y],
                if mean {
                    "y = x, with the unit's columns replaced by their mean over positions"
                } else {
                    "y = x, with the unit's columns set to zero (the unit switched off)"
                },
            );
            current = y;
        }
        current
    }

    /// `hidden` [t, C] through the model's final norm again (its weights shared), as `name`:
    /// GPT-2's layer norm `ln_f`, or the Llama family's RMSNorm `norm`.
    fn final_norm_of(
        &mut self,
        config: &Config,
        name: &str,
        hidden: TensorId,
        t: usize,
    ) -> TensorId {
        let (c, eps) = (config.n_embd, config.layer_norm_epsilon);
        match config.arch {
            Arch::Gpt2 => {
                let weights = [self.existing("ln_f.weight"), self.existing("ln_f.bias")];
                self.layernorm_with(name, hidden, weights, t, c, eps)
            }
            Arch::Llama(_) => {
                let weight = self.existing("norm.weight");
                self.rmsnorm_with(name, hidden, weight, t, c, eps)
            }
        }
    }

    /// The output head's weight [vocab, C]: the token embedding when tied.
    fn head_weight(&self, config: &Config) -> TensorId {
        match &config.arch {
            Arch::Llama(llama) if !llama.tied => self.existing("lm_head.weight"),
            _ => self.existing(crate::model::embedding_name(config)),
        }
    }

    /// The logit lens: every hidden state through the final norm and the output head, its
    /// softmax, and the top `k` tokens per position.
    fn lens(&mut self, config: &Config, t: usize, k: usize) {
        let (c, v, n_layer) = (config.n_embd, config.vocab_size, config.n_layer);
        let wte = self.head_weight(config);
        for layer in 0..=n_layer {
            let p = format!("lens.{layer}");
            let probs = if layer == n_layer {
                // The model's own output: already normalised and unembedded.
                self.existing("probs")
            } else {
                let hidden = match layer {
                    0 => self.existing("embed"),
                    l => self.existing(&format!("h.{}.resid_out", l - 1)),
                };
                let ln = self.final_norm_of(config, &format!("{p}.ln"), hidden, t);
                let logits =
                    self.tensor(&format!("{p}.logits"), &[t, v], &[Token, Vocab], Activation);
                self.op(
                    &format!("{p}.logits"),
                    OpKind::Logits { t, c, v },
                    &[ln, wte],
                    &[logits],
                    "lens logits[t, v] = final_norm(hidden[t]) . head[v]: what the residual stream would predict if the model stopped here",
                );
                let probs =
                    self.tensor(&format!("{p}.probs"), &[t, v], &[Token, Vocab], Activation);
                let max = self.tensor(&format!("{p}.probs.max"), &[t], &[Token], Aggregate);
                let sum = self.tensor(&format!("{p}.probs.sum"), &[t], &[Token], Aggregate);
                self.op(
                    &format!("{p}.probs"),
                    OpKind::Softmax {
                        rows: t,
                        cols: v,
                        causal: false,
                    },
                    &[logits],
                    &[probs, max, sum],
                    "lens probs[t, v] = softmax over the vocabulary of the lens logits",
                );
                probs
            };
            self.top_k(&format!("{p}.top"), probs, t, v, k);
        }
    }

    /// The `k` largest values of each of `rows` rows of `x` and their columns, largest first
    /// (ties: lower column first): `{name}.value` [rows, k] and `{name}.index` [rows, k].
    pub(super) fn top_k(&mut self, name: &str, x: TensorId, rows: usize, cols: usize, k: usize) {
        let value = self.tensor(
            &format!("{name}.value"),
            &[rows, k],
            &[Token, Rank],
            Activation,
        );
        let index = self.tensor_typed(
            &format!("{name}.index"),
            &[rows, k],
            &[Token, Rank],
            Activation,
            DType::U32,
        );
        self.op(
            name,
            OpKind::TopK { rows, cols, k },
            &[x],
            &[value, index],
            "top[r] = the k largest x[r, j], largest first, with their columns j",
        );
    }

    /// Scores of every head's attention pattern, per layer: `h.L.attn.head_scores` [H, 4].
    fn head_scores(&mut self, config: &Config, t: usize) {
        let ids = self.existing("input_ids");
        for layer in 0..config.n_layer {
            let p = format!("h.{layer}.attn.head_scores");
            let probs = self.existing(&format!("h.{layer}.attn.probs"));
            let scores = self.tensor(&p, &[config.n_head, 4], &[Head, Score], Activation);
            self.op(
                &p,
                OpKind::HeadScores {
                    t,
                    h: config.n_head,
                },
                &[probs, ids],
                &[scores],
                "mean over queries i >= 1 of p[i, i-1], p[i, 0], p[i, i]; induction: p[i, j+1] summed over earlier j with id[j] = id[i], averaged over the i that repeat",
            );
        }
    }

    /// Direct logit attribution of `target`: the final layer norm's scale frozen at the
    /// position's own, so each residual-stream term contributes rstd * (term . g), with g the
    /// token's unembedding times the norm's gain, centred. The terms: the embedding, each head,
    /// each attention output bias, each MLP (its bias included) and the norm's bias.
    fn attribution(&mut self, config: &Config, t: usize, target: AttributionTarget) {
        let (c, v, h) = (config.n_embd, config.vocab_size, config.n_head);
        let (d, position, token) = (c / h, target.position, target.token);
        let [gain, bias, wte, rstd] =
            ["ln_f.weight", "ln_f.bias", "wte.weight", "ln_f.rstd"].map(|n| self.existing(n));
        let direction = self.tensor("attribution.direction", &[c], &[Channel], Activation);
        let bias_term = self.tensor("attribution.ln_f.bias", &[1], &[Channel], Activation);
        self.op(
            "attribution.direction",
            OpKind::AttributeDirection { c, v, token },
            &[gain, bias, wte],
            &[direction, bias_term],
            "g = ln_f.weight * wte[token] - its mean over channels; the norm bias's term is ln_f.bias . wte[token]",
        );
        let vector = |b: &mut Builder, name: &str, x: TensorId| {
            let out = b.tensor(name, &[1], &[Channel], Activation);
            b.op(
                name,
                OpKind::AttributeVector { t, c, position },
                &[direction, rstd, x],
                &[out],
                "contribution = rstd[pos] * (x[pos] . g)",
            );
        };
        let embed = self.existing("embed");
        vector(self, "attribution.embed", embed);
        for layer in 0..config.n_layer {
            let p = format!("h.{layer}");
            let mix = self.input_of(&format!("{p}.attn.c_proj"), 0);
            let weight = self.existing(&format!("{p}.attn.c_proj.weight"));
            let proj_bias = self.existing(&format!("{p}.attn.c_proj.bias"));
            let heads = self.tensor(
                &format!("{p}.attribution.attn"),
                &[h + 1],
                &[Head],
                Activation,
            );
            self.op(
                &format!("{p}.attribution.attn"),
                OpKind::AttributeHeads { t, h, d, position },
                &[direction, rstd, mix, weight, proj_bias],
                &[heads],
                "head h: rstd[pos] * sum over its channels r of mix[pos, r] (W_proj[r] . g); last: rstd[pos] * (b_proj . g)",
            );
            let mlp = self.input_of(&format!("{p}.resid_out"), 1);
            vector(self, &format!("{p}.attribution.mlp"), mlp);
        }
    }

    /// Input `index` of op `op`: what the model actually read (for `c_proj`, the heads' output
    /// after any ablation; for `resid_out`, the MLP's).
    fn input_of(&self, op: &str, index: usize) -> TensorId {
        let op = self
            .ops
            .iter()
            .find(|o| o.name == op)
            .unwrap_or_else(|| panic!("graph op {op}"));
        op.inputs[index]
    }
}

impl Graph {
    /// Nearest neighbours in the token embedding: the cosine of each of `rows` query vectors
    /// (the `query` input, [rows, C]) with every row of the token embedding (`wte`, or the Llama
    /// family's `embed_tokens`), and the `k` most similar tokens.
    pub fn neighbors(config: &Config, rows: usize, k: usize) -> Graph {
        let mut b = Builder::default();
        let (c, v) = (config.n_embd, config.vocab_size);
        let query = b.tensor("query", &[rows, c], &[Token, Channel], Input);
        let embedding = crate::model::embedding_name(config);
        let wte = b.tensor(embedding, &[v, c], &[Vocab, Channel], Weight);
        let cosine = b.tensor("neighbors.cosine", &[rows, v], &[Token, Vocab], Activation);
        b.op(
            "neighbors.cosine",
            OpKind::Cosine { rows, c, v },
            &[query, wte],
            &[cosine],
            "cos[r, v] = query[r] . wte[v] / (|query[r]| |wte[v]|)",
        );
        b.top_k("neighbors.top", cosine, rows, v, k);
        Graph {
            config: config.clone(),
            seq_len: rows,
            decode_capacity: None,
            tensors: b.tensors,
            ops: b.ops,
        }
    }
}

impl Graph {
    /// The unit a cell of `tensor` at `index` belongs to, for switching it off from the picture:
    /// a head's cells (its q, k, v, scores, probabilities, or its slice of the merged output), a
    /// neuron's (the MLP's expanded channels) or the MLP's output.
    pub fn unit_at(&self, tensor: TensorId, index: &[usize]) -> Option<Ablation> {
        let name = &self.tensors[tensor].name;
        let rest = name.strip_prefix("h.")?;
        let (layer, part) = rest.split_once('.')?;
        let layer = layer.parse().ok()?;
        let d = self.config.n_embd / self.config.n_head;
        let first_is_head = self.tensors[tensor].dims.first() == Some(&Head);
        match part {
            _ if part.starts_with("attn.") && first_is_head => Some(Ablation::Head {
                layer,
                head: *index.first()?,
            }),
            "attn.mix" => Some(Ablation::Head {
                layer,
                head: index.get(1)? / d,
            }),
            "mlp.fc" | "mlp.gelu" | "mlp.gate" | "mlp.up" | "mlp.act" => Some(Ablation::Neuron {
                layer,
                neuron: *index.get(1)?,
            }),
            "mlp.proj" => Some(Ablation::Mlp { layer }),
            _ => None,
        }
    }
}

/// Points the embedding space's PCA takes at most (its kernel keeps a vector per point in
/// workgroup memory).
pub const PCA_MAX_POINTS: usize = 512;

/// Power-iteration steps per component.
const PCA_ITERATIONS: usize = 300;

impl Graph {
    /// The embedding space in 3D: the principal components of `n` points (`points` [n, C],
    /// chosen rows of wte), and `points` and `extra` [m, C] (residual streams, say) placed in
    /// them, `pca.points` [n, 3] and `pca.extra` [m, 3].
    pub fn embedding_space(config: &Config, n: usize, m: usize) -> Graph {
        assert!((2..=PCA_MAX_POINTS).contains(&n), "{n} PCA points");
        let mut b = Builder::default();
        let (c, k) = (config.n_embd, 3);
        let points = b.tensor("points", &[n, c], &[Token, Channel], Input);
        let extra = b.tensor("extra", &[m.max(1), c], &[Token, Channel], Input);
        let mean = b.tensor("pca.mean", &[c], &[Channel], Activation);
        let components = b.tensor("pca.components", &[k, c], &[Rank, Channel], Activation);
        let variance = b.tensor("pca.variance", &[k], &[Rank], Activation);
        let gram = b.tensor("pca.gram", &[n, n], &[Token, KeyToken], Aggregate);
        let basis = b.tensor("pca.basis", &[k, n], &[Rank, Token], Aggregate);
        b.op(
            "pca",
            OpKind::Pca {
                n,
                c,
                k,
                iterations: PCA_ITERATIONS,
            },
            &[points],
            &[mean, components, variance, gram, basis],
            "components = the top eigenvectors of the centred points' covariance, by power iteration",
        );
        for (name, x, rows) in [("pca.points", points, n), ("pca.extra", extra, m.max(1))] {
            let coords = b.tensor(name, &[rows, k], &[Token, Rank], Activation);
            b.op(
                name,
                OpKind::Project { rows, c, k },
                &[x, mean, components],
                &[coords],
                "coords[r, q] = (x[r] - mean) . components[q]",
            );
        }
        Graph {
            config: config.clone(),
            seq_len: n,
            decode_capacity: None,
            tensors: b.tensors,
            ops: b.ops,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_print_and_are_checked() {
        let config = Config::gpt2_small();
        for text in ["h.0.head.3", "h.11.mlp", "h.5.mlp.neuron.3071"] {
            let unit: Ablation = text.parse().unwrap();
            assert_eq!(unit.to_string(), text);
            assert_eq!(unit.check(&config), Ok(()));
        }
        for bad in [
            "h.0.head",
            "h.x.mlp",
            "0.mlp",
            "h.0.mlp.neuron",
            "h.0.attn.3",
            "",
        ] {
            assert!(bad
                .parse::<Ablation>()
                .unwrap_err()
                .contains("expected h.LAYER.head.HEAD"));
        }
        let past = "h.0.head.12"
            .parse::<Ablation>()
            .unwrap()
            .check(&config)
            .unwrap_err();
        assert_eq!(
            past,
            "h.0.head.12: head 12 past the model's 12 heads (0..=11)"
        );
        assert!("h.0.mlp.neuron.3072"
            .parse::<Ablation>()
            .unwrap()
            .check(&config)
            .is_err());
        assert!("h.12.mlp"
            .parse::<Ablation>()
            .unwrap()
            .check(&config)
            .is_err());
    }

    #[test]
    fn ablations_insert_one_op_per_unit_where_its_output_is_made() {
        let config = Config::gpt2_small();
        let ablations = Ablations {
            units: vec![
                Ablation::Head { layer: 1, head: 2 },
                Ablation::Head { layer: 1, head: 5 },
                Ablation::Mlp { layer: 0 },
                Ablation::Neuron {
                    layer: 3,
                    neuron: 7,
                },
            ],
            mean: false,
        };
        let plain = Graph::forward(&config, 4);
        let graph = Graph::forward_ablated(&config, 4, &ablations);
        assert_eq!(graph.ops.len(), plain.ops.len() + 4);
        // Both heads of layer 1 chain before c_proj, which reads the second one's output.
        let c_proj = &graph.ops[graph.op_index("h.1.attn.c_proj").unwrap()];
        assert_eq!(graph.tensors[c_proj.inputs[0]].name, "h.1.head.5.ablated");
        let second = &graph.ops[graph.op_index("h.1.head.5.ablated").unwrap()];
        assert_eq!(graph.tensors[second.inputs[0]].name, "h.1.head.2.ablated");
        let resid = &graph.ops[graph.op_index("h.0.resid_out").unwrap()];
        assert_eq!(graph.tensors[resid.inputs[1]].name, "h.0.mlp.ablated");
        let down = &graph.ops[graph.op_index("h.3.mlp.c_proj").unwrap()];
        assert_eq!(
            graph.tensors[down.inputs[0]].name,
            "h.3.mlp.neuron.7.ablated"
        );
        assert!(matches!(
            second.kind,
            OpKind::Ablate {
                start: 320,
                len: 64,
                mean: false,
                ..
            }
        ));
    }

    #[test]
    fn cells_map_to_the_units_that_make_them() {
        let config = Config::gpt2_small();
        let graph = Graph::forward(&config, 4);
        let id = |n| graph.tensor_id(n).unwrap();
        let head = |layer, head| Some(Ablation::Head { layer, head });
        assert_eq!(graph.unit_at(id("h.2.attn.probs"), &[7, 1, 0]), head(2, 7));
        assert_eq!(graph.unit_at(id("h.2.attn.mix"), &[1, 130]), head(2, 2));
        assert_eq!(
            graph.unit_at(id("h.4.mlp.gelu"), &[0, 99]),
            Some(Ablation::Neuron {
                layer: 4,
                neuron: 99
            })
        );
        assert_eq!(
            graph.unit_at(id("h.4.mlp.proj"), &[0, 9]),
            Some(Ablation::Mlp { layer: 4 })
        );
        assert_eq!(graph.unit_at(id("h.4.ln_1"), &[0, 9]), None);
        assert_eq!(graph.unit_at(id("logits"), &[0, 9]), None);
    }
}
