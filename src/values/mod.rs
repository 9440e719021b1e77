//! The computed values of a graph's tensors, by tensor id, whichever backend produced them;
//! how two sets compare (`compare`) and how they are written out (`dump`).

pub mod compare;
pub mod dump;
pub mod reference;

use crate::graph::{Graph, Role, TensorId};

#[derive(Clone, Debug)]
pub struct TensorValues {
    /// One entry per tensor of the graph; weights (which live in the model) are left empty.
    pub values: Vec<Vec<f32>>,
}

impl TensorValues {
    /// Every non-weight tensor of the graph at zero.
    pub fn zeroed(graph: &Graph) -> TensorValues {
        let values = graph
            .tensors
            .iter()
            .map(|t| match t.role {
                Role::Weight => Vec::new(),
                _ => vec![0.0; t.len()],
            })
            .collect();
        TensorValues { values }
    }

    pub fn get(&self, id: TensorId) -> &[f32] {
        &self.values[id]
    }
}
