//! Execution traces of any op: every workgroup gets one start rank (1..=N), every output cell
//! is written by exactly one workgroup, the traced run computes the same output, and the cells
//! group the way the kernel's dispatch says.

mod common;

use glassbox::gpu::{GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use glassbox::graph::Graph;
use glassbox::model::Model;

fn graph(options: &GpuOptions) -> (glassbox::gpu::Gpu, KernelRegistry, GpuGraph) {
    let (gpu, registry) = common::gpu(options);
    let config = common::config(1, 5, 130, 301, 80);
    let model = Model::random(config.clone(), 2);
    let ids = common::ids(65, config.vocab_size, 4);
    let weights = pollster::block_on(GpuModel::upload(&gpu, &model)).unwrap();
    let graph = Graph::forward(&config, ids.len());
    let run = pollster::block_on(GpuGraph::new(&gpu, &registry, graph, &weights)).unwrap();
    run.set_ids(&gpu, &ids).unwrap();
    run.run(&gpu, &registry);
    (gpu, registry, run)
}

/// [`graph`] with the given `--kernel` choices.
fn graph_with(choices: &[&str]) -> (glassbox::gpu::Gpu, KernelRegistry, GpuGraph) {
    let choices: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
    graph(&GpuOptions {
        kernels: glassbox::gpu::variants::KernelChoice::parse(&choices).unwrap(),
        ..Default::default()
    })
}

#[test]
fn every_op_traces_one_rank_per_workgroup_and_keeps_its_output() {
    let (gpu, registry, run) = graph(&GpuOptions::default());
    for name in [
        "embed",
        "h.0.ln_1",
        "h.0.attn.c_attn",
        "h.0.attn.scores",
        "h.0.attn.softmax",
        "h.0.attn.mix",
        "h.0.mlp.gelu",
        "h.0.resid_out",
        "logits",
    ] {
        let op = run.graph().op_index(name).unwrap();
        let output = run.graph().ops[op].outputs[0];
        let before = pollster::block_on(run.read(&gpu, output)).unwrap();
        let trace = pollster::block_on(run.trace(&gpu, &registry, op))
            .unwrap()
            .unwrap_or_else(|| panic!("{name} can be traced"));
        let after = pollster::block_on(run.read(&gpu, output)).unwrap();
        assert_eq!(
            before, after,
            "{name}: the traced run computes the same output"
        );
        assert!(
            trace
                .cells
                .iter()
                .all(|&r| (1..=trace.workgroups).contains(&r)),
            "{name}"
        );
        // Every workgroup the op launched started once, took one rank, and wrote cells: the
        // ranks in the cells are exactly 1..=N.
        let launched: u32 = run
            .launches(op)
            .iter()
            .map(|l| l.workgroups.iter().product::<u32>())
            .sum();
        assert_eq!(trace.workgroups, launched, "{name}");
        let mut ranks: Vec<u32> = trace.cells.clone();
        ranks.sort_unstable();
        ranks.dedup();
        assert_eq!(ranks, (1..=launched).collect::<Vec<_>>(), "{name}");
    }
}

#[test]
fn cells_group_as_the_dispatch_says() {
    let (gpu, registry, run) = graph_with(&["linear=blocked", "softmax=workgroup"]);
    // The blocked linear kernel: each workgroup writes a 4-row x 256-column tile.
    let op = run.graph().op_index("h.0.mlp.c_fc").unwrap();
    let trace = pollster::block_on(run.trace(&gpu, &registry, op))
        .unwrap()
        .unwrap();
    let cols = 4 * 130;
    assert_eq!(trace.workgroups, 3 * 17, "520 columns / 256, 65 rows / 4");
    let rank = |r: usize, c: usize| trace.cells[r * cols + c];
    assert_eq!(rank(0, 0), rank(3, 255));
    assert_ne!(rank(0, 0), rank(4, 0));
    assert_ne!(rank(0, 0), rank(0, 256));
    // The softmax: one workgroup per row of attention scores.
    let op = run.graph().op_index("h.0.attn.softmax").unwrap();
    let trace = pollster::block_on(run.trace(&gpu, &registry, op))
        .unwrap()
        .unwrap();
    assert_eq!(trace.workgroups, 5 * 65);
    for row in trace.cells.chunks(65) {
        assert!(row.iter().all(|&r| r == row[0]));
    }
}

/// The broadcast linear kernel (where the adapter has subgroups): each workgroup writes 64 rows
/// of 32 columns.
#[test]
fn broadcast_cells_group_as_its_dispatch_says() {
    if !common::adapter_has(common::Needs::Subgroups) {
        return;
    }
    let (gpu, registry, run) = graph_with(&["linear=broadcast"]);
    let op = run.graph().op_index("h.0.mlp.c_fc").unwrap();
    let trace = pollster::block_on(run.trace(&gpu, &registry, op))
        .unwrap()
        .unwrap();
    let cols = 4 * 130;
    assert_eq!(trace.workgroups, 17 * 2, "520 columns / 32, 65 rows / 64");
    let rank = |r: usize, c: usize| trace.cells[r * cols + c];
    assert_eq!(rank(0, 0), rank(63, 31));
    assert_ne!(rank(0, 0), rank(64, 0));
    assert_ne!(rank(0, 0), rank(0, 32));
}
