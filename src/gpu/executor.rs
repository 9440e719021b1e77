//! Runs a graph on the GPU: one storage buffer per tensor, one or more dispatches per op, all
//! bind groups and parameters made once when the graph is built, so running is only encoding.

use std::collections::HashMap;
use std::ops::Range;

use wgpu::util::DeviceExt;

use super::launch::Launch;
use super::plan::Planned;
use super::quantized::{upload_blocks, weight_use, WeightStorage};
use super::{Gpu, GpuError, GpuTensor, KernelRegistry, Precision};
use crate::cpu::sampling::Sampling;
use crate::graph::{DType, Graph, Role, TensorId};
use crate::model::{validate_ids, Config, Model, Progress};
use crate::values::TensorValues;

/// The weights of a model, uploaded once and shared by every graph built on it.
pub struct GpuModel {
    pub config: Config,
    /// How the weights (and so every graph built on them) store floats.
    pub precision: Precision,
    weights: HashMap<String, GpuTensor>,
    /// A tied output head's blocks, kept beside the f32 embedding it shares.
    head: Option<GpuTensor>,
}

impl GpuModel {
    /// The model's weights on the GPU, a GGUF model's matrices kept as the device's options say
    /// (quantized by default).
    pub async fn upload(gpu: &Gpu, model: &Model) -> Result<GpuModel, GpuError> {
        Self::upload_with(gpu, model, &mut |_, _, _| {}).await
    }

    /// Every weight as f32 (or f16 at that precision), a GGUF file's blocks made into values on
    /// the GPU: what the pictures, the "why" tools and `tune` read.
    pub async fn upload_dequantized(gpu: &Gpu, model: &Model) -> Result<GpuModel, GpuError> {
        Self::upload_as(gpu, model, WeightStorage::Dequantized, &mut |_, _, _| {}).await
    }

    /// [`GpuModel::upload`], reporting the bytes uploaded so far.
    pub async fn upload_with(
        gpu: &Gpu,
        model: &Model,
        progress: Progress<'_>,
    ) -> Result<GpuModel, GpuError> {
        Self::upload_as(gpu, model, gpu.weights, progress).await
    }

    /// The model's weights on the GPU, stored as `storage` says where the model holds a GGUF
    /// file's blocks (else as f32, or f16 at that precision).
    pub async fn upload_as(
        gpu: &Gpu,
        model: &Model,
        storage: WeightStorage,
        progress: Progress<'_>,
    ) -> Result<GpuModel, GpuError> {
        let graph = Graph::forward(&model.config, 1);
        let precision = gpu.precision;
        let bytes = graph
            .weights()
            .map(|t| (t.len() * precision.bytes()) as u64)
            .sum();
        gpu.ensure_memory("uploading the weights", bytes)?;
        let with_blocks = graph
            .weights()
            .any(|t| model.weights.blocks(&t.name).is_some());
        let registry = match with_blocks {
            true => Some(KernelRegistry::builtin(&gpu.device)?),
            false => None,
        };
        gpu.checked("uploading the weights", bytes, || {
            let mut weights = HashMap::new();
            let mut head = None;
            let mut done = 0;
            for tensor in graph.weights() {
                done += (tensor.len() * precision.bytes()) as u64;
                progress("uploading to the GPU", done, bytes);
                let blocks = model.weights.blocks(&tensor.name);
                let uploaded = match (blocks, &registry) {
                    (Some(blocks), Some(registry)) => {
                        let use_ = weight_use(&graph, &tensor.name);
                        upload_blocks(gpu, registry, tensor, blocks, storage, use_)?
                    }
                    _ => None,
                };
                let gpu_tensor = match uploaded {
                    Some(uploaded) => {
                        head = head.or(uploaded.head);
                        uploaded.tensor
                    }
                    None => {
                        let values = model
                            .weights
                            .get(&tensor.name)
                            .expect("a loaded model holds every weight of its graph");
                        GpuTensor::with_floats(gpu, tensor, values, precision)?
                    }
                };
                weights.insert(tensor.name.clone(), gpu_tensor);
            }
            Ok(GpuModel {
                config: model.config.clone(),
                precision,
                weights,
                head,
            })
        })
        .await
    }

    /// A model whose weights are already on the device (streamed there, see `stream`).
    pub(super) fn from_tensors(
        config: Config,
        precision: Precision,
        weights: HashMap<String, GpuTensor>,
    ) -> GpuModel {
        GpuModel {
            config,
            precision,
            weights,
            head: None,
        }
    }

    /// Bytes of weights on the device.
    pub fn bytes(&self) -> u64 {
        let head = self.head.as_ref().map_or(0, GpuTensor::total_bytes);
        self.weights
            .values()
            .map(GpuTensor::total_bytes)
            .sum::<u64>()
            + head
    }
}

/// GPU time of one op, from timestamps written at the start and end of its compute pass.
#[derive(Clone, Debug)]
pub struct OpTiming {
    pub op: String,
    pub nanos: f64,
}

/// A graph ready to run on the GPU: a buffer for every tensor and the dispatches of every op.
pub struct GpuGraph {
    pub(super) graph: Graph,
    pub(super) tensors: Vec<GpuTensor>,
    pub(super) plans: Vec<Vec<Launch>>,
    /// A decode graph's sampling settings, as `Sampling::to_words` lays them out.
    pub(super) sampling: Option<wgpu::Buffer>,
    /// How its float tensors are stored (the weights' precision).
    pub precision: Precision,
    /// See [`GpuModel::head`] (boxed: most graphs have none).
    pub(super) head: Option<Box<GpuTensor>>,
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
            .map(|t| (t.len() * model.precision.bytes()) as u64)
            .sum();
        let what = format!("allocating the activations of {} tokens", graph.seq_len);
        gpu.ensure_memory(&what, bytes)?;
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
                _ => GpuTensor::zeroed(gpu, t, model.precision),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut built = GpuGraph {
            graph,
            tensors,
            plans: Vec::new(),
            sampling: None,
            precision: model.precision,
            head: model.head.clone().map(Box::new),
        };
        if built.graph.decode_capacity.is_some() {
            built.sampling = Some(gpu.device.create_buffer_init(
                &wgpu::util::BufferInitDescriptor {
                    label: Some("sampling"),
                    contents: bytemuck::cast_slice(&Sampling::GREEDY.to_words()),
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                },
            ));
        }
        let planned = Planned {
            graph: &built.graph,
            tensors: &built.tensors,
            sampling: built.sampling.as_ref(),
            precision: built.precision,
            head: built.head.as_deref(),
        };
        let plans = (0..built.graph.ops.len())
            .map(|index| planned.plan_op(gpu, registry, index))
            .collect::<Result<_, _>>()?;
        built.plans = plans;
        Ok(built)
    }

    /// The ops and tensors this graph runs.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The kernel launches of op `index`, in the order they run.
    pub fn launches(&self, index: usize) -> &[Launch] {
        &self.plans[index]
    }

    pub fn tensor(&self, id: TensorId) -> &GpuTensor {
        &self.tensors[id]
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

    /// For a decode graph: the token the next step runs and its position. The KV cache keeps
    /// what earlier steps wrote.
    pub fn set_token(&self, gpu: &Gpu, id: u32, position: usize) -> Result<(), GpuError> {
        validate_ids(&self.graph.config, &[id])?;
        let (ids, pos) = self.graph.decode_inputs(position);
        let write = |tensor: TensorId, value: u32| -> Result<(), GpuError> {
            let buffer = self.tensors[tensor].single()?;
            gpu.queue
                .write_buffer(buffer, 0, bytemuck::bytes_of(&value));
            Ok(())
        };
        write(ids, id)?;
        write(pos, position as u32)
    }

    /// Writes an f32 input tensor that is not the token ids (the query of nearest neighbours).
    pub fn set_floats(&self, gpu: &Gpu, id: TensorId, values: &[f32]) -> Result<(), GpuError> {
        assert_eq!(values.len(), self.graph.tensors[id].len(), "input size");
        let bytes = self.tensors[id].encode_floats(values);
        gpu.queue
            .write_buffer(self.tensors[id].single()?, 0, &bytes);
        Ok(())
    }

    /// For a decode graph: how its sample op picks the next token.
    pub fn set_sampling(&self, gpu: &Gpu, sampling: &Sampling) {
        let buffer = self.sampling.as_ref().expect("a decode graph");
        gpu.queue
            .write_buffer(buffer, 0, bytemuck::cast_slice(&sampling.to_words()));
    }

    /// Records ops `range` into `encoder`. With a query set, one compute pass per op, each
    /// writing a timestamp at its start (index 2i) and end (2i + 1), i counted from the range
    /// start. Without one, every op goes into a single compute pass: wgpu still orders the
    /// dispatches that read what an earlier one wrote, and a GPU runs 150 small dispatches in a
    /// quarter of the time they take as 150 passes (262 against 970 µs on an H200).
    pub fn encode(
        &self,
        registry: &KernelRegistry,
        encoder: &mut wgpu::CommandEncoder,
        range: Range<usize>,
        timestamps: Option<&wgpu::QuerySet>,
    ) {
        let Some(query_set) = timestamps else {
            self.encode_one_pass(registry, encoder, range, None);
            return;
        };
        let start = range.start;
        for index in range {
            let slot = (index - start) as u32;
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(&self.graph.ops[index].name),
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set,
                    beginning_of_pass_write_index: Some(2 * slot),
                    end_of_pass_write_index: Some(2 * slot + 1),
                }),
            });
            for launch in &self.plans[index] {
                launch.dispatch(&mut pass, registry, self.precision);
            }
        }
    }

    /// Records ops `range` into one compute pass, which writes `timestamp_writes` at its start and
    /// end when given: the time of a whole step as a GPU runs it.
    pub fn encode_one_pass(
        &self,
        registry: &KernelRegistry,
        encoder: &mut wgpu::CommandEncoder,
        range: Range<usize>,
        timestamp_writes: Option<wgpu::ComputePassTimestampWrites<'_>>,
    ) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("graph"),
            timestamp_writes,
        });
        for launch in range.flat_map(|index| &self.plans[index]) {
            launch.dispatch(&mut pass, registry, self.precision);
        }
    }

    /// Runs the first `op_count` ops (the whole graph when it equals `graph.ops.len()`): the
    /// visualisation steps through the graph this way. Nothing is read back.
    pub fn run_prefix(&self, gpu: &Gpu, registry: &KernelRegistry, op_count: usize) {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        self.encode(registry, &mut encoder, 0..op_count, None);
        gpu.submit_timed(encoder.finish());
    }

    /// Runs ops `range` only: what activation patching re-runs downstream of a patched tensor.
    pub fn run_range(&self, gpu: &Gpu, registry: &KernelRegistry, range: Range<usize>) {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        self.encode(registry, &mut encoder, range, None);
        gpu.submit_timed(encoder.finish());
    }

    /// Activation patching: runs op `producer`, copies element `ranges` of tensor `target` from
    /// `source` (the same tensor of another run of this graph), then runs the rest of the graph.
    /// Running the producer first undoes the previous patch.
    pub fn run_patched(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        producer: usize,
        source: &GpuTensor,
        target: TensorId,
        ranges: &[Range<usize>],
    ) {
        let destination = &self.tensors[target];
        let elem = destination.elem;
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        self.encode(registry, &mut encoder, producer..producer + 1, None);
        let (from, to) = (
            source.single().expect("activations are one buffer"),
            destination.single().expect("activations are one buffer"),
        );
        for range in ranges {
            let (offset, size) = ((range.start * elem) as u64, (range.len() * elem) as u64);
            encoder.copy_buffer_to_buffer(from, offset, to, offset, size);
        }
        self.encode(
            registry,
            &mut encoder,
            producer + 1..self.graph.ops.len(),
            None,
        );
        gpu.submit_timed(encoder.finish());
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
        gpu.submit_timed(encoder.finish());
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
