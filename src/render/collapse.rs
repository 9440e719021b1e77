//! Level of detail for deep models: a transformer block too small on screen to read is drawn
//! as its summary, the residual stream it hands on (`h.N.resid_out`), under one label; its
//! other panels, labels and arrows appear once the camera comes close. GPT-2 xl's 48 blocks
//! then read as a column of residual streams from afar, and a frame draws a few dozen panels
//! instead of thousands.

use glam::{Vec2, Vec3};

use super::{Camera, Layout};
use crate::graph::{Graph, TensorId};

/// A block whose ops get fewer screen pixels (or points) each than this collapses.
pub const MIN_PIXELS_PER_OP: f32 = 5.0;

/// The block region a tensor belongs to ("h.3.attn.q" is in "block 3"), if any.
pub fn block_of(graph: &Graph, layout: &Layout, tensor: TensorId) -> Option<usize> {
    let rest = graph.tensors[tensor].name.strip_prefix("h.")?;
    let block = format!("block {}", rest.split('.').next()?);
    layout.regions.iter().position(|r| r.name == block)
}

/// Whether a tensor stays drawn when its block is collapsed: the block's output.
pub fn is_summary(graph: &Graph, tensor: TensorId) -> bool {
    graph.tensors[tensor].name.ends_with(".resid_out")
}

impl Layout {
    /// For each region, whether it is drawn collapsed by `camera` in a `viewport` (pixels or
    /// points, matching MIN_PIXELS_PER_OP's unit).
    pub fn collapsed(&self, camera: &Camera, viewport: Vec2) -> Vec<bool> {
        self.regions
            .iter()
            .map(|region| {
                if !region.name.starts_with("block ") {
                    return false;
                }
                let top = camera.project(Vec3::new(region.min.x, region.max.y, 0.0), viewport);
                let bottom = camera.project(Vec3::new(region.min.x, region.min.y, 0.0), viewport);
                match (top, bottom) {
                    (Some(a), Some(b)) => (a - b).length() < MIN_PIXELS_PER_OP * region.ops as f32,
                    // Partly behind the camera: close enough to show everything.
                    _ => false,
                }
            })
            .collect()
    }

    /// Per tensor: whether it is hidden because its block is collapsed.
    pub fn hidden_tensors(&self, graph: &Graph, collapsed: &[bool]) -> Vec<bool> {
        (0..graph.tensors.len())
            .map(|id| {
                block_of(graph, self, id).is_some_and(|r| collapsed[r]) && !is_summary(graph, id)
            })
            .collect()
    }
}
