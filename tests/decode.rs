//! The decode path: the KV cache, the matrix-vector kernels and the sampler on the GPU, each
//! against the CPU reference, and the logits of every decode step against a full recompute.

mod common;

use glassbox::cpu::sampling::{argmax, sample, Sampling};
use glassbox::cpu::CpuRun;
use glassbox::generate::{generate_cpu, GpuGenerator};
use glassbox::gpu::{Gpu, GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use glassbox::graph::probe::Ablations;
use glassbox::graph::{Graph, Path, Role};
use glassbox::model::{Config, Model};
use glassbox::values::compare::compare;

/// Runs `ids` one decode step at a time on both backends. After each step every tensor of the
/// GPU's decode graph (caches included) must match the CPU's, and the logits must match row t
/// of a full CPU forward pass over the first t + 1 tokens.
fn assert_decode_matches(config: Config, steps: usize, options: &GpuOptions) {
    assert_model_decode_matches(&Model::random(config, 3), steps, options);
}

/// [`assert_decode_matches`] on a given model, on the picture's graph and on the fast path's
/// (attention split over the cache: with a quarter of the cache per split, the last ones still
/// empty).
fn assert_model_decode_matches(model: &Model, steps: usize, options: &GpuOptions) {
    for path in [Path::Picture, Path::Fast] {
        assert_path_decode_matches(model, steps, steps + 2, path, options);
    }
}

fn assert_path_decode_matches(
    model: &Model,
    steps: usize,
    capacity: usize,
    path: Path,
    options: &GpuOptions,
) {
    let config = model.config.clone();
    let (gpu, registry) = common::gpu(options);
    let ids = common::ids(steps, config.vocab_size, 5);
    let graph = Graph::decode_on(&config, capacity, &Ablations::default(), path);
    let weights = pollster::block_on(GpuModel::upload(&gpu, model)).unwrap();
    let step = pollster::block_on(GpuGraph::new(&gpu, &registry, graph.clone(), &weights)).unwrap();
    let mut cpu = CpuRun::new(&graph, model, &ids[..1]).unwrap();
    let logits = graph.tensor_id("logits").unwrap();
    for (position, &id) in ids.iter().enumerate() {
        step.set_token(&gpu, id, position).unwrap();
        step.run(&gpu, &registry);
        cpu.set_token(id, position).unwrap();
        cpu.run_all();
        let values = pollster::block_on(step.read_all(&gpu)).unwrap();
        for (tensor_id, tensor) in graph.tensors.iter().enumerate() {
            if tensor.role == Role::Weight {
                continue;
            }
            let diff = compare(values.get(tensor_id), cpu.values.get(tensor_id));
            assert!(
                diff.passes(),
                "{config:?} {path:?} step {position}: {}: {diff:?}",
                tensor.name
            );
        }
        let full_graph = Graph::forward(&config, position + 1);
        let full = glassbox::cpu::forward(&full_graph, model, &ids[..=position]).unwrap();
        let full_logits = full.get(full_graph.tensor_id("logits").unwrap());
        let vocab = config.vocab_size;
        let diff = compare(values.get(logits), &full_logits[position * vocab..]);
        assert!(
            diff.passes(),
            "step {position}: decode logits vs full recompute: {diff:?}"
        );
    }
}

#[test]
fn decode_steps_match_cpu_and_full_recompute_on_awkward_shapes() {
    // head_dim 5, vocabulary not a multiple of any workgroup, a cache larger than the steps.
    assert_decode_matches(common::config(2, 3, 15, 37, 20), 9, &GpuOptions::default());
    // 130 channels and head_dim 26: the matrix-vector loops wrap past a workgroup.
    assert_decode_matches(
        common::config(1, 5, 130, 301, 80),
        4,
        &GpuOptions::default(),
    );
}

/// The fast path's splits stream several chunks of 64 keys each: a cache of 300 slots is split
/// every 75, and 160 steps fill the first two splits, start the third and leave the fourth empty.
#[test]
fn fast_decode_attention_streams_chunks_across_splits() {
    let model = Model::random(common::config(1, 2, 16, 23, 300), 3);
    assert_path_decode_matches(&model, 160, 300, Path::Fast, &GpuOptions::default());
}

#[test]
fn decode_with_split_vocabulary() {
    let options = GpuOptions {
        max_chunk_rows: Some(7),
        ..Default::default()
    };
    assert_decode_matches(common::config(1, 2, 66, 40, 16), 5, &options);
}

/// GPT-2-small-shaped (vocab 50257, 768 channels): wte is really split on lavapipe.
#[test]
fn decode_gpt2_small_shape() {
    let mut config = Config::gpt2_small();
    config.n_layer = 1;
    assert_decode_matches(config, 3, &GpuOptions::default());
}

fn llama(
    (n_layer, n_head, n_kv_head, n_embd): (usize, usize, usize, usize),
    vocab_size: usize,
    qkv_bias: bool,
    scaled: bool,
) -> Config {
    common::llama_config(common::LlamaShape {
        n_layer,
        n_head,
        n_kv_head,
        n_embd,
        intermediate: 2 * n_embd + 3,
        vocab_size,
        n_positions: 40,
        qkv_bias,
        tied: qkv_bias,
        scaled,
    })
}

/// The Llama family's step: the query and key turned by the position held in a buffer, grouped
/// key/value heads in the cache. Steps run past llama3 scaling's original context (16).
#[test]
fn llama_decode_matches_cpu_and_full_recompute() {
    let options = GpuOptions::default();
    // head_dim 6, three query heads over one key/value head, q/k/v biases, a tied head.
    assert_decode_matches(llama((2, 3, 1, 18), 37, true, false), 9, &options);
    // head_dim 34 (17 pairs), two key/value heads, llama3 scaling, an untied head.
    assert_decode_matches(llama((1, 4, 2, 136), 97, false, true), 20, &options);
    let split = GpuOptions {
        max_chunk_rows: Some(7),
        ..Default::default()
    };
    assert_decode_matches(llama((1, 2, 1, 64), 40, false, false), 5, &split);
}

/// The transformers reference models: llama_odd (F16, head_dim 10, one key/value head, llama3
/// scaling, 19 steps past its original context of 8) and mistral_sharded (two shards).
#[test]
fn decode_reference_checkpoints() {
    for (case, steps) in [("llama_odd", 19), ("mistral_sharded", 9), ("tiny_qwen2", 7)] {
        let model = Model::load_dir(&common::oracle_dir(case)).unwrap();
        assert_model_decode_matches(&model, steps, &GpuOptions::default());
    }
}

/// One layer of SmolLM2-135M's shape: 9 query heads over 3 key/value heads, vocabulary 49152.
#[test]
fn decode_smollm2_shape() {
    let mut config = Config::smollm2_135m();
    config.n_layer = 1;
    assert_decode_matches(config, 3, &GpuOptions::default());
}

/// Runs only the sample op of a decode graph on `logits`.
struct GpuSampler {
    gpu: Gpu,
    registry: KernelRegistry,
    step: GpuGraph,
}

impl GpuSampler {
    fn new(vocab: usize) -> GpuSampler {
        let (gpu, registry) = common::gpu(&GpuOptions::default());
        let config = common::config(1, 1, 4, vocab, 64);
        let model = Model::random(config.clone(), 1);
        let weights = pollster::block_on(GpuModel::upload(&gpu, &model)).unwrap();
        let graph = Graph::decode(&config, 64);
        let step = pollster::block_on(GpuGraph::new(&gpu, &registry, graph, &weights)).unwrap();
        GpuSampler {
            gpu,
            registry,
            step,
        }
    }

    fn sample(&self, logits: &[f32], sampling: &Sampling, position: usize) -> u32 {
        let graph = &self.step.graph();
        let logits_buffer = self.step.tensor(graph.tensor_id("logits").unwrap());
        self.gpu.queue.write_buffer(
            logits_buffer.single().unwrap(),
            0,
            bytemuck::cast_slice(logits),
        );
        self.step.set_token(&self.gpu, 0, position).unwrap();
        self.step.set_sampling(&self.gpu, sampling);
        let op = graph.op_index("sample").unwrap();
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        self.step
            .encode(&self.registry, &mut encoder, op..op + 1, None);
        self.gpu.queue.submit([encoder.finish()]);
        let next = graph.tensor_id("next_token").unwrap();
        pollster::block_on(self.step.read(&self.gpu, next)).unwrap()[0] as u32
    }
}

/// Logits with a long tail, ties and a clear order, over a vocabulary past one workgroup.
fn test_logits(vocab: usize) -> Vec<f32> {
    (0..vocab)
        .map(|i| {
            let x = ((i * 7919) % 1009) as f32 / 1009.0;
            8.0 * x * x - if i % 97 == 0 { 1.0 } else { 0.0 }
        })
        .collect()
}

#[test]
fn gpu_sampler_matches_cpu_reference_and_is_reproducible() {
    let vocab = 3001;
    let sampler = GpuSampler::new(vocab);
    let logits = test_logits(vocab);
    let settings = [
        Sampling::GREEDY,
        Sampling {
            temperature: 1.0,
            top_k: None,
            top_p: None,
            seed: 7,
        },
        Sampling {
            temperature: 0.7,
            top_k: Some(40),
            top_p: None,
            seed: 1 << 40,
        },
        Sampling {
            temperature: 1.3,
            top_k: None,
            top_p: Some(0.9),
            seed: 3,
        },
        Sampling {
            temperature: 1.0,
            top_k: Some(200),
            top_p: Some(0.5),
            seed: 11,
        },
    ];
    for sampling in &settings {
        let draws: Vec<u32> = (0..40)
            .map(|p| sampler.sample(&logits, sampling, p))
            .collect();
        let expected: Vec<u32> = (0..40)
            .map(|p| sample(&logits, sampling, p as u32))
            .collect();
        assert_eq!(draws, expected, "{sampling:?}");
        let again: Vec<u32> = (0..40)
            .map(|p| sampler.sample(&logits, sampling, p))
            .collect();
        assert_eq!(draws, again, "the same seed draws the same tokens");
    }
    assert_eq!(
        sampler.sample(&logits, &Sampling::GREEDY, 3),
        argmax(&logits)
    );
}

#[test]
fn top_k_and_top_p_never_draw_outside_their_set() {
    let vocab = 3001;
    let sampler = GpuSampler::new(vocab);
    let logits = test_logits(vocab);
    let mut sorted = logits.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let top_k = Sampling {
        temperature: 2.0,
        top_k: Some(5),
        top_p: None,
        seed: 5,
    };
    let kth = sorted[4];
    let mut seen = std::collections::BTreeSet::new();
    for position in 0..60 {
        let id = sampler.sample(&logits, &top_k, position);
        assert!(
            logits[id as usize] >= kth,
            "top-k 5 drew logit {}",
            logits[id as usize]
        );
        seen.insert(id);
    }
    assert!(
        seen.len() > 1,
        "a high temperature spreads the draws over the top 5: {seen:?}"
    );

    // With top-p at 0.05 of a flat-topped distribution, only the few largest remain.
    let nucleus = Sampling {
        temperature: 1.0,
        top_k: None,
        top_p: Some(0.05),
        seed: 9,
    };
    let weights: Vec<f64> = sorted
        .iter()
        .map(|&x| ((x - sorted[0]) as f64).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut kept = 0.0;
    let cut = weights
        .iter()
        .position(|w| {
            kept += w / total;
            kept >= 0.05
        })
        .unwrap();
    for position in 0..60 {
        let id = sampler.sample(&logits, &nucleus, position);
        assert!(
            logits[id as usize] >= sorted[cut],
            "top-p drew logit {}",
            logits[id as usize]
        );
    }
}

#[test]
fn draws_follow_the_softmax() {
    // Four tokens, probabilities 0.1 / 0.2 / 0.3 / 0.4: over 2000 seeds each token's share of
    // the GPU's draws stays within 3.5 standard deviations of its probability.
    let probabilities = [0.1f32, 0.2, 0.3, 0.4];
    let logits: Vec<f32> = probabilities.iter().map(|p| p.ln()).collect();
    let sampler = GpuSampler::new(4);
    let sampling = Sampling {
        temperature: 1.0,
        top_k: None,
        top_p: None,
        seed: 2026,
    };
    let draws = 2000u64;
    let mut counts = [0usize; 4];
    for seed in 0..draws {
        counts[sampler.sample(&logits, &Sampling { seed, ..sampling }, 0) as usize] += 1;
    }
    for (count, p) in counts.iter().zip(probabilities) {
        let share = *count as f64 / draws as f64;
        let sd = (p as f64 * (1.0 - p as f64) / draws as f64).sqrt();
        assert!((share - p as f64).abs() < 3.5 * sd, "counts {counts:?}");
    }
}

#[test]
fn generation_is_the_same_on_gpu_and_cpu() {
    let config = common::config(2, 2, 16, 50, 12);
    let model = Model::random(config, 8);
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let mut generator = pollster::block_on(GpuGenerator::new(&gpu, &registry, &model)).unwrap();
    let sampling = Sampling {
        temperature: 0.9,
        top_k: Some(20),
        top_p: Some(0.95),
        seed: 42,
    };
    let prompt = [3, 1, 4];
    let mut streamed = Vec::new();
    let gpu_tokens =
        pollster::block_on(generator.generate(&prompt, 20, &sampling, |id| streamed.push(id)))
            .unwrap();
    let cpu_tokens = generate_cpu(&model, &prompt, 20, &sampling, |_| {}).unwrap();
    assert_eq!(gpu_tokens, cpu_tokens);
    assert_eq!(streamed, gpu_tokens);
    // 12 positions: 3 prompt tokens leave room to run 9 more, and the last run predicts a 10th.
    assert_eq!(gpu_tokens.len(), 10);
    let greedy =
        pollster::block_on(generator.generate(&prompt, 5, &Sampling::GREEDY, |_| {})).unwrap();
    assert_eq!(
        greedy,
        generate_cpu(&model, &prompt, 5, &Sampling::GREEDY, |_| {}).unwrap()
    );
}
