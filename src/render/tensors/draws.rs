//! What the tensor pass draws: the draw calls planned from the layout (heads as instances,
//! summaries of folded blocks), their bind groups (values and, for the difference view, the
//! CPU reference), and which of them are on screen.

use glam::Vec2;

use super::TensorRenderer;
use crate::gpu::{Gpu, GpuGraph};
use crate::render::{Layout, Panel};

/// One draw call: panels `first..first + count` of the layout, the heads of one tensor drawn as
/// instances (one draw per tensor rather than per head keeps the number of draws small).
#[derive(Clone, Copy, Debug)]
pub(super) struct Draw {
    pub first: usize,
    pub count: usize,
    pub shown: Shown,
}

/// When a draw is made, given which blocks are collapsed (see `collapse`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Shown {
    Always,
    /// A panel inside block region `r`, hidden while the block is collapsed.
    Expanded(usize),
    /// Block `r`'s summary stretched over the whole block, drawn only while it is collapsed.
    Collapsed(usize),
}

/// The draws of a graph's layout: the panels grouped into draws, then one stretched summary per
/// block for when it is collapsed.
pub(super) fn plan_draws(graph: &crate::graph::Graph, layout: &Layout) -> Vec<Draw> {
    use crate::render::collapse::{block_of, is_summary};
    let mut draws = group_draws(&layout.panels);
    let mut summaries = Vec::new();
    for draw in &mut draws {
        let tensor = layout.panels[draw.first].tensor;
        if let Some(region) = block_of(graph, layout, tensor) {
            draw.shown = Shown::Expanded(region);
            if is_summary(graph, tensor) {
                summaries.push(Draw {
                    shown: Shown::Collapsed(region),
                    ..*draw
                });
            }
        }
    }
    draws.extend(summaries);
    draws
}

/// Groups the layout's panels into draws: consecutive head panels of the same tensor share one.
fn group_draws(panels: &[Panel]) -> Vec<Draw> {
    let mut draws: Vec<Draw> = Vec::new();
    for (i, panel) in panels.iter().enumerate() {
        if let Some(last) = draws.last_mut() {
            let first = &panels[last.first];
            if panel.head.is_some()
                && first.head.is_some()
                && panel.tensor == first.tensor
                && panel.chunk == first.chunk
            {
                last.count += 1;
                continue;
            }
        }
        draws.push(Draw {
            first: i,
            count: 1,
            shown: Shown::Always,
        });
    }
    draws
}

/// Whether a panel covers any pixel: panels off screen, or smaller than half a pixel, are not
/// drawn, so that a frame costs what is on screen, not the size of the model.
pub(super) fn visible(
    origin: glam::Vec3,
    size: Vec2,
    view_proj: &glam::Mat4,
    viewport: Vec2,
) -> bool {
    let corners = [
        origin,
        origin + glam::Vec3::new(size.x, 0.0, 0.0),
        origin + glam::Vec3::new(0.0, -size.y, 0.0),
        origin + glam::Vec3::new(size.x, -size.y, 0.0),
    ];
    let mut lo = Vec2::splat(f32::MAX);
    let mut hi = Vec2::splat(f32::MIN);
    for corner in corners {
        let clip = *view_proj * corner.extend(1.0);
        if clip.w <= 0.0 {
            // Partly behind the camera: let the rasteriser clip it.
            return true;
        }
        let ndc = Vec2::new(clip.x, clip.y) / clip.w;
        lo = lo.min(ndc);
        hi = hi.max(ndc);
    }
    let on_screen = hi.x >= -1.0 && lo.x <= 1.0 && hi.y >= -1.0 && lo.y <= 1.0;
    let pixels = (hi - lo) * viewport / 2.0;
    on_screen && (pixels.x >= 0.5 || pixels.y >= 0.5)
}

/// The bind group of each draw: the tensor's buffer (chunk), and the buffer its values are
/// compared with in the difference view (the CPU reference; the buffer itself when none).
pub(super) fn tensor_groups(
    gpu: &Gpu,
    values_layout: &wgpu::BindGroupLayout,
    layout: &Layout,
    draws: &[Draw],
    graph: &GpuGraph,
    reference: Option<&[Option<crate::gpu::GpuTensor>]>,
) -> Vec<wgpu::BindGroup> {
    draws
        .iter()
        .map(|d| &layout.panels[d.first])
        .map(|p| {
            let values = &graph.tensor(p.tensor).chunks[p.chunk];
            let expected = reference
                .and_then(|r| r[p.tensor].as_ref())
                .map_or(values, |t| &t.chunks[p.chunk]);
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("tensor values"),
                layout: values_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: values.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: expected.as_entire_binding(),
                    },
                ],
            })
        })
        .collect()
}

impl TensorRenderer {
    /// Colours activations by |GPU - CPU| against `reference` (per tensor, chunked like the
    /// tensor; `None` entries compare a tensor with itself), or by value again with `None`.
    /// A difference of `threshold` x max(1, absmax) is red; `None` is the tolerance of the
    /// graph's precision. Call `set_states` after it.
    pub fn set_reference(
        &mut self,
        gpu: &Gpu,
        graph: &GpuGraph,
        reference: Option<&[Option<crate::gpu::GpuTensor>]>,
        threshold: Option<f32>,
    ) {
        self.difference = reference.is_some();
        self.difference_threshold = threshold.unwrap_or(graph.precision.tolerance());
        self.tensor_groups = tensor_groups(
            gpu,
            &self.values_layout,
            &self.layout,
            &self.draws,
            graph,
            reference,
        );
    }
}
