//! The current op's output filling in the order the GPU wrote it: traced once when asked (one
//! readback, made on the step, not per frame), then revealed a rank at a time.

use super::Viewer;
use crate::gpu::GpuError;

/// How long a slowed-down op takes to fill, in seconds (the window's and the page's pace).
pub const SLOW_FILL_SECONDS: f32 = 2.0;

/// The workgroup rank to show `seconds` into a slowed-down fill of `workgroups`: past
/// `workgroups`, the fill is over.
pub fn slow_fill_rank(workgroups: u32, seconds: f32) -> u32 {
    (seconds / SLOW_FILL_SECONDS * workgroups as f32).ceil() as u32
}

impl Viewer {
    /// Traces the current op and starts drawing its output as its first workgroups wrote it
    /// (nothing shown yet). Returns how many workgroups there are; `None` when there is no
    /// current op or its output is split over several buffers (drawn whole, as before).
    pub async fn start_fill(&mut self) -> Result<Option<u32>, GpuError> {
        let Some(op) = self.current() else {
            self.stop_fill();
            return Ok(None);
        };
        let trace = self.graph.trace(&self.gpu, &self.registry, op).await?;
        self.renderer.set_fill_order(&self.gpu, trace.as_ref());
        if trace.is_some() {
            self.renderer.set_revealed(&self.gpu, 0);
        }
        Ok(trace.map(|t| t.workgroups))
    }

    /// Shows the cells of the workgroups ranked up to `rank` (from 1).
    pub fn show_fill(&mut self, rank: u32) {
        self.renderer.set_revealed(&self.gpu, rank);
    }

    /// Draws the current op's output whole again.
    pub fn stop_fill(&mut self) {
        if self.renderer.fill_workgroups().is_some() {
            self.renderer.set_fill_order(&self.gpu, None);
        }
    }
}
