//! Activation patching as a heatmap: layers down, positions (or heads) across; each cell is how
//! much of the clean answer comes back when that activation is copied from the clean run into
//! the corrupted one (1 = all of it).

use egui::{Color32, FontId, Pos2, Rect, Stroke};

use super::{color_scale, heading, text_on, token_label, INK, MUTED};
use crate::render::legend::diverging;
use crate::render::style::to_egui;
use crate::why::patch::PatchReport;

/// Column labels (the prompt's tokens, or head numbers) and the answer tokens' text.
pub struct PatchLabels<'a> {
    pub title: &'a str,
    pub columns: &'a [String],
    pub answer: &'a str,
    pub wrong: &'a str,
}

/// Paints the heatmap into `rect`; returns the (layer, column) under `pointer`.
pub fn paint(
    painter: &egui::Painter,
    rect: Rect,
    report: &PatchReport,
    labels: &PatchLabels,
    pointer: Option<Pos2>,
) -> Option<(usize, usize)> {
    let size = (rect.height() / 900.0 * 15.0).max(9.0);
    painter.rect_filled(rect, 0.0, Color32::from_rgb(236, 237, 240));
    let what = match report.columns {
        "head" => "each head's output (at every position)",
        _ => match report.site {
            crate::why::patch::Site::Resid => {
                "the residual stream entering each block, at each position"
            }
            crate::why::patch::Site::Attn => "each block's attention output, at each position",
            _ => "each block's MLP output, at each position",
        },
    };
    let subtitle = format!(
        "Activation patching of {what}: copied from the clean run into the corrupted one. Cell: \
         the share of logit({:?}) - logit({:?}) that comes back (clean {:.2}, corrupted {:.2}).",
        labels.answer, labels.wrong, report.clean_logit_diff, report.corrupt_logit_diff
    );
    let body = heading(painter, rect, labels.title, &subtitle, size);
    let rows = report.layers.len();
    let cols = report.layers.first().map_or(0, |r| r.recovery.len());
    if rows == 0 || cols == 0 {
        return None;
    }
    let grid = Rect::from_min_max(
        body.min + egui::vec2(size * 6.0, size * 2.4),
        body.max - egui::vec2(size, size * 3.6),
    );
    let cell = egui::vec2(grid.width() / cols as f32, grid.height() / rows as f32);
    let font = FontId::proportional((cell.y * 0.3).min(cell.x * 0.25).clamp(7.0, size * 1.4));
    for (c, label) in labels.columns.iter().enumerate().take(cols) {
        painter.text(
            Pos2::new(
                grid.left() + cell.x * (c as f32 + 0.5),
                grid.top() - size * 0.4,
            ),
            egui::Align2::CENTER_BOTTOM,
            token_label(label, 10),
            FontId::monospace(size),
            INK,
        );
    }
    let mut hovered = None;
    for row in &report.layers {
        let y = grid.top() + cell.y * row.layer as f32;
        painter.text(
            Pos2::new(grid.left() - size * 0.6, y + cell.y / 2.0),
            egui::Align2::RIGHT_CENTER,
            format!("layer {}", row.layer),
            FontId::proportional(size),
            MUTED,
        );
        for (c, &recovery) in row.recovery.iter().enumerate() {
            let r = Rect::from_min_size(Pos2::new(grid.left() + cell.x * c as f32, y), cell)
                .shrink(1.0);
            let fill = to_egui(diverging(recovery.clamp(-1.0, 1.0)));
            painter.rect_filled(r, 0.0, fill);
            painter.text(
                r.center(),
                egui::Align2::CENTER_CENTER,
                format!("{recovery:.2}"),
                font.clone(),
                text_on(fill),
            );
            if pointer.is_some_and(|p| r.contains(p)) {
                hovered = Some((row.layer, c));
                painter.rect_stroke(r, 0.0, Stroke::new(2.0, INK), egui::StrokeKind::Outside);
            }
        }
    }
    let color = |t: f32| to_egui(diverging(2.0 * t - 1.0));
    color_scale(painter, rect, size, &color, ["-1", "recovered", "1"]);
    hovered
}
