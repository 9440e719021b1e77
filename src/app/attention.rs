//! The attention panel: one head's T x T softmax pattern, drawn by the tensor renderer from the
//! GPU buffer into a texture shown in egui, with the tokens on both axes. Hovering a row lists
//! where that token looks (a readback of one row, only when the hovered row changes).

use egui::{Color32, RichText};
use glam::Vec2;

use crate::render::target::SceneTarget;
use crate::render::{Camera, View};
use crate::viewer::Viewer;

const SIZE: u32 = 256;

pub struct AttentionView {
    layer: usize,
    head: usize,
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    scene: SceneTarget,
    texture_id: egui::TextureId,
    hovered_row: Option<HoveredRow>,
}

/// A hovered row of the heatmap and its probabilities, read for these ids.
struct HoveredRow {
    key: (usize, usize, usize),
    ids: Vec<u32>,
    values: Vec<f32>,
}

impl AttentionView {
    pub fn new(viewer: &Viewer, egui_renderer: &mut egui_wgpu::Renderer) -> AttentionView {
        let texture = viewer
            .gpu()
            .device
            .create_texture(&wgpu::TextureDescriptor {
                label: Some("attention"),
                size: wgpu::Extent3d {
                    width: SIZE,
                    height: SIZE,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: viewer.format(),
                usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                    | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            });
        let view = texture.create_view(&Default::default());
        let texture_id = egui_renderer.register_native_texture(
            &viewer.gpu().device,
            &view,
            wgpu::FilterMode::Nearest,
        );
        AttentionView {
            layer: 0,
            head: 0,
            texture,
            scene: SceneTarget::new(
                &viewer.gpu().device,
                viewer.format(),
                SIZE,
                SIZE,
                crate::render::target::window_samples(viewer.gpu()),
            ),
            view,
            texture_id,
            hovered_row: None,
        }
    }

    /// The token count changed: forget what was read for the old one.
    pub fn rebuild(&mut self, _viewer: &Viewer) {
        self.hovered_row = None;
    }

    fn panel(&self, viewer: &Viewer) -> Option<usize> {
        let probs = viewer
            .gpu_graph()
            .graph()
            .tensor_id(&format!("h.{}.attn.probs", self.layer))?;
        viewer
            .renderer()
            .layout
            .panels
            .iter()
            .position(|p| p.tensor == probs && p.head == Some(self.head))
    }

    /// Draws the chosen head into the panel's texture (no readback).
    pub fn render(&self, viewer: &Viewer, encoder: &mut wgpu::CommandEncoder) {
        let Some(index) = self.panel(viewer) else {
            return;
        };
        let panel = &viewer.layout().panels[index];
        let min = Vec2::new(panel.origin.x, panel.origin.y - panel.size.y);
        let max = Vec2::new(panel.origin.x + panel.size.x, panel.origin.y);
        let mut camera = Camera::framing(min, max, 1.0);
        // Framing leaves a margin; the heatmap should fill the texture.
        camera.distance /= 1.08;
        let mut pass = self.scene.pass(encoder, &self.view, "attention");
        viewer.renderer().draw_panel(
            viewer.gpu(),
            &mut pass,
            self.scene.samples,
            View::Attention,
            &camera,
            Vec2::splat(SIZE as f32),
            index,
        );
    }

    pub fn show(&mut self, ui: &mut egui::Ui, viewer: &Viewer) {
        let config = &viewer.scene().model.config;
        ui.heading("Attention");
        if viewer.decoding() {
            ui.label(
                "Decoding: the new token's attention over the cache is the one-row attn.probs \
                 of each layer in the scene.",
            );
            return;
        }
        ui.horizontal(|ui| {
            egui::ComboBox::from_label("layer")
                .selected_text(self.layer.to_string())
                .show_ui(ui, |ui| {
                    for l in 0..config.n_layer {
                        ui.selectable_value(&mut self.layer, l, l.to_string());
                    }
                });
            egui::ComboBox::from_label("head")
                .selected_text(self.head.to_string())
                .show_ui(ui, |ui| {
                    for h in 0..config.n_head {
                        ui.selectable_value(&mut self.head, h, h.to_string());
                    }
                });
        });
        let t = viewer.ids().len();
        let computed = viewer
            .gpu_graph()
            .graph()
            .op_index(&format!("h.{}.attn.softmax", self.layer))
            .is_some_and(|i| i < viewer.op_count());
        if !computed {
            ui.label("Not computed yet at this step.");
            return;
        }
        let label_room = if t <= 32 { 24.0 } else { 0.0 };
        let (outer, _) = ui.allocate_exact_size(
            egui::vec2(220.0 + label_room, 220.0 + label_room),
            egui::Sense::hover(),
        );
        let image_rect = egui::Rect::from_min_size(
            outer.min + egui::vec2(label_room, label_room),
            egui::vec2(220.0, 220.0),
        );
        let response = ui.interact(
            image_rect,
            ui.scope_id().with("attention image"),
            egui::Sense::hover(),
        );
        ui.painter().image(
            self.texture_id,
            image_rect,
            egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            Color32::WHITE,
        );
        let cell = image_rect.width() / t as f32;
        if label_room > 0.0 {
            for (i, &id) in viewer.ids().iter().enumerate() {
                let text = viewer.scene().tokenizer.decode_one(id);
                let font = egui::FontId::monospace(10.0);
                let y = image_rect.top() + (i as f32 + 0.5) * cell;
                let x = image_rect.left() + (i as f32 + 0.5) * cell;
                ui.painter().text(
                    egui::pos2(image_rect.left() - 4.0, y),
                    egui::Align2::RIGHT_CENTER,
                    &text,
                    font.clone(),
                    Color32::from_rgb(255, 160, 70),
                );
                ui.painter().text(
                    egui::pos2(x, image_rect.top() - 4.0),
                    egui::Align2::CENTER_BOTTOM,
                    &text,
                    font,
                    Color32::from_rgb(255, 205, 120),
                );
            }
        }
        ui.label(RichText::new("rows: query tokens · columns: the tokens they attend to").weak());

        let row = response
            .hover_pos()
            .map(|p| (((p.y - image_rect.top()) / cell) as usize).min(t - 1));
        if let Some(row) = row {
            let key = (self.layer, self.head, row);
            let fresh = self
                .hovered_row
                .as_ref()
                .is_some_and(|h| h.key == key && h.ids == viewer.ids());
            if !fresh {
                let probs = viewer
                    .gpu_graph()
                    .graph()
                    .tensor_id(&format!("h.{}.attn.probs", self.layer));
                let start = (self.head * t + row) * t;
                let values = probs
                    .and_then(|id| {
                        pollster::block_on(
                            viewer.read_elements(id, &(start..start + t).collect::<Vec<_>>()),
                        )
                        .ok()
                    })
                    .unwrap_or_default();
                self.hovered_row = Some(HoveredRow {
                    key,
                    ids: viewer.ids().to_vec(),
                    values,
                });
            }
            let band = egui::Rect::from_min_size(
                egui::pos2(image_rect.left(), image_rect.top() + row as f32 * cell),
                egui::vec2(image_rect.width(), cell),
            );
            ui.painter().rect_stroke(
                band,
                0.0,
                egui::Stroke::new(1.5, Color32::YELLOW),
                egui::StrokeKind::Outside,
            );
            if let Some(HoveredRow { values, .. }) = &self.hovered_row {
                let mut ranked: Vec<(usize, f32)> = values.iter().copied().enumerate().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                let who = viewer.scene().tokenizer.decode_one(viewer.ids()[row]);
                ui.label(format!("token {row} ({who}) looks at:"));
                for (j, p) in ranked.into_iter().take(3) {
                    let text = viewer.scene().tokenizer.decode_one(viewer.ids()[j]);
                    ui.label(
                        RichText::new(format!("  {j:>3} {text:>6}  {:5.1}%", p * 100.0))
                            .monospace(),
                    );
                }
            }
        } else {
            self.hovered_row = None;
        }
        let _ = &self.texture;
    }
}
