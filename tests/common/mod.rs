//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use glassbox::gpu::{Gpu, GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use glassbox::graph::Graph;
use glassbox::model::{Config, Model};
use glassbox::values::TensorValues;
use safetensors::SafeTensors;

pub fn oracle_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/oracle")
        .join(case)
}

/// The tensors of a Hugging Face reference file: (name, shape, values); `input_ids` as f32.
pub fn read_expected(path: &Path) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            let values = match view.dtype() {
                safetensors::Dtype::F32 => bytemuck::pod_collect_to_vec::<u8, f32>(view.data()),
                safetensors::Dtype::I32 => bytemuck::pod_collect_to_vec::<u8, i32>(view.data())
                    .into_iter()
                    .map(|v| v as f32)
                    .collect(),
                other => panic!("unexpected dtype {other:?} for {name}"),
            };
            (name, view.shape().to_vec(), values)
        })
        .collect()
}

/// A GPU (a test with no adapter fails here, it does not skip) and the built-in kernels.
pub fn gpu(options: &GpuOptions) -> (Gpu, KernelRegistry) {
    let gpu = pollster::block_on(Gpu::new(options)).expect("a GPU adapter (lavapipe on CI)");
    let registry = KernelRegistry::builtin(&gpu.device).expect("built-in kernels compile");
    (gpu, registry)
}

/// An adapter feature beyond WebGPU's baseline that a test needs.
#[derive(Clone, Copy, Debug)]
pub enum Needs {
    Subgroups,
    /// SHADER_F16, for f16 storage.
    F16,
}

/// Whether the adapter has what a test needs. Where it does not, the test says so on stderr and
/// runs nothing, so that the suite passes on any adapter (a GPU without f16, the GL backend).
/// But lavapipe, CI's adapter, has every feature: there a missing one fails the test, so that
/// CI cannot pass by skipping. No adapter at all always fails.
pub fn adapter_has(needs: Needs) -> bool {
    let gpu = pollster::block_on(Gpu::new(&GpuOptions::default()))
        .expect("a GPU adapter (lavapipe on CI)");
    let feature = match needs {
        Needs::Subgroups => wgpu::Features::SUBGROUP,
        Needs::F16 => wgpu::Features::SHADER_F16,
    };
    let info = &gpu.adapter_info;
    if gpu.adapter.features().contains(feature) {
        return true;
    }
    let lavapipe = info.backend == wgpu::Backend::Vulkan && info.name.contains("llvmpipe");
    assert!(
        !lavapipe,
        "lavapipe has {needs:?}, but {} reports none",
        info.name
    );
    eprintln!(
        "not run: {} ({:?}) has no {needs:?}",
        info.name, info.backend
    );
    false
}

/// Runs the whole graph on the GPU and reads every activation back.
pub fn gpu_forward(
    gpu: &Gpu,
    registry: &KernelRegistry,
    model: &Model,
    ids: &[u32],
) -> (Graph, TensorValues) {
    gpu_run(
        gpu,
        registry,
        model,
        ids,
        Graph::forward(&model.config, ids.len()),
    )
}

/// Runs `graph`, a forward pass over `ids`, on the GPU and reads every tensor back.
pub fn gpu_run(
    gpu: &Gpu,
    registry: &KernelRegistry,
    model: &Model,
    ids: &[u32],
    graph: Graph,
) -> (Graph, TensorValues) {
    let gpu_model = pollster::block_on(GpuModel::upload(gpu, model)).unwrap();
    let gpu_graph =
        pollster::block_on(GpuGraph::new(gpu, registry, graph.clone(), &gpu_model)).unwrap();
    gpu_graph.set_ids(gpu, ids).unwrap();
    gpu_graph.run(gpu, registry);
    let values = pollster::block_on(gpu_graph.read_all(gpu)).unwrap();
    (graph, values)
}

pub fn config(
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    vocab_size: usize,
    n_positions: usize,
) -> Config {
    Config {
        n_layer,
        n_head,
        n_embd,
        vocab_size,
        n_positions,
        layer_norm_epsilon: 1e-5,
        arch: glassbox::model::Arch::Gpt2,
    }
}

/// A Llama-family config: `n_head` query heads over `n_kv_head` key/value heads, a gated MLP of
/// `intermediate` neurons, rotary positions (with llama3 scaling when `scaled`), and biases on
/// q, k and v when `qkv_bias` (as Qwen2 has them).
pub struct LlamaShape {
    pub n_layer: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub n_embd: usize,
    pub intermediate: usize,
    pub vocab_size: usize,
    pub n_positions: usize,
    pub qkv_bias: bool,
    pub tied: bool,
    pub scaled: bool,
}

pub fn llama_config(shape: LlamaShape) -> Config {
    use glassbox::model::arch::{Llama, Llama3Scaling, LlamaFamily, Rope};
    let scaling = shape.scaled.then_some(Llama3Scaling {
        factor: 8.0,
        low_freq_factor: 1.0,
        high_freq_factor: 4.0,
        original_context: 16,
    });
    Config {
        n_layer: shape.n_layer,
        n_head: shape.n_head,
        n_embd: shape.n_embd,
        vocab_size: shape.vocab_size,
        n_positions: shape.n_positions,
        layer_norm_epsilon: 1e-6,
        arch: glassbox::model::Arch::Llama(Llama {
            family: if shape.qkv_bias {
                LlamaFamily::Qwen2
            } else {
                LlamaFamily::Llama
            },
            n_kv_head: shape.n_kv_head,
            intermediate: shape.intermediate,
            rope: Rope {
                theta: 10000.0,
                scaling,
            },
            qkv_bias: shape.qkv_bias,
            o_bias: false,
            mlp_bias: false,
            tied: shape.tied,
        }),
    }
}

/// Seeded token ids spread over the vocabulary.
pub fn ids(count: usize, vocab: usize, seed: u64) -> Vec<u32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % vocab as u64) as u32
        })
        .collect()
}
pub mod gguf;
