//! Draws an execution trace over the output block of its op: every cell tinted by the start
//! rank of the workgroup that wrote it (blue first, yellow last), runs of cells from one
//! workgroup drawn as one rectangle and numbered when there is room. With `reveal` below 1
//! only the first workgroups are drawn, replaying the order in which the GPU started them.

use egui::{Color32, FontId, Pos2, Stroke};
use glam::{Vec2, Vec3};

use super::{Camera, Layout};
use crate::gpu::trace::ExecutionTrace;

fn rank_color(t: f32) -> Color32 {
    let (a, b) = ([60.0, 110.0, 255.0], [255.0, 220.0, 60.0]);
    let c = |i: usize| (a[i] + (b[i] - a[i]) * t) as u8;
    Color32::from_rgba_unmultiplied(c(0), c(1), c(2), 160)
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
    let viewport = Vec2::new(view.width(), view.height());
    let total = trace.workgroups.max(1) as f32;
    let shown = (reveal.clamp(0.0, 1.0) * total).ceil() as u32;
    for panel in layout.panels.iter().filter(|p| p.tensor == trace.output) {
        let to_screen = |row: usize, col: usize| {
            let x = panel.origin.x + col as f32 / panel.cols as f32 * panel.size.x;
            let y = panel.origin.y - row as f32 / panel.rows as f32 * panel.size.y;
            camera
                .project(Vec3::new(x, y, 0.0), viewport)
                .map(|p| Pos2::new(p.x, p.y) + view.min.to_vec2())
        };
        let (Some(a), Some(b)) = (to_screen(0, 0), to_screen(panel.rows, panel.cols)) else {
            continue;
        };
        if !painter
            .clip_rect()
            .intersects(egui::Rect::from_two_pos(a, b))
        {
            continue;
        }
        for row in 0..panel.rows {
            let rank_at = |col| {
                trace
                    .cells
                    .get(panel.element(row, col, 0))
                    .copied()
                    .unwrap_or(0)
            };
            let mut start = 0;
            while start < panel.cols {
                let rank = rank_at(start);
                let mut end = start + 1;
                while end < panel.cols && rank_at(end) == rank {
                    end += 1;
                }
                if rank > 0 && rank <= shown {
                    // The run's four corners, each projected: a quad, not a rectangle, once the
                    // camera looks at the slab at an angle.
                    let corners = [(row, start), (row, end), (row + 1, end), (row + 1, start)]
                        .map(|(r, c)| to_screen(r, c));
                    if let [Some(a), Some(b), Some(c), Some(d)] = corners {
                        let t = (rank - 1) as f32 / (total - 1.0).max(1.0);
                        paint_run(painter, [a, b, c, d], rank, t);
                    }
                }
                start = end;
            }
        }
    }
}

fn paint_run(painter: &egui::Painter, quad: [Pos2; 4], rank: u32, t: f32) {
    let outline = match quad[0].distance(quad[1]) > 4.0 && quad[1].distance(quad[2]) > 4.0 {
        true => Stroke::new(1.0, Color32::from_black_alpha(120)),
        false => Stroke::NONE,
    };
    painter.add(egui::Shape::convex_polygon(
        quad.to_vec(),
        rank_color(t),
        outline,
    ));
    let (width, height) = (quad[0].distance(quad[1]), quad[1].distance(quad[2]));
    if height > 12.0 && width > 22.0 {
        let center = Pos2::new(
            quad.iter().map(|p| p.x).sum::<f32>() / 4.0,
            quad.iter().map(|p| p.y).sum::<f32>() / 4.0,
        );
        painter.text(
            center,
            egui::Align2::CENTER_CENTER,
            rank.to_string(),
            FontId::monospace((height * 0.6).min(13.0)),
            Color32::BLACK,
        );
    }
}
