//! Execution traces of any op: its kernel runs once more in a trace version derived from its
//! current source (`wgsl::trace_source`), which records, for every output cell, the start rank of the
//! workgroup that wrote it. One readback per trace, made when asked.

use super::launch::bind_group;
use super::{Gpu, GpuError, GpuGraph, KernelRegistry};

#[derive(Clone, Debug)]
pub struct ExecutionTrace {
    /// The op's index in the graph.
    pub op: usize,
    /// The output tensor the cells belong to.
    pub output: usize,
    /// Workgroups launched, over all the op's dispatches.
    pub workgroups: u32,
    /// Per output element: the rank (from 1) of the workgroup that wrote it; 0 if none did.
    pub cells: Vec<u32>,
}

impl GpuGraph {
    /// Whether op `index` can be traced: its output must be one buffer.
    pub fn can_trace(&self, index: usize) -> bool {
        self.tensors[self.graph.ops[index].outputs[0]].chunks.len() == 1
    }

    /// Runs op `index` once more with the trace version of its kernel (same inputs, same
    /// outputs) and reads back which workgroup wrote each output cell. `None` when the output
    /// is split over several buffers.
    pub async fn trace(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        index: usize,
    ) -> Result<Option<ExecutionTrace>, GpuError> {
        if !self.can_trace(index) {
            return Ok(None);
        }
        let op = &self.graph.ops[index];
        let output = op.outputs[0];
        let tensor = &self.tensors[output];
        let cells_len = tensor.rows * tensor.row_len;
        let plan = &self.plans[index];
        let kernel = &plan[0].kernel;
        let (layout, pipeline) = registry.trace_pipeline(&gpu.device, kernel, self.precision)?;
        let storage = |label, size: usize| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(4) as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        };
        let counter = storage("trace counter", 4);
        let cells = storage("trace cells", 4 * cells_len);
        let groups: Vec<wgpu::BindGroup> = plan
            .iter()
            .map(|dispatch| {
                let mut buffers: Vec<&wgpu::Buffer> = dispatch.buffers.iter().collect();
                buffers.extend([&counter, &cells]);
                bind_group(gpu, &layout, "execution trace", &dispatch.params, &buffers)
            })
            .collect();
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("execution trace"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&pipeline);
            for (dispatch, group) in plan.iter().zip(&groups) {
                pass.set_bind_group(0, group, &[]);
                let [x, y, z] = dispatch.workgroups;
                pass.dispatch_workgroups(x, y, z);
            }
        }
        gpu.submit_timed(encoder.finish());
        let bytes = gpu
            .read_buffers(&[(&counter, 4), (&cells, 4 * cells_len as u64)])
            .await?;
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes);
        Ok(Some(ExecutionTrace {
            op: index,
            output,
            workgroups: words[0],
            cells: words[1..].to_vec(),
        }))
    }
}
