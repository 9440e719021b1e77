//! The Llama-family graph (Llama, Qwen2, Mistral): RMSNorm, rotary positions on the queries and
//! keys, grouped-query attention and the gated MLP. Activations carry the same names as
//! GPT-2's where they mean the same thing (`embed`, `h.L.ln_1`, `h.L.attn.probs`,
//! `h.L.resid_out`, `ln_f`, `logits`), so views, probes and Hugging Face aliases find them;
//! weights carry the checkpoint's names without its `model.` prefix.

use super::{Builder, DType, Dim, Graph, OpKind, Role, TensorId};
use crate::model::arch::Llama;
use crate::model::Config;

use Dim::*;
use Role::*;

/// One projection: weight `{weight}.weight` [k, n] (stored [n, k] in the file), an optional
/// `{weight}.bias` [n], output `{output}` [t, n]; the op is named after the output.
struct Projection<'a> {
    weight: &'a str,
    bias: bool,
    output: &'a str,
    k: usize,
    n: usize,
    formula: &'static str,
}

/// Builds the attention core of layer `prefix` from its projected queries, keys and values
/// (`[t, H*D]`, `[t, G*D]`, `[t, G*D]`), returning the heads' outputs merged into channels.
pub(super) type LlamaAttention<'a> = &'a dyn Fn(&mut Builder, &str, [TensorId; 3]) -> TensorId;

impl Graph {
    /// The Llama-family forward pass over `seq_len` tokens, with `ablations` applied.
    pub(super) fn llama_on(
        mut b: Builder,
        config: &Config,
        llama: &Llama,
        seq_len: usize,
    ) -> Graph {
        let (t, c) = (seq_len, config.n_embd);
        let ids = b.tensor_typed("input_ids", &[t], &[Token], Input, DType::U32);
        let embedding = b.token_embedding(config);
        let embed = b.tensor("embed", &[t, c], &[Token, Channel], Activation);
        b.op(
            "embed",
            OpKind::EmbedTokens { t, c },
            &[ids, embedding],
            &[embed],
            "x[t] = embed_tokens[token t]: the token's vector (positions enter later, as rotations)",
        );
        let norm = b.llama_layers(config, llama, t, embed, &|b, p, qkv| {
            b.causal_gqa(config, llama, p, t, qkv)
        });
        let head = b.llama_head_weight(config, llama, embedding);
        b.head(config, t, norm, head);
        Graph {
            config: config.clone(),
            seq_len,
            decode_capacity: None,
            tensors: b.tensors,
            ops: b.ops,
        }
    }
}

impl Builder {
    /// The token embedding `embed_tokens.weight` [vocab, C].
    pub(super) fn token_embedding(&mut self, config: &Config) -> TensorId {
        self.tensor(
            "embed_tokens.weight",
            &[config.vocab_size, config.n_embd],
            &[Vocab, Channel],
            Weight,
        )
    }

    /// The output head's weight: the token embedding when tied, `lm_head.weight` otherwise.
    pub(super) fn llama_head_weight(
        &mut self,
        config: &Config,
        llama: &Llama,
        embedding: TensorId,
    ) -> TensorId {
        if llama.tied {
            return embedding;
        }
        self.tensor(
            "lm_head.weight",
            &[config.vocab_size, config.n_embd],
            &[Vocab, Channel],
            Weight,
        )
    }

    /// The decoder layers over `t` rows starting at `x`, then the final RMSNorm (`norm`).
    pub(super) fn llama_layers(
        &mut self,
        config: &Config,
        llama: &Llama,
        t: usize,
        x: TensorId,
        attention: LlamaAttention,
    ) -> TensorId {
        let (c, h, g) = (config.n_embd, config.n_head, llama.n_kv_head);
        let (d, m) = (config.head_dim(), llama.intermediate);
        let eps = config.layer_norm_epsilon;
        let mut resid = x;
        for l in 0..config.n_layer {
            let (p, w) = (format!("h.{l}"), format!("layers.{l}"));
            let ln1 = self.rmsnorm(
                &format!("{p}.input_layernorm"),
                &format!("{w}.input_layernorm.weight"),
                resid,
                t,
                c,
                eps,
            );
            let project = |b: &mut Builder, x, proj: Projection| b.projection(&p, &w, x, t, proj);
            let attn = |name: &str| format!("self_attn.{name}");
            let q = project(
                self,
                ln1,
                Projection {
                    weight: &attn("q_proj"),
                    bias: llama.qkv_bias,
                    output: "attn.q_proj",
                    k: c,
                    n: h * d,
                    formula: "q = x . W_q (+ b_q): each token's queries, H heads of D channels",
                },
            );
            let k = project(
                self,
                ln1,
                Projection {
                    weight: &attn("k_proj"),
                    bias: llama.qkv_bias,
                    output: "attn.k_proj",
                    k: c,
                    n: g * d,
                    formula: "k = x . W_k (+ b_k): keys for the G key/value heads only",
                },
            );
            let v = project(
                self,
                ln1,
                Projection {
                    weight: &attn("v_proj"),
                    bias: llama.qkv_bias,
                    output: "attn.v_proj",
                    k: c,
                    n: g * d,
                    formula: "v = x . W_v (+ b_v): values for the G key/value heads only",
                },
            );
            let mix = attention(self, &p, [q, k, v]);
            let mix = self.ablate(mix, config, t);
            let proj = project(
                self,
                mix,
                Projection {
                    weight: &attn("o_proj"),
                    bias: llama.o_bias,
                    output: "attn.proj",
                    k: c,
                    n: c,
                    formula:
                        "proj = mix . W_o: the heads' outputs mixed back into the residual width",
                },
            );
            let resid_mid = self.add(
                &p,
                "resid_mid",
                resid,
                proj,
                t * c,
                c,
                "resid_mid = x + proj: attention's contribution added to the residual stream",
            );
            let ln2 = self.rmsnorm(
                &format!("{p}.post_attention_layernorm"),
                &format!("{w}.post_attention_layernorm.weight"),
                resid_mid,
                t,
                c,
                eps,
            );
            let gate = project(
                self,
                ln2,
                Projection {
                    weight: "mlp.gate_proj",
                    bias: llama.mlp_bias,
                    output: "mlp.gate",
                    k: c,
                    n: m,
                    formula: "gate = x . W_gate: how far each of the M neurons opens",
                },
            );
            let up = project(
                self,
                ln2,
                Projection {
                    weight: "mlp.up_proj",
                    bias: llama.mlp_bias,
                    output: "mlp.up",
                    k: c,
                    n: m,
                    formula: "up = x . W_up: what each of the M neurons carries",
                },
            );
            let act = self.tensor(
                &format!("{p}.mlp.act"),
                &[t, m],
                &[Token, Channel],
                Activation,
            );
            self.op(
                &format!("{p}.mlp.act"),
                OpKind::SwiGlu { n: t * m },
                &[gate, up],
                &[act],
                "act = silu(gate) * up, silu(x) = x / (1 + exp(-x)): the gate lets the value through",
            );
            let act = self.ablate(act, config, t);
            let down = project(
                self,
                act,
                Projection {
                    weight: "mlp.down_proj",
                    bias: llama.mlp_bias,
                    output: "mlp.proj",
                    k: m,
                    n: c,
                    formula: "proj = act . W_down: back down to C channels",
                },
            );
            let down = self.ablate(down, config, t);
            resid = self.add(
                &p,
                "resid_out",
                resid_mid,
                down,
                t * c,
                c,
                "resid_out = resid_mid + mlp: the MLP's contribution added to the residual stream",
            );
        }
        self.rmsnorm("norm", "norm.weight", resid, t, c, eps)
    }

    /// Grouped-query attention over the `t` tokens of the sequence itself, causally masked:
    /// queries and keys turned by position, values cut into their heads.
    fn causal_gqa(
        &mut self,
        config: &Config,
        llama: &Llama,
        p: &str,
        t: usize,
        [q, k, v]: [TensorId; 3],
    ) -> TensorId {
        let (h, g, d) = (config.n_head, llama.n_kv_head, config.head_dim());
        let q = self.rope(config, llama, p, "q", q, t, h);
        let k = self.rope(config, llama, p, "k", k, t, g);
        let v_heads = self.tensor(
            &format!("{p}.attn.v"),
            &[g, t, d],
            &[Head, Token, HeadChannel],
            Activation,
        );
        self.op(
            &format!("{p}.attn.v"),
            OpKind::Heads { t, h: g, d },
            &[v],
            &[v_heads],
            "v[g, t, d] = v_proj[t, g*D + d]: the values cut into the G key/value heads",
        );
        self.causal_scores_and_mix(p, [q, k, v_heads], (t, h, g, d))
    }

    /// RMSNorm named `name` with gain `weight` [C]: output `{name}`, aggregate `{name}.rstd`.
    pub(super) fn rmsnorm(
        &mut self,
        name: &str,
        weight: &str,
        x: TensorId,
        t: usize,
        c: usize,
        eps: f32,
    ) -> TensorId {
        let w = self.tensor(weight, &[c], &[Channel], Weight);
        self.rmsnorm_with(name, x, w, t, c, eps)
    }

    /// RMSNorm named `name` with the gain tensor `w` already in the graph.
    pub(super) fn rmsnorm_with(
        &mut self,
        name: &str,
        x: TensorId,
        w: TensorId,
        t: usize,
        c: usize,
        eps: f32,
    ) -> TensorId {
        let y = self.tensor(name, &[t, c], &[Token, Channel], Activation);
        let rstd = self.tensor(&format!("{name}.rstd"), &[t], &[Token], Aggregate);
        self.op(
            name,
            OpKind::RmsNorm { rows: t, c, eps },
            &[x, w],
            &[y, rstd],
            "y = x / sqrt(mean(x^2) + eps) * weight, per token: scaled, not centred",
        );
        y
    }

    /// A projection of layer `p` (weights under `w`).
    fn projection(
        &mut self,
        p: &str,
        w: &str,
        x: TensorId,
        t: usize,
        proj: Projection,
    ) -> TensorId {
        let Projection { k, n, .. } = proj;
        let weight = self.tensor(
            &format!("{w}.{}.weight", proj.weight),
            &[k, n],
            &[Channel, Channel],
            Weight,
        );
        let mut inputs = vec![x, weight];
        if proj.bias {
            inputs.push(self.tensor(
                &format!("{w}.{}.bias", proj.weight),
                &[n],
                &[Channel],
                Weight,
            ));
        }
        let name = format!("{p}.{}", proj.output);
        let y = self.tensor(&name, &[t, n], &[Token, Channel], Activation);
        self.op(
            &name,
            OpKind::Linear {
                rows: t,
                k,
                n,
                bias: proj.bias,
            },
            &inputs,
            &[y],
            proj.formula,
        );
        y
    }

    /// Queries or keys (`part` is "q" or "k") cut into `heads` heads and turned by position.
    #[allow(clippy::too_many_arguments)]
    fn rope(
        &mut self,
        config: &Config,
        llama: &Llama,
        p: &str,
        part: &str,
        x: TensorId,
        t: usize,
        heads: usize,
    ) -> TensorId {
        let d = config.head_dim();
        let name = format!("{p}.attn.{part}");
        let y = self.tensor(
            &name,
            &[heads, t, d],
            &[Head, Token, HeadChannel],
            Activation,
        );
        self.op(
            &name,
            OpKind::Rope {
                t,
                heads,
                d,
                rope: llama.rope,
            },
            &[x],
            &[y],
            "y[h, t, i] = x cos(t f_i) - x[i + D/2] sin(t f_i), y[h, t, i + D/2] = x[i + D/2] cos(t f_i) + x[i] sin(t f_i), f_i = theta^(-2i/D)",
        );
        y
    }

    /// `{p}.{name}` = a + b, [n] as [n / c, c].
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        p: &str,
        name: &str,
        a: TensorId,
        b: TensorId,
        n: usize,
        c: usize,
        formula: &'static str,
    ) -> TensorId {
        let y = self.tensor(
            &format!("{p}.{name}"),
            &[n / c, c],
            &[Token, Channel],
            Activation,
        );
        self.op(
            &format!("{p}.{name}"),
            OpKind::Add { n },
            &[a, b],
            &[y],
            formula,
        );
        y
    }
}
