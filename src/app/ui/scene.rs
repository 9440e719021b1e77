//! The 3D view: camera input, picking and the hover tooltip.

use std::time::Instant;

use egui::{Color32, RichText};
use glam::Vec2;

use super::Hover;
use super::UiState;
use crate::app::screenshot::NOTICE;
use crate::render::overlay;
use crate::render::style::{dim_color, dim_letter, on_light, role_color, to_egui};
use crate::viewer::Viewer;

impl UiState {
    pub(super) fn scene(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer, now: Instant) {
        let rect = ui.max_rect();
        self.scene_rect = rect;
        // The first camera was made before the view's shape was known: fit it now.
        if !self.framed && rect.width() >= 1.0 && rect.height() >= 1.0 {
            self.framed = true;
            if let Some(camera) = viewer.camera("overview", rect.aspect_ratio()) {
                self.camera = camera;
            }
        }
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
            if let Some((panel, _, _)) = world.and_then(|w| viewer.layout().pick(w)) {
                let tensor = viewer.layout().panels[panel].tensor;
                let name = viewer.graph().tensors[tensor].name.clone();
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
            viewer.graph(),
            viewer.layout(),
            &self.camera,
            &states,
        );
        self.paint_trace(ui, viewer, rect, now);
        if let (Some(hover), Some(pointer)) = (&self.hover, pointer) {
            operand_lines(ui, viewer, &self.camera, rect, hover, pointer);
            hover_tooltip(ui, viewer, hover, pointer);
        }
        self.paint_legend(ui, viewer, rect);
        if let Some((line, at)) = &self.screenshot {
            if now.duration_since(*at) < NOTICE {
                ui.painter().text(
                    rect.left_bottom() + egui::vec2(8.0, -28.0),
                    egui::Align2::LEFT_BOTTOM,
                    line,
                    egui::FontId::proportional(14.0),
                    Color32::from_rgb(255, 215, 110),
                );
                ui.ctx().request_repaint_after(NOTICE);
            }
        }
        if self.present {
            return;
        }
        ui.painter().text(
            rect.left_bottom() + egui::vec2(8.0, -8.0),
            egui::Align2::LEFT_BOTTOM,
            format!(
                "drag: orbit · right-drag: pan · scroll: zoom · double-click: fly · H: help    readbacks so far: {}",
                viewer.gpu().readback_count()
            ),
            egui::FontId::proportional(12.0),
            Color32::from_gray(140),
        );
    }

    /// Reads the hovered cell (and a few operands) back when the cell under the pointer changes:
    /// the one readback a steady frame may make.
    pub(super) fn update_hover(&mut self, viewer: &mut Viewer, world: Option<glam::Vec3>) {
        let key = world.and_then(|w| viewer.layout().pick(w));
        if key == self.hover_key {
            return;
        }
        self.hover_key = key;
        let previous_highlights = !viewer.highlights().is_empty();
        self.hover = key.and_then(|key| pollster::block_on(viewer.read_hovered(key)));
        let highlights = self
            .hover
            .as_ref()
            .map_or_else(Vec::new, |h| h.explanation.highlights.clone());
        viewer.set_highlights(highlights);
        if previous_highlights || !viewer.highlights().is_empty() {
            viewer.refresh_states();
        }
        self.changed_this_frame = true;
    }
}

/// Lines from the cells a hovered value was computed from to the tooltip that shows them.
fn operand_lines(
    ui: &egui::Ui,
    viewer: &Viewer,
    camera: &crate::render::Camera,
    rect: egui::Rect,
    hover: &Hover,
    pointer: egui::Pos2,
) {
    let viewport = Vec2::new(rect.width(), rect.height());
    let anchor = pointer + egui::vec2(16.0, 16.0);
    for operand in &hover.explanation.operands {
        let tensor = viewer.gpu_graph().tensor(operand.tensor);
        let chunk_start = |chunk: usize| chunk * tensor.rows_per_chunk * tensor.row_len;
        let Some(world) =
            viewer
                .layout()
                .element_center(operand.tensor, operand.element, &chunk_start)
        else {
            continue;
        };
        let Some(screen) = camera.project(world, viewport) else {
            continue;
        };
        let from = rect.min + egui::vec2(screen.x, screen.y);
        let color = to_egui(role_color(viewer.graph().tensors[operand.tensor].role));
        ui.painter()
            .line_segment([from, anchor], egui::Stroke::new(1.5, color));
        ui.painter().circle_filled(from, 3.5, color);
    }
}

fn hover_tooltip(ui: &egui::Ui, viewer: &Viewer, hover: &Hover, pointer: egui::Pos2) {
    let tensor = &viewer.graph().tensors[hover.tensor];
    egui::Area::new(egui::Id::unique("hover"))
        .fixed_pos(pointer + egui::vec2(16.0, 16.0))
        .interactable(false)
        .show(ui.ctx(), |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.set_max_width(380.0);
                ui.label(
                    RichText::new(&tensor.name)
                        .strong()
                        .color(on_light(role_color(tensor.role))),
                );
                ui.horizontal(|ui| {
                    for (dim, i) in tensor.dims.iter().zip(&hover.index) {
                        ui.label(
                            RichText::new(format!("{}={i}", dim_letter(*dim)))
                                .color(on_light(dim_color(*dim))),
                        );
                    }
                });
                let e = &hover.explanation;
                let equation = match e.equation.is_empty() {
                    true => format!("= {}", format_value(hover.value)),
                    false => e.equation_with(&hover.operand_values, hover.value, format_value),
                };
                ui.label(RichText::new(equation).monospace().strong());
                if let Some(op) = &e.op {
                    ui.label(RichText::new(format!("written by {op}")).weak());
                }
                ui.label(&e.formula);
                if !e.detail.is_empty() {
                    ui.label(&e.detail);
                }
                for (operand, value) in e.operands.iter().zip(&hover.operand_values) {
                    let name = &viewer.graph().tensors[operand.tensor].name;
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

impl UiState {
    /// The legend of the tensor under the pointer, or else of the current op's output: read
    /// when that tensor changes or the graph ran again.
    fn paint_legend(&mut self, ui: &egui::Ui, viewer: &Viewer, rect: egui::Rect) {
        let current = viewer.current().map(|op| viewer.graph().ops[op].outputs[0]);
        let Some(tensor) = self.hover.as_ref().map(|h| h.tensor).or(current) else {
            self.legend = None;
            return;
        };
        let stale = self.legend.as_ref().is_none_or(|l| l.tensor != tensor);
        if stale || self.changed_this_frame {
            self.legend = pollster::block_on(viewer.legend(tensor)).ok().flatten();
            self.changed_this_frame = true;
        }
        if let Some(legend) = &self.legend {
            let corner = rect.right_bottom() - egui::vec2(10.0, 28.0);
            crate::render::legend::paint(ui.painter(), corner, legend, 12.0);
        }
    }
}
