//! The whole forward pass against Hugging Face transformers' outputs, on both backends.

mod common;

use glassbox::gpu::GpuOptions;
use glassbox::graph::Graph;
use glassbox::model::Model;
use glassbox::values::compare::compare;
use glassbox::values::TensorValues;

const CASES: [&str; 6] = [
    "tiny_2l",
    "tiny_prefixed",
    "tiny_llama",
    "tiny_qwen2",
    "llama_odd",
    "mistral_sharded",
];

fn ids_of(case: &str) -> Vec<u32> {
    let expected = common::read_expected(&common::oracle_dir(case).join("expected.safetensors"));
    let (_, _, ids) = expected.iter().find(|(n, _, _)| n == "input_ids").unwrap();
    ids.iter().map(|&v| v as u32).collect()
}

/// Every tensor of the reference file (logits, every hidden state, every attention map) within
/// the shared tolerance, with the same shape.
fn assert_matches_oracle(case: &str, backend: &str, graph: &Graph, values: &TensorValues) {
    let expected = common::read_expected(&common::oracle_dir(case).join("expected.safetensors"));
    let aliases = graph.hf_aliases();
    let mut checked = 0;
    for (name, shape, want) in &expected {
        if name == "input_ids" {
            continue;
        }
        let &(_, id) = aliases
            .iter()
            .find(|(alias, _)| alias == name)
            .unwrap_or_else(|| panic!("{case}: no alias for {name}"));
        assert_eq!(
            &graph.tensors[id].shape, shape,
            "{case} {backend} {name}: shape"
        );
        let diff = compare(values.get(id), want);
        assert!(diff.passes(), "{case} {backend} {name}: {diff:?}");
        checked += 1;
    }
    let n_layer = graph.config.n_layer;
    assert_eq!(
        checked,
        1 + (n_layer + 1) + n_layer,
        "{case}: every alias checked"
    );
}

#[test]
fn cpu_reference_matches_transformers() {
    for case in CASES {
        let model = Model::load_dir(&common::oracle_dir(case)).unwrap();
        let ids = ids_of(case);
        let graph = Graph::forward(&model.config, ids.len());
        let values = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
        assert_matches_oracle(case, "cpu", &graph, &values);
    }
}

#[test]
fn gpu_matches_transformers() {
    let (gpu, registry) = common::gpu(&GpuOptions::default());
    for case in CASES {
        let model = Model::load_dir(&common::oracle_dir(case)).unwrap();
        let ids = ids_of(case);
        let (graph, values) = common::gpu_forward(&gpu, &registry, &model, &ids);
        assert_matches_oracle(case, "gpu", &graph, &values);
    }
}

/// With at most 5 rows per buffer, `wte`, `logits` and `probs` are split into many buffers, the
/// last one shorter:
/// the split paths of the embedding, the output head and the softmax must give the same answers.
#[test]
fn gpu_matches_transformers_with_split_buffers() {
    let options = GpuOptions {
        max_chunk_rows: Some(5),
        ..Default::default()
    };
    let (gpu, registry) = common::gpu(&options);
    for case in CASES {
        let model = Model::load_dir(&common::oracle_dir(case)).unwrap();
        let ids = ids_of(case);
        let (graph, values) = common::gpu_forward(&gpu, &registry, &model, &ids);
        assert_matches_oracle(case, "gpu split", &graph, &values);
    }
}
