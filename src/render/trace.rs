//! Draws an execution trace over the output block of its op: each workgroup's tile tinted by
//! when it finished (blue first, yellow last) and numbered when there is room. With `reveal`
//! below 1 only the first tiles are drawn, replaying the order in which the GPU ran them.

use egui::{Color32, FontId, Pos2, Stroke};
use glam::{Vec2, Vec3};

use super::{Camera, Layout};
use crate::gpu::trace::ExecutionTrace;

fn lerp_color(t: f32) -> Color32 {
    let (a, b) = ([60.0, 110.0, 255.0], [255.0, 220.0, 60.0]);
    let c = |i: usize| (a[i] + (b[i] - a[i]) * t) as u8;
    Color32::from_rgba_unmultiplied(c(0), c(1), c(2), 150)
}

/// Paints `trace` into `view` (screen points) as `camera` sees the layout.
pub fn paint(
    painter: &egui::Painter,
    view: egui::Rect,
    layout: &Layout,
    camera: &Camera,
    trace: &ExecutionTrace,
    reveal: f32,
) {
    let Some(panel) = layout.panels.iter().find(|p| p.tensor == trace.output) else {
        return;
    };
    let viewport = Vec2::new(view.width(), view.height());
    let to_screen = |row: usize, col: usize| {
        let x = panel.origin.x + col as f32 / panel.cols as f32 * panel.size.x;
        let y = panel.origin.y - row as f32 / panel.rows as f32 * panel.size.y;
        camera
            .project(Vec3::new(x, y, 0.0), viewport)
            .map(|p| Pos2::new(p.x, p.y) + view.min.to_vec2())
    };
    let total = trace.rank.len().max(1) as f32;
    let shown = (reveal.clamp(0.0, 1.0) * total).ceil() as u32;
    for (i, &rank) in trace.rank.iter().enumerate() {
        if rank == 0 || rank > shown {
            continue;
        }
        let (row, col, rows, cols) = trace.tile(i);
        let (Some(a), Some(b)) = (to_screen(row, col), to_screen(row + rows, col + cols)) else {
            continue;
        };
        let rect = egui::Rect::from_two_pos(a, b);
        if !painter.clip_rect().intersects(rect) {
            continue;
        }
        let t = (rank - 1) as f32 / (total - 1.0).max(1.0);
        painter.rect_filled(rect, 0.0, lerp_color(t));
        painter.rect_stroke(
            rect,
            0.0,
            Stroke::new(1.0, Color32::from_black_alpha(160)),
            egui::StrokeKind::Inside,
        );
        if rect.height() > 14.0 && rect.width() > 22.0 {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                rank.to_string(),
                FontId::monospace((rect.height() * 0.5).min(14.0)),
                Color32::BLACK,
            );
        }
    }
}
