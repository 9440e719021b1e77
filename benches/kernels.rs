//! Criterion benchmarks: every op of one GPT-2-small block (plus embedding and output head), GPU
//! kernel against CPU reference, and the whole forward pass. GPU times are wall clock around a
//! submit and wait, so on a real GPU they include the launch overhead; `glassbox bench` has the
//! timestamp-based numbers and peak fractions.

use criterion::{criterion_group, criterion_main, Criterion};
use glassbox::cpu::CpuRun;
use glassbox::gpu::{Gpu, GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use glassbox::graph::Graph;
use glassbox::model::{Config, Model};

const SEQ_LEN: usize = 64;

fn kernels(c: &mut Criterion) {
    let mut config = Config::gpt2_small();
    config.n_layer = 1;
    let model = Model::random(config.clone(), 0);
    let graph = Graph::forward(&config, SEQ_LEN);
    let ids: Vec<u32> = (0..SEQ_LEN as u32).map(|i| i * 7919 % 50257).collect();

    let gpu = pollster::block_on(Gpu::new(&GpuOptions::default())).expect("a GPU adapter");
    let registry = KernelRegistry::builtin(&gpu.device).expect("kernels compile");
    let gpu_model = pollster::block_on(GpuModel::upload(&gpu, &model)).expect("weights fit");
    let gpu_graph = pollster::block_on(GpuGraph::new(&gpu, &registry, graph.clone(), &gpu_model))
        .expect("graph fits");
    gpu_graph.set_ids(&gpu, &ids).expect("valid ids");
    gpu_graph.run(&gpu, &registry);

    let mut cpu_run = CpuRun::new(&graph, &model, &ids).expect("valid ids");
    for i in 0..graph.ops.len() {
        cpu_run.run_op(i);
    }

    let mut group = c.benchmark_group("op");
    group.sample_size(10);
    for (i, op) in graph.ops.iter().enumerate() {
        group.bench_function(format!("gpu/{}", op.name), |b| {
            b.iter(|| {
                let mut encoder = gpu.device.create_command_encoder(&Default::default());
                gpu_graph.encode(&registry, &mut encoder, i..i + 1, None);
                gpu.queue.submit([encoder.finish()]);
                gpu.wait_idle().expect("device alive");
            })
        });
        group.bench_function(format!("cpu/{}", op.name), |b| b.iter(|| cpu_run.run_op(i)));
    }
    group.finish();

    let mut group = c.benchmark_group("forward");
    group.sample_size(10);
    group.bench_function("gpu", |b| {
        b.iter(|| {
            gpu_graph.run(&gpu, &registry);
            gpu.wait_idle().expect("device alive");
        })
    });
    group.bench_function("cpu", |b| {
        b.iter(|| glassbox::cpu::forward(&graph, &model, &ids).expect("valid ids"))
    });
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
