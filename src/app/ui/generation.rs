//! The generation panel: append the next token (greedy or sampled), step by step, with the
//! full forward pass or with the KV cache, whose rows fill as the tokens come.

use egui::{Color32, RichText};

use super::UiState;
use crate::render::style::{role_color, to_egui};
use crate::viewer::Viewer;

impl UiState {
    pub(super) fn generation_panel(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        ui.heading("Generate");
        let mut decoding = viewer.decoding();
        let toggle = ui
            .checkbox(&mut decoding, "KV cache: one decode step per token")
            .on_hover_text(
                "Off: every token runs through the whole graph again. On: each token runs once \
                 through the decode step; its key and value are kept in the cache (orange).",
            );
        if toggle.changed() {
            let result = pollster::block_on(viewer.set_decoding(decoding));
            self.after_tokens_changed(viewer, result.err().map(|e| e.to_string()));
        }
        let sampling = viewer.sampling_mut();
        ui.add(
            egui::Slider::new(&mut sampling.temperature, 0.0..=2.0)
                .text("temperature")
                .custom_formatter(|t, _| {
                    if t <= 0.0 {
                        "0 (greedy)".to_string()
                    } else {
                        format!("{t:.2}")
                    }
                }),
        );
        let mut top_k = sampling.top_k.unwrap_or(0);
        ui.add(egui::Slider::new(&mut top_k, 0..=200).text("top-k (0: all)"));
        sampling.top_k = (top_k > 0).then_some(top_k);
        let mut top_p = sampling.top_p.unwrap_or(1.0);
        ui.add(egui::Slider::new(&mut top_p, 0.05..=1.0).text("top-p (1: all)"));
        sampling.top_p = (top_p < 1.0).then_some(top_p);
        ui.horizontal(|ui| {
            ui.label("seed");
            ui.add(egui::DragValue::new(&mut sampling.seed));
        });
        let button = ui
            .button("Append the next token")
            .on_hover_text("N: pick the next token and run it");
        let pressed =
            !ui.ctx().egui_wants_keyboard_input() && ui.input(|i| i.key_pressed(egui::Key::N));
        if button.clicked() || pressed {
            self.append_token(viewer);
        }
        if let Some((filled, capacity)) = viewer.cache_fill() {
            let color = to_egui(role_color(crate::graph::Role::Cache));
            ui.label(
                RichText::new(format!(
                    "KV cache: {filled} of {capacity} positions filled in every layer"
                ))
                .color(color),
            );
            ui.add(
                egui::ProgressBar::new(filled as f32 / capacity as f32)
                    .desired_width(240.0)
                    .fill(color),
            );
        }
        ui.label(RichText::new(crate::generate::path_note(viewer.graph())).weak())
            .on_hover_text(
                "The window runs every op whose tensor it draws. `glassbox generate` runs the \
                 fast path: attention fused with the online softmax and, in a decode step, split \
                 over the cache; no scores or probabilities are stored.",
            );
        if let Some(error) = &self.generation_error {
            ui.colored_label(Color32::from_rgb(255, 120, 100), error);
        }
    }

    fn append_token(&mut self, viewer: &mut Viewer) {
        self.walkthrough_active = false;
        let error = match pollster::block_on(viewer.append_token()) {
            Ok(Some(_)) => None,
            Ok(None) => Some(format!(
                "the model has only {} positions",
                viewer.scene().model.config.n_positions
            )),
            Err(e) => Some(e.to_string()),
        };
        self.prompt = viewer.scene().tokenizer.decode(viewer.ids());
        self.after_tokens_changed(viewer, error);
    }

    /// After generating (or switching mode): the error if any, and the panels read again.
    pub(super) fn after_tokens_changed(&mut self, viewer: &Viewer, error: Option<String>) {
        self.generation_error = error;
        self.tokens_changed(viewer);
    }

    /// The tokens or the graph changed under the panels: read what they show again.
    pub(super) fn tokens_changed(&mut self, viewer: &Viewer) {
        self.clear_hover();
        self.changed_this_frame = true;
        self.attention.rebuild(viewer);
        if Self::position(viewer) == Self::ops(viewer) {
            self.refresh_predictions(viewer);
        }
    }
}
