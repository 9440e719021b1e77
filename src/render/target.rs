//! The multisampled colour and depth textures a frame is drawn into before it is resolved into
//! the window's or the offscreen image's texture: slabs need a depth test to hide their back
//! faces, and their edges need antialiasing.

/// Samples per pixel of pictures and films: 4 is the count every WebGPU device supports for
/// colour and depth.
pub const PICTURE_SAMPLES: u32 = 4;
/// The sample counts the tensor pipelines are made for.
pub const SAMPLE_COUNTS: [u32; 2] = [1, 4];

/// Samples per pixel in the window: 4 on a GPU; 1 on a CPU adapter such as lavapipe, where 4x
/// multisampling triples the frame time of an interactive window (pictures keep 4x).
pub fn window_samples(gpu: &crate::gpu::Gpu) -> u32 {
    match gpu.adapter_info.device_type {
        wgpu::DeviceType::Cpu => 1,
        _ => PICTURE_SAMPLES,
    }
}
pub const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

pub struct SceneTarget {
    pub width: u32,
    pub height: u32,
    /// Samples per pixel (1: no multisampling, drawn straight into the output).
    pub samples: u32,
    /// The multisampled colour, resolved into the output; none at 1 sample, where the pass
    /// draws into the output itself.
    color: Option<wgpu::TextureView>,
    depth: wgpu::TextureView,
}

impl SceneTarget {
    pub fn new(
        device: &wgpu::Device,
        format: wgpu::TextureFormat,
        width: u32,
        height: u32,
        samples: u32,
    ) -> SceneTarget {
        let texture = |label, format| {
            device
                .create_texture(&wgpu::TextureDescriptor {
                    label: Some(label),
                    size: wgpu::Extent3d {
                        width: width.max(1),
                        height: height.max(1),
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: samples,
                    dimension: wgpu::TextureDimension::D2,
                    format,
                    usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                    view_formats: &[],
                })
                .create_view(&Default::default())
        };
        SceneTarget {
            width,
            height,
            samples,
            color: (samples > 1).then(|| texture("scene colour (multisampled)", format)),
            depth: texture("scene depth", DEPTH_FORMAT),
        }
    }

    /// Whether this target still fits a `width` x `height` output.
    pub fn fits(&self, width: u32, height: u32) -> bool {
        self.width == width && self.height == height
    }

    /// A pass drawing into the multisampled textures, resolved into `output` when it ends;
    /// colour and depth cleared first.
    pub fn pass<'e>(
        &self,
        encoder: &'e mut wgpu::CommandEncoder,
        output: &wgpu::TextureView,
        label: &str,
    ) -> wgpu::RenderPass<'e> {
        encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some(label),
            color_attachments: &[Some(match &self.color {
                Some(color) => wgpu::RenderPassColorAttachment {
                    view: color,
                    resolve_target: Some(output),
                    depth_slice: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(super::style::BACKGROUND),
                        store: wgpu::StoreOp::Discard,
                    },
                },
                None => wgpu::RenderPassColorAttachment {
                    view: output,
                    resolve_target: None,
                    depth_slice: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(super::style::BACKGROUND),
                        store: wgpu::StoreOp::Store,
                    },
                },
            })],
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &self.depth,
                depth_ops: Some(wgpu::Operations {
                    load: wgpu::LoadOp::Clear(1.0),
                    store: wgpu::StoreOp::Discard,
                }),
                stencil_ops: None,
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        })
    }
}

/// egui drawing into the pass of a [`SceneTarget`] with `samples` samples per pixel.
pub fn egui_renderer(
    device: &wgpu::Device,
    format: wgpu::TextureFormat,
    samples: u32,
) -> egui_wgpu::Renderer {
    egui_wgpu::Renderer::new(
        device,
        format,
        egui_wgpu::RendererOptions {
            msaa_samples: samples,
            depth_stencil_format: Some(DEPTH_FORMAT),
            ..egui_wgpu::RendererOptions::PREDICTABLE
        },
    )
}
