//! The panels around the 3D view: prompt and token strip, the player, the outline, the next-token
//! predictions, the attention heatmap, hover details and the help overlay.

use std::time::{Duration, Instant};

use anyhow::Result;
use egui::{Color32, RichText};
use glam::Vec2;

use super::attention::AttentionView;
use super::hover::{explain, unflatten, Explanation};
use super::timing::TimingView;
use crate::gpu::variants::VARIANTS;
use crate::gpu::watch::{KernelWatcher, Reload};
use crate::render::style::{dim_color, dim_letter, role_color, to_egui};
use crate::render::{overlay, Camera};
use crate::viewer::Viewer;
use crate::walkthrough_player::{highlights_for, Shown, WalkthroughPlayer};

/// Time between two ops while playing.
const PLAY_STEP: Duration = Duration::from_millis(450);
/// Length of a camera flight.
const FLIGHT: Duration = Duration::from_millis(600);
/// How often the watched kernel files are checked.
const KERNEL_POLL: Duration = Duration::from_millis(500);

struct Hover {
    tensor: usize,
    index: Vec<usize>,
    value: f32,
    explanation: Explanation,
    operand_values: Vec<f32>,
}

pub struct UiState {
    pub camera: Camera,
    flight: Option<(Camera, Camera, Instant)>,
    prompt: String,
    prompt_error: Option<String>,
    predictions: Vec<(u32, f32)>,
    playing: bool,
    last_step: Instant,
    show_help: bool,
    hover: Option<Hover>,
    /// The (panel, row, column) under the pointer when the hover was last read, even when
    /// nothing was read (a tensor not computed yet), so that nothing is read again until it moves.
    hover_key: Option<(usize, usize, usize)>,
    pub attention: AttentionView,
    walkthrough: WalkthroughPlayer,
    /// Whether the walkthrough drives the view (it stops when the user takes the controls).
    walkthrough_active: bool,
    last_frame: Instant,
    caption_hovered: bool,
    /// Where the 3D view is, in points.
    pub scene_rect: egui::Rect,
    /// Whether this frame changed what runs on the GPU (then readbacks are expected).
    pub changed_this_frame: bool,
    pub steady_readbacks: u64,
    pub quit: bool,
    kernels: Option<(KernelWatcher, Instant)>,
    timing: TimingView,
    /// The last failed kernel reload per kernel file, shown until the file compiles again.
    kernel_errors: Vec<(String, String)>,
}

impl UiState {
    pub fn new(
        viewer: &Viewer,
        egui_renderer: &mut egui_wgpu::Renderer,
        prompt: String,
        viewport: Vec2,
    ) -> Result<UiState> {
        let camera = viewer
            .camera("overview", viewport.x / viewport.y)
            .expect("\"overview\" falls back to the whole layout");
        let predictions = pollster::block_on(viewer.top_predictions(8))?;
        Ok(UiState {
            camera,
            flight: None,
            prompt,
            prompt_error: None,
            predictions,
            playing: false,
            last_step: Instant::now(),
            show_help: false,
            hover: None,
            hover_key: None,
            attention: AttentionView::new(viewer, egui_renderer),
            walkthrough: WalkthroughPlayer::default(),
            walkthrough_active: false,
            last_frame: Instant::now(),
            caption_hovered: false,
            scene_rect: egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(viewport.x, viewport.y),
            ),
            changed_this_frame: true,
            steady_readbacks: 0,
            quit: false,
            kernels: None,
            timing: TimingView::default(),
            kernel_errors: Vec::new(),
        })
    }

    /// Watches a folder of kernel files and hot-reloads them.
    pub fn watch_kernels(&mut self, dir: &std::path::Path) {
        self.kernels = Some((KernelWatcher::new(dir), Instant::now() - KERNEL_POLL));
    }

    /// Reloads changed kernel files; a good edit re-runs the graph, a bad one is shown and the
    /// last good kernel keeps running.
    fn poll_kernels(&mut self, viewer: &mut Viewer, now: Instant) {
        let Some((watcher, last)) = &mut self.kernels else {
            return;
        };
        if now.duration_since(*last) < KERNEL_POLL {
            return;
        }
        *last = now;
        let events = watcher.poll(&viewer.gpu.device, &mut viewer.registry);
        if events.is_empty() {
            return;
        }
        let mut reloaded = false;
        for event in events {
            match event {
                Reload::Reloaded(name) => {
                    self.kernel_errors
                        .retain(|(file, _)| !file.ends_with(&format!("{name}.wgsl")));
                    reloaded = true;
                }
                Reload::Failed(error) => {
                    self.kernel_errors.retain(|(file, _)| *file != error.file);
                    self.kernel_errors
                        .push((error.file.clone(), error.to_string()));
                }
            }
        }
        if reloaded {
            viewer.run_to(viewer.op_count);
            self.clear_hover();
            self.changed_this_frame = true;
            if Self::position(viewer) == Self::ops(viewer) {
                self.refresh_predictions(viewer);
            }
        }
    }

    /// Forgets the hovered cell, so that it is read again (the values under it changed).
    fn clear_hover(&mut self) {
        self.hover = None;
        self.hover_key = None;
    }

    fn fly_to(&mut self, target: Camera, now: Instant) {
        self.flight = Some((self.camera, target, now));
    }

    fn ops(viewer: &Viewer) -> usize {
        viewer.graph.graph.ops.len()
    }

    /// Ops run so far, 1..=ops (the player's position).
    fn position(viewer: &Viewer) -> usize {
        viewer.current.map_or(Self::ops(viewer), |c| c + 1)
    }

    fn go_to(&mut self, viewer: &mut Viewer, position: usize) {
        self.walkthrough_active = false;
        self.walkthrough.playing = false;
        self.walkthrough.invalidate();
        let position = position.clamp(1, Self::ops(viewer));
        if position != Self::position(viewer) {
            viewer.step_to(position - 1);
            self.changed_this_frame = true;
            self.clear_hover();
            if position == Self::ops(viewer) {
                self.refresh_predictions(viewer);
            }
        }
    }

    fn refresh_predictions(&mut self, viewer: &Viewer) {
        if let Ok(predictions) = pollster::block_on(viewer.top_predictions(8)) {
            self.predictions = predictions;
        }
    }

    fn set_prompt(&mut self, viewer: &mut Viewer) {
        let ids = match viewer.scene.tokenizer.encode(&self.prompt) {
            Ok(ids) => ids,
            Err(e) => {
                self.prompt_error = Some(e.to_string());
                return;
            }
        };
        match pollster::block_on(viewer.set_ids(&ids)) {
            Ok(()) => {
                self.prompt_error = None;
                self.clear_hover();
                self.changed_this_frame = true;
                self.attention.rebuild(viewer);
                if Self::position(viewer) == Self::ops(viewer) {
                    self.refresh_predictions(viewer);
                }
            }
            Err(e) => self.prompt_error = Some(e.to_string()),
        }
    }

    pub fn show(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
        self.changed_this_frame = false;
        self.keyboard(ui, viewer, now);
        if self.playing && now.duration_since(self.last_step) >= PLAY_STEP {
            self.last_step = now;
            let position = Self::position(viewer);
            if position >= Self::ops(viewer) {
                self.playing = false;
            } else {
                self.go_to(viewer, position + 1);
            }
        }
        if let Some((from, to, start)) = self.flight {
            let t = now.duration_since(start).as_secs_f32() / FLIGHT.as_secs_f32();
            self.camera = from.lerp(&to, t);
            if t >= 1.0 {
                self.flight = None;
            }
        }

        let dt = now.duration_since(self.last_frame).as_secs_f32();
        self.last_frame = now;
        if self.walkthrough.playing {
            let end = WalkthroughPlayer::duration(viewer);
            let time = (self.walkthrough.time + dt).min(end);
            self.apply_walkthrough(viewer, time);
            if time >= end {
                self.walkthrough.playing = false;
            }
        }

        self.poll_kernels(viewer, now);
        egui::Panel::top("prompt").show(ui, |ui| {
            self.prompt_bar(ui, viewer);
            for (_, error) in &self.kernel_errors {
                ui.colored_label(
                    Color32::from_rgb(255, 120, 100),
                    format!("{error} (the last good version keeps running)"),
                );
            }
        });
        if !viewer.scene.walkthrough.chapters.is_empty() {
            egui::Panel::bottom("walkthrough").show(ui, |ui| self.walkthrough_panel(ui, viewer));
        }
        egui::Panel::left("player")
            .default_size(270.0)
            .show(ui, |ui| self.player(ui, viewer, now));
        egui::Panel::right("outputs")
            .default_size(300.0)
            .show(ui, |ui| {
                self.predictions_panel(ui, viewer);
                ui.separator();
                self.attention.show(ui, viewer);
            });
        egui::CentralPanel::no_frame().show(ui, |ui| self.scene(ui, viewer, now));
        if self.show_help {
            help_window(ui, &mut self.show_help);
        }
        self.timing.show(ui.ctx(), viewer);
    }

    /// Shows the walkthrough at `time`: runs the graph, moves the camera.
    fn apply_walkthrough(&mut self, viewer: &mut Viewer, time: f32) {
        let Ok(base) = viewer.scene.tokenizer.encode(&self.prompt) else {
            return;
        };
        let before = self.walkthrough.key();
        let ids_before = viewer.ids.clone();
        if let Some(camera) =
            self.walkthrough
                .apply(viewer, &base, time, self.scene_rect.aspect_ratio())
        {
            self.camera = camera;
            self.flight = None;
        }
        self.walkthrough_active = true;
        if self.walkthrough.key() != before || viewer.ids != ids_before {
            self.changed_this_frame = true;
            self.clear_hover();
            if Self::position(viewer) == Self::ops(viewer) {
                self.refresh_predictions(viewer);
            }
        }
    }

    fn walkthrough_panel(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        let walkthrough = viewer.scene.walkthrough.clone();
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
                viewer.highlights = highlights_for(viewer, &shown);
                viewer.refresh_states();
                self.caption_hovered = true;
            }
            None if self.caption_hovered => {
                viewer.highlights.clear();
                viewer.refresh_states();
                self.caption_hovered = false;
            }
            None => {}
        }
    }

    fn keyboard(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let pressed = |key| ui.input(|i| i.key_pressed(key));
        let position = Self::position(viewer);
        if pressed(egui::Key::Space) {
            self.playing = !self.playing;
            if self.playing && position == Self::ops(viewer) {
                self.go_to(viewer, 1);
            }
            self.last_step = now;
        }
        // Every press counts, even several within one frame.
        let (forward, back) = ui.input(|i| {
            (
                i.num_presses(egui::Key::ArrowRight),
                i.num_presses(egui::Key::ArrowLeft),
            )
        });
        if forward + back > 0 {
            self.go_to(viewer, (position + forward).saturating_sub(back));
        }
        if pressed(egui::Key::Home) {
            self.go_to(viewer, 1);
        }
        if pressed(egui::Key::End) {
            self.go_to(viewer, Self::ops(viewer));
        }
        let aspect = self.scene_rect.aspect_ratio();
        if pressed(egui::Key::F) {
            if let Some(camera) = viewer.camera("all", aspect) {
                self.fly_to(camera, now);
            }
        }
        if pressed(egui::Key::C) {
            if let Some(op) = viewer.current.map(|c| viewer.graph.graph.ops[c].outputs[0]) {
                let name = viewer.graph.graph.tensors[op].name.clone();
                if let Some(camera) = viewer.camera(&name, aspect) {
                    self.fly_to(camera, now);
                }
            }
        }
        let names: Vec<String> = viewer.scene.cameras.keys().cloned().collect();
        let digits = [
            egui::Key::Num1,
            egui::Key::Num2,
            egui::Key::Num3,
            egui::Key::Num4,
            egui::Key::Num5,
            egui::Key::Num6,
            egui::Key::Num7,
            egui::Key::Num8,
            egui::Key::Num9,
        ];
        for (key, name) in digits.into_iter().zip(&names) {
            if pressed(key) {
                if let Some(camera) = viewer.camera(name, aspect) {
                    self.fly_to(camera, now);
                }
            }
        }
        if pressed(egui::Key::H) || pressed(egui::Key::F1) {
            self.show_help = !self.show_help;
        }
        if pressed(egui::Key::Escape) {
            self.show_help = false;
        }
        if ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Q)) {
            self.quit = true;
        }
    }

    fn prompt_bar(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("glassbox").strong());
            ui.label(format!("{} —", viewer.scene.name));
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
            ui.label(RichText::new("tokens").color(to_egui(dim_color(crate::graph::Dim::Token))));
            for (position, &id) in viewer.ids.iter().enumerate() {
                let text = viewer.scene.tokenizer.decode_one(id);
                ui.label(
                    RichText::new(text)
                        .monospace()
                        .background_color(Color32::from_gray(45)),
                )
                .on_hover_text(format!("position {position}, token id {id}"));
            }
        });
    }

    fn player(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
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
        if let Some(current) = viewer.current {
            let op = &viewer.graph.graph.ops[current];
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
        } else {
            ui.label("The whole graph has run. Press Space to play it op by op.");
        }
        ui.separator();
        self.kernel_choice(ui, viewer);
        ui.separator();
        ui.heading("Outline");
        egui::ScrollArea::vertical().show(ui, |ui| self.outline(ui, viewer, now));
    }

    /// The kernel variant of each op family, switchable while the model runs; and the timing
    /// window.
    fn kernel_choice(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        ui.horizontal(|ui| {
            ui.heading("Kernels");
            if ui.button("Timing…").clicked() {
                self.timing.open = true;
            }
        });
        let mut choice = viewer.gpu.kernels.clone();
        let mut changed = false;
        for family in ["linear", "softmax", "layernorm"] {
            let current = choice.variant_for(family).map_or("", |v| v.name);
            egui::ComboBox::from_label(family)
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for variant in VARIANTS.iter().filter(|v| v.family == family) {
                        let response = ui
                            .selectable_label(variant.name == current, variant.name)
                            .on_hover_text(variant.about);
                        if response.clicked() && variant.name != current {
                            choice.set(variant);
                            changed = true;
                        }
                    }
                });
        }
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

    fn outline(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
        let aspect = self.scene_rect.aspect_ratio();
        let regions = viewer.renderer.layout.regions.clone();
        for region in regions {
            let header = egui::CollapsingHeader::new(&region.name)
                .default_open(false)
                .show(ui, |ui| {
                    for index in 0..Self::ops(viewer) {
                        let op = &viewer.graph.graph.ops[index];
                        let (top, _) = viewer.renderer.layout.op_rows[index];
                        if top > region.max.y || top < region.min.y {
                            continue;
                        }
                        let name = op.name.clone();
                        let output = viewer.graph.graph.tensors[op.outputs[0]].name.clone();
                        let selected = viewer.current == Some(index);
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

    fn predictions_panel(&mut self, ui: &mut egui::Ui, viewer: &Viewer) {
        ui.heading("Next token");
        if Self::position(viewer) < Self::ops(viewer) {
            ui.label("Run the graph to the end (End) to see the prediction.");
            return;
        }
        let last = viewer.ids.len() - 1;
        ui.label(format!("after position {last}:"));
        for &(id, p) in &self.predictions {
            ui.horizontal(|ui| {
                let text = viewer.scene.tokenizer.decode_one(id);
                ui.label(RichText::new(format!("{text:>6}")).monospace());
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(150.0, 14.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, Color32::from_gray(40));
                let mut bar = rect;
                bar.set_width(rect.width() * p.clamp(0.0, 1.0));
                ui.painter()
                    .rect_filled(bar, 2.0, to_egui(dim_color(crate::graph::Dim::Vocab)));
                ui.label(format!("{:.1}%", p * 100.0));
            });
        }
    }

    fn scene(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
        let rect = ui.max_rect();
        self.scene_rect = rect;
        let response = ui.allocate_rect(rect, egui::Sense::click_and_drag());
        let viewport = Vec2::new(rect.width(), rect.height());
        let local = |p: egui::Pos2| Vec2::new(p.x - rect.min.x, p.y - rect.min.y);
        let delta = response.drag_delta();
        let pan = response.dragged_by(egui::PointerButton::Secondary)
            || response.dragged_by(egui::PointerButton::Middle)
            || (response.dragged_by(egui::PointerButton::Primary)
                && ui.input(|i| i.modifiers.shift));
        if pan {
            self.camera.pan(Vec2::new(delta.x, delta.y), viewport);
            self.flight = None;
        } else if response.dragged_by(egui::PointerButton::Primary) {
            self.camera.orbit(Vec2::new(delta.x, delta.y));
            self.flight = None;
        }
        let pointer = response.hover_pos();
        let world = pointer.and_then(|p| self.camera.ray_to_plane(local(p), viewport));
        if response.hovered() {
            let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta()));
            let steps = scroll.y / 60.0 + (zoom - 1.0) * 8.0;
            if steps.abs() > 1e-4 {
                self.camera.zoom(steps, world);
                self.flight = None;
            }
        }
        if response.double_clicked() {
            if let Some((panel, _, _)) = world.and_then(|w| viewer.renderer.layout.pick(w)) {
                let tensor = viewer.renderer.layout.panels[panel].tensor;
                let name = viewer.graph.graph.tensors[tensor].name.clone();
                if let Some(camera) = viewer.camera(&name, rect.aspect_ratio()) {
                    self.fly_to(camera, now);
                }
            }
        }
        self.update_hover(viewer, world);

        let states = viewer.states();
        overlay::paint(
            ui.painter(),
            rect,
            &viewer.graph.graph,
            &viewer.renderer.layout,
            &self.camera,
            &states,
        );
        if let (Some(hover), Some(pointer)) = (&self.hover, pointer) {
            hover_tooltip(ui, viewer, hover, pointer);
        }
        ui.painter().text(
            rect.left_bottom() + egui::vec2(8.0, -8.0),
            egui::Align2::LEFT_BOTTOM,
            format!(
                "drag: orbit · right-drag: pan · scroll: zoom · double-click: fly · H: help    readbacks so far: {}",
                viewer.gpu.readback_count()
            ),
            egui::FontId::proportional(12.0),
            Color32::from_gray(140),
        );
    }

    /// Reads the hovered cell (and a few operands) back when the cell under the pointer changes:
    /// the one readback a steady frame may make.
    fn update_hover(&mut self, viewer: &mut Viewer, world: Option<glam::Vec3>) {
        let key = world.and_then(|w| viewer.renderer.layout.pick(w));
        if key == self.hover_key {
            return;
        }
        self.hover_key = key;
        let previous_highlights = !viewer.highlights.is_empty();
        self.hover = None;
        viewer.highlights.clear();
        if let Some((panel_index, row, col)) = key {
            let panel = &viewer.renderer.layout.panels[panel_index];
            let tensor_id = panel.tensor;
            let states = viewer.states();
            if states[tensor_id] != crate::render::TensorState::NotComputed {
                let gpu_tensor = viewer.graph.tensor(tensor_id);
                let chunk_start = panel.chunk * gpu_tensor.rows_per_chunk * gpu_tensor.row_len;
                let element = panel.element(row, col, chunk_start);
                let tensor = &viewer.graph.graph.tensors[tensor_id];
                let index = unflatten(&tensor.shape, element);
                let explanation = explain(&viewer.graph.graph, tensor_id, &index, &viewer.ids);
                let value = pollster::block_on(viewer.read_elements(tensor_id, &[element]))
                    .map_or(f32::NAN, |v| v[0]);
                let operand_values = explanation
                    .operands
                    .iter()
                    .map(|o| {
                        pollster::block_on(viewer.read_elements(o.tensor, &[o.element]))
                            .map_or(f32::NAN, |v| v[0])
                    })
                    .collect();
                viewer.highlights = explanation.highlights.clone();
                self.hover = Some(Hover {
                    tensor: tensor_id,
                    index,
                    value,
                    explanation,
                    operand_values,
                });
            }
        }
        if previous_highlights || !viewer.highlights.is_empty() {
            viewer.refresh_states();
        }
        self.changed_this_frame = true;
    }
}

fn hover_tooltip(ui: &egui::Ui, viewer: &Viewer, hover: &Hover, pointer: egui::Pos2) {
    let tensor = &viewer.graph.graph.tensors[hover.tensor];
    egui::Area::new(egui::Id::unique("hover"))
        .fixed_pos(pointer + egui::vec2(16.0, 16.0))
        .interactable(false)
        .show(ui.ctx(), |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.set_max_width(380.0);
                ui.label(
                    RichText::new(&tensor.name)
                        .strong()
                        .color(to_egui(role_color(tensor.role))),
                );
                ui.horizontal(|ui| {
                    for (dim, i) in tensor.dims.iter().zip(&hover.index) {
                        ui.label(
                            RichText::new(format!("{}={i}", dim_letter(*dim)))
                                .color(to_egui(dim_color(*dim))),
                        );
                    }
                });
                ui.label(RichText::new(format!("value {}", format_value(hover.value))).monospace());
                let e = &hover.explanation;
                if let Some(op) = &e.op {
                    ui.label(RichText::new(format!("written by {op}")).weak());
                }
                ui.label(&e.formula);
                if !e.detail.is_empty() {
                    ui.label(&e.detail);
                }
                for (operand, value) in e.operands.iter().zip(&hover.operand_values) {
                    let name = &viewer.graph.graph.tensors[operand.tensor].name;
                    ui.label(
                        RichText::new(format!(
                            "{} ({name}) = {}",
                            operand.label,
                            format_value(*value)
                        ))
                        .monospace(),
                    );
                }
            });
        });
}

fn format_value(v: f32) -> String {
    if v == f32::NEG_INFINITY {
        "-inf (masked)".into()
    } else {
        format!("{v:.6}")
    }
}

fn help_window(ui: &egui::Ui, open: &mut bool) {
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
                    ("drag", "orbit"),
                    ("right-drag, middle-drag, Shift+drag", "pan"),
                    ("scroll, pinch", "zoom towards the pointer"),
                    ("double-click", "fly to the tensor under the pointer"),
                    ("hover", "a cell's value and how it was computed"),
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
