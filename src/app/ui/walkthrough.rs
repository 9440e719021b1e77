//! The walkthrough bar: plays the scene's chapters on the view, with the paragraph's words
//! that name tensors or dimensions lighting them up when hovered.

use egui::{Color32, RichText};

use super::UiState;
use crate::render::style::{dim_color, to_egui};
use crate::viewer::walkthrough::{highlights_for, Shown};
use crate::viewer::Viewer;

impl UiState {
    /// Shows the walkthrough at `time`: runs the graph, moves the camera.
    pub(super) fn apply_walkthrough(&mut self, viewer: &mut Viewer, time: f32) {
        let Ok(base) = viewer.scene().tokenizer.encode(&self.prompt) else {
            return;
        };
        let before = self.walkthrough.key();
        let ids_before = viewer.ids().to_vec();
        if let Some(camera) =
            self.walkthrough
                .apply(viewer, &base, time, self.scene_rect.aspect_ratio())
        {
            self.camera = camera;
            self.flight = None;
        }
        self.walkthrough_active = true;
        if self.walkthrough.key() != before || viewer.ids() != ids_before {
            self.changed_this_frame = true;
            self.clear_hover();
            if Self::position(viewer) == Self::ops(viewer) {
                self.refresh_predictions(viewer);
            }
        }
    }

    pub(super) fn walkthrough_panel(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        if viewer.decoding() {
            ui.label("The walkthrough follows the full forward pass: switch the KV cache off to play it.");
            return;
        }
        let walkthrough = viewer.scene().walkthrough.clone();
        let duration = walkthrough.duration();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Walkthrough").strong());
            let label = if self.walkthrough.playing {
                "Pause"
            } else {
                "Play"
            };
            if ui.button(label).clicked() {
                self.walkthrough.playing = !self.walkthrough.playing;
                if self.walkthrough.playing && self.walkthrough.time >= duration {
                    self.walkthrough.time = 0.0;
                }
                let time = self.walkthrough.time;
                self.apply_walkthrough(viewer, time);
            }
            let current = walkthrough
                .at(self.walkthrough.time)
                .map_or(0, |m| m.chapter);
            if ui.button("<").on_hover_text("previous chapter").clicked() {
                let time = walkthrough.chapter_start(current.saturating_sub(1));
                self.apply_walkthrough(viewer, time);
            }
            if ui.button(">").on_hover_text("next chapter").clicked() {
                let time =
                    walkthrough.chapter_start((current + 1).min(walkthrough.chapters.len() - 1));
                self.apply_walkthrough(viewer, time);
            }
            let mut time = self.walkthrough.time;
            let slider = egui::Slider::new(&mut time, 0.0..=duration).show_value(false);
            if ui.add_sized([260.0, 18.0], slider).changed() {
                self.apply_walkthrough(viewer, time);
            }
            egui::ComboBox::from_id_salt("chapter")
                .selected_text(walkthrough.chapters[current].title.clone())
                .show_ui(ui, |ui| {
                    for (i, chapter) in walkthrough.chapters.iter().enumerate() {
                        if ui.selectable_label(i == current, &chapter.title).clicked() {
                            let start = walkthrough.chapter_start(i);
                            self.apply_walkthrough(viewer, start);
                        }
                    }
                });
        });
        if !self.walkthrough_active {
            ui.label(format!(
                "{} chapters that walk through every op of this model, with numbers read from it. Press Play.",
                walkthrough.chapters.len()
            ));
            return;
        }
        ui.label(RichText::new(&self.walkthrough.title).heading());
        let mut hovered = None;
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 0.0;
            for shown in &self.walkthrough.caption {
                let response = match shown {
                    Shown::Text(t) => ui.label(t),
                    Shown::Tensor(t, _) => ui.label(
                        RichText::new(t)
                            .color(to_egui(crate::render::style::CURRENT_INPUT))
                            .underline(),
                    ),
                    Shown::Dim(t, dim) => {
                        ui.label(RichText::new(t).color(to_egui(dim_color(*dim))).underline())
                    }
                    Shown::Number(t) => ui.label(
                        RichText::new(t)
                            .color(Color32::from_rgb(255, 215, 110))
                            .monospace(),
                    ),
                };
                if response.hovered() && matches!(shown, Shown::Tensor(..) | Shown::Dim(..)) {
                    hovered = Some(shown.clone());
                }
            }
        });
        match hovered {
            Some(shown) => {
                viewer.set_highlights(highlights_for(viewer, &shown));
                viewer.refresh_states();
                self.caption_hovered = true;
            }
            None if self.caption_hovered => {
                viewer.set_highlights(Vec::new());
                viewer.refresh_states();
                self.caption_hovered = false;
            }
            None => {}
        }
    }
}
