//! Execution traces: every workgroup of a traced linear op reports once, the ranks are the
//! order 1..=N, and the traced run computes the same output as the normal one.

mod common;

use glassbox::gpu::{GpuGraph, GpuModel, GpuOptions};
use glassbox::graph::Graph;
use glassbox::model::Model;

#[test]
fn a_trace_ranks_every_workgroup_once_and_keeps_the_output() {
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    let config = common::config(1, 5, 130, 301, 80);
    let model = Model::random(config.clone(), 2);
    let ids = common::ids(65, config.vocab_size, 4);
    let weights = pollster::block_on(GpuModel::upload(&gpu, &model)).unwrap();
    let graph = Graph::gpt2(&config, ids.len());
    let run = pollster::block_on(GpuGraph::new(&gpu, &registry, graph, &weights)).unwrap();
    run.set_ids(&gpu, &ids).unwrap();
    run.run(&gpu, &registry);
    let op = run.graph.op_index("h.0.mlp.c_fc").unwrap();
    let output = run.graph.ops[op].outputs[0];
    let before = pollster::block_on(run.read(&gpu, output)).unwrap();

    let trace = pollster::block_on(run.trace(&gpu, &registry, op))
        .unwrap()
        .unwrap();
    // 65 rows in tiles of 4, 520 columns in tiles of 256.
    assert_eq!(trace.groups, [3, 17]);
    let mut ranks = trace.rank.clone();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=51).collect::<Vec<u32>>());
    assert_eq!(
        trace.tile(50),
        (64, 512, 1, 8),
        "the last tile is clipped to the output"
    );
    let after = pollster::block_on(run.read(&gpu, output)).unwrap();
    assert_eq!(before, after);

    let softmax = run.graph.op_index("h.0.attn.softmax").unwrap();
    assert!(!run.can_trace(softmax));
    assert!(pollster::block_on(run.trace(&gpu, &registry, softmax))
        .unwrap()
        .is_none());
}
