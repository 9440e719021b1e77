//! The legend of one tensor: its colour scale read from the GPU, when the tensor shown changes.

use super::Viewer;
use crate::gpu::GpuError;
use crate::graph::{DType, TensorId};
use crate::render::legend::{read, Legend};
use crate::render::names::plain_name;

impl Viewer {
    /// The colour scale `tensor` is drawn with (one readback); `None` where its cells are not
    /// coloured by value: token ids (a grey ramp of ids) and the difference view (errors).
    pub async fn legend(&self, tensor: TensorId) -> Result<Option<Legend>, GpuError> {
        let graph = self.graph.graph();
        let by_value = graph.tensors[tensor].dtype == DType::F32
            && !(self.difference().is_some() && graph.tensors[tensor].is_computed_float());
        if !by_value {
            return Ok(None);
        }
        let (scale, absmax) = read(&self.gpu, self.renderer.scale_buffers(), tensor).await?;
        Ok(Some(Legend {
            tensor,
            name: plain_name(&graph.tensors[tensor].name),
            scale,
            absmax,
            probability: graph.is_probability(tensor),
        }))
    }
}
