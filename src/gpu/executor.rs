//! Runs a graph on the GPU: one storage buffer per tensor, one or more dispatches per op, all
//! bind groups and parameters made once when the graph is built, so running is only encoding.

use std::collections::HashMap;
use std::ops::Range;

use wgpu::util::DeviceExt;

use super::{Gpu, GpuError, GpuTensor, KernelRegistry};
use crate::graph::{DType, Graph, OpKind, Role, TensorId};
use crate::model::{validate_ids, Config, Model};
use crate::values::TensorValues;

/// Threads per workgroup along x in every kernel.
pub const WORKGROUP: u32 = 64;

/// The weights of a model, uploaded once and shared by every graph built on it.
pub struct GpuModel {
    pub config: Config,
    weights: HashMap<String, GpuTensor>,
}

impl GpuModel {
    pub async fn upload(gpu: &Gpu, model: &Model) -> Result<GpuModel, GpuError> {
        let graph = Graph::gpt2(&model.config, 1);
        let bytes = graph.weights().map(|t| t.bytes() as u64).sum();
        gpu.checked("uploading the weights", bytes, || {
            let mut weights = HashMap::new();
            for tensor in graph.weights() {
                let values = model
                    .weights
                    .get(&tensor.name)
                    .expect("a loaded model holds every weight of its graph");
                weights.insert(
                    tensor.name.clone(),
                    GpuTensor::with_data(gpu, tensor, values)?,
                );
            }
            Ok(GpuModel {
                config: model.config.clone(),
                weights,
            })
        })
        .await
    }

    /// Bytes of weights on the device.
    pub fn bytes(&self) -> u64 {
        self.weights.values().map(GpuTensor::total_bytes).sum()
    }
}

/// One kernel launch: which kernel, what it binds, how many workgroups.
struct Dispatch {
    kernel: &'static str,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
}

/// GPU time of one op, from timestamps written at the start and end of its compute pass.
#[derive(Clone, Debug)]
pub struct OpTiming {
    pub op: String,
    pub nanos: f64,
}

/// A graph ready to run on the GPU: a buffer for every tensor and the dispatches of every op.
pub struct GpuGraph {
    pub graph: Graph,
    tensors: Vec<GpuTensor>,
    plans: Vec<Vec<Dispatch>>,
}

fn div_ceil(a: usize, b: usize) -> u32 {
    a.div_ceil(b) as u32
}

impl GpuGraph {
    pub async fn new(
        gpu: &Gpu,
        registry: &KernelRegistry,
        graph: Graph,
        model: &GpuModel,
    ) -> Result<GpuGraph, GpuError> {
        assert_eq!(graph.config, model.config, "graph built for another model");
        let bytes = graph
            .tensors
            .iter()
            .filter(|t| t.role != Role::Weight)
            .map(|t| t.bytes() as u64)
            .sum();
        let what = format!("allocating the activations of {} tokens", graph.seq_len);
        gpu.checked(&what, bytes, || Self::build(gpu, registry, graph, model))
            .await
    }

    fn build(
        gpu: &Gpu,
        registry: &KernelRegistry,
        graph: Graph,
        model: &GpuModel,
    ) -> Result<GpuGraph, GpuError> {
        let tensors = graph
            .tensors
            .iter()
            .map(|t| match t.role {
                Role::Weight => Ok(model.weights[&t.name].clone()),
                _ => GpuTensor::zeroed(gpu, t),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut built = GpuGraph {
            graph,
            tensors,
            plans: Vec::new(),
        };
        for index in 0..built.graph.ops.len() {
            let plan = built.plan_op(gpu, registry, index)?;
            built.plans.push(plan);
        }
        Ok(built)
    }

    pub fn tensor(&self, id: TensorId) -> &GpuTensor {
        &self.tensors[id]
    }

    /// Builds the dispatches of op `index`. Ops whose tensors may be split (the vocabulary-sized
    /// ones) get one dispatch per chunk, or per pair of chunks.
    fn plan_op(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        index: usize,
    ) -> Result<Vec<Dispatch>, GpuError> {
        let op = &self.graph.ops[index];
        let input = |i: usize| &self.tensors[op.inputs[i]];
        let output = |i: usize| &self.tensors[op.outputs[i]];
        let kernel = gpu.kernels.kernel_for(op.kind.kernel_name());
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
                wte.chunks
                    .iter()
                    .zip(wte.chunk_ranges())
                    .map(|(chunk, (start, rows))| {
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
                x.chunks
                    .iter()
                    .zip(&probs.chunks)
                    .zip(x.chunk_ranges())
                    .map(|((xc, pc), (start, rows))| {
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
                for (wchunk, (v_start, v_rows)) in wte.chunks.iter().zip(wte.chunk_ranges()) {
                    for (lchunk, (t_start, t_rows)) in
                        logits.chunks.iter().zip(logits.chunk_ranges())
                    {
                        plan.push(make(
                            &[u(t_rows), u(t_start), u(c), u(v), u(v_start), u(v_rows)],
                            &[x, wchunk, lchunk],
                            [div_ceil(v_rows, 64), div_ceil(t_rows, 4), 1],
                        )?);
                    }
                }
                plan
            }
        };
        Ok(plan)
    }

    /// Writes the token ids the next run will read.
    pub fn set_ids(&self, gpu: &Gpu, ids: &[u32]) -> Result<(), GpuError> {
        validate_ids(&self.graph.config, ids)?;
        assert_eq!(
            ids.len(),
            self.graph.seq_len,
            "graph built for another sequence length"
        );
        let input = self
            .graph
            .tensor_id("input_ids")
            .expect("graph has input_ids");
        gpu.queue
            .write_buffer(self.tensors[input].single()?, 0, bytemuck::cast_slice(ids));
        Ok(())
    }

    /// Records ops `range` into `encoder`, one compute pass per op. With a query set, each pass
    /// writes a timestamp at its start (index 2i) and end (2i + 1), i counted from the range start.
    pub fn encode(
        &self,
        registry: &KernelRegistry,
        encoder: &mut wgpu::CommandEncoder,
        range: Range<usize>,
        timestamps: Option<&wgpu::QuerySet>,
    ) {
        let start = range.start;
        for index in range {
            let slot = (index - start) as u32;
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(&self.graph.ops[index].name),
                timestamp_writes: timestamps.map(|query_set| wgpu::ComputePassTimestampWrites {
                    query_set,
                    beginning_of_pass_write_index: Some(2 * slot),
                    end_of_pass_write_index: Some(2 * slot + 1),
                }),
            });
            for dispatch in &self.plans[index] {
                pass.set_pipeline(registry.pipeline(dispatch.kernel));
                pass.set_bind_group(0, &dispatch.bind_group, &[]);
                let [x, y, z] = dispatch.workgroups;
                pass.dispatch_workgroups(x, y, z);
            }
        }
    }

    /// Runs the first `op_count` ops (the whole graph when it equals `graph.ops.len()`): the
    /// visualisation steps through the graph this way. Nothing is read back.
    pub fn run_prefix(&self, gpu: &Gpu, registry: &KernelRegistry, op_count: usize) {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        self.encode(registry, &mut encoder, 0..op_count, None);
        gpu.queue.submit([encoder.finish()]);
    }

    pub fn run(&self, gpu: &Gpu, registry: &KernelRegistry) {
        self.run_prefix(gpu, registry, self.graph.ops.len());
    }

    /// Runs the whole graph with a GPU timestamp around every op. `None` when the adapter has no
    /// timestamp queries, or the graph has more ops than one query set can time.
    pub async fn run_timed(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
    ) -> Result<Option<Vec<OpTiming>>, GpuError> {
        let ops = self.graph.ops.len();
        if !gpu.timestamps || 2 * ops > wgpu::QUERY_SET_MAX_QUERIES as usize {
            return Ok(None);
        }
        let query_set = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("op timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2 * ops as u32,
        });
        let resolved = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("op timestamps"),
            size: 16 * ops as u64,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        self.encode(registry, &mut encoder, 0..ops, Some(&query_set));
        encoder.resolve_query_set(&query_set, 0..2 * ops as u32, &resolved, 0);
        gpu.queue.submit([encoder.finish()]);
        let bytes = gpu.read_buffers(&[(&resolved, 16 * ops as u64)]).await?;
        let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
        let period = gpu.queue.get_timestamp_period() as f64;
        Ok(Some(
            self.graph
                .ops
                .iter()
                .zip(ticks.chunks_exact(2))
                .map(|(op, pair)| OpTiming {
                    op: op.name.clone(),
                    nanos: pair[1].saturating_sub(pair[0]) as f64 * period,
                })
                .collect(),
        ))
    }

    /// Reads one tensor back (a counted readback).
    pub async fn read(&self, gpu: &Gpu, id: TensorId) -> Result<Vec<f32>, GpuError> {
        let tensor = &self.tensors[id];
        let values = tensor.read(gpu).await?;
        Ok(match self.graph.tensors[id].dtype {
            DType::F32 => values,
            DType::U32 => values.iter().map(|v| v.to_bits() as f32).collect(),
        })
    }

    /// Reads back every tensor that is not a weight, for dumps and checks.
    pub async fn read_all(&self, gpu: &Gpu) -> Result<TensorValues, GpuError> {
        let mut values = TensorValues::zeroed(&self.graph);
        for (id, tensor) in self.graph.tensors.iter().enumerate() {
            if tensor.role != Role::Weight {
                values.values[id] = self.read(gpu, id).await?;
            }
        }
        Ok(values)
    }
}

/// Workgroups covering `n` elements with 64 threads each, folded into a second dimension when
/// one dimension would exceed the device limit. Kernels rebuild the index from `num_workgroups`.
pub fn grid(gpu: &Gpu, n: usize) -> [u32; 3] {
    let groups = n.div_ceil(WORKGROUP as usize).max(1);
    let limit = gpu.limits.max_compute_workgroups_per_dimension as usize;
    let x = groups.min(limit);
    [x as u32, groups.div_ceil(x) as u32, 1]
}

/// A bind group for `kernel`: its parameters as a uniform buffer at binding 0, then `buffers`
/// in binding order.
pub fn bind_kernel(
    gpu: &Gpu,
    registry: &KernelRegistry,
    kernel: &str,
    params: &[u32],
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let spec = registry.spec(kernel);
    assert_eq!(
        buffers.len() as u32,
        spec.reads + spec.writes,
        "kernel {kernel} binds {} buffers",
        spec.reads + spec.writes
    );
    // Uniform buffers are padded to 16 bytes; WGSL structs of a few u32 fit in 32.
    let mut padded = [0u32; 8];
    padded[..params.len()].copy_from_slice(params);
    let uniform = gpu
        .device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(kernel),
            contents: bytemuck::cast_slice(&padded),
            usage: wgpu::BufferUsages::UNIFORM,
        });
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: uniform.as_entire_binding(),
    }];
    for (i, buffer) in buffers.iter().enumerate() {
        entries.push(wgpu::BindGroupEntry {
            binding: 1 + i as u32,
            resource: buffer.as_entire_binding(),
        });
    }
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(kernel),
        layout: registry.layout(kernel),
        entries: &entries,
    })
}
