//! How each op becomes kernel launches: the kernel its family's chosen variant names, the
//! typed parameters and the buffers bound in order. Grids come from the kernels' headers.
//! Built once per graph.

use super::kernels::params::*;
use super::kernels::{KernelId, KernelParams};
use super::launch::Launch;
use super::{Gpu, GpuError, GpuTensor, KernelRegistry, Precision};
use crate::graph::{Graph, OpKind};

/// Where launches of one op are made: its kernel and its name for errors.
struct Site<'a> {
    gpu: &'a Gpu,
    registry: &'a KernelRegistry,
    kernel: &'a KernelId,
    op: &'a str,
}

impl Site<'_> {
    fn launch<P: KernelParams>(
        &self,
        params: P,
        buffers: &[&wgpu::Buffer],
    ) -> Result<Launch, GpuError> {
        Launch::new(
            self.gpu,
            self.registry,
            self.kernel,
            self.op,
            &params,
            buffers,
        )
    }
}

/// What planning reads of a graph being built: its ops, its tensors' buffers, a decode graph's
/// sampling settings and the precision its floats are stored in.
pub(super) struct Planned<'a> {
    pub graph: &'a Graph,
    pub tensors: &'a [GpuTensor],
    pub sampling: Option<&'a wgpu::Buffer>,
    pub precision: Precision,
    /// The output head's blocks where the model keeps them quantized beside an f32 embedding
    /// it is tied to.
    pub head: Option<&'a GpuTensor>,
}

impl Planned<'_> {
    /// Builds the launches of op `index`. Ops whose tensors may be split (the vocabulary-sized
    /// ones) get one launch per chunk, or per pair of chunks.
    pub(super) fn plan_op(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        index: usize,
    ) -> Result<Vec<Launch>, GpuError> {
        if let Some(launches) = self.plan_quantized(gpu, registry, index)? {
            return Ok(launches);
        }
        let op = &self.graph.ops[index];
        let input = |i: usize| &self.tensors[op.inputs[i]];
        let output = |i: usize| &self.tensors[op.outputs[i]];
        let kernel: KernelId = gpu.kernels.kernel_for_op(&op.kind, registry);
        if !registry.has(&kernel) || (self.precision == Precision::F16 && !registry.has_f16()) {
            return Err(GpuError::Unsupported {
                op: op.name.clone(),
                kernel: kernel.to_string(),
            });
        }
        let at = Site {
            gpu,
            registry,
            kernel: &kernel,
            op: &op.name,
        };
        let single_io = || -> Result<Vec<&wgpu::Buffer>, GpuError> {
            let mut buffers = Vec::new();
            for &id in op.inputs.iter().chain(&op.outputs) {
                buffers.push(self.tensors[id].single()?);
            }
            Ok(buffers)
        };
        let u = |x: usize| x as u32;
        let one = |launch: Result<Launch, GpuError>| launch.map(|l| vec![l]);
        match op.kind {
            OpKind::Embed { t, c } => {
                let (ids, wte, wpe, out) = (
                    input(0).single()?,
                    input(1),
                    input(2).single()?,
                    output(0).single()?,
                );
                wte.chunk_ranges()
                    .map(|(chunk, start, rows)| {
                        let params = EmbedParams {
                            t: u(t),
                            c: u(c),
                            vocab_start: u(start),
                            vocab_rows: u(rows),
                        };
                        at.launch(params, &[ids, chunk, wpe, out])
                    })
                    .collect()
            }
            OpKind::LayerNorm { rows, c, eps } => one(at.launch(
                LayerNormParams {
                    rows: u(rows),
                    c: u(c),
                    eps,
                },
                &single_io()?,
            )),
            OpKind::Linear { rows, k, n, bias } => {
                let params = LinearParams {
                    rows: u(rows),
                    k: u(k),
                    n: u(n),
                };
                let mut buffers = single_io()?;
                if bias {
                    return one(at.launch(params, &buffers));
                }
                let zeros = no_bias(gpu, n);
                buffers.insert(2, &zeros);
                one(at.launch(params, &buffers))
            }
            OpKind::SplitHeads { t, h, d } => one(at.launch(
                SplitHeadsParams {
                    t: u(t),
                    h: u(h),
                    d: u(d),
                },
                &single_io()?,
            )),
            OpKind::AttnScores { t, h, d, kv } => one(at.launch(
                AttnScoresParams {
                    t: u(t),
                    h: u(h),
                    d: u(d),
                    scale: 1.0 / (d as f32).sqrt(),
                    kv: u(kv),
                },
                &single_io()?,
            )),
            OpKind::Softmax { cols, causal, .. } => {
                let (x, probs) = (input(0), output(0));
                let (max, sum) = (output(1).single()?, output(2).single()?);
                // Input and output have the same shape, so they split at the same rows.
                x.chunk_ranges()
                    .zip(&probs.chunks)
                    .map(|((xc, start, rows), pc)| {
                        let params = SoftmaxParams {
                            rows: u(rows * x.row_len / cols),
                            cols: u(cols),
                            causal: u32::from(causal),
                            row_offset: u(start * x.row_len / cols),
                        };
                        at.launch(params, &[xc, pc, max, sum])
                    })
                    .collect()
            }
            OpKind::AttnMix { t, h, d, kv } => one(at.launch(
                AttnMixParams {
                    t: u(t),
                    h: u(h),
                    d: u(d),
                    kv: u(kv),
                },
                &single_io()?,
            )),
            OpKind::Gelu { n } => one(at.launch(GeluParams { n: u(n) }, &single_io()?)),
            OpKind::EmbedTokens { t, c } => {
                let (ids, table, out) = (input(0).single()?, input(1), output(0).single()?);
                table
                    .chunk_ranges()
                    .map(|(chunk, start, rows)| {
                        let params = EmbedTokensParams {
                            t: u(t),
                            c: u(c),
                            vocab_start: u(start),
                            vocab_rows: u(rows),
                        };
                        at.launch(params, &[ids, chunk, out])
                    })
                    .collect()
            }
            OpKind::RmsNorm { rows, c, eps } => one(at.launch(
                RmsNormParams {
                    rows: u(rows),
                    c: u(c),
                    eps,
                },
                &single_io()?,
            )),
            OpKind::Rope { t, heads, d, rope } => {
                let turn = RopeTurn::of(&rope);
                let params = RopeParams {
                    t: u(t),
                    heads: u(heads),
                    d: u(d),
                    first: 0,
                    theta: turn.theta,
                    scaled: turn.scaled,
                    factor: turn.factor,
                    low_freq_factor: turn.low_freq_factor,
                    high_freq_factor: turn.high_freq_factor,
                    context: turn.context,
                };
                one(at.launch(params, &single_io()?))
            }
            OpKind::Heads { t, h, d } => one(at.launch(
                HeadsParams {
                    t: u(t),
                    h: u(h),
                    d: u(d),
                },
                &single_io()?,
            )),
            OpKind::SwiGlu { n } => one(at.launch(SwiGluParams { n: u(n) }, &single_io()?)),
            OpKind::Add { n } => one(at.launch(AddParams { n: u(n) }, &single_io()?)),
            OpKind::Logits { c, v, .. } => {
                let (x, wte, logits) = (input(0).single()?, input(1), output(0));
                let mut plan = Vec::new();
                for (wchunk, v_start, v_rows) in wte.chunk_ranges() {
                    for (lchunk, t_start, t_rows) in logits.chunk_ranges() {
                        let params = LogitsParams {
                            t_rows: u(t_rows),
                            t_offset: u(t_start),
                            c: u(c),
                            vocab: u(v),
                            vocab_start: u(v_start),
                            vocab_rows: u(v_rows),
                        };
                        plan.push(at.launch(params, &[x, wchunk, lchunk])?);
                    }
                }
                Ok(plan)
            }
            OpKind::EmbedAt { c } => {
                let (ids, position, wte, wpe, out) = (
                    input(0).single()?,
                    input(1).single()?,
                    input(2),
                    input(3).single()?,
                    output(0).single()?,
                );
                wte.chunk_ranges()
                    .map(|(chunk, start, rows)| {
                        let params = EmbedAtParams {
                            c: u(c),
                            vocab_start: u(start),
                            vocab_rows: u(rows),
                        };
                        let buffers = [ids, position, chunk, wpe, out];
                        at.launch(params, &buffers)
                    })
                    .collect()
            }
            OpKind::KvAppend { h, d, capacity } => one(at.launch(
                KvAppendParams {
                    h: u(h),
                    d: u(d),
                    capacity: u(capacity),
                },
                &single_io()?,
            )),
            OpKind::RopeAppend {
                h,
                kv,
                d,
                capacity,
                rope,
            } => {
                let turn = RopeTurn::of(&rope);
                let params = RopeAppendParams {
                    h: u(h),
                    kv: u(kv),
                    d: u(d),
                    capacity: u(capacity),
                    theta: turn.theta,
                    scaled: turn.scaled,
                    factor: turn.factor,
                    low_freq_factor: turn.low_freq_factor,
                    high_freq_factor: turn.high_freq_factor,
                    context: turn.context,
                };
                one(at.launch(params, &single_io()?))
            }
            OpKind::AttnScoresCached { h, d, capacity, kv } => one(at.launch(
                AttnScoresCachedParams {
                    h: u(h),
                    d: u(d),
                    capacity: u(capacity),
                    scale: 1.0 / (d as f32).sqrt(),
                    kv: u(kv),
                },
                &single_io()?,
            )),
            OpKind::AttnMixCached { h, d, capacity, kv } => one(at.launch(
                AttnMixCachedParams {
                    h: u(h),
                    d: u(d),
                    capacity: u(capacity),
                    kv: u(kv),
                },
                &single_io()?,
            )),
            OpKind::AttnFused { t, h, d, kv } => one(at.launch(
                AttnFusedParams {
                    t: u(t),
                    h: u(h),
                    d: u(d),
                    scale: 1.0 / (d as f32).sqrt(),
                    kv: u(kv),
                },
                &single_io()?,
            )),
            OpKind::AttnSplit {
                h,
                d,
                capacity,
                kv,
                span,
            } => one(at.launch(
                AttnSplitParams {
                    h: u(h),
                    d: u(d),
                    capacity: u(capacity),
                    scale: 1.0 / (d as f32).sqrt(),
                    kv: u(kv),
                    span: u(span),
                },
                &single_io()?,
            )),
            OpKind::AttnCombine { h, d, splits, span } => one(at.launch(
                AttnCombineParams {
                    h: u(h),
                    d: u(d),
                    splits: u(splits),
                    span: u(span),
                },
                &single_io()?,
            )),
            OpKind::Sample { v } => {
                let settings = self
                    .sampling
                    .expect("a decode graph has its sampling settings");
                let (logits, position, next) =
                    (input(0).single()?, input(1).single()?, output(0).single()?);
                one(at.launch(
                    SampleParams { v: u(v) },
                    &[logits, settings, position, next],
                ))
            }
            OpKind::Ablate {
                rows,
                cols,
                start,
                len,
                mean,
            } => one(at.launch(
                AblateParams {
                    rows: u(rows),
                    cols: u(cols),
                    start: u(start),
                    len: u(len),
                    mean: u32::from(mean),
                },
                &single_io()?,
            )),
            OpKind::TopK { cols, k, .. } => {
                let (x, value, index) = (input(0), output(0).single()?, output(1).single()?);
                x.chunk_ranges()
                    .map(|(chunk, start, rows)| {
                        let params = TopKParams {
                            rows: u(rows * x.row_len / cols),
                            cols: u(cols),
                            k: u(k),
                            row_offset: u(start * x.row_len / cols),
                        };
                        at.launch(params, &[chunk, value, index])
                    })
                    .collect()
            }
            OpKind::HeadScores { t, h } => {
                one(at.launch(HeadScoresParams { t: u(t), h: u(h) }, &single_io()?))
            }
            OpKind::AttributeDirection { c, token, .. } => {
                let (gain, bias, wte) = (input(0).single()?, input(1).single()?, input(2));
                let (direction, bias_term) = (output(0).single()?, output(1).single()?);
                wte.chunk_ranges()
                    .map(|(chunk, start, rows)| {
                        let params = AttributeDirectionParams {
                            c: u(c),
                            token,
                            vocab_start: u(start),
                            vocab_rows: u(rows),
                        };
                        at.launch(params, &[gain, bias, chunk, direction, bias_term])
                    })
                    .collect()
            }
            OpKind::AttributeVector { t, c, position } => one(at.launch(
                AttributeVectorParams {
                    t: u(t),
                    c: u(c),
                    position: u(position),
                },
                &single_io()?,
            )),
            OpKind::AttributeHeads { t, h, d, position } => one(at.launch(
                AttributeHeadsParams {
                    t: u(t),
                    h: u(h),
                    d: u(d),
                    position: u(position),
                },
                &single_io()?,
            )),
            OpKind::Pca {
                n,
                c,
                k,
                iterations,
            } => {
                // One launch per component: each deflates by what the earlier ones wrote.
                let buffers = single_io()?;
                (0..k)
                    .map(|component| {
                        let params = PcaParams {
                            n: u(n),
                            c: u(c),
                            k: u(k),
                            iterations: u(iterations),
                            component: u(component),
                        };
                        at.launch(params, &buffers)
                    })
                    .collect()
            }
            OpKind::Project { rows, c, k } => one(at.launch(
                ProjectParams {
                    rows: u(rows),
                    c: u(c),
                    k: u(k),
                },
                &single_io()?,
            )),
            OpKind::Cosine { rows, c, v } => {
                let (q, wte, cosine) = (input(0).single()?, input(1), output(0).single()?);
                wte.chunk_ranges()
                    .map(|(chunk, start, vocab_rows)| {
                        let params = CosineParams {
                            rows: u(rows),
                            c: u(c),
                            vocab: u(v),
                            vocab_start: u(start),
                            vocab_rows: u(vocab_rows),
                        };
                        at.launch(params, &[q, chunk, cosine])
                    })
                    .collect()
            }
        }
    }
}

/// What a matmul kernel adds for a layer without a bias: zeros, from a buffer of their own
/// (wgpu zeroes new buffers; the bind group keeps it alive).
pub(super) fn no_bias(gpu: &Gpu, n: usize) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("no bias"),
        size: 4 * n as u64,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    })
}

/// The rotary settings as the rope kernels read them: llama3 scaling's fields when `scaled` is
/// 1, placeholders the kernels ignore otherwise.
struct RopeTurn {
    theta: f32,
    scaled: u32,
    factor: f32,
    low_freq_factor: f32,
    high_freq_factor: f32,
    context: f32,
}

impl RopeTurn {
    fn of(rope: &crate::model::arch::Rope) -> RopeTurn {
        let (scaled, s) = match rope.scaling {
            Some(s) => (1, s),
            None => (
                0,
                crate::model::arch::Llama3Scaling {
                    factor: 1.0,
                    low_freq_factor: 1.0,
                    high_freq_factor: 2.0,
                    original_context: 1,
                },
            ),
        };
        RopeTurn {
            theta: rope.theta,
            scaled,
            factor: s.factor,
            low_freq_factor: s.low_freq_factor,
            high_freq_factor: s.high_freq_factor,
            context: s.original_context as f32,
        }
    }
}
