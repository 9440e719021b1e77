//! Ablation in the viewer: units switched off in every run, and the difference view turned into
//! "what changed": every tensor against the same run without the ablation.

use super::Viewer;
use crate::gpu::GpuError;
use crate::graph::probe::Ablations;
use crate::graph::{Graph, TensorId};
use crate::values::TensorValues;

/// In the difference view of an ablated run, a change as large as the tensor's largest value
/// (or 1) is red; the scale is logarithmic below it.
pub const ABLATION_DIFFERENCE_RED: f32 = 1.0;

impl Viewer {
    pub fn ablations(&self) -> &Ablations {
        &self.ablations
    }

    /// Switches `ablations` on from now on (an empty set switches everything back on): the graph
    /// is rebuilt with them and runs again. A unit the model does not have, or a mean ablation
    /// while decoding, is refused and nothing changes.
    pub async fn set_ablations(&mut self, ablations: Ablations) -> Result<(), GpuError> {
        ablations
            .check(&self.scene.model.config)
            .map_err(GpuError::Ablation)?;
        if ablations.mean && self.decoding {
            return Err(GpuError::Ablation(
                "a mean over positions needs every position at once; turn the KV cache off first"
                    .to_string(),
            ));
        }
        if ablations == self.ablations {
            return Ok(());
        }
        self.ablations = ablations;
        self.current = None;
        self.op_count = usize::MAX;
        self.rerun().await?;
        if self.difference.is_some() {
            self.refresh_difference().await?;
        }
        Ok(())
    }

    /// Where the difference view's red begins, relative to max(1, absmax): the precision's
    /// tolerance against the CPU reference, or a whole value's change against the run without
    /// ablations.
    pub(super) fn difference_threshold(&self) -> Option<f32> {
        (!self.ablations.is_empty()).then_some(ABLATION_DIFFERENCE_RED)
    }

    /// What an ablated run is compared with: the CPU reference of the graph without ablations,
    /// by tensor name; an ablation op's output is compared with what it replaced (its input
    /// before any ablation), so the switched-off unit itself lights up.
    pub(super) fn without_ablations(
        &self,
        reference: impl Fn(&Graph) -> Result<TensorValues, GpuError>,
    ) -> Result<TensorValues, GpuError> {
        let graph = self.graph.graph();
        let config = &self.scene.model.config;
        let clean_graph = match graph.decode_capacity {
            Some(capacity) => Graph::decode(config, capacity),
            None => Graph::forward(config, graph.seq_len),
        };
        let clean = reference(&clean_graph)?;
        let mut values = TensorValues::zeroed(graph);
        for (id, tensor) in graph.tensors.iter().enumerate() {
            if !tensor.is_computed_float() {
                continue;
            }
            let name = &graph.tensors[original(graph, id)].name;
            if let Some(clean_id) = clean_graph.tensor_id(name) {
                values.values[id] = clean.get(clean_id).to_vec();
            }
        }
        Ok(values)
    }
}

/// The tensor an ablated one stands for: following ablation ops back to the first input.
fn original(graph: &Graph, mut id: TensorId) -> TensorId {
    while let Some(op) = graph.ops.iter().find(|op| {
        matches!(op.kind, crate::graph::OpKind::Ablate { .. }) && op.outputs.contains(&id)
    }) {
        id = op.inputs[0];
    }
    id
}

impl Viewer {
    /// The "why" tools on this viewer's device and weights (nothing uploaded again).
    pub fn why_runner(&self) -> crate::why::Runner<'_> {
        crate::why::Runner::Gpu {
            gpu: &self.gpu,
            registry: &self.registry,
            weights: &self.gpu_model,
        }
    }
}

impl Viewer {
    /// Every next-token probability after the last position, by token id (one readback).
    pub async fn next_token_probs(&self) -> Result<Vec<f32>, GpuError> {
        let probs = crate::why::tensor(self.graph(), "probs");
        self.graph
            .tensor(probs)
            .read_row(&self.gpu, self.last_row())
            .await
    }

    /// The same without the ablations: the full pass run again on this device, its last row
    /// of probabilities read back.
    pub async fn next_token_probs_without_ablations(&self) -> Result<Vec<f32>, GpuError> {
        let graph = Graph::forward(&self.scene.model.config, self.ids.len());
        let probs = crate::why::tensor(&graph, "probs");
        let rows = self
            .why_runner()
            .run(&graph, &self.ids, &[], &[probs])
            .await
            .map_err(|e| match e {
                crate::why::WhyError::Gpu(e) => e,
                other => GpuError::Ablation(other.to_string()),
            })?;
        let v = self.scene.model.config.vocab_size;
        Ok(rows[0][(self.ids.len() - 1) * v..].to_vec())
    }
}
