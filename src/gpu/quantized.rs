//! Quantized weights on the GPU: a GGUF model's matrices kept as the file's blocks (Q4_1 is 5
//! bits a weight where f32 is 32) and read by the `matmul_q` kernels, or made into f32 on the
//! GPU by the `dequant` kernel from the same bytes.

use std::collections::HashMap;

use super::kernels::params::{DequantParams, MatmulQParams};
use super::kernels::{KernelId, KernelRegistry};
use super::launch::Launch;
use super::plan::Planned;
use super::variants::ChoiceReason;
use super::{Gpu, GpuError, GpuGraph, GpuTensor, Precision};
use crate::graph::{Graph, OpKind, Role, Tensor};
use crate::model::Blocks;

/// How a model read from a GGUF file keeps its matrices on the GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightStorage {
    /// As the file's blocks wherever a `matmul_q` kernel reads the type (Q4_0, Q4_1, Q8_0),
    /// f32 made on the GPU elsewhere; the embedding a tied head shares is kept both ways (its
    /// lookup reads rows of f32, the logits its blocks).
    Quantized,
    /// Every weight as f32, made from the file's blocks by the `dequant` kernel (`--dequantize`):
    /// what the pictures and the "why" tools read.
    Dequantized,
}

impl WeightStorage {
    /// Quantized on GPUs, where a decode step is bound by the bytes it reads. Dequantized on CPU
    /// adapters (lavapipe), where neighbouring invocations run as the lanes of one vector
    /// instruction and each reads a different row's blocks, a gather. Measured there on
    /// SmolLM2-135M (2 cores, one run each): the decode step 1622 ms quantized against 945 ms
    /// in f32, the 16-token pass 39.2 s against 1.87 s (q_proj 57 ms with matmul_q=rows, about
    /// linear=naive's 59, against 8.8 ms with linear=broadcast, which hands x between lanes).
    pub fn for_adapter(device_type: wgpu::DeviceType) -> WeightStorage {
        match device_type {
            wgpu::DeviceType::Cpu => WeightStorage::Dequantized,
            _ => WeightStorage::Quantized,
        }
    }
}

/// One weight as the GPU keeps it: its tensor for the graph, and the blocks a tied head reads.
pub(super) struct Uploaded {
    pub tensor: GpuTensor,
    pub head: Option<GpuTensor>,
}

/// Puts `tensor` on the GPU from the file's blocks: kept quantized where `storage` asks, a kernel
/// reads the type and `use_` allows it (beside f32 values for a tied head's lookup), else made
/// into f32 by the `dequant` kernel. None where f32 from the CPU must do: f16 storage, or an f32
/// tensor too large to bind whole.
pub(super) fn upload_blocks(
    gpu: &Gpu,
    registry: &KernelRegistry,
    tensor: &Tensor,
    blocks: &Blocks,
    storage: WeightStorage,
    use_: WeightUse,
) -> Result<Option<Uploaded>, GpuError> {
    if gpu.precision != Precision::F32 {
        return Ok(None);
    }
    let quantized = storage == WeightStorage::Quantized && blocks.ty.has_gpu_matmul();
    if quantized && use_ == WeightUse::Matmul {
        let tensor = GpuTensor::with_blocks(gpu, &tensor.name, blocks)?;
        return Ok(Some(Uploaded { tensor, head: None }));
    }
    let values = GpuTensor::zeroed(gpu, tensor, Precision::F32)?;
    if values.chunks.len() != 1 {
        return Ok(None);
    }
    let stored = GpuTensor::with_blocks(gpu, &tensor.name, blocks)?;
    dequantize(gpu, registry, &stored, &values)?;
    let head = (quantized && use_ == WeightUse::LookupAndHead).then_some(stored);
    Ok(Some(Uploaded {
        tensor: values,
        head,
    }))
}

/// What reads a weight, which decides whether it can stay quantized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WeightUse {
    /// Only linear layers and the logits.
    Matmul,
    /// The token embedding a tied output head shares: looked up by rows, and the logits.
    LookupAndHead,
    /// Anything else.
    Other,
}

/// What reads weight `name` in `graph`: only the matmuls (input 1 of linear layers and the
/// logits), the embedding and the logits (a tied head), or something else.
pub(super) fn weight_use(graph: &Graph, name: &str) -> WeightUse {
    let id = graph.tensor_id(name).expect("a weight of the graph");
    let readers: Vec<&OpKind> = graph
        .ops
        .iter()
        .filter(|op| op.inputs.contains(&id))
        .map(|op| &op.kind)
        .collect();
    let matmul = |kind: &&OpKind| matches!(kind, OpKind::Linear { .. } | OpKind::Logits { .. });
    let lookup = |kind: &&OpKind| {
        matches!(
            kind,
            OpKind::Embed { .. } | OpKind::EmbedTokens { .. } | OpKind::EmbedAt { .. }
        )
    };
    if readers.iter().all(matmul) {
        WeightUse::Matmul
    } else if readers.iter().all(|k| matmul(k) || lookup(k)) && readers.iter().any(matmul) {
        WeightUse::LookupAndHead
    } else {
        WeightUse::Other
    }
}

/// Makes `stored`'s blocks into `values` (f32, in the graph's layout) on the GPU.
fn dequantize(
    gpu: &Gpu,
    registry: &KernelRegistry,
    stored: &GpuTensor,
    values: &GpuTensor,
) -> Result<(), GpuError> {
    let layout = stored.blocks.expect("a tensor of blocks");
    let params = DequantParams {
        rows: stored.rows as u32,
        row_len: stored.row_len as u32,
        format: layout.ty.id(),
        transposed: u32::from(layout.transposed),
    };
    let kernel = KernelId::new("dequant", "default");
    let launch = Launch::new(
        gpu,
        registry,
        &kernel,
        &stored.name,
        &params,
        &[&stored.chunks[0], &values.chunks[0]],
    )?;
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        launch.dispatch(&mut pass, registry, Precision::F32);
    }
    gpu.submit_timed(encoder.finish());
    Ok(())
}

impl GpuGraph {
    /// The kernel op `index` runs, and why.
    pub fn kernel_of(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        index: usize,
    ) -> (KernelId, ChoiceReason) {
        let op = &self.graph.ops[index];
        let ran = self.plans[index][0].kernel.clone();
        let (_, why) = match ran.family.as_str() {
            "matmul_q" => gpu.kernels.quantized_matmul(self.graph.seq_len, registry),
            _ => gpu.kernels.choose(&op.kind, registry),
        };
        (ran, why)
    }

    /// Bytes of weights one run of this graph must read, as the GPU stores them: every weight
    /// whole (a quantized one as its blocks, a tied head as the blocks the logits read), except
    /// that an embedding lookup reads only its tokens' rows.
    pub fn weight_bytes_read(&self) -> u64 {
        let mut read: HashMap<String, u64> = HashMap::new();
        for op in &self.graph.ops {
            for &id in &op.inputs {
                if self.graph.tensors[id].role != Role::Weight {
                    continue;
                }
                let tensor = &self.tensors[id];
                let (name, bytes) = match op.kind {
                    OpKind::Embed { .. } | OpKind::EmbedTokens { .. } | OpKind::EmbedAt { .. } => {
                        let row = (tensor.row_len * tensor.elem) as u64;
                        (tensor.name.clone(), row * self.graph.seq_len as u64)
                    }
                    OpKind::Logits { .. } => match &self.head {
                        Some(head) => ("output head".to_string(), head.total_bytes()),
                        None => (tensor.name.clone(), tensor.total_bytes()),
                    },
                    _ => (tensor.name.clone(), tensor.total_bytes()),
                };
                let entry = read.entry(name).or_default();
                *entry = (*entry).max(bytes);
            }
        }
        read.values().sum()
    }
}

impl Planned<'_> {
    /// The launches of op `index` when it reads a quantized weight: a linear layer or the
    /// logits, by a `matmul_q` kernel. None when it reads none; an error for any other op that
    /// does (it would read blocks as floats).
    pub(super) fn plan_quantized(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        index: usize,
    ) -> Result<Option<Vec<Launch>>, GpuError> {
        let op = &self.graph.ops[index];
        let tensor = |i: usize| &self.tensors[op.inputs[i]];
        // A matmul's weight: a linear layer's input 1, or the logits' head (its own blocks
        // beside a tied embedding's f32 values).
        let weight = match op.kind {
            OpKind::Linear { .. } => Some(tensor(1)),
            OpKind::Logits { .. } => Some(self.head.unwrap_or(tensor(1))),
            _ => None,
        };
        let (weight, layout) = match weight.and_then(|w| w.blocks.map(|layout| (w, layout))) {
            Some(quantized) => quantized,
            None => {
                let quantized_input = op
                    .inputs
                    .iter()
                    .find(|&&id| self.tensors[id].blocks.is_some());
                return match quantized_input {
                    Some(&id) => Err(GpuError::QuantizedInput {
                        op: op.name.clone(),
                        tensor: self.graph.tensors[id].name.clone(),
                    }),
                    None => Ok(None),
                };
            }
        };
        let (rows, k, n, bias) = match op.kind {
            OpKind::Linear { rows, k, n, bias } => (rows, k, n, bias),
            OpKind::Logits { t, c, v } => (t, c, v, false),
            _ => unreachable!("only matmuls have a weight above"),
        };
        let (kernel, _) = gpu.kernels.quantized_matmul(rows, registry);
        let zeros;
        let b = match bias {
            true => tensor(2).single()?,
            false => {
                zeros = super::plan::no_bias(gpu, n);
                &zeros
            }
        };
        let (x, w) = (tensor(0).single()?, &weight.chunks[0]);
        let output = &self.tensors[op.outputs[0]];
        output
            .chunk_ranges()
            .map(|(y, first_row, chunk_rows)| {
                let params = MatmulQParams {
                    rows: chunk_rows as u32,
                    k: k as u32,
                    n: n as u32,
                    x_row_offset: first_row as u32,
                    format: layout.ty.id(),
                };
                Launch::new(gpu, registry, &kernel, &op.name, &params, &[x, w, b, y])
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}
