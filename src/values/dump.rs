//! Writing a forward pass to safetensors: every non-weight tensor under its graph name, plus the
//! Hugging Face aliases (`logits`, `hidden_states.{i}`, `attentions.{l}`) so that a dump compares
//! directly with what `transformers` returns.

use std::collections::BTreeMap;

use safetensors::tensor::TensorView;
use safetensors::Dtype;

use crate::graph::{DType, Graph, Role};
use crate::values::TensorValues;

/// The dump as safetensors bytes. `input_ids` is stored as I32, as the Hugging Face reference
/// files store it; everything else as F32.
pub fn to_safetensors(
    graph: &Graph,
    values: &TensorValues,
) -> Result<Vec<u8>, safetensors::SafeTensorError> {
    let mut bytes: BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)> = BTreeMap::new();
    let encode = |id: usize| {
        let tensor = &graph.tensors[id];
        let data = &values.values[id];
        match tensor.dtype {
            DType::U32 => {
                let ints: Vec<i32> = data.iter().map(|&v| v as i32).collect();
                (
                    Dtype::I32,
                    tensor.shape.clone(),
                    bytemuck::cast_slice(&ints).to_vec(),
                )
            }
            DType::F32 => (
                Dtype::F32,
                tensor.shape.clone(),
                bytemuck::cast_slice(data).to_vec(),
            ),
        }
    };
    for (id, tensor) in graph.tensors.iter().enumerate() {
        if tensor.role != Role::Weight {
            bytes.insert(tensor.name.clone(), encode(id));
        }
    }
    for (alias, id) in graph.hf_aliases() {
        bytes.insert(alias, encode(id));
    }
    let views = bytes
        .iter()
        .map(|(name, (dtype, shape, data))| {
            TensorView::new(*dtype, shape.clone(), data).map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, None)
}
