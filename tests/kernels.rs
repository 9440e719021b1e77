//! Every kernel against the CPU reference, through whole graphs of awkward shapes: T = 1, sizes
//! that are not multiples of the workgroup, head_dim not a power of two, channel counts above
//! twice the workgroup, and split vocabulary buffers.

mod common;

use glassbox::gpu::{kernels, GpuOptions, KernelId};
use glassbox::graph::probe::Ablations;
use glassbox::graph::{Graph, Path, Role, MAX_FUSED_HEAD_DIM};
use glassbox::model::{Config, Model};
use glassbox::values::compare::compare;
use std::collections::BTreeSet;

/// Runs `config` on both backends, on the picture's graph and on the fast path's (attention
/// fused), compares every non-weight tensor, and returns the kernel families that ran.
fn assert_gpu_matches_cpu(
    config: Config,
    seq_len: usize,
    options: &GpuOptions,
) -> BTreeSet<String> {
    let (gpu, registry) = common::gpu(options);
    let model = Model::random(config.clone(), 7);
    let ids = common::ids(seq_len, config.vocab_size, 11);
    let mut families = BTreeSet::new();
    for path in [Path::Picture, Path::Fast] {
        let graph = Graph::forward_on(&config, seq_len, &Ablations::default(), path);
        // Heads wider than the fused kernels take keep the picture's three ops.
        let fused = path == Path::Fast && config.head_dim() <= MAX_FUSED_HEAD_DIM;
        assert_eq!(graph.path() == Path::Fast, fused, "{config:?}");
        let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
        let (_, values) = common::gpu_run(&gpu, &registry, &model, &ids, graph.clone());
        for op in &graph.ops {
            for &out in &op.outputs {
                let diff = compare(values.get(out), reference.get(out));
                assert!(
                    diff.passes(),
                    "{config:?} T={seq_len} {path:?}: op {} output {}: {diff:?}",
                    op.name,
                    graph.tensors[out].name
                );
            }
            families.insert(op.kind.kernel_name().to_string());
        }
        assert!(graph.tensors.iter().any(|t| t.role == Role::Aggregate));
    }
    families
}

/// Every op family with a kernel under kernels/ops ran: between them, the GPT-2 and Llama graphs
/// of a test exercise them all.
fn assert_every_family_ran(families: &[BTreeSet<String>]) {
    let op_families: BTreeSet<String> = kernels::BUILTIN_KERNELS
        .iter()
        .filter(|f| f.path.starts_with("ops/"))
        .map(|f| kernels::builtin_source(f).unwrap().header.family)
        .collect();
    let ran: BTreeSet<String> = families.iter().flatten().cloned().collect();
    assert_eq!(ran, op_families, "every op family ran");
}

/// A Llama-family model the same size as a GPT-2 test shape: grouped query heads (`n_head` over
/// `n_kv_head`), a gated MLP of `intermediate` neurons, with q/k/v biases and llama3 rope scaling
/// when asked.
fn llama(
    (n_layer, n_head, n_kv_head, n_embd): (usize, usize, usize, usize),
    intermediate: usize,
    vocab_size: usize,
    qkv_bias: bool,
) -> Config {
    common::llama_config(common::LlamaShape {
        n_layer,
        n_head,
        n_kv_head,
        n_embd,
        intermediate,
        vocab_size,
        n_positions: 80,
        qkv_bias,
        tied: qkv_bias,
        scaled: !qkv_bias,
    })
}

#[test]
fn one_token() {
    let options = GpuOptions::default();
    assert_every_family_ran(&[
        assert_gpu_matches_cpu(common::config(1, 3, 15, 37, 20), 1, &options),
        assert_gpu_matches_cpu(llama((1, 3, 1, 18), 29, 37, true), 1, &options),
    ]);
}

#[test]
fn head_dim_five_odd_sizes() {
    let options = GpuOptions::default();
    for t in [2, 7, 20] {
        assert_every_family_ran(&[
            assert_gpu_matches_cpu(common::config(1, 3, 15, 37, 20), t, &options),
            // head_dim 6, three query heads sharing one key/value head.
            assert_gpu_matches_cpu(llama((1, 3, 1, 18), 29, 37, false), t, &options),
        ]);
    }
}

#[test]
fn beyond_one_workgroup() {
    // 65 tokens and 130 channels: every loop over a row wraps past 64 threads; head_dim 26.
    let options = GpuOptions::default();
    assert_every_family_ran(&[
        assert_gpu_matches_cpu(common::config(2, 5, 130, 301, 80), 65, &options),
        // 130 rotary pairs per head: the rope kernel's pairs wrap past one workgroup too.
        assert_gpu_matches_cpu(llama((2, 2, 1, 520), 201, 301, true), 65, &options),
        assert_gpu_matches_cpu(llama((1, 4, 2, 136), 150, 97, false), 65, &options),
    ]);
}

#[test]
fn split_vocabulary_buffers() {
    let options = GpuOptions {
        max_chunk_rows: Some(3),
        ..Default::default()
    };
    for t in [1, 5, 9] {
        assert_every_family_ran(&[
            assert_gpu_matches_cpu(common::config(1, 2, 66, 40, 16), t, &options),
            // Tied: the head reads the split embedding; untied: its own split lm_head.
            assert_gpu_matches_cpu(llama((1, 2, 2, 64), 70, 40, true), t, &options),
            assert_gpu_matches_cpu(llama((1, 2, 1, 64), 70, 40, false), t, &options),
        ]);
    }
}

/// A GPT-2-small-shaped layer (vocab 50257, 768 channels, 12 heads): `wte` is 154 MB, above the
/// 128 MiB binding limit of lavapipe and many GPUs, so it is really split. Beside it, one layer
/// of SmolLM2-135M's shape (9 query heads over 3 key/value heads, head_dim 64, 1536 neurons).
#[test]
fn gpt2_small_shape() {
    let mut gpt2 = Config::gpt2_small();
    gpt2.n_layer = 1;
    let mut smollm2 = Config::smollm2_135m();
    smollm2.n_layer = 1;
    let options = GpuOptions::default();
    assert_every_family_ran(&[
        assert_gpu_matches_cpu(gpt2, 3, &options),
        assert_gpu_matches_cpu(smollm2, 3, &options),
    ]);
}

#[test]
fn every_kernel_validates_with_naga_and_documents_itself() {
    for file in kernels::BUILTIN_KERNELS {
        let source = kernels::builtin_source(file).unwrap_or_else(|e| panic!("{e}"));
        let path = format!("kernels/{}", file.path);
        for word in ["// Op:", "// Bindings:", "// Formula:"] {
            assert!(file.source.contains(word), "{path} documents its {word}");
        }
        // The file lives where its role and name say.
        let (family, variant) = (&source.header.family, &source.header.variant);
        let expected = [
            format!("ops/{family}/{variant}.wgsl"),
            format!("ops/{family}.wgsl"),
            format!("quant/{family}/{variant}.wgsl"),
            format!("quant/{family}.wgsl"),
            format!("decode/{family}.wgsl"),
            format!("probes/{family}.wgsl"),
            format!("why/{family}.wgsl"),
            format!("render/{family}.wgsl"),
        ];
        assert!(
            expected.contains(&file.path.to_string()),
            "{path}: {family}/{variant}"
        );
    }
}

/// The catalog lists every kernel file in the repository (and nothing else), so that a file
/// added to kernels/ cannot be silently left out of the binary.
#[test]
fn the_catalog_lists_every_kernel_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
    let mut on_disk = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(&root).unwrap().to_str().unwrap();
                on_disk.push(relative.replace('\\', "/"));
            }
        }
    }
    let mut listed: Vec<String> = kernels::BUILTIN_KERNELS
        .iter()
        .chain(kernels::SHARED_HELPERS)
        .map(|f| f.path.to_string())
        .collect();
    listed.push("render/tensor.wgsl".to_string());
    on_disk.sort();
    listed.sort();
    assert_eq!(on_disk, listed);
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

fn no_includes(_: &str) -> Option<String> {
    None
}

fn gelu_source() -> String {
    kernels::BUILTIN_KERNELS
        .iter()
        .find(|f| f.path == "ops/gelu.wgsl")
        .unwrap()
        .source
        .to_string()
}

/// Replacing a kernel with a broken edit fails with its location, and the previous pipeline keeps
/// computing the right answer.
#[test]
fn broken_edit_keeps_last_good_kernel() {
    let (gpu, mut registry) = common::gpu(&GpuOptions::default());
    let gelu = KernelId::new("gelu", "default");
    let original = gelu_source();
    let broken = original.replace("y[i] = 0.5 * v", "y[i] = 0.5 * undefined_name");
    let error = registry
        .load(&gpu.device, "my/gelu.wgsl", &broken, &no_includes)
        .unwrap_err();
    assert_eq!(error.file, "my/gelu.wgsl");
    assert!(error.line > 1 && error.column > 0, "{error}");
    assert!(!registry.source(&gelu).text.contains("undefined_name"));

    // Valid WGSL that breaks what the executor relies on is refused too, saying what.
    for (from, to, says) in [
        ("fn main(", "fn start(", "no compute entry point `main`"),
        (
            "var<storage, read> x",
            "var<storage, read_write> x",
            "family `gelu` binds Params at 0 and storage bindings [1 read, 2 read_write]",
        ),
        (
            "n: u32,",
            "n: u32,\n    extra: u32,",
            "family `gelu` expects struct Params { n: u32 }",
        ),
        ("@binding(2)", "@binding(3)", "without gaps"),
        (
            "Dispatch: fold(ceil(n / 64))",
            "Dispatch: fold(ceil(rows / 64))",
            "does not have",
        ),
        (
            "// Kernel: gelu/default",
            "// Kernel: gelu",
            "FAMILY/VARIANT",
        ),
        (
            "// Kernel: gelu/default",
            "// Kernel: tanh/fast",
            "no kernel family `tanh`",
        ),
    ] {
        let edited = original.replace(from, to);
        assert_ne!(edited, original, "{from}");
        let error = registry
            .load(&gpu.device, "my/gelu.wgsl", &edited, &no_includes)
            .expect_err(to);
        assert!(error.to_string().contains(says), "{to}: {error}");
    }
    assert_eq!(registry.source(&gelu).text, original);

    let config = common::config(1, 2, 8, 11, 8);
    let model = Model::random(config.clone(), 3);
    let ids = common::ids(4, 11, 5);
    let graph = Graph::forward(&config, 4);
    let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
    let (_, values) = common::gpu_forward(&gpu, &registry, &model, &ids);
    let gelu = graph.tensor_id("h.0.mlp.gelu").unwrap();
    assert!(compare(values.get(gelu), reference.get(gelu)).passes());
}

/// An error inside an included helper names the helper's file and line, not the line the helper
/// was appended at.
#[test]
fn errors_in_included_helpers_point_into_the_helper() {
    let softmax = kernels::BUILTIN_KERNELS
        .iter()
        .find(|f| f.path == "ops/softmax/workgroup.wgsl")
        .unwrap()
        .source;
    let helper = kernels::shared_helper("shared/workgroup_reduce.wgsl").unwrap();
    let broken_helper =
        helper.replace("let total = partial[0];", "let total = partial[0u] + oops;");
    let line = broken_helper
        .lines()
        .position(|l| l.contains("oops"))
        .unwrap() as u32
        + 1;
    let error = glassbox::gpu::kernels::KernelSource::parse("mine.wgsl", softmax, &|name| {
        (name == "shared/workgroup_reduce.wgsl").then(|| broken_helper.clone())
    })
    .unwrap_err();
    assert_eq!(
        error.file, "kernels/shared/workgroup_reduce.wgsl",
        "{error}"
    );
    assert_eq!(error.line, line, "{error}");
    let missing = softmax.replace("shared/workgroup_reduce.wgsl", "shared/nothing.wgsl");
    let error = glassbox::gpu::kernels::KernelSource::parse("mine.wgsl", &missing, &no_includes)
        .unwrap_err();
    assert!(error.message.contains("no such helper"), "{error}");
    let include_line = missing
        .lines()
        .position(|l| l.contains("Include:"))
        .unwrap() as u32
        + 1;
    assert_eq!(error.line, include_line, "{error}");
}

/// Every kernel variant against the CPU reference on the awkward shapes. Subgroup variants need
/// the adapter's feature; lavapipe (CI) has it, so there every variant runs.
#[test]
fn every_variant_matches_cpu() {
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let subgroups = gpu.device.features().contains(wgpu::Features::SUBGROUP);
    let mut checked = 0;
    // A tuned file's other tile values are variants too, each checked.
    let sources = kernels::BUILTIN_KERNELS
        .iter()
        .flat_map(|file| kernels::builtin_sources(file).unwrap());
    for source in sources {
        let id = KernelId::new(&source.header.family, &source.header.variant);
        if registry.variants(&id.family).len() < 2 {
            continue;
        }
        if !registry.has(&id) {
            assert!(
                !subgroups && !source.header.needs.is_empty(),
                "{id} is missing"
            );
            assert!(!common::adapter_has(common::Needs::Subgroups));
            continue;
        }
        let options = GpuOptions {
            kernels: glassbox::gpu::variants::KernelChoice::only(&id),
            ..Default::default()
        };
        assert_gpu_matches_cpu(common::config(1, 3, 15, 37, 20), 1, &options);
        assert_gpu_matches_cpu(common::config(1, 3, 15, 37, 20), 7, &options);
        assert_gpu_matches_cpu(common::config(2, 5, 130, 301, 80), 65, &options);
        // Linear without a bias, grouped key/value heads in the attention kernels.
        assert_gpu_matches_cpu(llama((1, 4, 2, 136), 150, 97, false), 9, &options);
        let split = GpuOptions {
            max_chunk_rows: Some(3),
            ..options
        };
        assert_gpu_matches_cpu(common::config(1, 2, 66, 40, 16), 9, &split);
        checked += 1;
    }
    assert!(checked >= 12, "{checked} variants checked");
}

/// The GPU matmuls (linear/gemm, logits/gemm) load without bounds checks in blocks wholly
/// inside the output when the shared dimension is a multiple of their 8-channel slices: 136
/// channels and 130 tokens give both interior blocks (rows 0..127, columns 0..127 and
/// 128..255) and edge ones, in each variant, for both block heights.
#[test]
fn gemm_interior_and_edge_blocks_match_cpu() {
    for variant in ["gemm", "gemm_block_rows64"] {
        let mut options = GpuOptions::default();
        for family in ["linear", "logits"] {
            options.kernels.set(&KernelId::new(family, variant));
        }
        assert_gpu_matches_cpu(common::config(1, 4, 136, 301, 160), 130, &options);
    }
}

/// attn_fused=blocked and =lanes keep 64 output channels of a head in registers: a head of 80 channels
/// takes two sweeps, its score's channels past 64 read from memory; 70 tokens make two blocks
/// of queries, the second ragged.
#[test]
fn blocked_attention_on_heads_wider_than_64_matches_cpu() {
    for variant in ["blocked", "lanes"] {
        let options = GpuOptions {
            kernels: glassbox::gpu::variants::KernelChoice::only(&KernelId::new(
                "attn_fused",
                variant,
            )),
            ..Default::default()
        };
        assert_gpu_matches_cpu(common::config(1, 2, 160, 37, 80), 70, &options);
    }
}

/// docs/kernels.md's example: one WGSL file in a `--kernels` folder becomes a linear variant, runs the
/// linear ops in place of the default and matches the CPU reference; nothing in Rust names it.
#[test]
fn a_dropped_in_file_is_a_variant() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/kernels");
    let options = GpuOptions {
        kernel_dir: Some(dir.clone()),
        ..Default::default()
    };
    let gpu = pollster::block_on(glassbox::gpu::Gpu::new(&options)).expect("a GPU adapter");
    let registry = glassbox::gpu::KernelRegistry::for_gpu(&gpu).unwrap();
    let id = KernelId::new("linear", "unrolled");
    assert!(registry.has(&id));
    assert_eq!(registry.dropped_in("linear"), Some(id.clone()));
    let kind = glassbox::graph::OpKind::Linear {
        rows: 5,
        k: 7,
        n: 9,
        bias: true,
    };
    assert_eq!(gpu.kernels.kernel_for_op(&kind, &registry), id);
    for (config, t) in [
        (common::config(1, 3, 15, 37, 20), 7),
        (common::config(2, 5, 130, 301, 80), 65),
    ] {
        let model = Model::random(config.clone(), 7);
        let ids = common::ids(t, config.vocab_size, 11);
        let graph = Graph::forward(&config, t);
        let reference = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
        let (_, values) = common::gpu_forward(&gpu, &registry, &model, &ids);
        for op in graph
            .ops
            .iter()
            .filter(|op| op.kind.kernel_name() == "linear")
        {
            let out = op.outputs[0];
            assert!(
                compare(values.get(out), reference.get(out)).passes(),
                "{}",
                op.name
            );
        }
    }
    // Chosen by name, it is checked like any variant; a name no file gives is refused.
    let choice = glassbox::gpu::variants::KernelChoice::parse(&["linear=nope".into()]).unwrap();
    let error = choice.check(&registry).unwrap_err();
    assert!(error.contains("linear=unrolled"), "{error}");
}
