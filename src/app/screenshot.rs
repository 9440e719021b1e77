//! The screenshot keys: F12 writes the 3D view as a PNG at the window's scene size, Shift+F12 at
//! twice it and Ctrl+F12 at four times (capped by the device's largest texture). The view is
//! drawn offscreen with the window's camera and read back once, on the key press only.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};

use crate::gpu::GpuError;
use crate::render::offscreen::{Offscreen, FORMAT};
use crate::render::{Camera, TensorRenderer};
use crate::viewer::Viewer;

/// How long the "wrote ..." line stays on the view.
pub const NOTICE: Duration = Duration::from_secs(6);

/// The scale a screenshot key asks for: F12 1x, Shift+F12 2x, Ctrl+F12 4x (the modifiers held
/// with the key, not at the end of the frame, which may have let them go).
pub fn requested(input: &egui::InputState) -> Option<u32> {
    input.events.iter().find_map(|event| match event {
        egui::Event::Key {
            key: egui::Key::F12,
            pressed: true,
            repeat: false,
            modifiers,
            ..
        } => Some(if modifiers.ctrl || modifiers.command {
            4
        } else if modifiers.shift {
            2
        } else {
            1
        }),
        _ => None,
    })
}

/// `width` x `height` times `scale`, shrunk (keeping the aspect) to the largest texture side.
fn picture_size(width: u32, height: u32, scale: u32, max_side: u32) -> (u32, u32) {
    let (w, h) = (
        width.max(1) as f64 * scale as f64,
        height.max(1) as f64 * scale as f64,
    );
    let fit = (max_side as f64 / w.max(h)).min(1.0);
    (((w * fit) as u32).max(1), ((h * fit) as u32).max(1))
}

/// glassbox-YYYYMMDD-HHMMSS.png (UTC) in `dir`, with -2, -3 ... when taken within one second.
fn file_name(dir: &Path, now: SystemTime) -> PathBuf {
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let stamp = format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    );
    let mut path = dir.join(format!("glassbox-{stamp}.png"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("glassbox-{stamp}-{n}.png"));
        n += 1;
    }
    path
}

/// Draws the 3D view as `camera` sees it at `scale` times `scene` pixels and writes it to the
/// current folder; returns the line to show.
pub fn take(viewer: &Viewer, camera: &Camera, scene: (u32, u32), scale: u32) -> Result<String> {
    let gpu = viewer.gpu();
    let max_side = gpu.limits.max_texture_dimension_2d;
    let (mut width, mut height) = picture_size(scene.0, scene.1, scale, max_side);
    // The readback buffer may be the tighter limit: shrink until it fits.
    let mut target = loop {
        match Offscreen::new(gpu, width, height) {
            Ok(target) => break target,
            Err(GpuError::ImageSize(_)) if width > 64 && height > 64 => {
                (width, height) = (width * 3 / 4, height * 3 / 4);
            }
            Err(e) => return Err(e.into()),
        }
    };
    let states = viewer.states();
    // The viewer's renderer draws into the window's format; the offscreen image is RGBA, so
    // another window format gets a renderer of its own for this one picture.
    let own;
    let renderer = if viewer.format() == FORMAT {
        viewer.renderer()
    } else {
        let mut renderer = TensorRenderer::new(gpu, viewer.registry(), viewer.gpu_graph(), FORMAT)?;
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        renderer.encode_stats(viewer.registry(), &mut encoder);
        gpu.queue.submit([encoder.finish()]);
        renderer.set_states(gpu, viewer.gpu_graph(), &states, viewer.highlights());
        own = renderer;
        &own
    };
    target.draw(gpu, renderer, viewer.graph(), camera, &states);
    let image = pollster::block_on(target.read_image(gpu))?;
    // The current folder, named in full in the message.
    let dir = std::env::current_dir().unwrap_or_default();
    let path = file_name(&dir, SystemTime::now());
    image
        .save(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    let capped = match (width, height) == (scene.0 * scale, scene.1 * scale) {
        true => String::new(),
        false => " (as large as this device allows)".into(),
    };
    let unshown = match viewer.format() != FORMAT && viewer.difference().is_some() {
        true => "; the difference colours are not in it, only the values",
        false => "",
    };
    Ok(format!(
        "screenshot: wrote {} ({width}x{height}, {scale}x){capped}{unshown}",
        path.display()
    ))
}

/// The screenshot line on the view, and when it was written.
pub type Notice = Option<(String, Instant)>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_capped_keeping_the_aspect() {
        assert_eq!(picture_size(1000, 500, 4, 16384), (4000, 2000));
        assert_eq!(picture_size(8000, 4000, 4, 16384), (16384, 8192));
    }

    #[test]
    fn names_carry_the_utc_time() {
        // 2024-02-29 13:05:09 UTC.
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_211_909);
        let path = file_name(Path::new("/nonexistent"), t);
        assert_eq!(path, Path::new("/nonexistent/glassbox-20240229-130509.png"));
    }
}
