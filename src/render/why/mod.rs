//! The "why" tools drawn flat, with egui's painter, from their computed reports: the logit-lens
//! grid, every head's attention pattern at once (the model view), and the next-token
//! probabilities before and after an ablation. Shared by the window and `glassbox render`.

pub mod attribution_bars;
pub mod before_after;
pub mod embedding_view;
pub mod head_grid;
pub mod head_lines;
pub mod lens_grid;
pub mod patch_grid;

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
    let wrap = rect.width() - 2.0 * size;
    let galley = painter.layout(
        subtitle.to_string(),
        FontId::proportional(size),
        MUTED,
        wrap,
    );
    let below = size * 2.1 + galley.size().y;
    painter.galley(at + egui::vec2(0.0, size * 2.1), galley, MUTED);
    Rect::from_min_max(
        Pos2::new(rect.left(), rect.top() + size + below + size * 0.8),
        rect.max,
    )
}

/// A horizontal probability colour bar with its ends labelled, bottom-right of `rect`.
fn probability_scale(painter: &egui::Painter, rect: Rect, size: f32) {
    color_scale(
        painter,
        rect,
        size,
        &probability_color,
        ["0", "probability", "1"],
    );
}

/// A horizontal colour bar over 0..=1 of `color`, its ends and middle labelled, bottom-right of
/// `rect`.
fn color_scale(
    painter: &egui::Painter,
    rect: Rect,
    size: f32,
    color: &dyn Fn(f32) -> Color32,
    [left, middle, right]: [&str; 3],
) {
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
            color(t),
        );
    }
    let below = origin.y + bar.y + size * 0.2;
    let small = FontId::proportional(size * 0.85);
    let at = |x: f32| Pos2::new(x, below);
    painter.text(
        at(origin.x),
        egui::Align2::LEFT_TOP,
        left,
        small.clone(),
        MUTED,
    );
    painter.text(
        at(origin.x + bar.x / 2.0),
        egui::Align2::CENTER_TOP,
        middle,
        small.clone(),
        MUTED,
    );
    painter.text(
        at(origin.x + bar.x),
        egui::Align2::RIGHT_TOP,
        right,
        small,
        MUTED,
    );
}
