//! Execution traces: for a linear op, which workgroup computed which tile of the output, and
//! the order in which they finished, recorded on the device by `linear_trace.wgsl` with an
//! atomic counter. One readback per trace, made when asked.

use super::executor::bind_kernel;
use super::{Gpu, GpuError, GpuGraph, KernelRegistry};
use crate::graph::OpKind;

/// Output rows and columns each workgroup of `linear_trace` covers.
const TILE_ROWS: usize = 4;
const TILE_COLS: usize = 256;

#[derive(Clone, Debug)]
pub struct ExecutionTrace {
    /// The op's index in the graph.
    pub op: usize,
    /// The output tensor the tiles cover, [rows, cols].
    pub output: usize,
    pub rows: usize,
    pub cols: usize,
    pub tile_rows: usize,
    pub tile_cols: usize,
    /// Workgroups along the columns and along the rows.
    pub groups: [usize; 2],
    /// Per workgroup (row-major over `groups`): when it finished, from 1.
    pub rank: Vec<u32>,
}

impl ExecutionTrace {
    /// The output rectangle of workgroup `i`: (first row, first column, rows, columns).
    pub fn tile(&self, i: usize) -> (usize, usize, usize, usize) {
        let (gx, gy) = (i % self.groups[0], i / self.groups[0]);
        let (row, col) = (gy * self.tile_rows, gx * self.tile_cols);
        (
            row,
            col,
            self.tile_rows.min(self.rows - row),
            self.tile_cols.min(self.cols - col),
        )
    }
}

impl GpuGraph {
    /// Whether op `index` has a trace variant (the linear ops).
    pub fn can_trace(&self, index: usize) -> bool {
        matches!(self.graph.ops[index].kind, OpKind::Linear { .. })
    }

    /// Runs op `index` once more with the trace variant (same inputs, same outputs) and reads
    /// back the order its workgroups finished in. `None` for ops without a trace variant.
    pub async fn trace(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        index: usize,
    ) -> Result<Option<ExecutionTrace>, GpuError> {
        let op = &self.graph.ops[index];
        let OpKind::Linear { rows, k, n } = op.kind else {
            return Ok(None);
        };
        let groups = [n.div_ceil(TILE_COLS), rows.div_ceil(TILE_ROWS)];
        let slots = 1 + groups[0] * groups[1];
        let trace = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("execution trace"),
            size: 4 * slots as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let mut buffers = Vec::new();
        for &id in op.inputs.iter().chain(&op.outputs) {
            buffers.push(self.tensors[id].single()?);
        }
        buffers.push(&trace);
        let u = |x: usize| x as u32;
        let bind = bind_kernel(
            gpu,
            registry,
            "linear_trace",
            &[u(rows), u(k), u(n)],
            &buffers,
        );
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("execution trace"),
                timestamp_writes: None,
            });
            pass.set_pipeline(registry.pipeline_for("linear_trace", self.precision));
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(u(groups[0]), u(groups[1]), 1);
        }
        gpu.queue.submit([encoder.finish()]);
        let bytes = gpu.read_buffers(&[(&trace, 4 * slots as u64)]).await?;
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes);
        Ok(Some(ExecutionTrace {
            op: index,
            output: op.outputs[0],
            rows,
            cols: n,
            tile_rows: TILE_ROWS,
            tile_cols: TILE_COLS,
            groups,
            rank: words[1..].to_vec(),
        }))
    }
}
