//! The execution view in the window: trace the current op, then watch its workgroups' cells
//! light up over its output in the order the GPU started them.

use std::time::{Duration, Instant};

use super::UiState;
use crate::gpu::trace::ExecutionTrace;
use crate::viewer::Viewer;

/// How long the replay of a trace takes.
const REPLAY: Duration = Duration::from_secs(3);

impl UiState {
    pub(super) fn trace_button(
        &mut self,
        ui: &mut egui::Ui,
        viewer: &Viewer,
        current: usize,
        now: Instant,
    ) {
        if !viewer.gpu_graph().can_trace(current) {
            return;
        }
        let button = ui.button("Trace execution").on_hover_text(
            "Run this op once more with a version of its kernel that records, with an atomic \
             counter, the order its workgroups start in and which output cells each one writes; \
             replayed over the output.",
        );
        if button.clicked() {
            match pollster::block_on(viewer.gpu_graph().trace(
                viewer.gpu(),
                viewer.registry(),
                current,
            )) {
                Ok(Some(trace)) => self.trace = Some((trace, now)),
                Ok(None) => self.trace = None,
                Err(e) => self.generation_error = Some(e.to_string()),
            }
        }
        if let Some((trace, _)) = self.trace.as_ref().filter(|(t, _)| t.op == current) {
            ui.label(format!(
                "{} workgroups; each output cell is tinted by the rank of the workgroup that \
                 wrote it (blue first, yellow last)",
                trace.workgroups
            ));
        }
    }

    /// Paints the trace of the current op over the scene, replaying it after it was taken.
    pub(super) fn paint_trace(
        &mut self,
        ui: &egui::Ui,
        viewer: &Viewer,
        rect: egui::Rect,
        now: Instant,
    ) {
        let Some((trace, start)) = &self.trace else {
            return;
        };
        if viewer.current() != Some(trace.op) || trace.op >= viewer.graph().ops.len() {
            self.trace = None;
            return;
        }
        let reveal = now.duration_since(*start).as_secs_f32() / REPLAY.as_secs_f32();
        crate::render::trace::paint(
            ui.painter(),
            rect,
            viewer.layout(),
            &self.camera,
            trace,
            reveal,
        );
        if reveal < 1.0 {
            ui.ctx().request_repaint();
        }
    }
}

/// What the UI keeps of a trace: the trace and when it was taken.
pub type TakenTrace = (ExecutionTrace, Instant);
