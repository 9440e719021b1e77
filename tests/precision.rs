//! f16 storage: the derived kernels validate, a graph stored in f16 drifts from the f32 CPU
//! reference by no more than the f16 bound (and does drift: the storage really is f16), and
//! the viewer switches precision and shows the drift.

mod common;

use glassbox::gpu::kernels::{builtin_source, validate_wgsl, BUILTIN_KERNELS};
use glassbox::gpu::wgsl::f16_source;
use glassbox::gpu::{GpuGraph, GpuModel, GpuOptions, Precision};
use glassbox::graph::{Graph, Role};
use glassbox::model::Model;
use glassbox::values::compare::{compare, F16_DRIFT, TOLERANCE};

#[test]
fn every_kernel_has_a_valid_f16_version() {
    for file in BUILTIN_KERNELS {
        let source = f16_source(&builtin_source(file).unwrap().resolved);
        validate_wgsl(&format!("{} (f16)", file.path), &source)
            .unwrap_or_else(|e| panic!("{e}\n{source}"));
    }
    let draw = f16_source(glassbox::render::TENSOR_SHADER);
    validate_wgsl("tensor.wgsl (f16)", &draw).unwrap();
}

#[test]
fn loads_widen_and_stores_narrow() {
    let source = "@group(0) @binding(1) var<storage, read> x: array<f32>;\n\
                  @group(0) @binding(2) var<storage, read_write> y: array<f32>;\n\
                  // y[i] = x[i] in a comment stays out\n\
                  fn f(i: u32) { y[i] = x[i] * 2.0 + x[i + 1u]; let z = y[i] == 0.0; }\n";
    let out = f16_source(source);
    assert!(out.starts_with("enable f16;"), "{out}");
    assert!(out.contains("var<storage, read> x: array<f16>;"), "{out}");
    assert!(
        out.contains("y[i] = f16(f32(x[i]) * 2.0 + f32(x[i + 1u]));"),
        "{out}"
    );
    assert!(out.contains("let z = f32(y[i]) == 0.0;"), "{out}");
    assert!(!out.contains("in a comment"), "{out}");
}

#[test]
fn an_f16_graph_drifts_within_the_bound() {
    if !common::adapter_has(common::Needs::F16) {
        return;
    }
    let options = GpuOptions {
        precision: Precision::F16,
        ..Default::default()
    };
    let (gpu, registry) = common::gpu(&options);
    let mut registry = registry;
    registry.enable_f16(&gpu.device).unwrap();
    let config = common::config(2, 5, 130, 301, 80);
    let model = Model::random(config.clone(), 9);
    let ids = common::ids(33, config.vocab_size, 3);
    let graph = Graph::forward(&config, ids.len());
    let weights = pollster::block_on(GpuModel::upload(&gpu, &model)).unwrap();
    assert_eq!(weights.precision, Precision::F16);
    let run = pollster::block_on(GpuGraph::new(&gpu, &registry, graph.clone(), &weights)).unwrap();
    run.set_ids(&gpu, &ids).unwrap();
    run.run(&gpu, &registry);
    let values = pollster::block_on(run.read_all(&gpu)).unwrap();
    let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    let mut drifted = false;
    for (id, tensor) in graph.tensors.iter().enumerate() {
        if tensor.role == Role::Weight || tensor.role == Role::Input {
            continue;
        }
        let diff = compare(values.get(id), reference.get(id));
        assert!(
            diff.max_abs <= F16_DRIFT * diff.scale,
            "{}: {diff:?}",
            tensor.name
        );
        drifted |= diff.max_abs > TOLERANCE * diff.scale;
    }
    assert!(
        drifted,
        "f16 storage should drift past the f32 tolerance somewhere"
    );
    // Every stored value is an f16.
    let embed = values.get(graph.tensor_id("embed").unwrap());
    assert!(embed.iter().all(|&v| half::f16::from_f32(v).to_f32() == v));
}

#[test]
fn the_viewer_switches_to_f16_and_shows_the_drift() {
    if !common::adapter_has(common::Needs::F16) {
        return;
    }
    let scene = glassbox::scene::Scene::embedded();
    let ids = scene.tokenizer.encode(&scene.prompt).unwrap();
    let format = glassbox::render::offscreen::FORMAT;
    let mut viewer = pollster::block_on(glassbox::viewer::Viewer::new(
        scene,
        &ids,
        &GpuOptions::default(),
        format,
    ))
    .unwrap();
    pollster::block_on(viewer.set_difference(true)).unwrap();
    pollster::block_on(viewer.set_precision(Precision::F16)).unwrap();
    pollster::block_on(viewer.refresh_difference()).unwrap();
    assert_eq!(viewer.gpu_graph().precision, Precision::F16);
    let view = viewer.difference().unwrap();
    assert_eq!(view.per_op.len(), viewer.graph().ops.len());
    let worst = view
        .per_op
        .iter()
        .map(|d| d.difference.max_abs / d.difference.scale)
        .fold(0.0, f32::max);
    assert!(
        worst > TOLERANCE && worst <= F16_DRIFT,
        "worst relative drift {worst}"
    );
    let top = pollster::block_on(viewer.top_predictions(1)).unwrap();
    assert!(
        top[0].1 > 0.5,
        "the sorter still predicts confidently in f16: {top:?}"
    );
    pollster::block_on(viewer.set_precision(Precision::F32)).unwrap();
    pollster::block_on(viewer.refresh_difference()).unwrap();
    let view = viewer.difference().unwrap();
    assert!(view.per_op.iter().all(|d| d.difference.passes()));
}
