//! Hovering any cell of a Llama-family model explains it: every element of every computed
//! tensor gets an explanation whose operands lie inside their tensors, and the ops whose
//! equation is a plain product or copy reproduce the cell's value from the operands'.

mod common;

use glassbox::graph::{Graph, OpKind, Role};
use glassbox::model::Model;
use glassbox::viewer::hover::explain;

fn unflatten(shape: &[usize], mut element: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &n) in shape.iter().enumerate().rev() {
        index[i] = element % n;
        element /= n;
    }
    index
}

#[test]
fn every_cell_of_a_llama_is_explained() {
    for case in ["tiny_llama", "tiny_qwen2"] {
        let model = Model::load_dir(&common::oracle_dir(case)).unwrap();
        let ids = [5, 9, 17];
        let graph = Graph::forward(&model.config, ids.len());
        let values = glassbox::cpu::forward(&graph, &model, &ids).unwrap();
        let mut checked = 0;
        for (id, tensor) in graph.tensors.iter().enumerate() {
            if tensor.role == Role::Weight {
                continue;
            }
            let op = graph.ops.iter().find(|op| op.outputs.contains(&id));
            for element in 0..tensor.len() {
                let index = unflatten(&tensor.shape, element);
                let e = explain(&graph, id, &index, &ids);
                for operand in &e.operands {
                    assert!(
                        operand.element < graph.tensors[operand.tensor].len(),
                        "{case} {}{index:?}: operand {} out of its tensor",
                        tensor.name,
                        operand.label
                    );
                }
                let Some(op) = op else { continue };
                let value = values.get(id)[element];
                let operand = |k: usize| {
                    let (tensor, element) = (e.operands[k].tensor, e.operands[k].element);
                    match graph.tensors[tensor].role {
                        Role::Weight => {
                            model.weights.get(&graph.tensors[tensor].name).unwrap()[element]
                        }
                        _ => values.get(tensor)[element],
                    }
                };
                let expected = match op.kind {
                    OpKind::RmsNorm { .. } if op.outputs[0] == id => {
                        operand(0) * operand(1) * operand(2)
                    }
                    OpKind::SwiGlu { .. } => {
                        let gate = operand(0);
                        gate / (1.0 + (-gate).exp()) * operand(1)
                    }
                    OpKind::Heads { .. } | OpKind::EmbedTokens { .. } => operand(0),
                    OpKind::Rope { .. } => {
                        assert!(e.detail.contains("rad"), "{}", e.detail);
                        continue;
                    }
                    _ => continue,
                };
                assert!(
                    (expected - value).abs() <= 1e-4 * value.abs().max(1.0),
                    "{case} {}{index:?}: {expected} from the operands, {value} computed",
                    tensor.name
                );
                checked += 1;
            }
        }
        assert!(checked > 1000, "{case}: {checked} cells checked");
    }
}
