//! The model on the page: the viewer (GPU, graph, renderer), the canvas's surface, the camera and
//! what the last run predicted.

use glam::Vec2;
use glassbox::gpu::stream::WeightStream;
use glassbox::gpu::{Gpu, GpuOptions};
use glassbox::model::{Config, Model};
use glassbox::render::legend::Legend;
use glassbox::render::names::plain_name;
use glassbox::render::picture::{Frame, Picture};
use glassbox::render::target::window_samples;
use glassbox::render::Camera;
use glassbox::scene::Scene;
use glassbox::viewer::fill::slow_fill_rank;
use glassbox::viewer::walkthrough::WalkthroughPlayer;
use glassbox::viewer::Viewer;
use serde_json::json;

use crate::tour::Flight;

/// A model file up to this size is also kept in memory, for the CPU reference (the difference
/// view); larger ones only stream to the GPU.
const KEEP_ON_CPU_BYTES: usize = 64 << 20;

/// A model on its way to the GPU.
struct Incoming {
    name: String,
    stream: WeightStream,
    /// The file's bytes, when it is small enough to keep.
    kept: Option<Vec<u8>>,
}

pub struct State {
    pub viewer: Viewer,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    picture: Picture,
    pub camera: Camera,
    /// Whether the camera was ever framed for a real canvas size (the first frame fits it).
    pub(crate) framed: bool,
    /// Where the camera is flying to, if it is.
    pub(crate) flight: Option<Flight>,
    /// The prompt as typed, its tokens (the walkthrough may append to them), and the most
    /// likely next token after the tokens shown with its probability (read once per run).
    pub prompt: String,
    pub(crate) base_ids: Vec<u32>,
    pub prediction: Option<(u32, f32)>,
    /// The five most likely next tokens with their probabilities (the same readback).
    pub top: Vec<(u32, f32)>,
    /// The layer and head of the attention panel, and what it shows (read after each run).
    pub(crate) attention_pick: (usize, usize),
    pub attention: serde_json::Value,
    /// The colour scale of the current op's output (or the probabilities), read once per run.
    legend: Option<Legend>,
    /// The panel and cell under the pointer, to read back only when it changes.
    hover_key: Option<(usize, usize, usize)>,
    hover_text: String,
    /// Readbacks made by the last frame drawn: a steady frame makes none.
    pub readbacks_per_frame: u64,
    pub(crate) walkthrough: WalkthroughPlayer,
    /// The walkthrough's (chapter, paragraph) shown, if the page is in it.
    pub(crate) tour: Option<(usize, usize)>,
    incoming: Option<Incoming>,
    /// Whether each step fills the op's output in the order its workgroups ran, slowed down
    /// ([`slow_fill_rank`]); and the fill under way: its workgroups and when its first frame
    /// drew it.
    pub fill_slow: bool,
    pub filling: Option<(u32, Option<f64>)>,
}

impl State {
    pub async fn open(canvas: web_sys::HtmlCanvasElement, prompt: &str) -> Result<State, String> {
        let (width, height) = (canvas.width().max(1), canvas.height().max(1));
        let (gpu, surface) =
            Gpu::with_surface_target(&GpuOptions::default(), wgpu::SurfaceTarget::Canvas(canvas))
                .await
                .map_err(|e| e.to_string())?;
        let caps = surface.get_capabilities(&gpu.adapter);
        // Shader-written colours are final: a non-sRGB target keeps them as they are.
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or(caps.formats.first().copied())
            .ok_or("the canvas offers no texture format")?;
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            color_space: wgpu::SurfaceColorSpace::Auto,
            width,
            height,
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 2,
            alpha_mode: caps
                .alpha_modes
                .first()
                .copied()
                .unwrap_or(wgpu::CompositeAlphaMode::Auto),
            view_formats: vec![],
        };
        surface.configure(&gpu.device, &config);
        gpu.watch_health();
        let picture = Picture::new(&gpu, format, window_samples(&gpu), width, height);
        let scene = Scene::embedded();
        // A prompt the model cannot read starts the page on the scene's own; the page then
        // asks for it again, which reports why.
        let (prompt, ids) = match scene.tokenizer.encode(prompt) {
            Ok(ids) if !ids.is_empty() => (prompt.to_string(), ids),
            _ => {
                let ids = scene
                    .tokenizer
                    .encode(&scene.prompt)
                    .map_err(|e| e.to_string())?;
                (scene.prompt.clone(), ids)
            }
        };
        let viewer = Viewer::with_gpu(gpu, scene, &ids, format)
            .await
            .map_err(|e| e.to_string())?;
        let camera = viewer
            .camera("overview", width as f32 / height as f32)
            .expect("every scene has an overview");
        let mut state = State {
            viewer,
            surface,
            config,
            picture,
            camera,
            framed: false,
            flight: None,
            prompt,
            base_ids: ids,
            prediction: None,
            top: Vec::new(),
            attention_pick: (0, 0),
            attention: serde_json::Value::Null,
            legend: None,
            hover_key: None,
            hover_text: "null".to_string(),
            readbacks_per_frame: 0,
            walkthrough: WalkthroughPlayer::default(),
            tour: None,
            incoming: None,
            fill_slow: false,
            filling: None,
        };
        state.after_run().await?;
        Ok(state)
    }

    /// Runs the whole graph on `text`.
    pub async fn run_prompt(&mut self, text: &str) -> Result<String, String> {
        let ids = self
            .viewer
            .scene()
            .tokenizer
            .encode(text)
            .map_err(|e| format!("prompt {text:?}: {e}"))?;
        self.prompt = text.to_string();
        self.run_ids(&ids).await
    }

    /// Runs the whole graph on `ids`, the new prompt, outside the walkthrough.
    async fn run_ids(&mut self, ids: &[u32]) -> Result<String, String> {
        self.tour = None;
        self.walkthrough.invalidate();
        self.base_ids = ids.to_vec();
        self.viewer.set_ids(ids).await.map_err(|e| e.to_string())?;
        self.viewer.step_to(usize::MAX);
        self.after_run().await?;
        Ok(self.status().to_string())
    }

    /// Runs the graph to op `op` (0: nothing run); with the slow fill on, the op's output then
    /// fills in the order the GPU ran its workgroups (traced once: one readback).
    pub async fn step(&mut self, op: usize) -> Result<String, String> {
        match op.checked_sub(1) {
            Some(index) => self.viewer.step_to(index),
            None => self.viewer.run_to(0),
        }
        self.after_run().await?;
        if self.fill_slow && op > 0 {
            let workgroups = self.viewer.start_fill().await.map_err(|e| e.to_string())?;
            self.filling = workgroups.map(|w| (w, None));
        }
        Ok(self.status().to_string())
    }

    /// Reveals the filling op's output up to page time `now`; whether it is still filling.
    fn advance_fill(&mut self, now: f64) -> bool {
        let Some((workgroups, start)) = &mut self.filling else {
            return false;
        };
        let start = *start.get_or_insert(now);
        let rank = slow_fill_rank(*workgroups, ((now - start) / 1000.0) as f32);
        if rank > *workgroups {
            self.viewer.stop_fill();
            self.filling = None;
        } else {
            // The first frame shows the first workgroup.
            self.viewer.show_fill(rank.max(1));
        }
        true
    }

    /// Reads what the picture and the status show after a run: the prediction once every op
    /// has run, the legend of the current output.
    pub(crate) async fn after_run(&mut self) -> Result<(), String> {
        self.viewer.stop_fill();
        self.filling = None;
        if let Some(problem) = self.viewer.gpu().problem() {
            return Err(problem);
        }
        let total = self.viewer.graph().ops.len();
        self.top = if self.viewer.op_count() == total {
            self.viewer
                .top_predictions(5)
                .await
                .map_err(|e| e.to_string())?
        } else {
            Vec::new()
        };
        self.prediction = self.top.first().copied();
        self.attention = self.read_attention().await?;
        let graph = self.viewer.graph();
        let shown = match self.viewer.current() {
            Some(op) if self.viewer.op_count() < total => graph.ops[op].outputs.first().copied(),
            _ => graph.tensor_id("probs"),
        };
        self.legend = match shown {
            Some(tensor) => self.viewer.legend(tensor).await.unwrap_or(None),
            None => None,
        };
        // What was hovered before the run is read again when the pointer next moves.
        self.hover_key = None;
        self.hover_text = "null".to_string();
        if !self.viewer.highlights().is_empty() {
            self.viewer.set_highlights(Vec::new());
            self.viewer.refresh_states();
        }
        // The readbacks above waited for the run: a kernel the browser refused shows by now.
        match self.viewer.gpu().problem() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// Starts loading another model: its `config.json` bytes, and the length of its
    /// `model.safetensors`, whose bytes then come through [`State::push_weights`].
    pub fn begin_weights(&mut self, name: &str, config: &[u8], total: usize) -> Result<(), String> {
        let config_file = format!("{name}/config.json");
        let weights_file = format!("{name}/model.safetensors");
        let text = std::str::from_utf8(config)
            .map_err(|e| format!("{config_file}: expected UTF-8 JSON: {e}"))?;
        let config = Config::from_json(&config_file, text).map_err(|e| e.to_string())?;
        let stream = WeightStream::new(config, &config_file, &weights_file, total)
            .map_err(|e| e.to_string())?;
        self.incoming = Some(Incoming {
            name: name.to_string(),
            stream,
            kept: (total <= KEEP_ON_CPU_BYTES).then(Vec::new),
        });
        Ok(())
    }

    /// The next bytes of the weights: they go straight to their GPU buffers.
    pub fn push_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        let incoming = self.incoming.as_mut().ok_or("no model is loading")?;
        if let Some(kept) = &mut incoming.kept {
            kept.extend_from_slice(bytes);
        }
        let pushed = incoming.stream.push(self.viewer.gpu(), bytes);
        pushed.map_err(|e| {
            self.incoming = None;
            e.to_string()
        })
    }

    /// Shows the model whose weights have all arrived, running `prompt` (the model's default
    /// prompt when empty).
    pub async fn finish_weights(&mut self, prompt: &str) -> Result<String, String> {
        let incoming = self.incoming.take().ok_or("no model is loading")?;
        let config = incoming.stream.config().clone();
        let (config_file, weights_file) = incoming.stream.files();
        let model = match &incoming.kept {
            // Small enough to keep a copy for the CPU reference (the difference view).
            Some(bytes) => Model::from_safetensors(config, &config_file, &weights_file, bytes)
                .map_err(|e| e.to_string())?,
            None => Model::config_only(config),
        };
        let gpu_model = incoming
            .stream
            .finish(self.viewer.gpu())
            .await
            .map_err(|e| e.to_string())?;
        let scene = Scene::from_model(&incoming.name, model);
        let prompt = if prompt.is_empty() {
            scene.prompt.clone()
        } else {
            prompt.to_string()
        };
        let ids = scene
            .tokenizer
            .encode(&prompt)
            .map_err(|e| format!("prompt {prompt:?}: {e}"))?;
        self.viewer
            .set_scene_on_gpu(scene, gpu_model, &ids)
            .await
            .map_err(|e| e.to_string())?;
        self.prompt = prompt;
        self.base_ids = ids;
        self.tour = None;
        self.walkthrough = WalkthroughPlayer::default();
        self.attention_pick = (0, 0);
        self.viewer.step_to(usize::MAX);
        self.framed = false;
        self.after_run().await?;
        Ok(self.status().to_string())
    }

    /// Runs the reference file's tokens and checks every tensor it holds.
    pub async fn check(&mut self, file: &str, bytes: &[u8]) -> Result<String, String> {
        let ids = glassbox::values::reference::reference_ids(file, bytes)?;
        self.prompt = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        self.run_ids(&ids).await?;
        let values = self
            .viewer
            .gpu_graph()
            .read_all(self.viewer.gpu())
            .await
            .map_err(|e| e.to_string())?;
        let checked =
            glassbox::values::reference::check_against(file, bytes, self.viewer.graph(), &values)?;
        let tensors: Vec<_> = checked
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "max_abs": c.difference.max_abs,
                    "scale": c.difference.scale,
                    "passes": c.difference.passes(),
                })
            })
            .collect();
        Ok(json!({
            "file": file,
            "checked": checked.len(),
            "passed": !checked.is_empty() && checked.iter().all(|c| c.difference.passes()),
            "tensors": tensors,
        })
        .to_string())
    }

    /// Draws one frame at `width` x `height` pixels at page time `now` (milliseconds); returns
    /// whether the camera is still moving (another frame is wanted).
    pub fn frame(&mut self, width: u32, height: u32, now: f64) -> bool {
        let (width, height) = (width.max(1), height.max(1));
        let gpu = self.viewer.gpu();
        if (width, height) != (self.config.width, self.config.height) {
            self.config.width = width;
            self.config.height = height;
            self.surface.configure(&gpu.device, &self.config);
            self.picture.resize(gpu, width, height);
        }
        if !self.framed {
            self.framed = true;
            self.set_camera("overview");
        }
        let moving = match &mut self.flight {
            Some(flight) => {
                let (camera, done) = flight.at(now);
                self.camera = camera;
                if done {
                    self.flight = None;
                }
                !done
            }
            None => false,
        };
        let moving = self.advance_fill(now) || moving;
        let gpu = self.viewer.gpu();
        let before = gpu.readback_count();
        let texture = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            _ => {
                self.surface.configure(&gpu.device, &self.config);
                return true;
            }
        };
        let view = texture.texture.create_view(&Default::default());
        let states = self.viewer.states();
        let frame = Frame {
            renderer: self.viewer.renderer(),
            graph: self.viewer.graph(),
            camera: &self.camera,
            states: &states,
        };
        let legend = self.legend.clone();
        let text_size = (height as f32 / 55.0).clamp(12.0, 28.0);
        self.picture.draw_into(gpu, &view, &frame, |painter, rect| {
            if let Some(legend) = &legend {
                let corner = rect.right_bottom() - egui::vec2(text_size, text_size);
                glassbox::render::legend::paint(painter, corner, legend, text_size);
            }
        });
        gpu.queue.present(texture);
        self.readbacks_per_frame = gpu.readback_count() - before;
        moving
    }

    pub(crate) fn aspect(&self) -> f32 {
        self.config.width as f32 / self.config.height as f32
    }

    fn viewport(&self) -> Vec2 {
        Vec2::new(self.config.width as f32, self.config.height as f32)
    }

    // Moving the camera by hand ends a flight.
    pub fn orbit(&mut self, delta: Vec2) {
        self.flight = None;
        self.camera.orbit(delta);
    }

    pub fn pan(&mut self, delta: Vec2) {
        self.flight = None;
        let viewport = self.viewport();
        self.camera.pan(delta, viewport);
    }

    pub fn zoom(&mut self, steps: f32, pixel: Vec2) {
        self.flight = None;
        let towards = self.camera.ray_to_plane(pixel, self.viewport());
        self.camera.zoom(steps, towards);
    }

    pub fn set_camera(&mut self, name: &str) -> bool {
        match self.viewer.camera(name, self.aspect()) {
            Some(camera) => {
                self.flight = None;
                self.camera = camera;
                true
            }
            None => false,
        }
    }

    pub fn restore_camera(&mut self, text: &str) -> bool {
        match camera_from_text(text) {
            Some(camera) => {
                self.flight = None;
                self.camera = camera;
                // A camera from a link is kept, not refitted to the canvas.
                self.framed = true;
                true
            }
            None => false,
        }
    }

    /// The scene's named cameras, then the regions of the layout.
    pub fn camera_names(&self) -> Vec<String> {
        let mut names = vec!["overview".to_string()];
        names.extend(
            self.viewer
                .scene()
                .cameras
                .keys()
                .filter(|n| *n != "overview")
                .cloned(),
        );
        names.extend(self.viewer.layout().regions.iter().map(|r| r.name.clone()));
        names
    }

    /// The cell under `pixel`: its tensor, value and computation (JSON), read back when the cell
    /// changes; "null" off the tensors.
    pub async fn hover(&mut self, pixel: Vec2) -> Result<String, String> {
        let world = self.camera.ray_to_plane(pixel, self.viewport());
        let key = world.and_then(|w| self.viewer.layout().pick(w));
        if key == self.hover_key {
            return Ok(self.hover_text.clone());
        }
        self.hover_key = key;
        self.hover_text = self.describe(key).await;
        Ok(self.hover_text.clone())
    }

    /// The cell at `key` (JSON; "null" off the tensors), its operands lit up.
    async fn describe(&mut self, key: Option<(usize, usize, usize)>) -> String {
        let had_highlights = !self.viewer.highlights().is_empty();
        let cell = match key {
            Some(key) => self.viewer.read_hovered(key).await,
            None => None,
        };
        let text = match (key, &cell) {
            (None, _) => "null".to_string(),
            (Some(_), Some(cell)) => {
                let tensor = &self.viewer.graph().tensors[cell.tensor];
                let equation =
                    cell.explanation
                        .equation_with(&cell.operand_values, cell.value, |v| format!("{v:.4}"));
                json!({
                    "tensor": tensor.name,
                    "name": plain_name(&tensor.name),
                    "computed": true,
                    "index": cell.index,
                    "value": cell.value,
                    "op": cell.explanation.op,
                    "formula": cell.explanation.formula,
                    "detail": cell.explanation.detail,
                    "equation": equation,
                })
                .to_string()
            }
            // Not computed yet: its name only.
            (Some((panel, _, _)), None) => {
                let tensor = self.viewer.layout().panels[panel].tensor;
                let name = &self.viewer.graph().tensors[tensor].name;
                json!({"tensor": name, "name": plain_name(name), "computed": false}).to_string()
            }
        };
        let highlights = cell.map_or_else(Vec::new, |c| c.explanation.highlights);
        self.viewer.set_highlights(highlights);
        if had_highlights || !self.viewer.highlights().is_empty() {
            self.viewer.refresh_states();
        }
        text
    }

    /// What the model shows now, for `#status`.
    pub fn status(&self) -> serde_json::Value {
        crate::status::status(self)
    }
}

pub fn camera_to_text(camera: &Camera) -> String {
    let t = camera.target;
    format!(
        "{:.4},{:.4},{:.3},{:.3},{:.3},{:.3}",
        camera.yaw, camera.pitch, camera.distance, t.x, t.y, t.z
    )
}

fn camera_from_text(text: &str) -> Option<Camera> {
    let numbers: Vec<f32> = text
        .split(',')
        .map(|n| n.trim().parse().ok().filter(|v: &f32| v.is_finite()))
        .collect::<Option<_>>()?;
    let [yaw, pitch, distance, x, y, z] = numbers[..] else {
        return None;
    };
    let mut camera = Camera::framing(Vec2::ZERO, Vec2::ONE, 1.0);
    camera.yaw = yaw;
    camera.pitch = pitch.clamp(-1.45, 1.45);
    camera.distance = distance.max(0.5);
    camera.target = glam::Vec3::new(x, y, z);
    Some(camera)
}
