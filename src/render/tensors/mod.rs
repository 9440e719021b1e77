//! The pass that draws tensors: one quad per tensor (the heads of a tensor as instances), coloured
//! per pixel by a fragment shader reading the storage buffer the kernels wrote.

mod draws;
mod fill;
mod scale;

use glam::Vec2;

use super::{style, target, Camera, Highlight, Layout, TensorState};
use crate::gpu::{Gpu, GpuError, GpuGraph, KernelRegistry, Precision};
use crate::graph::DType;
use draws::{plan_draws, tensor_groups, visible, Draw, Shown};
use scale::ColourScale;

/// The draw shader, beside the kernels it draws the output of.
pub const TENSOR_SHADER: &str = include_str!("../../../kernels/render/tensor.wgsl");

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct CameraUniform {
    view_proj: [[f32; 4]; 4],
    viewport: [f32; 2],
    _pad: [f32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PanelUniform {
    origin: [f32; 3],
    state: u32,
    size: [f32; 2],
    rows: u32,
    cols: u32,
    offset: u32,
    row_stride: u32,
    col_stride: u32,
    slot: u32,
    frame_color: [f32; 4],
    highlight_row: u32,
    highlight_col: u32,
    mode: u32,
    instance_dx: f32,
    instance_offset: u32,
    highlight_head: u32,
    integer_scale: u32,
    /// The difference view's scale: |GPU - CPU| / (tolerance * max(1, absmax)) = 1 is red.
    tolerance: f32,
    /// The slab's material: side faces and the grid every 8 cells.
    side_color: [f32; 4],
    /// How far the slab fades into the background (0: not at all).
    ghost: f32,
    /// The slab's thickness in world units.
    depth: f32,
    /// While the op writing this tensor is animated: the last workgroup (by start rank) whose
    /// cells are shown; u32::MAX: all of them.
    reveal: u32,
    _pad: f32,
}

/// How far tensors the current op does not touch fade towards the background.
const GHOST: f32 = 0.55;

/// The views one frame can draw, each with its own camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Scene = 0,
    Attention = 1,
}

const VIEWS: usize = 2;

pub struct TensorRenderer {
    pub layout: Layout,
    /// The draw pipeline for each sample count a target may have.
    pipelines: Vec<(u32, wgpu::RenderPipeline)>,
    /// One camera per view drawn in the same frame (the 3D scene, the attention heatmap).
    camera_buffers: Vec<wgpu::Buffer>,
    panel_buffer: wgpu::Buffer,
    panel_stride: u64,
    frame_groups: Vec<wgpu::BindGroup>,
    draws: Vec<Draw>,
    /// Per draw: the tensor buffer it reads, and its uniform.
    tensor_groups: Vec<wgpu::BindGroup>,
    values_layout: wgpu::BindGroupLayout,
    /// Whether activations are coloured by |GPU - CPU| against reference buffers.
    difference: bool,
    /// The difference at which the difference view turns red, relative to max(1, absmax).
    difference_threshold: f32,
    /// How the drawn buffers store floats.
    precision: Precision,
    panels: Vec<PanelUniform>,
    /// Each tensor's colour scale, computed on the GPU.
    scale: ColourScale,
    frame_layout: wgpu::BindGroupLayout,
    /// The fill order being animated: per output cell, the rank of the workgroup that wrote it.
    fill: Option<fill::FillOrder>,
}

impl TensorRenderer {
    pub fn new(
        gpu: &Gpu,
        registry: &KernelRegistry,
        graph: &GpuGraph,
        format: wgpu::TextureFormat,
    ) -> Result<TensorRenderer, GpuError> {
        let device = &gpu.device;
        let layout = Layout::new(graph.graph(), &|id| graph.tensor(id).rows_per_chunk);
        let uniform_entry = |binding, dynamic| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: dynamic,
                min_binding_size: None,
            },
            count: None,
        };
        let storage_entry = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: true },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tensor frame"),
            entries: &[
                uniform_entry(0, false),
                uniform_entry(1, true),
                storage_entry(2),
                storage_entry(3),
                storage_entry(4),
            ],
        });
        let values_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tensor values"),
            entries: &[storage_entry(0), storage_entry(1)],
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("tensor draw"),
            source: wgpu::ShaderSource::Wgsl(match graph.precision {
                Precision::F32 => TENSOR_SHADER.into(),
                Precision::F16 => crate::gpu::wgsl::f16_source(TENSOR_SHADER).into(),
            }),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("tensor draw"),
            bind_group_layouts: &[Some(&frame_layout), Some(&values_layout)],
            immediate_size: 0,
        });
        let pipeline = |samples: u32| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("tensor draw"),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some("vs_main"),
                    buffers: &[],
                    compilation_options: Default::default(),
                },
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some("fs_main"),
                    targets: &[Some(format.into())],
                    compilation_options: Default::default(),
                }),
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: target::DEPTH_FORMAT,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: Default::default(),
                    bias: Default::default(),
                }),
                multisample: wgpu::MultisampleState {
                    count: samples,
                    ..Default::default()
                },
                multiview_mask: None,
                cache: None,
            })
        };
        let pipelines = target::SAMPLE_COUNTS.map(|n| (n, pipeline(n))).to_vec();

        let camera_buffers: Vec<wgpu::Buffer> = (0..VIEWS)
            .map(|_| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("camera"),
                    size: std::mem::size_of::<CameraUniform>() as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let draws = plan_draws(graph.graph(), &layout);
        let align = gpu.limits.min_uniform_buffer_offset_alignment as u64;
        let panel_stride = (std::mem::size_of::<PanelUniform>() as u64).div_ceil(align) * align;
        let panel_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("panels"),
            size: panel_stride * draws.len().max(1) as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let scale = ColourScale::new(gpu, registry, graph)?;
        let ranks = fill::empty_ranks(gpu);
        let frame_groups = frame_groups(
            device,
            &frame_layout,
            &camera_buffers,
            &panel_buffer,
            &scale,
            &ranks,
        );
        let tensor_groups = tensor_groups(gpu, &values_layout, &layout, &draws, graph, None);

        let panels = draws
            .iter()
            .map(|d| {
                let p = &layout.panels[d.first];
                let next = layout.panels.get(d.first + 1).filter(|_| d.count > 1);
                // A collapsed block's summary fills the block, from its own left edge.
                let (origin, size) = match d.shown {
                    Shown::Collapsed(r) => {
                        let region = &layout.regions[r];
                        let height = (region.max.y - region.min.y) * 0.92;
                        let width = (region.max.x - p.origin.x).max(p.size.x);
                        (p.origin.with_y(region.max.y), Vec2::new(width, height))
                    }
                    _ => (p.origin, p.size),
                };
                (p, next, origin, size)
            })
            .map(|(p, next, origin, size)| PanelUniform {
                origin: origin.to_array(),
                state: 1,
                size: size.to_array(),
                rows: p.rows as u32,
                cols: p.cols as u32,
                offset: p.offset as u32,
                row_stride: p.row_stride as u32,
                col_stride: p.col_stride as u32,
                slot: p.tensor as u32,
                frame_color: style::role_color(graph.graph().tensors[p.tensor].role),
                highlight_row: u32::MAX,
                highlight_col: u32::MAX,
                mode: 0,
                instance_dx: next.map_or(0.0, |n| n.origin.x - p.origin.x),
                instance_offset: next.map_or(0, |n| (n.offset - p.offset) as u32),
                highlight_head: u32::MAX,
                integer_scale: match graph.graph().tensors[p.tensor].dtype {
                    DType::U32 => graph.graph().config.vocab_size.saturating_sub(1).max(1) as u32,
                    DType::F32 => 0,
                },
                tolerance: graph.precision.tolerance(),
                side_color: style::role_material(graph.graph().tensors[p.tensor].role),
                ghost: 0.0,
                depth: layout.slab_depth,
                reveal: u32::MAX,
                _pad: 0.0,
            })
            .collect();
        let renderer = TensorRenderer {
            layout,
            draws,
            pipelines,
            camera_buffers,
            panel_buffer,
            panel_stride,
            frame_groups,
            tensor_groups,
            values_layout,
            difference: false,
            difference_threshold: graph.precision.tolerance(),
            precision: graph.precision,
            panels,
            scale,
            frame_layout,
            fill: None,
        };
        renderer.upload_panels(gpu);
        Ok(renderer)
    }

    fn upload_panels(&self, gpu: &Gpu) {
        let mut bytes = vec![0u8; (self.panel_stride as usize) * self.panels.len()];
        for (i, panel) in self.panels.iter().enumerate() {
            let start = i * self.panel_stride as usize;
            bytes[start..start + std::mem::size_of::<PanelUniform>()]
                .copy_from_slice(bytemuck::bytes_of(panel));
        }
        if !bytes.is_empty() {
            gpu.queue.write_buffer(&self.panel_buffer, 0, &bytes);
        }
    }

    /// The buffers of every tensor's colour scale and largest |value| (f32 each), for the legend.
    pub fn scale_buffers(&self) -> (&wgpu::Buffer, &wgpu::Buffer) {
        (&self.scale.scales, &self.scale.absmax)
    }

    /// Records the colour-scale passes of every tensor, on the GPU. Run it after the graph runs;
    /// it reads nothing back.
    pub fn encode_stats(&self, registry: &KernelRegistry, encoder: &mut wgpu::CommandEncoder) {
        self.scale.encode(registry, self.precision, encoder);
    }

    /// Sets how each tensor is drawn (computed or not, part of the current op) and which rows or
    /// columns are highlighted. A small upload; nothing is read back.
    pub fn set_states(
        &mut self,
        gpu: &Gpu,
        graph: &GpuGraph,
        states: &[TensorState],
        highlights: &[Highlight],
    ) {
        let op_current = states
            .iter()
            .any(|s| matches!(s, TensorState::CurrentInput | TensorState::CurrentOutput));
        for (uniform, draw) in self.panels.iter_mut().zip(&self.draws) {
            let panel = &self.layout.panels[draw.first];
            let tensor = &graph.graph().tensors[panel.tensor];
            let state = states[panel.tensor];
            uniform.tolerance = self.difference_threshold;
            uniform.mode = if self.difference && tensor.is_computed_float() {
                2
            } else if graph.graph().is_probability(panel.tensor) {
                1
            } else {
                0
            };
            let involved = matches!(
                state,
                TensorState::CurrentInput | TensorState::CurrentOutput
            );
            uniform.ghost = if op_current && !involved { GHOST } else { 0.0 };
            uniform.state = match state {
                TensorState::NotComputed => 0,
                TensorState::Computed => 1,
                TensorState::CurrentInput => 2,
                TensorState::CurrentOutput => 3,
            };
            uniform.frame_color = match state {
                TensorState::CurrentInput => style::CURRENT_INPUT,
                TensorState::CurrentOutput => style::CURRENT_OUTPUT,
                _ => style::role_color(tensor.role),
            };
            let highlight = highlights.iter().find(|h| h.tensor == panel.tensor);
            uniform.highlight_head = highlight
                .and_then(|h| h.head)
                .map_or(u32::MAX, |h| h as u32);
            // A whole-tensor highlight (a word of the walkthrough hovered) gets a thick white frame.
            if highlight.is_some_and(|h| h.row.is_none() && h.col.is_none()) {
                uniform.frame_color = style::HOVERED;
                uniform.ghost = 0.0;
                if uniform.state == 1 {
                    uniform.state = 2;
                }
            }
            let chunk_first_row = panel.chunk * graph.tensor(panel.tensor).rows_per_chunk;
            uniform.highlight_row = highlight
                .and_then(|h| h.row)
                .and_then(|r| r.checked_sub(chunk_first_row))
                .map_or(u32::MAX, |r| r as u32);
            uniform.highlight_col = highlight.and_then(|h| h.col).map_or(u32::MAX, |c| c as u32);
        }
        self.upload_panels(gpu);
    }

    /// Draws every panel into `pass` (of a target with `samples` samples per pixel) as seen by
    /// `camera` in a viewport of `viewport` pixels.
    pub fn draw(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::RenderPass<'_>,
        samples: u32,
        camera: &Camera,
        viewport: Vec2,
    ) {
        self.draw_panels(gpu, pass, samples, View::Scene, camera, viewport, None);
    }

    /// Draws one panel of the layout alone (the attention heatmap).
    #[allow(clippy::too_many_arguments)]
    pub fn draw_panel(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::RenderPass<'_>,
        samples: u32,
        view: View,
        camera: &Camera,
        viewport: Vec2,
        panel: usize,
    ) {
        self.draw_panels(gpu, pass, samples, view, camera, viewport, Some(panel));
    }

    /// Draws every panel, or only panel `only`, for one view of the frame.
    #[allow(clippy::too_many_arguments)]
    fn draw_panels(
        &self,
        gpu: &Gpu,
        pass: &mut wgpu::RenderPass<'_>,
        samples: u32,
        view: View,
        camera: &Camera,
        viewport: Vec2,
        only: Option<usize>,
    ) {
        let view_proj = camera.view_proj(viewport.x / viewport.y);
        let uniform = CameraUniform {
            view_proj: view_proj.to_cols_array_2d(),
            viewport: viewport.to_array(),
            _pad: [0.0; 2],
        };
        let slot = view as usize;
        gpu.queue
            .write_buffer(&self.camera_buffers[slot], 0, bytemuck::bytes_of(&uniform));
        let pipeline = self
            .pipelines
            .iter()
            .find(|(n, _)| *n == samples)
            .map(|(_, p)| p)
            .expect("targets use one of SAMPLE_COUNTS");
        pass.set_pipeline(pipeline);
        let collapsed = match only {
            Some(_) => vec![false; self.layout.regions.len()],
            None => self.layout.collapsed(camera, viewport),
        };
        for (d, draw) in self.draws.iter().enumerate() {
            let shown = match draw.shown {
                Shown::Always => true,
                Shown::Expanded(r) => !collapsed[r],
                Shown::Collapsed(r) => collapsed[r],
            };
            if !shown {
                continue;
            }
            let instances = match only {
                Some(panel) if (draw.first..draw.first + draw.count).contains(&panel) => {
                    (panel - draw.first) as u32..(panel - draw.first + 1) as u32
                }
                Some(_) => continue,
                None => 0..draw.count as u32,
            };
            let first = &self.layout.panels[draw.first];
            let last = &self.layout.panels[draw.first + draw.count - 1];
            let size = Vec2::new(last.origin.x + last.size.x - first.origin.x, first.size.y);
            if only.is_none() && !visible(first.origin, size, &view_proj, viewport) {
                continue;
            }
            pass.set_bind_group(
                0,
                &self.frame_groups[slot],
                &[(d as u64 * self.panel_stride) as u32],
            );
            pass.set_bind_group(1, &self.tensor_groups[d], &[]);
            // A box: six faces of two triangles.
            pass.draw(0..36, instances);
        }
    }
}

/// The bind groups shared by every draw of a view: its camera, the panels' uniforms, the colour
/// scales and the fill order of the op being animated.
fn frame_groups(
    device: &wgpu::Device,
    frame_layout: &wgpu::BindGroupLayout,
    camera_buffers: &[wgpu::Buffer],
    panel_buffer: &wgpu::Buffer,
    scale: &ColourScale,
    ranks: &wgpu::Buffer,
) -> Vec<wgpu::BindGroup> {
    camera_buffers
        .iter()
        .map(|camera_buffer| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("tensor frame"),
                layout: frame_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: camera_buffer.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: panel_buffer,
                            offset: 0,
                            size: wgpu::BufferSize::new(std::mem::size_of::<PanelUniform>() as u64),
                        }),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: scale.absmax.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: scale.scales.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: ranks.as_entire_binding(),
                    },
                ],
            })
        })
        .collect()
}
