//! The interactive window: winit for the window and input, egui for the panels, and the tensor
//! renderer drawing the model straight from the GPU buffers behind them.

mod attention;
mod screenshot;
mod soak;
mod timing;
mod ui;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use glam::Vec2;
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

use crate::gpu::{Gpu, GpuOptions};
use crate::render::target::SceneTarget;
use crate::scene::Scene;
use crate::viewer::Viewer;

pub struct AppOptions {
    pub scene: Scene,
    pub gpu: GpuOptions,
    /// Exit after this many frames (tests, scripted screenshots).
    pub frames: Option<u64>,
    /// Start in presentation mode (the picture and the narrative only).
    pub present: bool,
    /// A folder of kernel files to watch and hot-reload.
    pub kernels: Option<std::path::PathBuf>,
    /// Lose the device on purpose at this frame (testing recovery).
    pub lose_device_at: Option<u64>,
    /// Drive the window by itself for this long, then report whether memory and the GPU
    /// objects alive stayed flat (the soak test).
    pub soak: Option<std::time::Duration>,
}

/// Opens the window and runs until it is closed (or `frames` have been drawn).
pub fn run(options: AppOptions) -> Result<()> {
    let event_loop = EventLoop::new().context("cannot open a window (is a display available?)")?;
    event_loop.set_control_flow(ControlFlow::Poll);
    let mut app = App {
        options: Some(options),
        running: None,
        error: None,
    };
    event_loop.run_app(&mut app)?;
    if let Some(error) = app.error {
        return Err(error);
    }
    if let Some(running) = &app.running {
        println!(
            "frames: {}, readbacks in steady-state frames: {}, devices recreated: {}",
            running.frames, running.ui.steady_readbacks, running.recoveries
        );
        if let Some(soak) = &running.soak {
            let (samples, verdict) = soak.verdict();
            println!("soak: {}", serde_json::to_string(&samples)?);
            verdict.map_err(|e| anyhow::anyhow!("soak: {e}"))?;
            println!("soak: flat");
        }
    }
    Ok(())
}

struct App {
    options: Option<AppOptions>,
    running: Option<Running>,
    error: Option<anyhow::Error>,
}

struct Running {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    viewer: Viewer,
    egui_ctx: egui::Context,
    egui_state: egui_winit::State,
    egui_renderer: egui_wgpu::Renderer,
    /// The multisampled colour and depth the window's frame is drawn into.
    scene_target: SceneTarget,
    ui: ui::UiState,
    frames: u64,
    max_frames: Option<u64>,
    gpu_options: GpuOptions,
    lose_device_at: Option<u64>,
    /// How many times the device was lost and opened again.
    recoveries: u64,
    soak: Option<soak::Soak>,
}

/// The surface format: a non-sRGB one, since the draw shader writes final colours itself.
fn surface_format(caps: &wgpu::SurfaceCapabilities) -> wgpu::TextureFormat {
    caps.formats
        .iter()
        .copied()
        .find(|f| !f.is_srgb())
        .unwrap_or(caps.formats[0])
}

/// A device for the window, and the window's surface configured for it.
fn open_device(
    window: &Arc<Window>,
    options: &GpuOptions,
) -> Result<(Gpu, wgpu::Surface<'static>, wgpu::SurfaceConfiguration)> {
    let (gpu, surface) = pollster::block_on(Gpu::with_window(options, window.clone()))?;
    gpu.watch_health();
    let caps = surface.get_capabilities(&gpu.adapter);
    let size = window.inner_size();
    let config = wgpu::SurfaceConfiguration {
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
        format: surface_format(&caps),
        color_space: wgpu::SurfaceColorSpace::Auto,
        width: size.width.max(1),
        height: size.height.max(1),
        present_mode: wgpu::PresentMode::AutoVsync,
        desired_maximum_frame_latency: 2,
        alpha_mode: caps.alpha_modes[0],
        view_formats: vec![],
    };
    surface.configure(&gpu.device, &config);
    Ok((gpu, surface, config))
}

/// The multisampled colour and depth the window draws into, at the surface's size.
fn window_target(viewer: &Viewer, config: &wgpu::SurfaceConfiguration) -> SceneTarget {
    let samples = crate::render::target::window_samples(viewer.gpu());
    SceneTarget::new(
        &viewer.gpu().device,
        config.format,
        config.width,
        config.height,
        samples,
    )
}

/// egui for the window, drawing with the viewer's device.
fn open_egui(
    window: &Window,
    viewer: &Viewer,
    format: wgpu::TextureFormat,
) -> (egui::Context, egui_winit::State, egui_wgpu::Renderer) {
    let egui_ctx = egui::Context::default();
    egui_ctx.set_visuals(egui::Visuals::light());
    let egui_state = egui_winit::State::new(
        egui_ctx.clone(),
        egui::ViewportId::ROOT,
        window,
        Some(window.scale_factor() as f32),
        None,
        Some(viewer.gpu().limits.max_texture_dimension_2d as usize),
    );
    let samples = crate::render::target::window_samples(viewer.gpu());
    let egui_renderer = crate::render::target::egui_renderer(&viewer.gpu().device, format, samples);
    (egui_ctx, egui_state, egui_renderer)
}

impl Running {
    fn new(event_loop: &ActiveEventLoop, options: AppOptions) -> Result<Running> {
        let attributes = Window::default_attributes()
            .with_title(format!("glassbox — {}", options.scene.name))
            .with_inner_size(winit::dpi::LogicalSize::new(1400.0, 860.0));
        let window = Arc::new(event_loop.create_window(attributes)?);
        let (gpu, surface, config) = open_device(&window, &options.gpu)?;
        let prompt = options.scene.prompt.clone();
        let ids = options.scene.tokenizer.encode(&prompt)?;
        let viewer = pollster::block_on(Viewer::with_gpu(gpu, options.scene, &ids, config.format))?;
        let (egui_ctx, egui_state, mut egui_renderer) = open_egui(&window, &viewer, config.format);
        let size = window.inner_size();
        let viewport = Vec2::new(size.width.max(1) as f32, size.height.max(1) as f32)
            / window.scale_factor() as f32;
        let mut ui = ui::UiState::new(&viewer, &mut egui_renderer, prompt, viewport)?;
        if let Some(dir) = &options.kernels {
            ui.watch_kernels(dir);
        }
        ui.present = options.present;
        let scene_target = window_target(&viewer, &config);
        Ok(Running {
            window,
            surface,
            config,
            viewer,
            egui_ctx,
            egui_state,
            egui_renderer,
            scene_target,
            ui,
            frames: 0,
            max_frames: options.frames,
            gpu_options: options.gpu,
            lose_device_at: options.lose_device_at,
            recoveries: 0,
            soak: options.soak.map(soak::Soak::new),
        })
    }

    /// After the device was lost (a driver reset, out of memory): a new device, and on it what
    /// the user had: scene, tokens, step, mode, kernels, edited kernel files, precision, and the
    /// window's own state (camera, prompt, walkthrough, panels).
    fn recover(self, problem: &str) -> Result<Running> {
        let Running {
            window,
            mut ui,
            viewer,
            surface,
            egui_ctx,
            egui_state,
            egui_renderer,
            scene_target,
            ..
        } = self;
        let mut snapshot = viewer.snapshot();
        if let Some(files) = ui.take_kernel_rollback() {
            snapshot.kernel_files = files;
        }
        // The old device's objects go before the new device takes the window.
        // egui is opened again too: its textures lived on the old device.
        drop((
            egui_renderer,
            scene_target,
            egui_state,
            egui_ctx,
            surface,
            viewer,
        ));
        let (gpu, surface, config) = open_device(&window, &self.gpu_options)?;
        let (viewer, left_out) = pollster::block_on(Viewer::restore(gpu, snapshot, config.format))?;
        let (egui_ctx, egui_state, mut egui_renderer) = open_egui(&window, &viewer, config.format);
        ui.reattach(&viewer, &mut egui_renderer, problem, &left_out);
        println!("{problem}; opened a new device and restored the session");
        let scene_target = window_target(&viewer, &config);
        Ok(Running {
            window,
            surface,
            config,
            viewer,
            egui_ctx,
            egui_state,
            egui_renderer,
            scene_target,
            ui,
            recoveries: self.recoveries + 1,
            ..self
        })
    }

    fn resize(&mut self, width: u32, height: u32) {
        if width > 0 && height > 0 {
            self.config.width = width;
            self.config.height = height;
            self.surface
                .configure(&self.viewer.gpu().device, &self.config);
        }
    }

    /// One frame: the UI, then the tensors and the UI drawn into the window. Steady-state frames
    /// read nothing back from the GPU.
    fn frame(&mut self) -> Result<()> {
        let size = self.window.inner_size();
        if size.width == 0 || size.height == 0 {
            return Ok(());
        }
        let texture = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface
                    .configure(&self.viewer.gpu().device, &self.config);
                return Ok(());
            }
            _ => return Ok(()),
        };
        if self.lose_device_at == Some(self.frames) {
            self.viewer.gpu().lose_device();
            self.frames += 1;
            return Ok(());
        }
        let readbacks_before = self.viewer.gpu().readback_count();
        // Reset once per frame, not per egui pass: egui may run the UI twice in a frame (a
        // discarded first pass), and what the first pass read back still counts as a change.
        self.ui.changed_this_frame = false;
        let mut input = self.egui_state.take_egui_input(&self.window);
        if let Some(soak) = &mut self.soak {
            let (events, action) = soak.input(self.ui.scene_rect);
            input.events.extend(events);
            match action {
                soak::Action::Type => self.ui.type_letter(&mut self.viewer, Some('A')),
                soak::Action::Erase => self.ui.type_letter(&mut self.viewer, None),
                soak::Action::Key(_) | soak::Action::None => {}
            }
        }
        let now = Instant::now();
        let output = self.egui_ctx.run_ui(input, |ui| {
            self.ui.show(ui, &mut self.viewer, now);
        });
        self.egui_state
            .handle_platform_output(&self.window, output.platform_output);
        // Lost while the UI ran (a graph rebuilt past the memory, say): draw nothing on it; the
        // next frame opens a new device.
        if self.viewer.gpu().problem().is_some() {
            return Ok(());
        }
        let ppp = output.pixels_per_point;
        let jobs = self.egui_ctx.tessellate(output.shapes, ppp);
        let view = texture.texture.create_view(&Default::default());
        let gpu = &self.viewer.gpu();
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        self.ui.attention.render(&self.viewer, &mut encoder);
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [self.config.width, self.config.height],
            pixels_per_point: ppp,
        };
        let extra = crate::render::prepare_egui(
            &mut self.egui_renderer,
            gpu,
            &mut encoder,
            &output.textures_delta,
            &jobs,
            &screen,
        );
        {
            if !self
                .scene_target
                .fits(self.config.width, self.config.height)
            {
                self.scene_target = SceneTarget::new(
                    &gpu.device,
                    self.config.format,
                    self.config.width,
                    self.config.height,
                    self.scene_target.samples,
                );
            }
            let mut pass = self
                .scene_target
                .pass(&mut encoder, &view, "window")
                .forget_lifetime();
            let scene_rect = self.ui.scene_rect;
            let x = (scene_rect.min.x * ppp).max(0.0);
            let y = (scene_rect.min.y * ppp).max(0.0);
            let w = (scene_rect.width() * ppp).min(self.config.width as f32 - x);
            let h = (scene_rect.height() * ppp).min(self.config.height as f32 - y);
            if w >= 1.0 && h >= 1.0 {
                pass.set_viewport(x, y, w, h, 0.0, 1.0);
                self.viewer.renderer().draw(
                    gpu,
                    &mut pass,
                    self.scene_target.samples,
                    &self.ui.camera,
                    Vec2::new(w, h),
                );
                pass.set_viewport(
                    0.0,
                    0.0,
                    self.config.width as f32,
                    self.config.height as f32,
                    0.0,
                    1.0,
                );
            }
            self.egui_renderer.render(&mut pass, &jobs, &screen);
        }
        crate::render::finish_egui(&mut self.egui_renderer, &output.textures_delta);
        gpu.queue
            .submit(extra.into_iter().chain([encoder.finish()]));
        self.window.pre_present_notify();
        gpu.queue.present(texture);
        self.frames += 1;
        if let Some(soak) = &mut self.soak {
            soak.after_frame(self.viewer.gpu().live_objects().map(|l| l.total()));
        }
        if !self.ui.changed_this_frame {
            self.ui.steady_readbacks += self.viewer.gpu().readback_count() - readbacks_before;
        }
        Ok(())
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        let Some(options) = self.options.take() else {
            return;
        };
        match Running::new(event_loop, options) {
            Ok(running) => self.running = Some(running),
            Err(error) => {
                self.error = Some(error);
                event_loop.exit();
            }
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        let Some(running) = &mut self.running else {
            return;
        };
        let response = running.egui_state.on_window_event(&running.window, &event);
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(size) => running.resize(size.width, size.height),
            WindowEvent::DroppedFile(path) => running.ui.open_model(&path),
            WindowEvent::RedrawRequested => {
                if let Some(problem) = running.viewer.gpu().problem() {
                    let lost = self.running.take().expect("running");
                    match lost.recover(&problem) {
                        Ok(recovered) => self.running = Some(recovered),
                        Err(error) => {
                            self.error = Some(error.context(problem));
                            event_loop.exit();
                        }
                    }
                    return;
                }
                let running = self.running.as_mut().expect("running");
                if let Err(error) = running.frame() {
                    self.error = Some(error);
                    event_loop.exit();
                    return;
                }
                let soaked = running.soak.as_ref().is_some_and(soak::Soak::done);
                if running.ui.quit
                    || soaked
                    || running.max_frames.is_some_and(|n| running.frames >= n)
                {
                    event_loop.exit();
                }
            }
            _ => {
                if response.repaint {
                    running.window.request_redraw();
                }
            }
        }
    }

    fn about_to_wait(&mut self, _: &ActiveEventLoop) {
        if let Some(running) = &self.running {
            running.window.request_redraw();
        }
    }
}
