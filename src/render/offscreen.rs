//! Rendering the scene into a texture instead of a window: for `glassbox render` (pictures for
//! slides and papers, up to the device's largest texture) and for snapshot tests.

use super::picture::{Frame, Picture};
use super::target::PICTURE_SAMPLES;
use super::{Camera, TensorRenderer, TensorState};
use crate::gpu::{Gpu, GpuError};
use crate::graph::Graph;

/// Shader-written colours are final: a non-sRGB target keeps them as they are.
pub const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

pub struct Offscreen {
    pub width: u32,
    pub height: u32,
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    picture: Picture,
}

impl Offscreen {
    pub fn new(gpu: &Gpu, width: u32, height: u32) -> Result<Offscreen, GpuError> {
        let max = gpu.limits.max_texture_dimension_2d;
        if width == 0 || height == 0 || width > max || height > max {
            return Err(GpuError::ImageSize(format!(
                "{width}x{height} is outside 1..={max} pixels per side on this device"
            )));
        }
        let readback_bytes = (width * 4).div_ceil(256) as u64 * 256 * height as u64;
        if readback_bytes > gpu.limits.max_buffer_size {
            return Err(GpuError::ImageSize(format!(
                "a {width}x{height} image needs a {readback_bytes}-byte buffer to read back, above this device's {} bytes",
                gpu.limits.max_buffer_size
            )));
        }
        let texture = gpu.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("offscreen"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&Default::default());
        Ok(Offscreen {
            width,
            height,
            texture,
            view,
            picture: Picture::new(gpu, FORMAT, PICTURE_SAMPLES, width, height),
        })
    }

    /// Keeps `pixels` on the left for a panel: the scene is drawn to their right.
    pub fn reserve_panel(&mut self, pixels: u32) {
        self.picture.reserve_panel(pixels);
    }

    /// Where the scene is drawn, in pixels: right of the panel, if any.
    pub fn scene_rect(&self) -> egui::Rect {
        self.picture.scene_rect()
    }

    /// Draws one frame: the tensors, then the labels and arrows. Reads nothing back.
    pub fn draw(
        &mut self,
        gpu: &Gpu,
        renderer: &TensorRenderer,
        graph: &Graph,
        camera: &Camera,
        states: &[TensorState],
    ) {
        self.draw_with_overlay(gpu, renderer, graph, camera, states, |_, _| {});
    }

    /// [`Offscreen::draw`] with more painted over the labels (a walkthrough caption, the
    /// narrative panel): `extra` gets the painter and the scene's rectangle.
    pub fn draw_with_overlay(
        &mut self,
        gpu: &Gpu,
        renderer: &TensorRenderer,
        graph: &Graph,
        camera: &Camera,
        states: &[TensorState],
        extra: impl Fn(&egui::Painter, egui::Rect),
    ) {
        let frame = Frame {
            renderer,
            graph,
            camera,
            states,
        };
        self.picture.draw_into(gpu, &self.view, &frame, extra);
    }

    /// Reads the frame back as an RGBA image (one counted readback).
    pub async fn read_image(&self, gpu: &Gpu) -> Result<image::RgbaImage, GpuError> {
        let row_bytes = self.width * 4;
        let padded = row_bytes.div_ceil(256) * 256;
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("offscreen readback"),
            size: padded as u64 * self.height as u64,
            usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_buffer(
            self.texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded),
                    rows_per_image: Some(self.height),
                },
            },
            wgpu::Extent3d {
                width: self.width,
                height: self.height,
                depth_or_array_layers: 1,
            },
        );
        gpu.queue.submit([encoder.finish()]);
        let bytes = gpu
            .read_buffers(&[(&buffer, padded as u64 * self.height as u64)])
            .await?;
        let mut pixels = Vec::with_capacity((row_bytes * self.height) as usize);
        for row in bytes.chunks_exact(padded as usize) {
            pixels.extend_from_slice(&row[..row_bytes as usize]);
        }
        Ok(image::RgbaImage::from_raw(self.width, self.height, pixels)
            .expect("pixel count matches"))
    }
}
