//! The "why" tools drawn flat, with egui's painter, from their computed reports: the logit-lens
//! grid, every head's attention pattern at once (the model view), and the next-token
//! probabilities before and after an ablation. Shared by the window and `glassbox render`.

pub mod before_after;
pub mod embedding_view;
pub mod head_grid;
pub mod lens_grid;

use egui::{Color32, FontId, Pos2, Rect};

use super::legend::viridis;
use super::style::to_egui;

/// Dark text on the light page.
const INK: Color32 = Color32::from_rgb(34, 36, 42);
const MUTED: Color32 = Color32::from_rgb(96, 100, 110);

/// A probability's colour: viridis over 0..=1.
fn probability_color(p: f32) -> Color32 {
    to_egui(viridis(p))
}

/// Text that reads on a cell of colour `fill`.
fn text_on(fill: Color32) -> Color32 {
    let [r, g, b, _] = fill.to_array();
    let luminance = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
    if luminance > 140.0 {
        INK
    } else {
        Color32::from_gray(245)
    }
}

/// A token as a label: whitespace made visible, long ones cut to `chars` characters.
pub fn token_label(text: &str, chars: usize) -> String {
    let shown: String = text
        .chars()
        .map(|c| match c {
            ' ' => '·',
            '\n' => '⏎',
            '\t' => '⇥',
            c => c,
        })
        .collect();
    match shown.chars().count() > chars {
        true => shown
            .chars()
            .take(chars.saturating_sub(1))
            .chain(['…'])
            .collect(),
        false => shown,
    }
}

/// A title and a subtitle at the top left of `rect`; returns the space left below them.
fn heading(painter: &egui::Painter, rect: Rect, title: &str, subtitle: &str, size: f32) -> Rect {
    let at = rect.min + egui::vec2(size, size);
    painter.text(
        at,
        egui::Align2::LEFT_TOP,
        title,
        FontId::proportional(size * 1.5),
        INK,
    );
    painter.text(
        at + egui::vec2(0.0, size * 2.1),
        egui::Align2::LEFT_TOP,
        subtitle,
        FontId::proportional(size),
        MUTED,
    );
    Rect::from_min_max(Pos2::new(rect.left(), rect.top() + size * 4.4), rect.max)
}

/// A horizontal probability colour bar with its ends labelled, bottom-right of `rect`.
fn probability_scale(painter: &egui::Painter, rect: Rect, size: f32) {
    let bar = egui::vec2(size * 14.0, size * 0.8);
    let origin = rect.right_bottom() - egui::vec2(bar.x + size, bar.y + size * 2.2);
    let steps = 48;
    for i in 0..steps {
        let t = (i as f32 + 0.5) / steps as f32;
        let x0 = origin.x + bar.x * i as f32 / steps as f32;
        let x1 = origin.x + bar.x * (i + 1) as f32 / steps as f32 + 0.5;
        painter.rect_filled(
            Rect::from_x_y_ranges(x0..=x1, origin.y..=origin.y + bar.y),
            0.0,
            probability_color(t),
        );
    }
    let below = origin.y + bar.y + size * 0.2;
    let small = FontId::proportional(size * 0.85);
    painter.text(
        Pos2::new(origin.x, below),
        egui::Align2::LEFT_TOP,
        "0",
        small.clone(),
        MUTED,
    );
    painter.text(
        Pos2::new(origin.x + bar.x / 2.0, below),
        egui::Align2::CENTER_TOP,
        "probability",
        small.clone(),
        MUTED,
    );
    painter.text(
        Pos2::new(origin.x + bar.x, below),
        egui::Align2::RIGHT_TOP,
        "1",
        small,
        MUTED,
    );
}
