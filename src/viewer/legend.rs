//! The legend of one tensor: its colour scale read from the GPU, when the tensor shown changes.

use super::Viewer;
use crate::gpu::GpuError;
use crate::graph::TensorId;
use crate::render::legend::{read, Legend};
use crate::render::names::plain_name;

impl Viewer {
    /// The colour scale `tensor` is drawn with (one readback).
    pub async fn legend(&self, tensor: TensorId) -> Result<Legend, GpuError> {
        let (scale, absmax) = read(&self.gpu, self.renderer.scale_buffers(), tensor).await?;
        let graph = self.graph.graph();
        Ok(Legend {
            tensor,
            name: plain_name(&graph.tensors[tensor].name),
            scale,
            absmax,
            probability: graph.is_probability(tensor),
        })
    }
}
