//! Drawing the graph's tensors straight from the storage buffers the kernels wrote: one quad per
//! panel, coloured per pixel by a fragment shader that reads the tensor's buffer. Nothing is
//! copied and nothing is read back.

pub mod camera;
pub mod collapse;
pub mod flow;
pub mod layout;
pub mod legend;
pub mod names;
pub mod offscreen;
pub mod overlay;
pub mod picture;
pub mod style;
pub mod target;
mod tensors;
pub mod trace;
pub mod why;

pub use camera::Camera;
pub use layout::{Layout, Panel};
pub use tensors::{TensorRenderer, View, TENSOR_SHADER};

use crate::gpu::Gpu;
use crate::graph::{Role, TensorId};

/// How a tensor is drawn at the moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorState {
    NotComputed,
    Computed,
    CurrentInput,
    CurrentOutput,
}

/// A highlighted row or column of a tensor's panels (the operands of a hovered cell).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Highlight {
    pub tensor: TensorId,
    /// For tensors drawn one panel per head: which head.
    pub head: Option<usize>,
    pub row: Option<usize>,
    pub col: Option<usize>,
}

/// Uploads what egui needs to draw `jobs` (new textures, vertex buffers); returns command
/// buffers egui recorded, to submit before the encoder that draws it.
pub fn prepare_egui(
    renderer: &mut egui_wgpu::Renderer,
    gpu: &Gpu,
    encoder: &mut wgpu::CommandEncoder,
    textures: &egui::TexturesDelta,
    jobs: &[egui::ClippedPrimitive],
    screen: &egui_wgpu::ScreenDescriptor,
) -> Vec<wgpu::CommandBuffer> {
    for (id, deltas) in &textures.set {
        for delta in deltas {
            renderer.update_texture(&gpu.device, &gpu.queue, *id, delta);
        }
    }
    renderer.update_buffers(&gpu.device, &gpu.queue, encoder, jobs, screen)
}

/// Frees the textures egui no longer uses, after the frame that last drew them.
pub fn finish_egui(renderer: &mut egui_wgpu::Renderer, textures: &egui::TexturesDelta) {
    for id in &textures.free {
        renderer.free_texture(id);
    }
}

/// The state of every tensor after the first `op_count` ops have run, with op `current` (if any)
/// highlighted together with the tensors it reads.
pub fn tensor_states(
    graph: &crate::graph::Graph,
    op_count: usize,
    current: Option<usize>,
) -> Vec<TensorState> {
    let mut states: Vec<TensorState> = graph
        .tensors
        .iter()
        .map(|t| match t.role {
            Role::Weight | Role::Input => TensorState::Computed,
            _ => TensorState::NotComputed,
        })
        .collect();
    for op in &graph.ops[..op_count.min(graph.ops.len())] {
        for &out in &op.outputs {
            states[out] = TensorState::Computed;
        }
    }
    if let Some(op) = current.and_then(|i| graph.ops.get(i)) {
        for &input in &op.inputs {
            states[input] = TensorState::CurrentInput;
        }
        for &out in &op.outputs {
            states[out] = TensorState::CurrentOutput;
        }
    }
    states
}
