//! A model on the GPU ready to be watched: the scene, its graph for the current tokens, the
//! renderer, and how far through the graph the GPU has run. The window and `glassbox render`
//! both drive this.

mod ablation;
mod difference;
pub mod fill;
mod generation;
pub mod hover;
mod hover_llama;
mod legend;
pub mod narrative;
mod restore;
pub mod walkthrough;

pub use difference::{DifferenceView, OpDifference};
pub use restore::Snapshot;

use glam::Vec2;

use crate::cpu::sampling::Sampling;
use crate::gpu::{Gpu, GpuError, GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use crate::graph::{DType, Graph, TensorId};
use crate::render::offscreen::Offscreen;
use crate::render::{tensor_states, Camera, Highlight, TensorRenderer, TensorState};
use crate::scene::Scene;

pub struct Viewer {
    gpu: Gpu,
    registry: KernelRegistry,
    scene: Scene,
    gpu_model: GpuModel,
    graph: GpuGraph,
    renderer: TensorRenderer,
    format: wgpu::TextureFormat,
    ids: Vec<u32>,
    /// How many ops of the graph have run for the current ids.
    op_count: usize,
    /// The op shown as current (highlighted with its inputs), if any.
    current: Option<usize>,
    highlights: Vec<Highlight>,
    /// Whether the graph is the decode step with its KV cache (one token per run) rather than
    /// the full forward pass over every token.
    decoding: bool,
    /// How the next token is picked when appending one.
    sampling: Sampling,
    /// The difference view, when on.
    difference: Option<DifferenceView>,
    /// How many times the graph was built (a new length, model, kernel choice or mode).
    builds: u64,
    /// Units switched off in every run (the "why" tools' ablation).
    ablations: crate::graph::probe::Ablations,
}

/// What the viewer shows, read by the window, `render` and tests; changed only through its
/// methods, so that the graph, the renderer and the run state stay in step.
impl Viewer {
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    pub fn registry(&self) -> &KernelRegistry {
        &self.registry
    }

    /// The device and the kernels, to load kernel files into; run the graph again afterwards
    /// ([`Viewer::set_kernels`]).
    pub fn kernels_mut(&mut self) -> (&wgpu::Device, &mut KernelRegistry) {
        (&self.gpu.device, &mut self.registry)
    }

    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The ops and tensors of the graph for the current tokens.
    pub fn graph(&self) -> &Graph {
        self.graph.graph()
    }

    /// The same graph on the GPU: its buffers and launches.
    pub fn gpu_graph(&self) -> &GpuGraph {
        &self.graph
    }

    pub fn renderer(&self) -> &TensorRenderer {
        &self.renderer
    }

    /// Where every tensor sits.
    pub fn layout(&self) -> &crate::render::Layout {
        &self.renderer.layout
    }

    pub fn format(&self) -> wgpu::TextureFormat {
        self.format
    }

    /// The tokens the graph runs on.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// How many ops of the graph have run for the current ids.
    pub fn op_count(&self) -> usize {
        self.op_count
    }

    /// The op shown as current (highlighted with its inputs), if any.
    pub fn current(&self) -> Option<usize> {
        self.current
    }

    /// Cells lit up beyond the current op's (the operands of a hovered value, say).
    pub fn highlights(&self) -> &[Highlight] {
        &self.highlights
    }

    pub fn set_highlights(&mut self, highlights: Vec<Highlight>) {
        self.highlights = highlights;
    }

    /// How the next token is picked when appending one.
    pub fn sampling(&self) -> &Sampling {
        &self.sampling
    }

    pub fn sampling_mut(&mut self) -> &mut Sampling {
        &mut self.sampling
    }

    /// Opens the GPU, uploads the scene's model, and runs the whole graph on `ids`.
    pub async fn new(
        scene: Scene,
        ids: &[u32],
        options: &GpuOptions,
        format: wgpu::TextureFormat,
    ) -> Result<Viewer, GpuError> {
        let gpu = Gpu::new(options).await?;
        Self::with_gpu(gpu, scene, ids, format).await
    }

    /// [`Viewer::new`] on a device already open (the window's).
    pub async fn with_gpu(
        gpu: Gpu,
        scene: Scene,
        ids: &[u32],
        format: wgpu::TextureFormat,
    ) -> Result<Viewer, GpuError> {
        let registry = KernelRegistry::for_gpu(&gpu)?;
        let gpu_model = GpuModel::upload_dequantized(&gpu, &scene.model).await?;
        crate::model::validate_ids(&scene.model.config, ids)?;
        let graph = GpuGraph::new(
            &gpu,
            &registry,
            Graph::forward(&scene.model.config, ids.len()),
            &gpu_model,
        )
        .await?;
        let renderer = TensorRenderer::new(&gpu, &registry, &graph, format)?;
        let op_count = graph.graph().ops.len();
        let mut viewer = Viewer {
            gpu,
            registry,
            scene,
            gpu_model,
            graph,
            renderer,
            format,
            ids: Vec::new(),
            op_count,
            current: None,
            highlights: Vec::new(),
            decoding: false,
            sampling: Sampling::GREEDY,
            difference: None,
            builds: 0,
            ablations: Default::default(),
        };
        viewer.set_ids(ids).await?;
        Ok(viewer)
    }

    /// Shows another model: its weights go to the device first, so a model that does not fit
    /// leaves the current one in place.
    pub async fn set_scene(&mut self, scene: Scene, ids: &[u32]) -> Result<(), GpuError> {
        crate::model::validate_ids(&scene.model.config, ids)?;
        let gpu_model = GpuModel::upload_dequantized(&self.gpu, &scene.model).await?;
        self.set_scene_on_gpu(scene, gpu_model, ids).await
    }

    /// Shows another model whose weights are already on the device (streamed there by
    /// [`crate::gpu::stream::WeightStream`]); `scene.model` holds its config and no weights.
    pub async fn set_scene_on_gpu(
        &mut self,
        scene: Scene,
        gpu_model: GpuModel,
        ids: &[u32],
    ) -> Result<(), GpuError> {
        crate::model::validate_ids(&scene.model.config, ids)?;
        if !scene.model.has_weights() {
            // No CPU reference to compare with.
            self.difference = None;
        }
        self.gpu_model = gpu_model;
        self.scene = scene;
        self.op_count = usize::MAX;
        self.current = None;
        self.highlights.clear();
        self.rebuild(ids.len()).await?;
        self.set_ids(ids).await
    }

    /// Runs the graph on new token ids, rebuilding buffers and layout only when the length changes
    /// (or, decoding, when the KV cache is full). Decoding, every token runs through the cache.
    pub async fn set_ids(&mut self, ids: &[u32]) -> Result<(), GpuError> {
        crate::model::validate_ids(&self.scene.model.config, ids)?;
        if self.decoding {
            return self.decode_all(ids).await;
        }
        if ids.len() != self.graph.graph().seq_len || self.graph.graph().decode_capacity.is_some() {
            self.rebuild(ids.len()).await?;
        }
        self.graph.set_ids(&self.gpu, ids)?;
        self.ids = ids.to_vec();
        self.run_to(self.op_count);
        Ok(())
    }

    /// New buffers, dispatches and layout for `seq_len` tokens (and the current kernel choice):
    /// the full forward pass, or the decode step with a cache for at least `seq_len` tokens.
    async fn rebuild(&mut self, seq_len: usize) -> Result<(), GpuError> {
        let config = &self.scene.model.config;
        let graph = if self.decoding {
            let capacity = generation::cache_capacity(config, seq_len);
            Graph::decode_ablated(config, capacity, &self.ablations)
        } else {
            Graph::forward_ablated(config, seq_len, &self.ablations)
        };
        self.graph = GpuGraph::new(&self.gpu, &self.registry, graph, &self.gpu_model).await?;
        self.builds += 1;
        self.renderer = TensorRenderer::new(&self.gpu, &self.registry, &self.graph, self.format)?;
        self.op_count = self.op_count.min(self.graph.graph().ops.len());
        self.current = self
            .current
            .map(|c| c.min(self.graph.graph().ops.len() - 1));
        Ok(())
    }

    /// Runs the op families with other kernel variants, and the graph again.
    pub async fn set_kernels(
        &mut self,
        kernels: crate::gpu::variants::KernelChoice,
    ) -> Result<(), GpuError> {
        self.gpu.kernels = kernels;
        self.rerun().await
    }

    /// Stores the model's floats at `precision` from now on: the weights go up again, the graph
    /// is rebuilt and runs again. With the difference view on, it then shows f16's drift from
    /// the f32 CPU reference.
    pub async fn set_precision(
        &mut self,
        precision: crate::gpu::Precision,
    ) -> Result<(), GpuError> {
        if precision == self.graph.precision {
            return Ok(());
        }
        if precision == crate::gpu::Precision::F16 {
            if !self.gpu.f16 {
                return Err(GpuError::RequestDevice(
                    "this adapter cannot store f16 (no SHADER_F16)".to_string(),
                ));
            }
            self.registry.enable_f16(&self.gpu.device)?;
        }
        if !self.scene.model.has_weights() {
            return Err(GpuError::WeightsNotKept("changing the precision"));
        }
        let previous = self.gpu.precision;
        self.gpu.precision = precision;
        match GpuModel::upload_dequantized(&self.gpu, &self.scene.model).await {
            Ok(model) => self.gpu_model = model,
            Err(e) => {
                self.gpu.precision = previous;
                return Err(e);
            }
        }
        self.rerun().await
    }

    /// Rebuilds the graph (after a change of kernels, precision or mode) and runs the tokens
    /// through it again.
    async fn rerun(&mut self) -> Result<(), GpuError> {
        self.rebuild(self.ids.len()).await?;
        let ids = self.ids.clone();
        self.set_ids(&ids).await
    }

    /// Runs the first `op_count` ops (the rest are shown empty) and refreshes the colour scales.
    pub fn run_to(&mut self, op_count: usize) {
        self.op_count = op_count.min(self.graph.graph().ops.len());
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        self.graph
            .encode(&self.registry, &mut encoder, 0..self.op_count, None);
        self.renderer.encode_stats(&self.registry, &mut encoder);
        self.gpu.submit_timed(encoder.finish());
        self.refresh_states();
    }

    /// Shows op `index` as current: the graph has run up to and including it.
    pub fn step_to(&mut self, index: usize) {
        let last = self.graph.graph().ops.len() - 1;
        let index = index.min(last);
        self.current = Some(index);
        self.run_to(index + 1);
    }

    /// How each tensor is drawn now: computed or not, part of the current op.
    pub fn states(&self) -> Vec<TensorState> {
        tensor_states(self.graph.graph(), self.op_count, self.current)
    }

    pub fn refresh_states(&mut self) {
        let states = self.states();
        self.renderer
            .set_states(&self.gpu, &self.graph, &states, &self.highlights);
    }

    /// Draws the model as `camera` sees it into `target` (no readback).
    pub fn draw_offscreen(&self, target: &mut Offscreen, camera: &Camera) {
        target.draw(
            &self.gpu,
            &self.renderer,
            self.graph.graph(),
            camera,
            &self.states(),
        );
    }

    /// A named camera of the scene, or one of "all", a region name, or a tensor name.
    pub fn camera(&self, name: &str, aspect: f32) -> Option<Camera> {
        let spec = self.scene.cameras.get(name);
        // "overview" means the whole model unless the scene says otherwise.
        let fit = spec.map_or(if name == "overview" { "all" } else { name }, |s| {
            s.fit.as_str()
        });
        let layout = &self.renderer.layout;
        let (min, max) = if fit == "all" {
            (layout.min, layout.max)
        } else if let Some(region) = layout.regions.iter().find(|r| r.name == fit) {
            (region.min, region.max)
        } else {
            layout.tensor_bounds(self.graph.graph().tensor_id(fit)?)?
        };
        // Room above for the tags and around for the brackets.
        let margin = Vec2::splat(((max - min).max_element() * 0.03).max(4.0));
        let (yaw, pitch) = spec.map_or(
            (crate::scene::OBLIQUE_YAW, crate::scene::OBLIQUE_PITCH),
            |s| (s.yaw, s.pitch),
        );
        Some(Camera::fit(
            min - margin,
            max + margin + Vec2::new(0.0, 3.0 * crate::render::layout::GAP),
            layout.slab_depth,
            yaw.to_radians(),
            pitch.to_radians(),
            aspect,
        ))
    }

    /// The `k` most likely next tokens after the last position, with their probabilities: one
    /// readback, made when the tokens change, never per frame.
    pub async fn top_predictions(&self, k: usize) -> Result<Vec<(u32, f32)>, GpuError> {
        let probs = self
            .graph
            .graph()
            .tensor_id("probs")
            .expect("graph has probs");
        let row = self
            .graph
            .tensor(probs)
            .read_row(&self.gpu, self.last_row())
            .await?;
        let mut ranked: Vec<(u32, f32)> = row
            .into_iter()
            .enumerate()
            .map(|(i, p)| (i as u32, p))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(k);
        Ok(ranked)
    }

    /// Values of single elements of a tensor (hover): one readback. Token ids come back as
    /// their integer values.
    pub async fn read_elements(
        &self,
        tensor: TensorId,
        indices: &[usize],
    ) -> Result<Vec<f32>, GpuError> {
        let values = self
            .graph
            .tensor(tensor)
            .read_elements(&self.gpu, indices)
            .await?;
        Ok(match self.graph.graph().tensors[tensor].dtype {
            DType::F32 => values,
            DType::U32 => values.iter().map(|v| v.to_bits() as f32).collect(),
        })
    }
}
