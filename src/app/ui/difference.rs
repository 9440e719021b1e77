//! The difference view's controls: the toggle, and the worst |GPU - CPU| of each op that has
//! run, as a share of the tolerance `glassbox check` allows.

use egui::{Color32, RichText};

use super::UiState;
use crate::gpu::Precision;
use crate::values::compare::Difference;
use crate::viewer::Viewer;

/// The share of the tolerance a difference uses (above 1 fails): the f32 tolerance, or the
/// drift bound of f16 storage.
fn share(d: &Difference, precision: Precision) -> f32 {
    d.max_abs / (precision.tolerance() * d.scale)
}

impl UiState {
    pub(super) fn difference_panel(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        let mut on = viewer.difference().is_some();
        let toggle = ui
            .checkbox(&mut on, "Difference view: |GPU − CPU|")
            .on_hover_text(
                "Colour every activation by its difference from the CPU reference: dark is \
                 equal, yellow approaches the tolerance, red is past it.",
            );
        if toggle.changed() {
            if let Err(e) = pollster::block_on(viewer.set_difference(on)) {
                self.kernel_errors
                    .push(("difference view".to_string(), e.to_string()));
            }
            self.changed_this_frame = true;
        }
        if viewer.gpu().f16 {
            let mut f16 = viewer.gpu_graph().precision == crate::gpu::Precision::F16;
            let toggle = ui.checkbox(&mut f16, "f16 storage").on_hover_text(
                "Store weights and activations as f16 (kernels still compute in f32). With the \
                 difference view on, every tensor shows its drift from the f32 CPU reference.",
            );
            if toggle.changed() {
                let precision = if f16 {
                    crate::gpu::Precision::F16
                } else {
                    crate::gpu::Precision::F32
                };
                if let Err(e) = pollster::block_on(viewer.set_precision(precision)) {
                    self.kernel_errors
                        .push(("f16 storage".to_string(), e.to_string()));
                }
                self.after_tokens_changed(viewer, None);
            }
        }
        let Some(view) = viewer.difference() else {
            return;
        };
        let precision = viewer.gpu_graph().precision;
        let share = |d: &Difference| share(d, precision);
        let failing = view
            .per_op
            .iter()
            .filter(|d| share(&d.difference) > 1.0)
            .count();
        let worst = view
            .per_op
            .iter()
            .max_by(|a, b| share(&a.difference).total_cmp(&share(&b.difference)));
        if let Some(worst) = worst {
            let bound = match precision {
                Precision::F32 => "tolerance",
                Precision::F16 => "f16 drift bound",
            };
            let text = format!(
                "worst: {} at {:.2}% of the {bound}; {failing} op(s) past it",
                worst.op,
                100.0 * share(&worst.difference)
            );
            let color = if failing > 0 {
                Color32::from_rgb(255, 90, 80)
            } else {
                Color32::from_rgb(150, 220, 150)
            };
            ui.label(RichText::new(text).color(color));
        }
        egui::CollapsingHeader::new("worst error per op")
            .default_open(failing > 0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .max_height(180.0)
                    .show(ui, |ui| {
                        egui::Grid::new("differences").striped(true).show(ui, |ui| {
                            for d in &view.per_op {
                                let s = share(&d.difference);
                                let color = if s > 1.0 {
                                    Color32::from_rgb(255, 90, 80)
                                } else {
                                    Color32::from_gray(190)
                                };
                                ui.label(RichText::new(&d.op).monospace().color(color));
                                ui.label(
                                    RichText::new(format!("{:.2e}", d.difference.max_abs))
                                        .color(color),
                                )
                                .on_hover_text(format!("{:.3}% of the tolerance", 100.0 * s));
                                ui.end_row();
                            }
                        });
                    });
            });
    }

    /// After anything changed what the GPU computed, the difference view reads it again.
    pub(super) fn refresh_difference(&mut self, viewer: &mut Viewer) {
        if self.changed_this_frame && viewer.difference().is_some() {
            if let Err(e) = pollster::block_on(viewer.refresh_difference()) {
                self.kernel_errors
                    .push(("difference view".to_string(), e.to_string()));
            }
        }
    }
}
