//! The narrative panel: plays the scene's walkthrough on the view, chapter by chapter, with the
//! paragraphs' words that name tensors or dimensions lighting them up when hovered.

use egui::{Color32, RichText};

use super::UiState;
use crate::viewer::narrative::word_color;
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
        let aspect = self.scene_rect.aspect_ratio();
        if let Some(camera) =
            pollster::block_on(self.walkthrough.apply(viewer, &base, time, aspect))
        {
            self.camera = camera;
            self.flight = None;
        }
        self.walkthrough_active = true;
        if self.walkthrough.key() != before || viewer.ids() != ids_before {
            self.changed_this_frame = true;
            self.cancel_fill(viewer);
            self.clear_hover();
            if Self::position(viewer) == Self::ops(viewer) {
                self.refresh_predictions(viewer);
            }
        }
    }

    /// Jumps to the start of paragraph `paragraph` of chapter `chapter`.
    fn walkthrough_jump(&mut self, viewer: &mut Viewer, chapter: usize, paragraph: usize) {
        let walkthrough = &viewer.scene().walkthrough;
        let chapter = chapter.min(walkthrough.chapters.len() - 1);
        let time = walkthrough.paragraph_start(chapter, paragraph);
        self.apply_walkthrough(viewer, time);
    }

    /// The narrative panel: where the walkthrough is (a map of the chapters), its controls, and
    /// the chapter's paragraphs so far, whose words light up the tensors they name.
    pub(super) fn walkthrough_panel(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        if viewer.decoding() {
            ui.label("The walkthrough follows the full forward pass: switch the KV cache off to play it.");
            return;
        }
        let walkthrough = viewer.scene().walkthrough.clone();
        let duration = walkthrough.duration();
        let moment = walkthrough.at(self.walkthrough.time);
        let (chapter, paragraph) = moment.as_ref().map_or((0, 0), |m| (m.chapter, m.paragraph));
        ui.label(
            RichText::new(format!(
                "Chapter {} of {}",
                chapter + 1,
                walkthrough.chapters.len()
            ))
            .weak(),
        );
        ui.label(
            RichText::new(&walkthrough.chapters[chapter].title)
                .heading()
                .strong(),
        );
        // The map of the pipeline: one box per chapter, in order; the current one lit.
        egui::Grid::new("chapter map")
            .spacing([4.0, 4.0])
            .show(ui, |ui| {
                for (i, c) in walkthrough.chapters.iter().enumerate() {
                    let current = i == chapter && self.walkthrough_active;
                    let fill = match i.cmp(&chapter) {
                        _ if current => Color32::from_rgb(240, 200, 80),
                        std::cmp::Ordering::Less if self.walkthrough_active => {
                            Color32::from_rgb(190, 220, 195)
                        }
                        _ => Color32::from_gray(225),
                    };
                    let button = egui::Button::new(
                        RichText::new(&c.name).small().color(Color32::from_gray(25)),
                    )
                    .fill(fill)
                    .min_size(egui::vec2(58.0, 20.0));
                    if ui.add(button).on_hover_text(&c.title).clicked() {
                        self.walkthrough_jump(viewer, i, 0);
                    }
                    if i % 4 == 3 {
                        ui.end_row();
                    }
                }
            });
        ui.horizontal(|ui| {
            if ui
                .button("< chapter")
                .on_hover_text("previous chapter")
                .clicked()
            {
                self.walkthrough_jump(viewer, chapter.saturating_sub(1), 0);
            }
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
            if ui
                .button("chapter >")
                .on_hover_text("next chapter")
                .clicked()
            {
                self.walkthrough_jump(viewer, chapter + 1, 0);
            }
            let mut time = self.walkthrough.time;
            let slider = egui::Slider::new(&mut time, 0.0..=duration).show_value(false);
            if ui.add(slider).changed() {
                self.apply_walkthrough(viewer, time);
            }
        });
        ui.separator();
        if !self.walkthrough_active {
            ui.label(format!(
                "{} chapters walk through every op of this model, with every number read from \
                 it. Press Play, or Continue to go a paragraph at a time.",
                walkthrough.chapters.len()
            ));
            if ui.button("Start").clicked() {
                self.walkthrough_jump(viewer, 0, 0);
            }
            return;
        }
        let mut hovered = None;
        let narrative = self.walkthrough.narrative.clone();
        let last = narrative.paragraphs.len().saturating_sub(1);
        let graph = viewer.graph();
        egui::ScrollArea::vertical()
            .max_height(ui.available_height() - 40.0)
            .stick_to_bottom(true)
            .show(ui, |ui| {
                for (i, shown_paragraph) in narrative.paragraphs.iter().enumerate() {
                    ui.horizontal_wrapped(|ui| {
                        ui.spacing_mut().item_spacing.x = 0.0;
                        for shown in shown_paragraph {
                            let mut color = word_color(graph, shown, false);
                            if i < last {
                                color = color.gamma_multiply(0.5);
                            }
                            let text = match shown {
                                Shown::Text(t)
                                | Shown::Tensor(t, _)
                                | Shown::Dim(t, _)
                                | Shown::Number(t) => t,
                            };
                            let mut rich = RichText::new(text).color(color);
                            if matches!(shown, Shown::Tensor(..) | Shown::Dim(..)) {
                                rich = rich.underline();
                            }
                            if matches!(shown, Shown::Number(_)) {
                                rich = rich.monospace();
                            }
                            let response = ui.label(rich);
                            let response = match shown {
                                Shown::Tensor(_, id) => {
                                    response.on_hover_text(&graph.tensors[*id].name)
                                }
                                _ => response,
                            };
                            if response.hovered()
                                && matches!(shown, Shown::Tensor(..) | Shown::Dim(..))
                            {
                                hovered = Some(shown.clone());
                            }
                        }
                    });
                    ui.add_space(6.0);
                }
            });
        ui.horizontal(|ui| {
            let paragraphs = walkthrough.chapters[chapter].paragraphs.len();
            let next = if paragraph + 1 < paragraphs {
                Some((chapter, paragraph + 1))
            } else if chapter + 1 < walkthrough.chapters.len() {
                Some((chapter + 1, 0))
            } else {
                None
            };
            if let Some((c, p)) = next {
                if ui
                    .add(egui::Button::new("Continue").fill(Color32::from_rgb(160, 200, 245)))
                    .on_hover_text("the next paragraph (Enter)")
                    .clicked()
                    || (!ui.ctx().text_edit_focused()
                        && ui.input(|i| i.key_pressed(egui::Key::Enter)))
                {
                    self.walkthrough.playing = false;
                    self.walkthrough_jump(viewer, c, p);
                }
            }
            if narrative.remaining > 0 {
                ui.label(
                    RichText::new(format!("{} more in this chapter", narrative.remaining)).weak(),
                );
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
