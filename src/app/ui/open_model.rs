//! Opening another model folder from the window: typed in, or dropped on it. The weights are
//! read on a background thread with a progress bar, so the current model stays live until the
//! new one is ready.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use egui::Color32;

use super::UiState;
use crate::model::{LoadError, Model};
use crate::scene::Scene;
use crate::viewer::Viewer;

/// A model being read on a background thread.
pub struct ModelLoad {
    dir: PathBuf,
    /// The stage, bytes done and bytes in all, as the loader last reported them.
    progress: Arc<Mutex<(String, u64, u64)>>,
    thread: Option<JoinHandle<Result<Model, LoadError>>>,
}

impl ModelLoad {
    fn start(dir: PathBuf) -> ModelLoad {
        let progress = Arc::new(Mutex::new(("opening".to_string(), 0, 1)));
        let report = progress.clone();
        let folder = dir.clone();
        let thread = std::thread::spawn(move || {
            Model::load_dir_with(&folder, &mut |stage, done, total| {
                if let Ok(mut p) = report.lock() {
                    *p = (stage.to_string(), done, total.max(1));
                }
            })
        });
        ModelLoad {
            dir,
            progress,
            thread: Some(thread),
        }
    }
}

/// The folder to load for a dropped path: the folder itself, or the one holding a dropped file
/// (config.json or model.safetensors).
fn model_folder(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .map_or_else(|| path.to_path_buf(), Path::to_path_buf)
    }
}

impl UiState {
    /// Starts loading the model folder at `path` (a folder, or a file in it).
    pub fn open_model(&mut self, path: &Path) {
        let dir = model_folder(path);
        self.model_path = dir.display().to_string();
        self.open_error = None;
        self.loading = Some(ModelLoad::start(dir));
    }

    pub(super) fn model_bar(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) {
        ui.horizontal(|ui| {
            ui.label("model folder");
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.model_path)
                    .desired_width(320.0)
                    .hint_text("config.json + model.safetensors, or drop a folder here"),
            );
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let open = ui
                .add_enabled(self.loading.is_none(), egui::Button::new("Open"))
                .clicked();
            if (entered || open) && self.loading.is_none() && !self.model_path.is_empty() {
                self.open_model(&PathBuf::from(self.model_path.clone()));
            }
            if let Some(load) = &self.loading {
                let (stage, done, total) = load
                    .progress
                    .lock()
                    .map_or_else(|_| ("loading".to_string(), 0, 1), |p| p.clone());
                ui.add(
                    egui::ProgressBar::new(done as f32 / total as f32)
                        .desired_width(220.0)
                        .text(format!("{stage}: {} of {} MB", done >> 20, total >> 20)),
                );
                ui.ctx().request_repaint();
            }
            if let Some(error) = &self.open_error {
                ui.colored_label(Color32::from_rgb(255, 120, 100), error);
            }
        });
        self.finish_loading(viewer, self.scene_rect.aspect_ratio());
    }

    /// Swaps the new model in once its thread is done.
    fn finish_loading(&mut self, viewer: &mut Viewer, aspect: f32) {
        let Some(load) = &mut self.loading else {
            return;
        };
        if !load.thread.as_ref().is_some_and(JoinHandle::is_finished) {
            return;
        }
        let dir = load.dir.clone();
        let joined = load.thread.take().expect("checked above").join();
        self.loading = None;
        let model = match joined {
            Ok(Ok(model)) => model,
            Ok(Err(e)) => return self.open_error = Some(e.to_string()),
            Err(_) => return self.open_error = Some("the loading thread panicked".to_string()),
        };
        let scene = match Scene::from_model_dir(&dir, model) {
            Ok(scene) => scene,
            Err(e) => return self.open_error = Some(e.to_string()),
        };
        let prompt = scene.prompt.clone();
        let ids = match scene.tokenizer.encode(&prompt) {
            Ok(ids) => ids,
            Err(e) => return self.open_error = Some(e.to_string()),
        };
        if let Err(e) = pollster::block_on(viewer.set_scene(scene, &ids)) {
            return self.open_error = Some(format!("{}: {e}", dir.display()));
        }
        self.prompt = prompt;
        self.walkthrough_active = false;
        self.walkthrough.playing = false;
        self.walkthrough.invalidate();
        if let Some(camera) = viewer.camera("overview", aspect.max(0.1)) {
            self.camera = camera;
        }
        self.after_tokens_changed(viewer, None);
    }
}
