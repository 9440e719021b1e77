//! Frame times of the renderer: the same offscreen path as `glassbox render`, for the built-in
//! model and a GPT-2-small-shaped one, at 1080p, 4K and 8K. The draw cost grows with
//! pixels, not with cells, so the two models should cost about the same per frame.

use std::time::Instant;

use serde::Serialize;

use super::median;
use crate::gpu::{GpuError, GpuOptions};
use crate::render::offscreen::{Offscreen, FORMAT};
use crate::render::Camera;
use crate::scene::Scene;
use crate::viewer::Viewer;

#[derive(Debug, Serialize)]
pub struct FrameRow {
    pub model: String,
    pub width: u32,
    pub height: u32,
    pub frame_ms: f64,
    /// Readbacks made by the timed frames (should be 0).
    pub readbacks: u64,
}

#[derive(Debug, Serialize)]
pub struct FrameReport {
    pub rows: Vec<FrameRow>,
    /// Frame time of the GPT-2-small shape over that of the built-in model, per resolution.
    pub gpt2_over_tiny: Vec<(String, f64)>,
}

async fn frame_times(
    scene: Scene,
    frames: usize,
    sizes: &[(u32, u32)],
    options: &GpuOptions,
) -> Result<Vec<FrameRow>, GpuError> {
    let ids = scene
        .tokenizer
        .encode(&scene.prompt)
        .expect("bench prompts tokenize");
    let name = scene.name.clone();
    let viewer = Viewer::new(scene, &ids, options, FORMAT).await?;
    let mut rows = Vec::new();
    for &(width, height) in sizes {
        let camera = viewer
            .camera("all", width as f32 / height as f32)
            .expect("\"all\" frames the layout");
        let mut target = Offscreen::new(viewer.gpu(), width, height)?;
        let (frame_ms, readbacks) = time_frames(&viewer, &mut target, &camera, frames)?;
        rows.push(FrameRow {
            model: name.clone(),
            width,
            height,
            frame_ms,
            readbacks,
        });
    }
    Ok(rows)
}

/// Draws `frames` frames after a first one: (median milliseconds per frame, readbacks made).
pub fn time_frames(
    viewer: &Viewer,
    target: &mut Offscreen,
    camera: &Camera,
    frames: usize,
) -> Result<(f64, u64), GpuError> {
    viewer.draw_offscreen(target, camera);
    viewer.gpu().wait_idle()?;
    let before = viewer.gpu().readback_count();
    let mut times = Vec::new();
    for _ in 0..frames.max(1) {
        let start = Instant::now();
        viewer.draw_offscreen(target, camera);
        viewer.gpu().wait_idle()?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok((median(times) * 1e3, viewer.gpu().readback_count() - before))
}

pub async fn run(frames: usize, options: &GpuOptions) -> Result<FrameReport, GpuError> {
    let sizes = [(1920, 1080), (3840, 2160), (7680, 4320)];
    let mut rows = frame_times(Scene::embedded(), frames, &sizes, options).await?;
    rows.extend(frame_times(Scene::gpt2_small_shape(16), frames, &sizes, options).await?);
    let gpt2_over_tiny = sizes
        .iter()
        .enumerate()
        .map(|(i, (w, h))| {
            (
                format!("{w}x{h}"),
                rows[sizes.len() + i].frame_ms / rows[i].frame_ms,
            )
        })
        .collect();
    Ok(FrameReport {
        rows,
        gpt2_over_tiny,
    })
}

impl FrameReport {
    pub fn table(&self) -> String {
        let mut s = String::from("frame times (offscreen, median):\n");
        for r in &self.rows {
            s.push_str(&format!(
                "  {:<18} {:>4}x{:<4} {:>9.2} ms  readbacks {}\n",
                r.model, r.width, r.height, r.frame_ms, r.readbacks
            ));
        }
        for (size, ratio) in &self.gpt2_over_tiny {
            s.push_str(&format!(
                "  GPT-2-small shape / built-in model at {size}: {ratio:.2}x\n"
            ));
        }
        s
    }
}
