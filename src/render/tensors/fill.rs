//! Data seen moving: an op's output drawn filling in the order the GPU wrote it. The execution
//! trace (which workgroup wrote each cell, ranked by when it started) is uploaded once per op;
//! each frame then only moves the last rank shown, so the animation reads nothing back.

use wgpu::util::DeviceExt;

use super::{frame_groups, TensorRenderer};
use crate::gpu::trace::ExecutionTrace;
use crate::gpu::Gpu;
use crate::graph::TensorId;

/// The op being animated: its output tensor and how many workgroups wrote it.
#[derive(Clone, Copy, Debug)]
pub(super) struct FillOrder {
    tensor: TensorId,
    workgroups: u32,
}

/// A ranks buffer for when nothing is animated (a binding cannot be empty).
pub(super) fn empty_ranks(gpu: &Gpu) -> wgpu::Buffer {
    ranks_buffer(gpu, &[0])
}

fn ranks_buffer(gpu: &Gpu, ranks: &[u32]) -> wgpu::Buffer {
    gpu.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("fill order"),
            contents: bytemuck::cast_slice(ranks),
            usage: wgpu::BufferUsages::STORAGE,
        })
}

impl TensorRenderer {
    /// Animates `trace`'s output filling in (all of it shown until `set_revealed` says
    /// otherwise), or stops animating with `None`.
    pub fn set_fill_order(&mut self, gpu: &Gpu, trace: Option<&ExecutionTrace>) {
        let ranks = match trace {
            Some(t) if !t.cells.is_empty() => ranks_buffer(gpu, &t.cells),
            _ => empty_ranks(gpu),
        };
        self.frame_groups = frame_groups(
            &gpu.device,
            &self.frame_layout,
            &self.camera_buffers,
            &self.panel_buffer,
            &self.scale,
            &ranks,
        );
        self.fill = trace.map(|t| FillOrder {
            tensor: t.output,
            workgroups: t.workgroups,
        });
        self.set_revealed(gpu, u32::MAX);
    }

    /// Shows the cells of the workgroups that started first, up to rank `rank` (from 1); the
    /// cells of rank `rank` are tinted as the ones being written.
    pub fn set_revealed(&mut self, gpu: &Gpu, rank: u32) {
        let tensor = self.fill.map(|f| f.tensor);
        for (uniform, draw) in self.panels.iter_mut().zip(&self.draws) {
            let shown = Some(self.layout.panels[draw.first].tensor) == tensor;
            uniform.reveal = if shown { rank } else { u32::MAX };
        }
        self.upload_panels(gpu);
    }

    /// How many workgroups the animated op launched, if one is animated.
    pub fn fill_workgroups(&self) -> Option<u32> {
        self.fill.map(|f| f.workgroups)
    }
}
