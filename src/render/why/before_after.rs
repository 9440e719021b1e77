//! The next-token probabilities without and with an ablation, side by side: what switching the
//! units off did to the answer.

use egui::{Color32, FontId, Pos2, Rect};

use super::token_label;

/// One token's probability in both runs.
pub struct Compared {
    pub label: String,
    pub before: f32,
    pub after: f32,
}

/// The tokens of either run's top `k`, with both probabilities (full rows, by token id),
/// ranked by the larger of the two.
pub fn compare(
    before: &[f32],
    after: &[f32],
    k: usize,
    token: &dyn Fn(u32) -> String,
) -> Vec<Compared> {
    let top = |probs: &[f32]| {
        let mut ranked: Vec<u32> = (0..probs.len() as u32).collect();
        ranked.sort_by(|&a, &b| probs[b as usize].total_cmp(&probs[a as usize]));
        ranked.truncate(k);
        ranked
    };
    let mut ids: Vec<u32> = top(before).into_iter().chain(top(after)).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows: Vec<Compared> = ids
        .into_iter()
        .map(|id| Compared {
            label: token(id),
            before: before[id as usize],
            after: after[id as usize],
        })
        .collect();
    rows.sort_by(|a, b| b.before.max(b.after).total_cmp(&a.before.max(a.after)));
    rows
}

/// Paints the comparison in a dark box with its top-right corner at `corner`.
pub fn paint(painter: &egui::Painter, corner: Pos2, title: &str, rows: &[Compared], size: f32) {
    let pad = size * 0.7;
    let label_width = size * 7.0;
    let bar = size * 12.0;
    let row = size * 1.5;
    let width = label_width + bar + size * 6.0 + 2.0 * pad;
    let height = size * 3.4 + row * rows.len() as f32 + pad;
    let frame = Rect::from_min_size(corner - egui::vec2(width, 0.0), egui::vec2(width, height));
    painter.rect_filled(
        frame,
        size * 0.3,
        Color32::from_rgba_unmultiplied(28, 30, 36, 238),
    );
    let text = Color32::from_gray(235);
    let before_color = Color32::from_gray(150);
    let after_color = Color32::from_rgb(255, 150, 50);
    painter.text(
        frame.min + egui::vec2(pad, pad),
        egui::Align2::LEFT_TOP,
        title,
        FontId::proportional(size),
        text,
    );
    let key = frame.min + egui::vec2(pad, pad + size * 1.4);
    painter.rect_filled(
        Rect::from_min_size(
            key + egui::vec2(0.0, size * 0.2),
            egui::vec2(size * 0.8, size * 0.6),
        ),
        0.0,
        before_color,
    );
    painter.text(
        key + egui::vec2(size, 0.0),
        egui::Align2::LEFT_TOP,
        "without",
        FontId::proportional(size * 0.85),
        text,
    );
    let key = key + egui::vec2(size * 6.0, 0.0);
    painter.rect_filled(
        Rect::from_min_size(
            key + egui::vec2(0.0, size * 0.2),
            egui::vec2(size * 0.8, size * 0.6),
        ),
        0.0,
        after_color,
    );
    painter.text(
        key + egui::vec2(size, 0.0),
        egui::Align2::LEFT_TOP,
        "with the ablation",
        FontId::proportional(size * 0.85),
        text,
    );
    for (i, r) in rows.iter().enumerate() {
        let y = frame.top() + size * 3.3 + row * i as f32;
        painter.text(
            Pos2::new(frame.left() + pad + label_width - size * 0.4, y + row / 2.0),
            egui::Align2::RIGHT_CENTER,
            token_label(&r.label, 10),
            FontId::monospace(size * 0.9),
            text,
        );
        let x = frame.left() + pad + label_width;
        let half = row * 0.36;
        painter.rect_filled(
            Rect::from_min_size(
                Pos2::new(x, y + row * 0.1),
                egui::vec2(bar * r.before, half),
            ),
            0.0,
            before_color,
        );
        painter.rect_filled(
            Rect::from_min_size(
                Pos2::new(x, y + row * 0.1 + half),
                egui::vec2(bar * r.after, half),
            ),
            0.0,
            after_color,
        );
        painter.text(
            Pos2::new(x + bar + size * 0.4, y + row / 2.0),
            egui::Align2::LEFT_CENTER,
            format!("{:.2} to {:.2}", r.before, r.after),
            FontId::proportional(size * 0.8),
            text,
        );
    }
}
