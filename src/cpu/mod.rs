//! The CPU reference: runs the graph op by op with the plain functions in [`ops`].

pub mod decode;
pub mod llama;
pub mod ops;
pub mod sampling;
pub mod why;

use crate::cpu::decode::CacheShape;
use crate::cpu::sampling::{sample, Sampling};
use crate::graph::{Graph, OpKind, Role};
use crate::model::{validate_ids, LoadError, Model};
use crate::values::TensorValues;

/// Runs the whole graph on the CPU and returns every tensor that is not a weight.
pub fn forward(graph: &Graph, model: &Model, ids: &[u32]) -> Result<TensorValues, LoadError> {
    let mut run = CpuRun::new(graph, model, ids)?;
    for index in 0..graph.ops.len() {
        run.run_op(index);
    }
    Ok(run.values)
}

/// A forward pass in progress: the values of every non-weight tensor computed so far.
pub struct CpuRun<'a> {
    graph: &'a Graph,
    model: &'a Model,
    ids: Vec<u32>,
    /// For a decode graph: where the token goes, and how the next one is picked.
    position: usize,
    pub sampling: Sampling,
    pub values: TensorValues,
}

impl<'a> CpuRun<'a> {
    pub fn new(graph: &'a Graph, model: &'a Model, ids: &[u32]) -> Result<Self, LoadError> {
        let mut values = TensorValues::zeroed(graph);
        // A graph over a vector rather than tokens (nearest neighbours) has no ids.
        if let Some(input) = graph.tensor_id("input_ids") {
            validate_ids(&model.config, ids)?;
            assert_eq!(
                ids.len(),
                graph.seq_len,
                "graph built for another sequence length"
            );
            values.values[input] = ids.iter().map(|&id| id as f32).collect();
        }
        let mut run = CpuRun {
            graph,
            model,
            ids: ids.to_vec(),
            position: 0,
            sampling: Sampling::GREEDY,
            values,
        };
        if graph.decode_capacity.is_some() {
            run.set_token(ids[0], 0)?;
        }
        Ok(run)
    }

    /// For a decode graph: the token the next step runs and its position. The KV cache keeps
    /// what earlier steps wrote.
    pub fn set_token(&mut self, id: u32, position: usize) -> Result<(), LoadError> {
        validate_ids(&self.model.config, &[id])?;
        let (ids, pos) = self.graph.decode_inputs(position);
        self.values.values[ids] = vec![id as f32];
        self.values.values[pos] = vec![position as f32];
        self.ids = vec![id];
        self.position = position;
        Ok(())
    }

    /// Sets an input tensor that is not the token ids (the query of nearest neighbours).
    pub fn set_input(&mut self, id: crate::graph::TensorId, values: &[f32]) {
        assert_eq!(values.len(), self.graph.tensors[id].len(), "input size");
        self.values.values[id] = values.to_vec();
    }

    /// Runs every op of the graph in order.
    pub fn run_all(&mut self) {
        for index in 0..self.graph.ops.len() {
            self.run_op(index);
        }
    }

    fn input(&self, id: usize) -> &[f32] {
        let tensor = &self.graph.tensors[id];
        match tensor.role {
            Role::Weight => self
                .model
                .weights
                .get(&tensor.name)
                .expect("model holds every weight of the graph"),
            _ => &self.values.values[id],
        }
    }

    /// Runs op `index`, writing its outputs.
    pub fn run_op(&mut self, index: usize) {
        let op = &self.graph.ops[index];
        let mut outs: Vec<Vec<f32>> = op
            .outputs
            .iter()
            .map(|&o| std::mem::take(&mut self.values.values[o]))
            .collect();
        let ins: Vec<&[f32]> = op.inputs.iter().map(|&i| self.input(i)).collect();
        match (op.kind, outs.as_mut_slice()) {
            (OpKind::Embed { c, .. }, [x]) => ops::embed(x, &self.ids, ins[1], ins[2], c),
            (OpKind::LayerNorm { c, eps, .. }, [y, mean, rstd]) => {
                ops::layernorm(y, mean, rstd, ins[0], ins[1], ins[2], c, eps)
            }
            (OpKind::Linear { rows, k, n, bias }, [y]) => {
                let bias = bias.then(|| ins[2]);
                ops::linear(y, ins[0], ins[1], bias, rows, k, n)
            }
            (OpKind::SplitHeads { t, h, d }, [q, k, v]) => {
                ops::split_heads(q, k, v, ins[0], t, h, d)
            }
            (OpKind::AttnScores { t, h, d, kv }, [s]) => {
                ops::attn_scores(s, ins[0], ins[1], t, (h, kv), d)
            }
            (OpKind::Softmax { cols, causal, .. }, [p, max, sum]) => {
                ops::softmax(p, max, sum, ins[0], cols, causal)
            }
            (OpKind::AttnMix { t, h, d, kv }, [y]) => {
                ops::attn_mix(y, ins[0], ins[1], t, (h, kv), d)
            }
            (OpKind::EmbedTokens { c, .. }, [x]) => llama::embed_tokens(x, &self.ids, ins[1], c),
            (OpKind::RmsNorm { c, eps, .. }, [y, rstd]) => {
                llama::rmsnorm(y, rstd, ins[0], ins[1], c, eps)
            }
            (OpKind::Rope { t, d, rope, .. }, [y]) => llama::rope(y, ins[0], t, d, &rope, 0),
            (OpKind::Heads { t, h, d }, [y]) => llama::heads(y, ins[0], t, h, d),
            (OpKind::SwiGlu { .. }, [y]) => llama::swiglu(y, ins[0], ins[1]),
            (OpKind::Gelu { .. }, [y]) => ops::gelu(y, ins[0]),
            (OpKind::Add { .. }, [y]) => ops::add(y, ins[0], ins[1]),
            (OpKind::Logits { t, c, v }, [y]) => ops::logits(y, ins[0], ins[1], t, c, v),
            (OpKind::EmbedAt { c }, [x]) => {
                decode::embed_at(x, self.ids[0] as usize, self.position, ins[2], ins[3], c)
            }
            (OpKind::KvAppend { h, d, capacity }, [q, k, v]) => {
                decode::kv_append(q, k, v, ins[0], self.position, (h, d, capacity))
            }
            (
                OpKind::RopeAppend {
                    h,
                    kv,
                    d,
                    capacity,
                    rope,
                },
                [q, k, v],
            ) => decode::rope_append(
                [q, k, v],
                [ins[0], ins[1], ins[2]],
                self.position,
                CacheShape { h, kv, d, capacity },
                &rope,
            ),
            (OpKind::AttnScoresCached { h, d, capacity, kv }, [s]) => {
                let shape = CacheShape { h, kv, d, capacity };
                decode::attn_scores_cached(s, ins[0], ins[1], self.position, shape)
            }
            (OpKind::AttnMixCached { h, d, capacity, kv }, [y]) => {
                let shape = CacheShape { h, kv, d, capacity };
                decode::attn_mix_cached(y, ins[0], ins[1], self.position, shape)
            }
            (OpKind::AttnFused { t, h, d, kv }, [y]) => {
                // The plain ops' arithmetic: the fused kernel must agree with it.
                let mut scores = vec![0.0; h * t * t];
                ops::attn_scores(&mut scores, ins[0], ins[1], t, (h, kv), d);
                let mut probs = vec![0.0; h * t * t];
                let (mut max, mut sum) = (vec![0.0; h * t], vec![0.0; h * t]);
                ops::softmax(&mut probs, &mut max, &mut sum, &scores, t, true);
                ops::attn_mix(y, &probs, ins[2], t, (h, kv), d)
            }
            (
                OpKind::AttnSplit {
                    h,
                    d,
                    capacity,
                    kv,
                    span,
                },
                [split_max, split_sum, split_mix],
            ) => decode::attn_split(
                [split_max, split_sum, split_mix],
                ins[0],
                [ins[1], ins[2]],
                self.position,
                CacheShape { h, kv, d, capacity },
                span,
            ),
            (OpKind::AttnCombine { h, d, splits, span }, [y]) => decode::attn_combine(
                y,
                [ins[0], ins[1], ins[2]],
                self.position,
                (h, d, splits, span),
            ),
            (OpKind::Sample { .. }, [next]) => {
                next[0] = sample(ins[0], &self.sampling, self.position as u32) as f32
            }
            (
                OpKind::Ablate {
                    cols,
                    start,
                    len,
                    mean,
                    ..
                },
                [y],
            ) => why::ablate(y, ins[0], cols, (start, len), mean),
            (OpKind::TopK { cols, k, .. }, [value, index]) => {
                why::top_k(value, index, ins[0], cols, k)
            }
            (OpKind::HeadScores { t, h }, [scores]) => {
                why::head_scores(scores, ins[0], &self.ids, t, h)
            }
            (OpKind::AttributeDirection { token, .. }, [direction, bias_term]) => {
                why::attribute_direction(
                    direction,
                    bias_term,
                    ins[0],
                    ins[1],
                    ins[2],
                    token as usize,
                )
            }
            (OpKind::AttributeVector { position, .. }, [out]) => {
                why::attribute_vector(out, ins[0], ins[1], ins[2], position)
            }
            (OpKind::AttributeHeads { h, d, position, .. }, [out]) => why::attribute_heads(
                out,
                [ins[0], ins[1], ins[2], ins[3], ins[4]],
                (h, d, position),
            ),
            (OpKind::Cosine { c, .. }, [out]) => why::cosine(out, ins[0], ins[1], c),
            (
                OpKind::Pca {
                    n, c, iterations, ..
                },
                [mean, components, variance, gram, basis],
            ) => why::pca(
                [mean, components, variance, gram, basis],
                ins[0],
                (n, c),
                iterations,
            ),
            (OpKind::Project { c, .. }, [coords]) => {
                why::project(coords, ins[0], ins[1], ins[2], c)
            }
            (kind, outs) => unreachable!("op {kind:?} built with {} outputs", outs.len()),
        }
        for (&o, value) in op.outputs.iter().zip(outs) {
            self.values.values[o] = value;
        }
    }
}
