//! Quantized weights on the GPU: Llama-family models written as GGUF files whose matrices are
//! random blocks of each type glassbox reads. The `dequant` kernel makes every type into the
//! values the CPU reference makes from the same bytes; the `matmul_q` kernels (every variant)
//! read Q4_0, Q4_1 and Q8_0 blocks in linear layers and the logits and give the CPU reference's
//! logits, on awkward shapes, with the head tied and untied.

mod common;

use common::gguf::llama_writer;
use common::{llama_config, LlamaShape};
use glassbox::gpu::variants::KernelChoice;
use glassbox::gpu::{GpuGraph, GpuModel, GpuOptions, KernelId, WeightStorage};
use glassbox::graph::{Graph, Role};
use glassbox::model::gguf::GgmlType;
use glassbox::model::Model;
use glassbox::values::compare::compare;

/// A small deterministic generator (xorshift), so every run draws the same blocks.
struct Draw(u64);

impl Draw {
    fn byte(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 24) as u8
    }

    /// A value in [lo, hi).
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.byte() as f32 / 256.0
    }

    fn half(&mut self, lo: f32, hi: f32) -> [u8; 2] {
        half::f16::from_f32(self.uniform(lo, hi)).to_le_bytes()
    }

    fn bytes(&mut self, count: usize) -> Vec<u8> {
        (0..count).map(|_| self.byte()).collect()
    }

    /// One block of `ty` holding values of about +-0.1, as ggml lays it out.
    fn block(&mut self, ty: GgmlType) -> Vec<u8> {
        let mut block = Vec::new();
        match ty {
            GgmlType::F16 => block.extend(self.half(-0.1, 0.1)),
            GgmlType::Bf16 => {
                let bits = half::bf16::from_f32(self.uniform(-0.1, 0.1)).to_bits();
                block.extend(bits.to_le_bytes());
            }
            GgmlType::Q8_0 => {
                block.extend(self.half(0.0005, 0.001));
                block.extend(self.bytes(32));
            }
            GgmlType::Q4_0 => {
                block.extend(self.half(0.005, 0.015));
                block.extend(self.bytes(16));
            }
            GgmlType::Q4_1 => {
                block.extend(self.half(0.005, 0.015));
                block.extend(self.half(-0.1, -0.05));
                block.extend(self.bytes(16));
            }
            GgmlType::Q4K => {
                block.extend(self.half(0.0005, 0.001));
                block.extend(self.half(0.0005, 0.001));
                block.extend(self.bytes(12 + 128));
            }
            GgmlType::Q6K => {
                block.extend(self.bytes(128 + 64));
                block.extend((0..16).map(|_| ((self.byte() % 9) as i8 - 4) as u8));
                block.extend(self.half(0.0002, 0.0005));
            }
            other => panic!("no blocks drawn for {other:?}"),
        }
        block
    }
}

/// Values per block of the types drawn here.
fn block_values(ty: GgmlType) -> usize {
    match ty {
        GgmlType::F16 | GgmlType::Bf16 => 1,
        GgmlType::Q4K | GgmlType::Q6K => 256,
        _ => 32,
    }
}

/// A model's file with every matrix (norms stay F32) stored as random blocks of `ty`, read
/// back: the model the CPU reference runs holds the values those blocks make.
fn quantized_model(shape: LlamaShape, ty: GgmlType, seed: u64) -> Model {
    let model = Model::random(llama_config(shape), seed);
    let mut writer = llama_writer(&model);
    let mut draw = Draw(seed * 7919 + 1);
    for (_, dims, stored_ty, bytes) in &mut writer.tensors {
        if dims.len() != 2 {
            continue;
        }
        let values = (dims[0] * dims[1]) as usize;
        *stored_ty = ty.id();
        *bytes = (0..values / block_values(ty))
            .flat_map(|_| draw.block(ty))
            .collect();
    }
    Model::from_gguf("random.gguf", &writer.bytes()).unwrap()
}

fn shape(n_embd: usize, intermediate: usize, vocab_size: usize, tied: bool) -> LlamaShape {
    LlamaShape {
        n_layer: 2,
        n_head: 4,
        n_kv_head: 2,
        n_embd,
        intermediate,
        vocab_size,
        n_positions: 80,
        qkv_bias: false,
        tied,
        scaled: false,
    }
}

#[test]
fn gpu_dequantizes_every_type_as_the_cpu_reference_does() {
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let types = [
        GgmlType::F16,
        GgmlType::Bf16,
        GgmlType::Q8_0,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q4K,
        GgmlType::Q6K,
    ];
    for (seed, ty) in types.into_iter().enumerate() {
        // Rows of 256 values, so the k-quants' super-blocks fit.
        let model = quantized_model(shape(256, 512, 40, false), ty, seed as u64 + 1);
        let weights = pollster::block_on(GpuModel::upload_dequantized(&gpu, &model)).unwrap();
        let graph = Graph::forward(&model.config, 1);
        let gpu_graph =
            pollster::block_on(GpuGraph::new(&gpu, &registry, graph.clone(), &weights)).unwrap();
        for (id, tensor) in graph.tensors.iter().enumerate() {
            if tensor.role != Role::Weight || tensor.shape.len() != 2 {
                continue;
            }
            let values = pollster::block_on(gpu_graph.tensor(id).read(&gpu)).unwrap();
            let expected = model.weights.get(&tensor.name).unwrap();
            assert!(
                values == expected,
                "{ty:?}: {} differs from the CPU's dequantization",
                tensor.name
            );
        }
    }
}

/// Logits of a forward pass over `t` tokens on the GPU, with `options`' kernels, and whether
/// the GPU kept the model's matrices as blocks.
fn gpu_logits(model: &Model, options: &GpuOptions, ids: &[u32]) -> (Vec<f32>, u64) {
    let (gpu, registry) = common::gpu(options);
    let weights = pollster::block_on(GpuModel::upload(&gpu, model)).unwrap();
    let graph = Graph::forward(&model.config, ids.len());
    let gpu_graph =
        pollster::block_on(GpuGraph::new(&gpu, &registry, graph.clone(), &weights)).unwrap();
    gpu_graph.set_ids(&gpu, ids).unwrap();
    gpu_graph.run(&gpu, &registry);
    let logits = graph.tensor_id("logits").unwrap();
    let values = pollster::block_on(gpu_graph.read(&gpu, logits)).unwrap();
    (values, weights.bytes())
}

#[test]
fn quantized_matmuls_match_the_cpu_reference_in_every_variant() {
    let ids: Vec<u32> = (0..70).map(|i| (i * 7 + 3) % 70).collect();
    for (seed, ty) in [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0]
        .into_iter()
        .enumerate()
    {
        for tied in [true, false] {
            // k of 64 and 96 (2 and 3 blocks); 70 vocabulary rows and 96 outputs, neither a
            // whole number of tiles.
            let model = quantized_model(shape(64, 96, 70, tied), ty, seed as u64 + 10);
            let f32_bytes: u64 = Graph::forward(&model.config, 1)
                .weights()
                .map(|t| t.bytes() as u64)
                .sum();
            for variant in ["matvec", "rows", "tiled"] {
                let options = GpuOptions {
                    kernels: KernelChoice::only(&KernelId::new("matmul_q", variant)),
                    weights: Some(WeightStorage::Quantized),
                    ..Default::default()
                };
                for t in [1, 3, 70] {
                    let (logits, gpu_bytes) = gpu_logits(&model, &options, &ids[..t]);
                    assert!(
                        gpu_bytes < f32_bytes / 2,
                        "{ty:?}: {gpu_bytes} bytes of weights on the GPU, f32 takes {f32_bytes}"
                    );
                    let graph = Graph::forward(&model.config, t);
                    let cpu = glassbox::cpu::forward(&graph, &model, &ids[..t]).unwrap();
                    let expected = cpu.get(graph.tensor_id("logits").unwrap());
                    let diff = compare(&logits, expected);
                    assert!(
                        diff.passes(),
                        "{ty:?} matmul_q={variant}, tied {tied}, {t} tokens: {diff:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_quantized_model_stays_f32_where_asked() {
    let model = quantized_model(shape(64, 96, 70, true), GgmlType::Q4_1, 3);
    let options = GpuOptions {
        weights: Some(WeightStorage::Dequantized),
        ..Default::default()
    };
    let (_, gpu_bytes) = gpu_logits(&model, &options, &[1, 2, 3]);
    let f32_bytes: u64 = Graph::forward(&model.config, 1)
        .weights()
        .map(|t| t.bytes() as u64)
        .sum();
    assert_eq!(gpu_bytes, f32_bytes);
}
