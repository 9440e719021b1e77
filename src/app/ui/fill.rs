//! The player's pace for data seen moving: after a step, the op's output can fill in the order
//! its workgroups started on the GPU, slowed down so the order can be followed, or one
//! workgroup per frame; at the GPU's own pace it simply appears.

use std::time::Instant;

use super::UiState;
use crate::viewer::fill::slow_fill_rank;
use crate::viewer::Viewer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// All at once, as the GPU wrote it.
    Gpu,
    /// Spread over two seconds, in the order the workgroups started.
    Slow,
    /// One workgroup more each frame.
    PerFrame,
}

impl Pace {
    fn label(self) -> &'static str {
        match self {
            Pace::Gpu => "the GPU's pace",
            Pace::Slow => "slowed down (2 s)",
            Pace::PerFrame => "one workgroup per frame",
        }
    }
}

/// An op's output filling in now.
#[derive(Clone, Copy, Debug)]
pub struct Filling {
    workgroups: u32,
    started: Instant,
    shown: u32,
}

impl UiState {
    /// After a step: traces the new current op (one readback) and starts filling its output in,
    /// unless the pace is the GPU's own.
    pub(super) fn start_fill(&mut self, viewer: &mut Viewer) {
        viewer.stop_fill();
        self.fill = None;
        if self.fill_pace == Pace::Gpu {
            return;
        }
        if let Ok(Some(workgroups)) = pollster::block_on(viewer.start_fill()) {
            self.fill = Some(Filling {
                workgroups,
                started: Instant::now(),
                shown: 0,
            });
        }
    }

    /// Stops filling in (the op changed by other means than a step: the walkthrough, a kernel
    /// reload): the output is drawn whole.
    pub(super) fn cancel_fill(&mut self, viewer: &mut Viewer) {
        viewer.stop_fill();
        self.fill = None;
    }

    /// Shows more of the filling output: a uniform per frame, nothing read back.
    pub(super) fn advance_fill(&mut self, viewer: &mut Viewer, now: Instant) {
        let Some(fill) = &mut self.fill else {
            return;
        };
        let rank = match self.fill_pace {
            Pace::Gpu => fill.workgroups,
            Pace::Slow => slow_fill_rank(
                fill.workgroups,
                now.duration_since(fill.started).as_secs_f32(),
            ),
            Pace::PerFrame => fill.shown + 1,
        };
        if rank > fill.workgroups {
            viewer.stop_fill();
            self.fill = None;
            return;
        }
        fill.shown = rank;
        viewer.show_fill(rank);
    }

    /// The pace chooser of the player panel.
    pub(super) fn fill_controls(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label("each step fills in at");
            egui::ComboBox::from_id_salt("fill pace")
                .selected_text(self.fill_pace.label())
                .show_ui(ui, |ui| {
                    for pace in [Pace::Gpu, Pace::Slow, Pace::PerFrame] {
                        ui.selectable_value(&mut self.fill_pace, pace, pace.label());
                    }
                });
        });
        if let Some(fill) = &self.fill {
            ui.label(format!(
                "workgroup {} of {}, in the order the GPU started them",
                fill.shown, fill.workgroups
            ));
        }
    }
}
