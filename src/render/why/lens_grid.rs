//! The logit lens as a grid: one row per layer (the embedding at the top, the model's output at
//! the bottom, as data flows down the model picture), one column per position; each cell is the
//! most likely next token if the model stopped there, coloured by its probability.

use egui::{Color32, FontId, Pos2, Rect, Stroke};

use super::{heading, probability_color, probability_scale, text_on, token_label, INK, MUTED};
use crate::why::lens::LensReport;

/// What the grid shows besides the report: the prompt's tokens and the lens's top tokens as text.
pub struct LensLabels<'a> {
    pub title: &'a str,
    /// The prompt's tokens, one per position.
    pub inputs: &'a [String],
    /// The text of a token id.
    pub token: &'a dyn Fn(u32) -> String,
}

/// Paints the grid into `rect`; returns the cell under `pointer` as (layer, position).
pub fn paint(
    painter: &egui::Painter,
    rect: Rect,
    report: &LensReport,
    labels: &LensLabels,
    pointer: Option<Pos2>,
) -> Option<(usize, usize)> {
    let size = (rect.height() / 900.0 * 15.0).max(9.0);
    painter.rect_filled(rect, 0.0, Color32::from_rgb(236, 237, 240));
    let body = heading(
        painter,
        rect,
        labels.title,
        "The logit lens: each layer's residual stream put through the final layer norm and the \
         unembedding. Cell: the most likely next token and its probability; framed where it is \
         already the model's final answer.",
        size,
    );
    let layers = report.layers.len();
    let positions = report.layers.first().map_or(0, |l| l.positions.len());
    if positions == 0 {
        return None;
    }
    let left = size * 7.0;
    let top = size * 2.6;
    let grid = Rect::from_min_max(
        body.min + egui::vec2(left, top),
        body.max - egui::vec2(size, size * 3.6),
    );
    let cell = egui::vec2(
        grid.width() / positions as f32,
        grid.height() / layers as f32,
    );
    let chars = ((cell.x / (size * 0.55)) as usize).clamp(3, 14);
    // As large as the cell allows: a token of `chars` characters across, two lines down.
    let fit = (cell.x / (chars as f32 * 0.62))
        .min(cell.y * 0.3)
        .min(size * 2.4);
    let font = FontId::proportional(fit.max(size * 0.7));
    let small = FontId::proportional((fit * 0.62).max(size * 0.6));
    let last = report.layers.last().expect("at least one layer");
    let mut hovered = None;
    for (t, input) in labels.inputs.iter().enumerate().take(positions) {
        let x = grid.left() + cell.x * (t as f32 + 0.5);
        painter.text(
            Pos2::new(x, grid.top() - size * 0.4),
            egui::Align2::CENTER_BOTTOM,
            token_label(input, chars),
            FontId::monospace(size),
            INK,
        );
    }
    for layer in &report.layers {
        let y = grid.top() + cell.y * layer.layer as f32;
        let name = match layer.layer {
            0 => "embed".to_string(),
            l if l + 1 == layers => "output".to_string(),
            l => format!("layer {l}"),
        };
        painter.text(
            Pos2::new(grid.left() - size * 0.6, y + cell.y / 2.0),
            egui::Align2::RIGHT_CENTER,
            name,
            FontId::proportional(size),
            MUTED,
        );
        for (t, position) in layer.positions.iter().enumerate() {
            let Some(best) = position.top.first() else {
                continue;
            };
            let r = Rect::from_min_size(Pos2::new(grid.left() + cell.x * t as f32, y), cell)
                .shrink(1.0);
            let fill = probability_color(best.prob);
            painter.rect_filled(r, size * 0.15, fill);
            let final_answer = last.positions[t].top.first().map(|b| b.id);
            if final_answer == Some(best.id) {
                painter.rect_stroke(
                    r.shrink(1.0),
                    size * 0.15,
                    Stroke::new((size * 0.16).max(1.5), Color32::from_rgb(255, 160, 40)),
                    egui::StrokeKind::Inside,
                );
            }
            let ink = text_on(fill);
            painter.text(
                r.center() - egui::vec2(0.0, cell.y * 0.12),
                egui::Align2::CENTER_CENTER,
                token_label(&(labels.token)(best.id), chars),
                font.clone(),
                ink,
            );
            painter.text(
                r.center() + egui::vec2(0.0, cell.y * 0.24),
                egui::Align2::CENTER_CENTER,
                format!("{:.2}", best.prob),
                small.clone(),
                ink,
            );
            if pointer.is_some_and(|p| r.contains(p)) {
                hovered = Some((layer.layer, t));
                painter.rect_stroke(r, 0.0, Stroke::new(2.0, INK), egui::StrokeKind::Outside);
            }
        }
    }
    probability_scale(painter, rect, size);
    hovered
}
