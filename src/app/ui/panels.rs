//! The side panels: prompt and token strip, player, kernel variants, outline, predictions;
//! and the help window.

use std::time::Instant;

use egui::{Color32, RichText};

use super::UiState;
use crate::gpu::kernels::Origin;
use crate::render::style::{dim_color, on_light, to_egui};
use crate::viewer::Viewer;

impl UiState {
    pub(super) fn prompt_bar(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("glassbox").strong());
            ui.label(format!("{} —", viewer.scene().name));
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.prompt)
                    .desired_width(260.0)
                    .hint_text("prompt"),
            );
            if edit.changed() {
                self.set_prompt(viewer);
            }
            if let Some(error) = &self.prompt_error {
                ui.colored_label(Color32::from_rgb(255, 120, 100), error);
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("tokens").color(on_light(dim_color(crate::graph::Dim::Token))));
            for (position, &id) in viewer.ids().iter().enumerate() {
                let text = viewer.scene().tokenizer.decode_one(id);
                ui.label(
                    RichText::new(text)
                        .monospace()
                        .background_color(Color32::from_gray(215)),
                )
                .on_hover_text(format!("position {position}, token id {id}"));
            }
        });
    }

    pub(super) fn player(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
        let ops = Self::ops(viewer);
        let position = Self::position(viewer);
        ui.heading("Player");
        ui.horizontal(|ui| {
            if ui.button("|<").on_hover_text("first op (Home)").clicked() {
                self.go_to(viewer, 1);
            }
            if ui.button("<").on_hover_text("step back (←)").clicked() {
                self.go_to(viewer, position - 1);
            }
            let label = if self.playing { "Pause" } else { "Play" };
            if ui
                .button(label)
                .on_hover_text("play / pause (Space)")
                .clicked()
            {
                self.playing = !self.playing;
                self.last_step = now;
                if self.playing && position == ops {
                    self.go_to(viewer, 1);
                }
            }
            if ui.button(">").on_hover_text("step forward (→)").clicked() {
                self.go_to(viewer, position + 1);
            }
            if ui.button(">|").on_hover_text("whole graph (End)").clicked() {
                self.go_to(viewer, ops);
            }
        });
        let mut scrub = position;
        if ui
            .add(egui::Slider::new(&mut scrub, 1..=ops).text("ops run"))
            .changed()
        {
            self.go_to(viewer, scrub);
        }
        self.fill_controls(ui);
        if let Some(current) = viewer.current() {
            let op = &viewer.graph().ops[current];
            ui.label(
                RichText::new(&op.name)
                    .strong()
                    .color(to_egui(crate::render::style::CURRENT_OUTPUT)),
            );
            ui.label(op.formula);
            ui.label(format!(
                "{:.3} MFLOP, {:.3} MB moved",
                op.kind.flops() as f64 / 1e6,
                op.kind.bytes() as f64 / 1e6
            ));
            self.trace_button(ui, viewer, current, now);
        } else {
            ui.label("The whole graph has run. Press Space to play it op by op.");
        }
        ui.separator();
        self.kernel_choice(ui, viewer);
        self.difference_panel(ui, viewer);
        ui.separator();
        ui.heading("Outline");
        egui::ScrollArea::vertical().show(ui, |ui| self.outline(ui, viewer, now));
    }

    /// The kernel variant of each op family, switchable while the model runs; and the timing
    /// window.
    pub(super) fn kernel_choice(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        ui.horizontal(|ui| {
            ui.heading("Kernels");
            if ui.button("Timing…").clicked() {
                self.timing.open = true;
            }
        });
        let mut choice = viewer.gpu().kernels.clone();
        let mut changed = false;
        // Every family the graph runs that has a choice of kernels, dropped-in ones included.
        let mut families: Vec<&'static str> = Vec::new();
        for op in &viewer.graph().ops {
            let family = op.kind.kernel_name();
            if !families.contains(&family) && viewer.registry().variants(family).len() > 1 {
                families.push(family);
            }
        }
        for family in families {
            // What runs now: a decode step's one-token ops may use another kernel than the
            // family's default.
            let running = viewer
                .gpu_graph()
                .graph()
                .ops
                .iter()
                .find(|op| op.kind.kernel_name() == family)
                .map(|op| choice.kernel_for_op(&op.kind, viewer.registry()));
            let current = running.map_or(String::new(), |id| id.variant);
            egui::ComboBox::from_label(family)
                .selected_text(&current)
                .show_ui(ui, |ui| {
                    for variant in viewer.registry().variants(family) {
                        let name = &variant.id.variant;
                        let label = match variant.origin {
                            Origin::BuiltIn => name.clone(),
                            Origin::Edited => format!("{name} (edited)"),
                            Origin::DroppedIn => format!("{name} (from {})", variant.file),
                        };
                        let response = ui
                            .selectable_label(*name == current, label)
                            .on_hover_text(&variant.about);
                        if response.clicked() && *name != current {
                            choice.set(&variant.id);
                            changed = true;
                        }
                    }
                });
        }
        self.edit_menu(ui, viewer);
        if changed {
            match pollster::block_on(viewer.set_kernels(choice)) {
                Ok(()) => {
                    self.clear_hover();
                    self.changed_this_frame = true;
                    self.attention.rebuild(viewer);
                    if Self::position(viewer) == Self::ops(viewer) {
                        self.refresh_predictions(viewer);
                    }
                }
                Err(e) => self.kernel_errors.push(("variant".into(), e.to_string())),
            }
        }
    }

    pub(super) fn outline(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
        let aspect = self.scene_rect.aspect_ratio();
        let regions = viewer.layout().regions.clone();
        for region in regions {
            let header = egui::CollapsingHeader::new(&region.name)
                .default_open(false)
                .show(ui, |ui| {
                    for index in 0..Self::ops(viewer) {
                        let op = &viewer.graph().ops[index];
                        if !(region.first_op..region.first_op + region.ops).contains(&index) {
                            continue;
                        }
                        let name = op.name.clone();
                        let output = viewer.graph().tensors[op.outputs[0]].name.clone();
                        let selected = viewer.current() == Some(index);
                        if ui.selectable_label(selected, &name).clicked() {
                            self.go_to(viewer, index + 1);
                            if let Some(camera) = viewer.camera(&output, aspect) {
                                self.fly_to(camera, now);
                            }
                        }
                    }
                });
            if header.header_response.double_clicked() {
                if let Some(camera) = viewer.camera(&region.name, aspect) {
                    self.fly_to(camera, now);
                }
            }
        }
    }

    pub(super) fn predictions_panel(&mut self, ui: &mut egui::Ui, viewer: &Viewer) {
        ui.heading("Next token");
        if Self::position(viewer) < Self::ops(viewer) {
            ui.label("Run the graph to the end (End) to see the prediction.");
            return;
        }
        let last = viewer.ids().len() - 1;
        ui.label(format!("after position {last}:"));
        for &(id, p) in &self.predictions {
            ui.horizontal(|ui| {
                let text = viewer.scene().tokenizer.decode_one(id);
                ui.label(RichText::new(format!("{text:>6}")).monospace());
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(150.0, 14.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, Color32::from_gray(220));
                let mut bar = rect;
                bar.set_width(rect.width() * p.clamp(0.0, 1.0));
                ui.painter()
                    .rect_filled(bar, 2.0, to_egui(dim_color(crate::graph::Dim::Vocab)));
                ui.label(format!("{:.1}%", p * 100.0));
            });
        }
    }
}

pub(super) fn help_window(ui: &egui::Ui, open: &mut bool) {
    egui::Window::new("Keyboard and mouse")
        .open(open)
        .collapsible(false)
        .show(ui.ctx(), |ui| {
            egui::Grid::new("help").striped(true).show(ui, |ui| {
                for (keys, what) in [
                    ("Space", "play / pause the ops one by one"),
                    ("← / →", "step one op back / forward"),
                    ("Home / End", "first op / whole graph"),
                    ("F", "fit the whole model"),
                    ("C", "fly to the current op's output"),
                    ("1 … 9", "the scene's named cameras"),
                    ("P", "presentation mode: the picture and the narrative only"),
                    ("Enter", "continue the walkthrough to its next paragraph"),
                    ("N", "append the next token"),
                    ("W", "the why window: logit lens, heads, ablation"),
                    (
                        "X",
                        "switch the head, neuron or MLP under the pointer off / on",
                    ),
                    ("drag", "orbit"),
                    ("right-drag, middle-drag, Shift+drag", "pan"),
                    ("scroll, pinch", "zoom towards the pointer"),
                    ("double-click", "fly to the tensor under the pointer"),
                    ("hover", "a cell's value and how it was computed"),
                    (
                        "F12, Shift+F12, Ctrl+F12",
                        "screenshot of the 3D view: 1x, 2x, 4x",
                    ),
                    ("H, F1 / Esc", "this help / close it"),
                    ("Ctrl+Q", "quit"),
                ] {
                    ui.label(RichText::new(keys).monospace());
                    ui.label(what);
                    ui.end_row();
                }
            });
        });
}
