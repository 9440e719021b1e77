//! Checking a whole forward pass against a reference file in the oracle layout
//! (`expected.safetensors` from Hugging Face transformers: `input_ids`, `logits`,
//! `hidden_states.{i}`, `attentions.{l}`): what the browser page runs to show its numbers are
//! transformers' numbers.

use safetensors::{Dtype, SafeTensors};

use super::compare::{compare, Difference};
use super::TensorValues;
use crate::graph::Graph;

/// One reference tensor against ours.
#[derive(Clone, Debug)]
pub struct Checked {
    pub name: String,
    pub difference: Difference,
}

/// The token ids a reference file was computed for (`input_ids`, int32).
pub fn reference_ids(file: &str, bytes: &[u8]) -> Result<Vec<u32>, String> {
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| format!("{file}: {e}"))?;
    let view = tensors
        .tensor("input_ids")
        .map_err(|e| format!("{file}: input_ids: {e}"))?;
    if view.dtype() != Dtype::I32 {
        return Err(format!(
            "{file}: input_ids: expected int32, found {:?}",
            view.dtype()
        ));
    }
    Ok(bytemuck::pod_collect_to_vec::<u8, i32>(view.data())
        .into_iter()
        .map(|v| v as u32)
        .collect())
}

/// Every float tensor of the reference file against the tensor of `graph` it names (through
/// [`Graph::hf_aliases`]), with the oracle's pass mark. A name we do not compute, a shape that
/// differs or a dtype other than float32 is an error naming the tensor.
pub fn check_against(
    file: &str,
    bytes: &[u8],
    graph: &Graph,
    values: &TensorValues,
) -> Result<Vec<Checked>, String> {
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| format!("{file}: {e}"))?;
    let aliases = graph.hf_aliases();
    let mut names: Vec<String> = tensors
        .names()
        .into_iter()
        .filter(|n| *n != "input_ids")
        .map(str::to_string)
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let view = tensors
                .tensor(&name)
                .map_err(|e| format!("{file}: {name}: {e}"))?;
            if view.dtype() != Dtype::F32 {
                return Err(format!(
                    "{file}: {name}: expected float32, found {:?}",
                    view.dtype()
                ));
            }
            let &(_, id) = aliases
                .iter()
                .find(|(alias, _)| *alias == name)
                .ok_or_else(|| format!("{file}: {name}: no tensor of the graph has this name"))?;
            if graph.tensors[id].shape != view.shape() {
                return Err(format!(
                    "{file}: {name}: expected shape {:?}, the graph has {:?}",
                    view.shape(),
                    graph.tensors[id].shape
                ));
            }
            let expected = bytemuck::pod_collect_to_vec::<u8, f32>(view.data());
            Ok(Checked {
                difference: compare(values.get(id), &expected),
                name,
            })
        })
        .collect()
}
