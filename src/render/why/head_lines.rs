//! One head's attention as lines between tokens (BertViz's head view): the prompt down the left
//! (the tokens attending) and again down the right (the tokens attended to), a line from each
//! token to each earlier one, as opaque as the attention it pays.

use egui::{Color32, FontId, Pos2, Rect, Stroke};

use super::{token_label, INK, MUTED};

/// Paints head `(layer, head)`'s probabilities `probs` [t, t] into `rect`, the lines of the
/// query under `pointer` (if any) alone.
pub fn paint(
    painter: &egui::Painter,
    rect: Rect,
    (layer, head): (usize, usize),
    probs: &[f32],
    tokens: &[String],
    pointer: Option<Pos2>,
) {
    let t = tokens.len();
    let size = (rect.height() / 40.0).clamp(9.0, 14.0);
    painter.rect_filled(rect, 0.0, Color32::from_rgb(236, 237, 240));
    painter.text(
        rect.min + egui::vec2(size, size * 0.5),
        egui::Align2::LEFT_TOP,
        format!("head {layer}.{head}: who attends to whom"),
        FontId::proportional(size * 1.1),
        INK,
    );
    if t == 0 || probs.len() < t * t {
        return;
    }
    let top = rect.top() + size * 2.6;
    let row = ((rect.bottom() - top - size) / t as f32).min(size * 2.0);
    let left = rect.left() + rect.width() * 0.3;
    let right = rect.right() - rect.width() * 0.3;
    let y = |i: usize| top + row * (i as f32 + 0.5);
    let hovered_query = pointer.and_then(|p| {
        (p.x < (left + right) / 2.0 && p.y >= top).then(|| ((p.y - top) / row) as usize)
    });
    let color = Color32::from_rgb(226, 120, 40);
    for i in 0..t {
        if hovered_query.is_some_and(|q| q != i) {
            continue;
        }
        for j in 0..=i {
            let p = probs[i * t + j].clamp(0.0, 1.0);
            if p < 0.01 {
                continue;
            }
            painter.line_segment(
                [Pos2::new(left, y(i)), Pos2::new(right, y(j))],
                Stroke::new(1.0 + 3.0 * p, color.gamma_multiply(p.sqrt())),
            );
        }
    }
    for (i, token) in tokens.iter().enumerate() {
        let label = token_label(token, 10);
        let ink = if hovered_query == Some(i) { INK } else { MUTED };
        painter.text(
            Pos2::new(left - size * 0.4, y(i)),
            egui::Align2::RIGHT_CENTER,
            &label,
            FontId::monospace(size),
            ink,
        );
        painter.text(
            Pos2::new(right + size * 0.4, y(i)),
            egui::Align2::LEFT_CENTER,
            &label,
            FontId::monospace(size),
            MUTED,
        );
    }
}
