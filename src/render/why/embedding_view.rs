//! The embedding space drawn in 3D (an orthographic view turned by yaw and pitch): the chosen
//! tokens as labelled dots, the three principal axes with the share of variance each explains,
//! and the path of every prompt position's residual stream from the embedding to the output.

use egui::{Color32, FontId, Pos2, Rect, Stroke};

use super::{heading, token_label, INK, MUTED};
use crate::why::embedding::EmbeddingReport;

/// What the picture needs besides the report.
pub struct EmbeddingLabels<'a> {
    pub title: &'a str,
    pub inputs: &'a [String],
    pub token: &'a dyn Fn(u32) -> String,
}

/// Colours of the prompt's positions, in turn.
const PATH_COLORS: [Color32; 12] = [
    Color32::from_rgb(230, 120, 30),
    Color32::from_rgb(40, 130, 200),
    Color32::from_rgb(200, 60, 120),
    Color32::from_rgb(60, 160, 80),
    Color32::from_rgb(150, 90, 200),
    Color32::from_rgb(200, 170, 30),
    Color32::from_rgb(30, 170, 170),
    Color32::from_rgb(120, 120, 120),
    Color32::from_rgb(160, 90, 40),
    Color32::from_rgb(240, 110, 170),
    Color32::from_rgb(20, 90, 140),
    Color32::from_rgb(130, 170, 40),
];

/// The view's turn when nobody has dragged it: (yaw, pitch) in radians.
pub const DEFAULT_TURN: (f32, f32) = (0.6, 0.35);

/// A point turned by `yaw` about the vertical axis, then by `pitch` about the horizontal one:
/// (screen x, screen y up, depth towards the viewer).
fn turn(p: [f32; 3], yaw: f32, pitch: f32) -> [f32; 3] {
    let (sy, cy) = yaw.sin_cos();
    let (sp, cp) = pitch.sin_cos();
    let x = cy * p[0] + sy * p[2];
    let z = -sy * p[0] + cy * p[2];
    let y = cp * p[1] - sp * z;
    let z = sp * p[1] + cp * z;
    [x, y, z]
}

/// Paints the space into `rect`, seen from (`yaw`, `pitch`) radians.
pub fn paint(
    painter: &egui::Painter,
    rect: Rect,
    report: &EmbeddingReport,
    labels: &EmbeddingLabels,
    (yaw, pitch): (f32, f32),
) {
    let size = (rect.height() / 900.0 * 15.0).max(9.0);
    painter.rect_filled(rect, 0.0, Color32::from_rgb(236, 237, 240));
    let body = heading(
        painter,
        rect,
        labels.title,
        "The embedding space: token vectors (grey) and each position's residual stream after \
         every block (coloured paths, from the embedding to the output), all scaled to unit \
         length, along their three principal components.",
        size,
    );
    let all = report
        .points
        .iter()
        .chain(report.paths.iter().flatten())
        .map(|&p| turn(p, yaw, pitch));
    let extent = all
        .map(|p| p[0].abs().max(p[1].abs()))
        .fold(1e-6f32, f32::max);
    let area = body.shrink(size * 2.0);
    let scale = 0.5 * area.width().min(area.height()) / extent;
    let to_screen = |p: [f32; 3]| {
        let q = turn(p, yaw, pitch);
        (
            area.center() + egui::vec2(q[0] * scale, -q[1] * scale),
            q[2],
        )
    };
    let origin = area.center();
    for (q, share) in report.explained.iter().enumerate() {
        let mut unit = [0.0; 3];
        unit[q] = extent * 0.9;
        let (end, _) = to_screen(unit);
        painter.line_segment([origin, end], Stroke::new(1.0, Color32::from_gray(150)));
        painter.text(
            end,
            egui::Align2::CENTER_CENTER,
            format!("PC{} {:.0}%", q + 1, 100.0 * share),
            FontId::proportional(size * 0.85),
            MUTED,
        );
    }
    let mut dots: Vec<(f32, Pos2, u32)> = report
        .points
        .iter()
        .zip(&report.tokens)
        .map(|(&p, &id)| {
            let (at, depth) = to_screen(p);
            (depth, at, id)
        })
        .collect();
    dots.sort_by(|a, b| a.0.total_cmp(&b.0));
    let crowded = dots.len() > 120;
    for (_, at, id) in &dots {
        painter.circle_filled(*at, size * 0.22, Color32::from_gray(120));
        if !crowded {
            painter.text(
                *at + egui::vec2(size * 0.35, 0.0),
                egui::Align2::LEFT_CENTER,
                token_label(&(labels.token)(*id), 12),
                FontId::proportional(size * 0.75),
                Color32::from_gray(70),
            );
        }
    }
    for (position, path) in report.paths.iter().enumerate() {
        let color = PATH_COLORS[position % PATH_COLORS.len()];
        let screen: Vec<Pos2> = path.iter().map(|&p| to_screen(p).0).collect();
        painter.add(egui::Shape::line(
            screen.clone(),
            Stroke::new(size * 0.14, color),
        ));
        for (layer, at) in screen.iter().enumerate() {
            let radius = if layer + 1 == screen.len() { 0.4 } else { 0.22 };
            painter.circle_filled(*at, size * radius, color);
        }
        if let Some(last) = screen.last() {
            let word = labels
                .inputs
                .get(position)
                .map_or(String::new(), |w| token_label(w, 10));
            painter.text(
                *last + egui::vec2(size * 0.5, -size * 0.5),
                egui::Align2::LEFT_BOTTOM,
                format!("{word}@{position}"),
                FontId::proportional(size * 0.9),
                INK,
            );
        }
    }
}
