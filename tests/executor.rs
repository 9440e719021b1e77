//! The GPU executor as the visualisation drives it: running a prefix of the graph, leaving later
//! ops empty, and reading nothing back unless asked.

mod common;

use glassbox::gpu::{GpuGraph, GpuModel, GpuOptions};
use glassbox::graph::Graph;
use glassbox::model::Model;
use glassbox::values::compare::compare;

#[test]
fn prefix_runs_only_the_first_ops_and_reads_nothing_back() {
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let config = common::config(2, 2, 16, 23, 12);
    let model = Model::random(config.clone(), 1);
    let ids = common::ids(5, 23, 2);
    let graph = Graph::forward(&config, 5);
    let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    let gpu_model = pollster::block_on(GpuModel::upload(&gpu, &model)).unwrap();
    let gpu_graph =
        pollster::block_on(GpuGraph::new(&gpu, &registry, graph.clone(), &gpu_model)).unwrap();
    gpu_graph.set_ids(&gpu, &ids).unwrap();

    let split = graph.op_index("h.0.attn.softmax").unwrap();
    let before = gpu.readback_count();
    for _ in 0..3 {
        gpu_graph.run_prefix(&gpu, &registry, split + 1);
    }
    gpu.wait_idle().unwrap();
    assert_eq!(gpu.readback_count(), before, "running reads nothing back");

    let done = graph.ops[split].outputs[0];
    let got = pollster::block_on(gpu_graph.read(&gpu, done)).unwrap();
    assert!(compare(&got, reference.get(done)).passes());
    let not_yet = graph.ops[split + 1].outputs[0];
    let empty = pollster::block_on(gpu_graph.read(&gpu, not_yet)).unwrap();
    assert!(
        empty.iter().all(|&v| v == 0.0),
        "ops after the prefix have not run"
    );
    assert_eq!(
        gpu.readback_count(),
        before + 2,
        "each read is one counted readback"
    );
}

#[test]
fn new_ids_rerun_without_rebuilding() {
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let model = Model::load_dir(&common::oracle_dir("tiny_prefixed")).unwrap();
    let graph = Graph::forward(&model.config, 4);
    let gpu_model = pollster::block_on(GpuModel::upload(&gpu, &model)).unwrap();
    let gpu_graph =
        pollster::block_on(GpuGraph::new(&gpu, &registry, graph.clone(), &gpu_model)).unwrap();
    let logits = graph.tensor_id("logits").unwrap();
    for ids in [[1, 2, 3, 4], [96, 0, 50, 7]] {
        gpu_graph.set_ids(&gpu, &ids).unwrap();
        gpu_graph.run(&gpu, &registry);
        let got = pollster::block_on(gpu_graph.read(&gpu, logits)).unwrap();
        let want = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
        assert!(compare(&got, want.get(logits)).passes());
    }
    assert!(
        gpu_graph.set_ids(&gpu, &[1, 2, 3, 97]).is_err(),
        "id outside the vocabulary"
    );
}

#[test]
fn timestamps_cover_every_op() {
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let model = Model::load_dir(&common::oracle_dir("tiny_2l")).unwrap();
    let graph = Graph::forward(&model.config, 8);
    let gpu_model = pollster::block_on(GpuModel::upload(&gpu, &model)).unwrap();
    let gpu_graph =
        pollster::block_on(GpuGraph::new(&gpu, &registry, graph.clone(), &gpu_model)).unwrap();
    gpu_graph.set_ids(&gpu, &[1; 8]).unwrap();
    match pollster::block_on(gpu_graph.run_timed(&gpu, &registry)).unwrap() {
        Some(timings) => {
            assert_eq!(timings.len(), graph.ops.len());
            assert!(timings
                .iter()
                .all(|t| t.nanos.is_finite() && t.nanos >= 0.0));
            assert!(timings.iter().map(|t| t.nanos).sum::<f64>() > 0.0);
        }
        None => assert!(
            !gpu.timestamps,
            "timings missing although the adapter has timestamps"
        ),
    }
}

/// A model too large for the device is refused up front, saying what it needs and what the
/// device has. lavapipe reports the system's free memory; GPUs report none through WebGPU, and
/// then nothing is refused up front (the driver's budget turns allocations into errors).
#[test]
fn too_little_memory_says_how_much_is_needed_and_available() {
    let (gpu, _) = common::gpu(&GpuOptions::default());
    match gpu.memory_available() {
        Some(free) => {
            assert!(free > 0);
            let error = gpu
                .ensure_memory("uploading the weights", free + (1 << 40))
                .unwrap_err()
                .to_string();
            assert!(error.contains("uploading the weights needs"), "{error}");
            assert!(error.contains("GB free"), "{error}");
            assert!(gpu.ensure_memory("a small buffer", 1 << 20).is_ok());
        }
        None => {
            assert_ne!(gpu.adapter_info.device_type, wgpu::DeviceType::Cpu);
            let has = gpu.memory_description();
            assert!(has.contains("does not report its free memory"), "{has}");
            assert!(gpu.ensure_memory("uploading the weights", 1 << 40).is_ok());
        }
    }
}
