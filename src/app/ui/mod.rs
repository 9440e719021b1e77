//! The panels around the 3D view: prompt and token strip, the player, the outline, the next-token
//! predictions, the attention heatmap, hover details and the help overlay.

mod difference;
mod editor;
mod fill;
mod generation;
mod open_model;
mod panels;
mod scene;
mod trace;
mod walkthrough;
mod why;
mod why_views;

use std::time::{Duration, Instant};

use anyhow::Result;
use egui::Color32;
use glam::Vec2;

use super::attention::AttentionView;
use super::screenshot;
use super::timing::TimingView;
use crate::gpu::watch::{KernelWatcher, Reload};
use crate::gpu::GpuError;
use crate::render::Camera;
use crate::viewer::hover::HoveredCell as Hover;
use crate::viewer::walkthrough::WalkthroughPlayer;
use crate::viewer::Viewer;

/// Time between two ops while playing.
const PLAY_STEP: Duration = Duration::from_millis(450);
/// Length of a camera flight.
const FLIGHT: Duration = Duration::from_millis(600);
/// How often the watched kernel files are checked.
const KERNEL_POLL: Duration = Duration::from_millis(500);

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
    editor: editor::KernelEditor,
    /// The last failed kernel reload per kernel file, shown until the file compiles again.
    kernel_errors: Vec<(String, String)>,
    generation_error: Option<String>,
    /// The model folder field, and a model being loaded from it.
    model_path: String,
    loading: Option<open_model::ModelLoad>,
    open_error: Option<String>,
    /// An execution trace of the current op, replayed over its output.
    trace: Option<trace::TakenTrace>,
    /// Why the device was opened again, shown until dismissed.
    device_notice: Option<String>,
    /// The kernel files to restore on a new device, when loading the newest ones hung the GPU.
    kernel_rollback: Option<Vec<(String, String)>>,
    /// Per loaded kernel file: its check against the CPU reference, and whether it passed.
    kernel_checks: Vec<(String, String, bool)>,
    /// Where the last screenshot went (or why it failed), shown for a few seconds.
    screenshot: screenshot::Notice,
    /// What the left panel shows.
    tab: Tab,
    /// Presentation mode: the picture and the narrative only, for a projector.
    pub present: bool,
    /// Whether the camera was fitted to the 3D view's own shape yet (known after a frame).
    framed: bool,
    /// How the player's steps show an op's output filling in, and the one filling now.
    fill_pace: fill::Pace,
    fill: Option<fill::Filling>,
    /// The colour scale of the tensor under the pointer (or of the current op's output).
    legend: Option<crate::render::legend::Legend>,
    /// The "why" window: the logit lens, the heads, ablation.
    why: why::WhyView,
}

/// What the left panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Walkthrough,
    Player,
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
            editor: Default::default(),
            kernel_errors: Vec::new(),
            generation_error: None,
            model_path: String::new(),
            loading: None,
            open_error: None,
            trace: None,
            device_notice: None,
            kernel_rollback: None,
            kernel_checks: Vec::new(),
            screenshot: None,
            tab: if viewer.scene().walkthrough.chapters.is_empty() {
                Tab::Player
            } else {
                Tab::Walkthrough
            },
            present: false,
            framed: false,
            fill_pace: fill::Pace::Gpu,
            fill: None,
            legend: None,
            why: why::WhyView::default(),
        })
    }

    /// Takes the window's state over to a viewer on a new device (the old one was lost): what
    /// lives on the GPU (the attention image, a trace, a hovered value) is made again or
    /// dropped; the camera, prompt, walkthrough and panels stay as they were.
    pub fn reattach(
        &mut self,
        viewer: &Viewer,
        egui_renderer: &mut egui_wgpu::Renderer,
        problem: &str,
        left_out: &[crate::gpu::KernelError],
    ) {
        for error in left_out {
            self.kernel_errors.retain(|(file, _)| *file != error.file);
            self.kernel_errors.push((
                error.file.clone(),
                format!("{error} (not loaded on the new device)"),
            ));
        }
        self.attention = AttentionView::new(viewer, egui_renderer);
        self.trace = None;
        self.clear_hover();
        self.changed_this_frame = true;
        self.device_notice = Some(format!(
            "{problem}. A new device was opened and your session restored: model, tokens, \
             step, kernels and edited kernel files."
        ));
    }

    /// Checks the families of the kernel files just loaded against the CPU reference, so that a
    /// dropped-in or edited kernel says at once whether it computes the op.
    fn check_loaded_kernels(&mut self, viewer: &mut Viewer, files: &[String]) {
        for file in files {
            let family = viewer
                .registry()
                .kernels()
                .find(|k| k.file == *file)
                .map(|k| k.id.family);
            let Some(family) = family else {
                continue;
            };
            let tolerance = viewer.gpu_graph().precision.tolerance();
            let (text, passes) = match pollster::block_on(viewer.check_family(&family)) {
                Ok(Some(worst)) => {
                    let d = &worst.difference;
                    let passes = d.within(tolerance);
                    let verdict = if passes {
                        "agrees with"
                    } else {
                        "DIFFERS from"
                    };
                    (
                        format!(
                            "{file}: {family} {verdict} the CPU reference (worst {}: {:.2e}, \
                             tolerance {:.1e})",
                            worst.op,
                            d.max_abs,
                            tolerance * d.scale
                        ),
                        passes,
                    )
                }
                Ok(None) => (format!("{file}: no op of this model runs {family}"), true),
                Err(e) => (format!("{file}: could not be checked: {e}"), false),
            };
            // Also on the terminal, where a session's log keeps it.
            println!("{text}");
            self.kernel_checks.retain(|(f, _, _)| f != file);
            self.kernel_checks.push((file.clone(), text, passes));
        }
        self.clear_hover();
    }

    /// The kernel files to restore instead of the viewer's, after a reload hung the GPU.
    pub fn take_kernel_rollback(&mut self) -> Option<Vec<(String, String)>> {
        self.kernel_rollback.take()
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
        let files_before = viewer.snapshot_kernel_files();
        let events = {
            let (device, registry) = viewer.kernels_mut();
            watcher.poll(device, registry)
        };
        if events.is_empty() {
            return;
        }
        let mut reloaded = Vec::new();
        for event in events {
            match event {
                Reload::Loaded(loaded) => {
                    let file = viewer.registry().source(loaded.id()).file.clone();
                    self.kernel_errors.retain(|(f, _)| *f != file);
                    reloaded.push(file);
                }
                Reload::Failed(error) => {
                    self.kernel_checks
                        .retain(|(file, _, _)| *file != error.file);
                    self.kernel_errors.retain(|(file, _)| *file != error.file);
                    self.kernel_errors
                        .push((error.file.clone(), error.to_string()));
                }
            }
        }
        if !reloaded.is_empty() {
            self.kernels_changed(viewer, &reloaded, files_before);
        }
    }

    /// Runs the graph again after kernel files were loaded (from the folder watched or the
    /// editor): checks them against the CPU reference, and rolls the device back to
    /// `files_before` if they hung it.
    fn kernels_changed(
        &mut self,
        viewer: &mut Viewer,
        reloaded: &[String],
        files_before: Vec<(String, String)>,
    ) {
        // A new variant may now run its family, and an edited header may change the grid:
        // the launches are planned again.
        let choice = viewer.gpu().kernels.clone();
        let ran =
            pollster::block_on(viewer.set_kernels(choice)).and_then(|()| viewer.gpu().wait_idle());
        match ran {
            Err(e @ GpuError::Hung { .. }) => {
                // The device is given up: the window opens a new one, with the kernels as
                // they were before these files.
                for file in reloaded {
                    self.kernel_errors.retain(|(f, _)| f != file);
                    self.kernel_errors
                        .push((file.clone(), format!("{file}: {e}")));
                }
                self.kernel_rollback = Some(files_before);
            }
            Err(e) => self.kernel_errors.push(("kernels".into(), e.to_string())),
            Ok(()) => self.check_loaded_kernels(viewer, reloaded),
        }
        self.clear_hover();
        self.cancel_fill(viewer);
        self.changed_this_frame = true;
        if Self::position(viewer) == Self::ops(viewer) {
            self.refresh_predictions(viewer);
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
        viewer.graph().ops.len()
    }

    /// Ops run so far, 1..=ops (the player's position).
    fn position(viewer: &Viewer) -> usize {
        viewer.current().map_or(Self::ops(viewer), |c| c + 1)
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
            self.start_fill(viewer);
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

    /// Types a letter at the end of the prompt (`None`: erases the last one), as the prompt box
    /// does: the model runs again on the new tokens.
    pub fn type_letter(&mut self, viewer: &mut Viewer, letter: Option<char>) {
        match letter {
            Some(letter) => self.prompt.push(letter),
            None => {
                self.prompt.pop();
            }
        }
        self.set_prompt(viewer);
    }

    fn set_prompt(&mut self, viewer: &mut Viewer) {
        let ids = match viewer.scene().tokenizer.encode(&self.prompt) {
            Ok(ids) => ids,
            Err(e) => {
                self.prompt_error = Some(e.to_string());
                return;
            }
        };
        match pollster::block_on(viewer.set_ids(&ids)) {
            Ok(()) => {
                self.prompt_error = None;
                self.tokens_changed(viewer);
            }
            Err(e) => self.prompt_error = Some(e.to_string()),
        }
    }

    pub fn show(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
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
        self.advance_fill(viewer, now);
        if !self.present {
            self.top_bar(ui, viewer);
        }
        let has_walkthrough = !viewer.scene().walkthrough.chapters.is_empty();
        egui::Panel::left("left")
            .default_size(if self.tab == Tab::Walkthrough {
                380.0
            } else {
                270.0
            })
            .show(ui, |ui| {
                if !self.present && has_walkthrough {
                    ui.horizontal(|ui| {
                        ui.selectable_value(&mut self.tab, Tab::Walkthrough, "Walkthrough");
                        ui.selectable_value(&mut self.tab, Tab::Player, "Player");
                    });
                    ui.separator();
                }
                let narrative = self.present || self.tab == Tab::Walkthrough;
                match narrative {
                    true if has_walkthrough => self.walkthrough_panel(ui, viewer),
                    _ => self.player(ui, viewer, now),
                }
            });
        if !self.present {
            egui::Panel::right("outputs")
                .default_size(300.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        if ui
                            .button("Why? The lens, the heads, ablation (W)")
                            .clicked()
                        {
                            self.toggle_why();
                        }
                        self.generation_panel(ui, viewer);
                        ui.separator();
                        self.predictions_panel(ui, viewer);
                        ui.separator();
                        self.attention.show(ui, viewer);
                    });
                });
        }
        egui::CentralPanel::no_frame().show(ui, |ui| self.scene(ui, viewer, now));
        if self.show_help {
            panels::help_window(ui, &mut self.show_help);
        }
        self.timing.show(ui.ctx(), viewer);
        self.why_window(ui.ctx(), viewer, now);
        self.kernel_editor(ui.ctx(), viewer);
        self.refresh_difference(viewer);
    }

    /// The model and prompt bars, and the notices about kernels and the device.
    fn top_bar(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        egui::Panel::top("prompt").show(ui, |ui| {
            self.model_bar(ui, viewer);
            self.prompt_bar(ui, viewer);
            for (_, error) in &self.kernel_errors {
                ui.colored_label(
                    Color32::from_rgb(255, 120, 100),
                    format!("{error} (the last good version keeps running)"),
                );
            }
            for (_, check, passes) in &self.kernel_checks {
                let colour = match passes {
                    true => Color32::from_rgb(140, 220, 140),
                    false => Color32::from_rgb(255, 120, 100),
                };
                ui.colored_label(colour, check);
            }
            if let Some(notice) = &self.device_notice {
                let dismissed = ui
                    .horizontal(|ui| {
                        ui.colored_label(Color32::from_rgb(255, 200, 90), notice);
                        ui.small_button("OK").clicked()
                    })
                    .inner;
                if dismissed {
                    self.device_notice = None;
                }
            }
        });
    }

    fn keyboard(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
        // Also while typing: F12 types nothing.
        if let Some(scale) = ui.input(screenshot::requested) {
            let ppp = ui.ctx().pixels_per_point();
            let size = self.scene_rect.size() * ppp;
            let size = (size.x.round() as u32, size.y.round() as u32);
            let line = screenshot::take(viewer, &self.camera, size, scale)
                .unwrap_or_else(|e| format!("screenshot failed: {e:#}"));
            println!("{line}");
            self.screenshot = Some((line, now));
            // Its readback is no steady frame's.
            self.changed_this_frame = true;
        }
        // Keys are the view's unless a text field is being typed in (a button keeping the
        // focus after a click does not take them).
        if ui.ctx().text_edit_focused() {
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
        if pressed(egui::Key::P) {
            self.present = !self.present;
        }
        if pressed(egui::Key::F) {
            if let Some(camera) = viewer.camera("all", aspect) {
                self.fly_to(camera, now);
            }
        }
        if pressed(egui::Key::C) {
            if let Some(op) = viewer.current().map(|c| viewer.graph().ops[c].outputs[0]) {
                let name = viewer.graph().tensors[op].name.clone();
                if let Some(camera) = viewer.camera(&name, aspect) {
                    self.fly_to(camera, now);
                }
            }
        }
        let names: Vec<String> = viewer.scene().cameras.keys().cloned().collect();
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
        if pressed(egui::Key::W) {
            self.toggle_why();
        }
        if pressed(egui::Key::X) {
            self.ablate_hovered(viewer);
        }
        if pressed(egui::Key::Escape) {
            self.show_help = false;
        }
        if ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Q)) {
            self.quit = true;
        }
    }
}
