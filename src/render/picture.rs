//! One frame of the model drawn into any texture view: the tensors (with depth and, where asked,
//! multisampling), then the labels, arrows and anything else painted over them with egui. The
//! offscreen image (`glassbox render`, films, tests) and the browser's canvas both draw through
//! it.

use glam::Vec2;

use super::target::SceneTarget;
use super::{overlay, Camera, TensorRenderer, TensorState};
use crate::gpu::Gpu;
use crate::graph::Graph;

/// What one frame shows.
pub struct Frame<'a> {
    pub renderer: &'a TensorRenderer,
    pub graph: &'a Graph,
    pub camera: &'a Camera,
    pub states: &'a [TensorState],
}

pub struct Picture {
    format: wgpu::TextureFormat,
    scene: SceneTarget,
    /// Pixels on the left kept for a panel painted over the picture (the narrative); the scene
    /// is drawn to their right.
    panel_width: u32,
    egui_renderer: egui_wgpu::Renderer,
    egui_ctx: egui::Context,
}

impl Picture {
    /// A picture of `width` x `height` pixels in `format`, drawn with `samples` per pixel (one
    /// of [`super::target::SAMPLE_COUNTS`]).
    pub fn new(
        gpu: &Gpu,
        format: wgpu::TextureFormat,
        samples: u32,
        width: u32,
        height: u32,
    ) -> Picture {
        Picture {
            format,
            scene: SceneTarget::new(&gpu.device, format, width, height, samples),
            panel_width: 0,
            egui_renderer: super::target::egui_renderer(&gpu.device, format, samples),
            egui_ctx: egui::Context::default(),
        }
    }

    pub fn width(&self) -> u32 {
        self.scene.width
    }

    pub fn height(&self) -> u32 {
        self.scene.height
    }

    /// Draws at a new size from now on (a resized canvas); keeps the panel.
    pub fn resize(&mut self, gpu: &Gpu, width: u32, height: u32) {
        if !self.scene.fits(width, height) {
            let samples = self.scene.samples;
            self.scene = SceneTarget::new(&gpu.device, self.format, width, height, samples);
            self.reserve_panel(self.panel_width);
        }
    }

    /// Keeps `pixels` on the left for a panel: the scene is drawn to their right.
    pub fn reserve_panel(&mut self, pixels: u32) {
        self.panel_width = pixels.min(self.scene.width.saturating_sub(1));
    }

    /// Where the scene is drawn, in pixels: right of the panel, if any.
    pub fn scene_rect(&self) -> egui::Rect {
        egui::Rect::from_min_max(
            egui::pos2(self.panel_width as f32, 0.0),
            egui::pos2(self.scene.width as f32, self.scene.height as f32),
        )
    }

    /// Draws `frame` into `output` (a view of this picture's size and format), with `extra`
    /// painted over the labels: it gets the painter and the scene's rectangle. Reads nothing
    /// back.
    pub fn draw_into(
        &mut self,
        gpu: &Gpu,
        output: &wgpu::TextureView,
        frame: &Frame,
        extra: impl Fn(&egui::Painter, egui::Rect),
    ) {
        let full = Vec2::new(self.scene.width as f32, self.scene.height as f32);
        let scene = self.scene_rect();
        let viewport = Vec2::new(scene.width(), scene.height());
        let mut encoder = gpu.device.create_command_encoder(&Default::default());

        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(full.x, full.y),
            )),
            ..Default::default()
        };
        let output_shapes = self.egui_ctx.run_ui(input, |ui| {
            let painter = ui.ctx().layer_painter(egui::LayerId::background());
            overlay::paint(
                &painter.with_clip_rect(scene),
                scene,
                frame.graph,
                &frame.renderer.layout,
                frame.camera,
                frame.states,
            );
            extra(&painter, scene);
        });
        let jobs = self.egui_ctx.tessellate(output_shapes.shapes, 1.0);
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [self.scene.width, self.scene.height],
            pixels_per_point: 1.0,
        };
        let uploads = crate::render::prepare_egui(
            &mut self.egui_renderer,
            gpu,
            &mut encoder,
            &output_shapes.textures_delta,
            &jobs,
            &screen,
        );
        {
            let mut pass = self
                .scene
                .pass(&mut encoder, output, "scene")
                .forget_lifetime();
            pass.set_viewport(scene.left(), 0.0, viewport.x, viewport.y, 0.0, 1.0);
            frame
                .renderer
                .draw(gpu, &mut pass, self.scene.samples, frame.camera, viewport);
            pass.set_viewport(0.0, 0.0, full.x, full.y, 0.0, 1.0);
            self.egui_renderer.render(&mut pass, &jobs, &screen);
        }
        crate::render::finish_egui(&mut self.egui_renderer, &output_shapes.textures_delta);
        gpu.queue
            .submit(uploads.into_iter().chain([encoder.finish()]));
    }
}
