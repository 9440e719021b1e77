//! Direct logit attribution as bars: what the embedding, every head, every attention bias,
//! every MLP and the final norm's bias write toward one token's logit, in the order the
//! residual stream receives them; the bars sum to the logit.

use egui::{Color32, FontId, Pos2, Rect, Stroke};

use super::{heading, INK, MUTED};
use crate::why::attribution::AttributionReport;

const POSITIVE: Color32 = Color32::from_rgb(226, 120, 40);
const NEGATIVE: Color32 = Color32::from_rgb(60, 120, 200);

/// Paints the bars into `rect`; `token` is the explained token's text.
pub fn paint(
    painter: &egui::Painter,
    rect: Rect,
    title: &str,
    report: &AttributionReport,
    token: &str,
) {
    let size = (rect.height() / 900.0 * 15.0).max(9.0);
    painter.rect_filled(rect, 0.0, Color32::from_rgb(236, 237, 240));
    let subtitle = format!(
        "Direct logit attribution of {token:?} at position {}: each part of the residual stream, \
         through the final layer norm frozen at its scale, onto the token's unembedding. The \
         parts sum to the logit, {:.3} (sum {:.3}).",
        report.position, report.logit, report.total
    );
    let body = heading(painter, rect, title, &subtitle, size);
    let terms = &report.terms;
    if terms.is_empty() {
        return;
    }
    let area = Rect::from_min_max(
        body.min + egui::vec2(size * 8.0, size),
        body.max - egui::vec2(size * 2.0, size * 2.0),
    );
    let largest = terms.iter().map(|t| t.value.abs()).fold(1e-6, f32::max);
    let zero = area.center().x;
    // Room beside the longest bar for its number.
    let half = area.width() / 2.0 - size * 4.0;
    let row = area.height() / terms.len() as f32;
    let font = FontId::proportional((row * 0.75).clamp(6.0, size));
    painter.line_segment(
        [Pos2::new(zero, area.top()), Pos2::new(zero, area.bottom())],
        Stroke::new(1.0, MUTED),
    );
    for (i, term) in terms.iter().enumerate() {
        let y = area.top() + row * i as f32;
        let length = half * term.value / largest;
        let bar = Rect::from_x_y_ranges(
            zero.min(zero + length)..=zero.max(zero + length),
            y + row * 0.12..=y + row * 0.88,
        );
        let color = if term.value >= 0.0 {
            POSITIVE
        } else {
            NEGATIVE
        };
        painter.rect_filled(bar, 0.0, color);
        painter.text(
            Pos2::new(area.left() - size * 0.5, y + row / 2.0),
            egui::Align2::RIGHT_CENTER,
            &term.name,
            font.clone(),
            INK,
        );
        let (anchor, align) = match term.value >= 0.0 {
            true => (bar.right() + size * 0.3, egui::Align2::LEFT_CENTER),
            false => (bar.left() - size * 0.3, egui::Align2::RIGHT_CENTER),
        };
        painter.text(
            Pos2::new(anchor, y + row / 2.0),
            align,
            format!("{:+.3}", term.value),
            font.clone(),
            MUTED,
        );
    }
}
