//! Every kernel against the CPU reference, through whole graphs of awkward shapes: T = 1, sizes
//! that are not multiples of the workgroup, head_dim not a power of two, channel counts above
//! twice the workgroup, and split vocabulary buffers.

mod common;

use glassbox::compare::compare;
use glassbox::gpu::{kernels, GpuOptions};
use glassbox::graph::{Graph, Role};
use glassbox::model::{Config, Model};

/// Runs `config` on both backends and compares every non-weight tensor.
fn assert_gpu_matches_cpu(config: Config, seq_len: usize, options: &GpuOptions) {
    let (gpu, registry) = common::gpu(options);
    let model = Model::random(config.clone(), 7);
    let ids = common::ids(seq_len, config.vocab_size, 11);
    let graph = Graph::gpt2(&config, seq_len);
    let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    let (_, values) = common::gpu_forward(&gpu, &registry, &model, &ids);
    let mut kinds_checked = std::collections::BTreeSet::new();
    for op in &graph.ops {
        for &out in &op.outputs {
            let diff = compare(values.get(out), reference.get(out));
            assert!(
                diff.passes(),
                "{config:?} T={seq_len}: op {} output {}: {diff:?}",
                op.name,
                graph.tensors[out].name
            );
        }
        kinds_checked.insert(op.kind.kernel_name());
    }
    assert_eq!(kinds_checked.len(), 10, "every op kind ran");
    assert!(graph.tensors.iter().any(|t| t.role == Role::Aggregate));
}

#[test]
fn one_token() {
    assert_gpu_matches_cpu(common::config(1, 3, 15, 37, 20), 1, &GpuOptions::default());
}

#[test]
fn head_dim_five_odd_sizes() {
    for t in [2, 7, 20] {
        assert_gpu_matches_cpu(common::config(1, 3, 15, 37, 20), t, &GpuOptions::default());
    }
}

#[test]
fn beyond_one_workgroup() {
    // 65 tokens and 130 channels: every loop over a row wraps past 64 threads; head_dim 26.
    assert_gpu_matches_cpu(
        common::config(2, 5, 130, 301, 80),
        65,
        &GpuOptions::default(),
    );
}

#[test]
fn split_vocabulary_buffers() {
    let options = GpuOptions {
        max_chunk_rows: Some(3),
        ..Default::default()
    };
    for t in [1, 5, 9] {
        assert_gpu_matches_cpu(common::config(1, 2, 66, 40, 16), t, &options);
    }
}

/// A GPT-2-small-shaped layer (vocab 50257, 768 channels, 12 heads): `wte` is 154 MB, above the
/// 128 MiB binding limit of lavapipe and many GPUs, so it is really split.
#[test]
fn gpt2_small_shape() {
    let mut config = Config::gpt2_small();
    config.n_layer = 1;
    assert_gpu_matches_cpu(config, 3, &GpuOptions::default());
}

#[test]
fn every_kernel_validates_with_naga() {
    for spec in kernels::BUILTIN_KERNELS {
        let file = format!("kernels/{}.wgsl", spec.name);
        kernels::validate_wgsl(&file, spec.source).unwrap_or_else(|e| panic!("{e}"));
        let first = spec.source.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("// Op:"),
            "{file} opens with its op comment"
        );
        for word in ["Bindings:", "Dispatch:", "Formula:"] {
            assert!(spec.source.contains(word), "{file} documents its {word}");
        }
    }
}

#[test]
fn broken_kernel_is_reported_with_line_and_column() {
    let source = "fn main() {\n    let x = 1u;\n    let y: f32 = x;\n}\n";
    let error = kernels::validate_wgsl("kernels/broken.wgsl", source).unwrap_err();
    assert_eq!(
        (error.file.as_str(), error.line),
        ("kernels/broken.wgsl", 3)
    );
    assert!(error.column > 0, "{error}");
    assert!(
        error.to_string().starts_with("kernels/broken.wgsl:3:"),
        "{error}"
    );

    let syntax = kernels::validate_wgsl("k.wgsl", "fn main() {\n  let = 3;\n}\n").unwrap_err();
    assert_eq!(syntax.line, 2, "{syntax}");
}

/// Replacing a kernel with a broken edit fails with its location, and the previous pipeline keeps
/// computing the right answer.
#[test]
fn broken_edit_keeps_last_good_kernel() {
    let (gpu, mut registry) = common::gpu(&GpuOptions::default());
    let broken = kernels::BUILTIN_KERNELS
        .iter()
        .find(|s| s.name == "gelu")
        .unwrap()
        .source
        .replace("y[i] = 0.5 * v", "y[i] = 0.5 * undefined_name");
    let error = registry
        .replace(&gpu.device, "gelu", "kernels/gelu.wgsl", &broken)
        .unwrap_err();
    assert!(error.line > 0, "{error}");
    assert!(!registry.source("gelu").contains("undefined_name"));

    // Valid WGSL that breaks the executor's assumptions is refused too.
    let original = registry.source("gelu").to_string();
    for (from, to) in [
        ("@workgroup_size(64)", "@workgroup_size(32)"),
        ("fn main(", "fn start("),
        ("var<storage, read> x", "var<storage, read_write> x"),
    ] {
        let edited = original.replace(from, to);
        let error = registry
            .replace(&gpu.device, "gelu", "kernels/gelu.wgsl", &edited)
            .expect_err(to);
        assert!(error.to_string().contains("interface of gelu"), "{error}");
    }
    assert_eq!(registry.source("gelu"), original);

    let config = common::config(1, 2, 8, 11, 8);
    let model = Model::random(config.clone(), 3);
    let ids = common::ids(4, 11, 5);
    let graph = Graph::gpt2(&config, 4);
    let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    let (_, values) = common::gpu_forward(&gpu, &registry, &model, &ids);
    let gelu = graph.tensor_id("h.0.mlp.gelu").unwrap();
    assert!(compare(values.get(gelu), reference.get(gelu)).passes());
}

/// Every kernel variant against the CPU reference on the awkward shapes. Subgroup variants need
/// the adapter's feature; lavapipe (CI) has it, so there every variant runs.
#[test]
fn every_variant_matches_cpu() {
    let (_, registry) = common::gpu(&GpuOptions::default());
    for variant in glassbox::gpu::variants::VARIANTS {
        if !registry.has(variant.kernel) {
            assert!(
                variant.kernel.ends_with("_subgroup"),
                "{} is missing",
                variant.kernel
            );
            eprintln!("skipping {}: this adapter has no subgroups", variant.kernel);
            continue;
        }
        let options = GpuOptions {
            kernels: glassbox::gpu::variants::KernelChoice::only(variant),
            ..Default::default()
        };
        assert_gpu_matches_cpu(common::config(1, 3, 15, 37, 20), 1, &options);
        assert_gpu_matches_cpu(common::config(1, 3, 15, 37, 20), 7, &options);
        assert_gpu_matches_cpu(common::config(2, 5, 130, 301, 80), 65, &options);
        let split = GpuOptions {
            max_chunk_rows: Some(3),
            ..options
        };
        assert_gpu_matches_cpu(common::config(1, 2, 66, 40, 16), 9, &split);
    }
}
