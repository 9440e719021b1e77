//! How each op becomes kernel launches: the kernel its variant names, the parameters, the
//! buffers bound in order and the workgroup grid. Built once per graph.

use super::executor::{bind_kernel, grid};
use super::{Gpu, GpuError, GpuGraph, KernelRegistry, Precision};
use crate::graph::OpKind;

/// One kernel launch: which kernel, what it binds, how many workgroups.
pub(super) struct Dispatch {
    pub kernel: &'static str,
    pub bind_group: wgpu::BindGroup,
    pub workgroups: [u32; 3],
    /// What the bind group holds, for binding the same launch to a trace version of the kernel.
    pub params: Vec<u32>,
    pub buffers: Vec<wgpu::Buffer>,
}

fn div_ceil(a: usize, b: usize) -> u32 {
    a.div_ceil(b) as u32
}

impl GpuGraph {
    /// Builds the dispatches of op `index`. Ops whose tensors may be split (the vocabulary-sized
    /// ones) get one dispatch per chunk, or per pair of chunks.
    pub(super) fn plan_op(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        index: usize,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let op = &self.graph.ops[index];
        let input = |i: usize| &self.tensors[op.inputs[i]];
        let output = |i: usize| &self.tensors[op.outputs[i]];
        let kernel = gpu.kernels.kernel_for_op(&op.kind, |k| registry.has(k));
        if !registry.has(kernel) || (self.precision == Precision::F16 && !registry.has_f16()) {
            return Err(GpuError::Unsupported {
                op: op.name.clone(),
                kernel: kernel.to_string(),
            });
        }
        let make = |params: &[u32], buffers: &[&wgpu::Buffer], workgroups: [u32; 3]| {
            let limit = gpu.limits.max_compute_workgroups_per_dimension;
            if workgroups.iter().any(|&w| w > limit) {
                return Err(GpuError::Dispatch {
                    op: op.name.clone(),
                    workgroups,
                    limit,
                });
            }
            Ok(Dispatch {
                kernel,
                bind_group: bind_kernel(gpu, registry, kernel, params, buffers),
                workgroups,
                params: params.to_vec(),
                buffers: buffers.iter().map(|&b| b.clone()).collect(),
            })
        };
        let single_io = || -> Result<Vec<&wgpu::Buffer>, GpuError> {
            let mut buffers = Vec::new();
            for &id in op.inputs.iter().chain(&op.outputs) {
                buffers.push(self.tensors[id].single()?);
            }
            Ok(buffers)
        };
        let u = |x: usize| x as u32;
        let plan = match op.kind {
            OpKind::Embed { t, c } => {
                let (ids, wte, wpe, out) = (
                    input(0).single()?,
                    input(1),
                    input(2).single()?,
                    output(0).single()?,
                );
                wte.chunk_ranges()
                    .map(|(chunk, start, rows)| {
                        make(
                            &[u(t), u(c), u(start), u(rows)],
                            &[ids, chunk, wpe, out],
                            [div_ceil(c, 64), u(t), 1],
                        )
                    })
                    .collect::<Result<_, _>>()?
            }
            OpKind::LayerNorm { rows, c, eps } => {
                vec![make(
                    &[u(rows), u(c), eps.to_bits()],
                    &single_io()?,
                    [u(rows), 1, 1],
                )?]
            }
            OpKind::Linear { rows, k, n } => {
                let groups = match kernel {
                    "linear_naive" => [div_ceil(n, 64), u(rows), 1],
                    "linear_matvec" => [div_ceil(n, 32), u(rows), 1],
                    "linear_tiled" => [div_ceil(n, 16), div_ceil(rows, 16), 1],
                    _ => [div_ceil(n, 256), div_ceil(rows, 4), 1],
                };
                vec![make(&[u(rows), u(k), u(n)], &single_io()?, groups)?]
            }
            OpKind::SplitHeads { t, h, d } => {
                vec![make(
                    &[u(t), u(h), u(d)],
                    &single_io()?,
                    [div_ceil(3 * h * d, 64), u(t), 1],
                )?]
            }
            OpKind::AttnScores { t, h, d } => {
                let scale = 1.0 / (d as f32).sqrt();
                vec![make(
                    &[u(t), u(h), u(d), scale.to_bits()],
                    &single_io()?,
                    [div_ceil(t, 64), u(t), u(h)],
                )?]
            }
            OpKind::Softmax { cols, causal, .. } => {
                let (x, probs) = (input(0), output(0));
                let (max, sum) = (output(1).single()?, output(2).single()?);
                // Input and output have the same shape, so they split at the same rows.
                x.chunk_ranges()
                    .zip(&probs.chunks)
                    .map(|((xc, start, rows), pc)| {
                        let softmax_rows = rows * x.row_len / cols;
                        let offset = start * x.row_len / cols;
                        make(
                            &[u(softmax_rows), u(cols), u32::from(causal), u(offset)],
                            &[xc, pc, max, sum],
                            match kernel {
                                "softmax_row" => [div_ceil(softmax_rows, 64), 1, 1],
                                _ => [u(softmax_rows), 1, 1],
                            },
                        )
                    })
                    .collect::<Result<_, _>>()?
            }
            OpKind::AttnMix { t, h, d } => {
                vec![make(
                    &[u(t), u(h), u(d)],
                    &single_io()?,
                    [div_ceil(h * d, 64), u(t), 1],
                )?]
            }
            OpKind::Gelu { n } | OpKind::Add { n } => {
                vec![make(&[u(n)], &single_io()?, grid(gpu, n))?]
            }
            OpKind::Logits { c, v, .. } => {
                let (x, wte, logits) = (input(0).single()?, input(1), output(0));
                let mut plan = Vec::new();
                for (wchunk, v_start, v_rows) in wte.chunk_ranges() {
                    for (lchunk, t_start, t_rows) in logits.chunk_ranges() {
                        let groups = match kernel {
                            "logits_matvec" => [div_ceil(v_rows, 4), u(t_rows), 1],
                            "logits_subgroup" => [div_ceil(v_rows, 8), u(t_rows), 1],
                            _ => [div_ceil(v_rows, 64), div_ceil(t_rows, 4), 1],
                        };
                        plan.push(make(
                            &[u(t_rows), u(t_start), u(c), u(v), u(v_start), u(v_rows)],
                            &[x, wchunk, lchunk],
                            groups,
                        )?);
                    }
                }
                plan
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
                        make(
                            &[u(c), u(start), u(rows)],
                            &[ids, position, chunk, wpe, out],
                            [div_ceil(c, 64), 1, 1],
                        )
                    })
                    .collect::<Result<_, _>>()?
            }
            OpKind::KvAppend { h, d, capacity } => vec![make(
                &[u(h), u(d), u(capacity)],
                &single_io()?,
                [div_ceil(3 * h * d, 64), 1, 1],
            )?],
            OpKind::AttnScoresCached { h, d, capacity } => {
                let scale = 1.0 / (d as f32).sqrt();
                vec![make(
                    &[u(h), u(d), u(capacity), scale.to_bits()],
                    &single_io()?,
                    [div_ceil(capacity, 64), 1, u(h)],
                )?]
            }
            OpKind::AttnMixCached { h, d, capacity } => vec![make(
                &[u(h), u(d), u(capacity)],
                &single_io()?,
                [div_ceil(h * d, 64), 1, 1],
            )?],
            OpKind::Sample { v } => {
                let settings = self
                    .sampling
                    .as_ref()
                    .expect("a decode graph has its sampling settings");
                let (logits, position, next) =
                    (input(0).single()?, input(1).single()?, output(0).single()?);
                vec![make(
                    &[u(v)],
                    &[logits, settings, position, next],
                    [1, 1, 1],
                )?]
            }
        };
        Ok(plan)
    }
}
