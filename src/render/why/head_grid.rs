//! Every head's attention pattern at once (BertViz's model view): layers down, heads across,
//! each a small query x key map coloured by probability, captioned with the head's strongest
//! score.

use egui::{Color32, FontId, Pos2, Rect};

use super::{heading, probability_color, probability_scale, INK, MUTED};
use crate::why::heads::HeadScore;

/// One layer's attention probabilities, [heads, t, t], and its heads' scores.
pub struct LayerPatterns<'a> {
    pub probs: &'a [f32],
    pub scores: &'a [HeadScore],
}

/// The score that describes a head best, as a caption.
pub fn describe(score: &HeadScore) -> String {
    let named = [
        ("previous", score.previous_token),
        ("first", score.first_token),
        ("self", score.diagonal),
        ("induction", score.induction),
    ];
    let (name, value) = named
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("four scores");
    format!("{name} {value:.2}")
}

/// Paints the model view into `rect` for `t` tokens; returns the (layer, head) under `pointer`.
pub fn paint(
    painter: &egui::Painter,
    rect: Rect,
    title: &str,
    layers: &[LayerPatterns],
    t: usize,
    pointer: Option<Pos2>,
) -> Option<(usize, usize)> {
    let size = (rect.height() / 900.0 * 15.0).max(9.0);
    painter.rect_filled(rect, 0.0, Color32::from_rgb(236, 237, 240));
    let body = heading(
        painter,
        rect,
        title,
        "Every head's attention: rows are the tokens attending (queries), columns the tokens \
         attended to (keys). Caption: the head's strongest score (previous token, first token, \
         self, induction).",
        size,
    );
    let heads = layers.first().map_or(0, |l| l.scores.len());
    if heads == 0 || t == 0 {
        return None;
    }
    let left = size * 5.0;
    let area = Rect::from_min_max(
        body.min + egui::vec2(left, size * 0.5),
        body.max - egui::vec2(size, size * 3.6),
    );
    let pitch = egui::vec2(
        area.width() / heads as f32,
        area.height() / layers.len() as f32,
    );
    let caption = (size * 1.3).min(pitch.y * 0.25);
    let side = (pitch.x * 0.9).min(pitch.y - caption * 1.4).max(4.0);
    let pixel = side / t as f32;
    let mut hovered = None;
    for (l, layer) in layers.iter().enumerate() {
        let y = area.top() + pitch.y * l as f32;
        painter.text(
            Pos2::new(area.left() - size * 0.6, y + side / 2.0),
            egui::Align2::RIGHT_CENTER,
            format!("layer {l}"),
            FontId::proportional(size),
            MUTED,
        );
        for (h, score) in layer.scores.iter().enumerate() {
            let origin = Pos2::new(area.left() + pitch.x * h as f32 + (pitch.x - side) / 2.0, y);
            let map = Rect::from_min_size(origin, egui::vec2(side, side));
            painter.rect_filled(map.expand(1.0), 0.0, Color32::from_gray(60));
            let probs = &layer.probs[h * t * t..][..t * t];
            for i in 0..t {
                for j in 0..=i {
                    let cell = Rect::from_min_size(
                        origin + egui::vec2(pixel * j as f32, pixel * i as f32),
                        egui::vec2(pixel + 0.5, pixel + 0.5),
                    );
                    painter.rect_filled(cell, 0.0, probability_color(probs[i * t + j]));
                }
            }
            painter.text(
                Pos2::new(map.center().x, map.bottom() + caption * 0.2),
                egui::Align2::CENTER_TOP,
                format!("{l}.{h}  {}", describe(score)),
                FontId::proportional(caption * 0.8),
                INK,
            );
            if pointer.is_some_and(|p| map.contains(p)) {
                hovered = Some((l, h));
                painter.rect_stroke(
                    map.expand(2.0),
                    0.0,
                    egui::Stroke::new(2.0, INK),
                    egui::StrokeKind::Outside,
                );
            }
        }
    }
    probability_scale(painter, rect, size);
    hovered
}
