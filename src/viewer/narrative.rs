//! The walkthrough as a narrative: the chapters as a map of the pipeline, the chapter's
//! paragraphs so far (earlier ones dimmed, the current one bright), words naming tensors in the
//! colour of those tensors' slabs and dimensions in the colour of their brackets. Painted into
//! pictures and films here; the window shows the same content with egui widgets.

use egui::{Color32, FontId, Pos2, Rect};

use super::walkthrough::Shown;
use super::Viewer;
use crate::graph::Graph;
use crate::render::style::{dim_color, on_light, role_color, to_egui};

/// What the narrative panel shows at one moment of the walkthrough.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Narrative {
    /// Every chapter's short name, for the map.
    pub chapters: Vec<String>,
    pub chapter: usize,
    pub title: String,
    /// The chapter's paragraphs up to the current one (the last), resolved.
    pub paragraphs: Vec<Vec<Shown>>,
    /// Paragraphs of the chapter still to come.
    pub remaining: usize,
}

impl Narrative {
    /// The narrative of `chapter` at paragraph `paragraph`, with `resolved` holding the
    /// paragraphs so far.
    pub fn new(viewer: &Viewer, chapter: usize, resolved: Vec<Vec<Shown>>) -> Narrative {
        let walkthrough = &viewer.scene().walkthrough;
        let total = walkthrough.chapters[chapter].paragraphs.len();
        Narrative {
            chapters: walkthrough
                .chapters
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            chapter,
            title: walkthrough.chapters[chapter].title.clone(),
            remaining: total.saturating_sub(resolved.len()),
            paragraphs: resolved,
        }
    }
}

/// How wide the narrative panel of a picture `width` pixels wide is.
pub fn panel_width(width: u32) -> u32 {
    (width as f32 * 0.3) as u32
}

/// The narrative's text size in a picture `height` pixels high.
pub fn text_size(height: f32) -> f32 {
    (height / 900.0 * 16.0).max(9.0)
}

/// The colour of a word of the narrative: tensors in their role's colour, dimensions in theirs,
/// numbers in amber; `dark` for a dark panel (lighter colours).
pub fn word_color(graph: &Graph, shown: &Shown, dark: bool) -> Color32 {
    let c = match shown {
        Shown::Text(_) => {
            return if dark {
                Color32::from_gray(225)
            } else {
                Color32::from_gray(30)
            }
        }
        Shown::Tensor(_, id) => role_color(graph.tensors[*id].role),
        Shown::Dim(_, dim) => dim_color(*dim),
        Shown::Number(_) => [1.0, 0.78, 0.3, 1.0],
    };
    if dark {
        to_egui(c)
    } else {
        on_light(c)
    }
}

fn text_of(shown: &Shown) -> &str {
    match shown {
        Shown::Text(t) | Shown::Tensor(t, _) | Shown::Dim(t, _) | Shown::Number(t) => t,
    }
}

/// Paints the narrative as a panel left of the scene, which a picture draws at `scene`.
pub fn paint_beside(painter: &egui::Painter, scene: Rect, graph: &Graph, narrative: &Narrative) {
    let panel = Rect::from_min_max(Pos2::ZERO, scene.left_bottom());
    paint_narrative(painter, panel, graph, narrative, text_size(scene.height()));
}

/// Paints the narrative as a dark panel filling `rect`, for pictures and films; text `size`
/// points high.
pub fn paint_narrative(
    painter: &egui::Painter,
    rect: Rect,
    graph: &Graph,
    narrative: &Narrative,
    size: f32,
) {
    painter.rect_filled(rect, 0.0, Color32::from_rgb(28, 30, 36));
    let pad = size * 1.2;
    let width = rect.width() - 2.0 * pad;
    let mut y = rect.top() + pad;
    let grey = Color32::from_gray(150);
    let line = |text: String, font: FontId, color: Color32, y: &mut f32| {
        let galley = painter.layout(text, font, color, width);
        let height = galley.size().y;
        painter.galley(Pos2::new(rect.left() + pad, *y), galley, color);
        *y += height;
    };
    line(
        format!(
            "Chapter {} of {}",
            narrative.chapter + 1,
            narrative.chapters.len()
        ),
        FontId::proportional(size * 0.85),
        grey,
        &mut y,
    );
    line(
        narrative.title.clone(),
        FontId::proportional(size * 1.6),
        Color32::WHITE,
        &mut y,
    );
    y += size * 0.6;

    // The map: one box per chapter, in order, the current one lit.
    let columns = 4;
    let gap = size * 0.3;
    let box_w = (width - gap * (columns - 1) as f32) / columns as f32;
    let box_h = size * 1.5;
    for (i, name) in narrative.chapters.iter().enumerate() {
        let (row, col) = (i / columns, i % columns);
        let min = Pos2::new(
            rect.left() + pad + col as f32 * (box_w + gap),
            y + row as f32 * (box_h + gap),
        );
        let cell = Rect::from_min_size(min, egui::vec2(box_w, box_h));
        let (fill, text) = match i.cmp(&narrative.chapter) {
            std::cmp::Ordering::Less => (Color32::from_rgb(52, 70, 58), Color32::from_gray(200)),
            std::cmp::Ordering::Equal => (Color32::from_rgb(240, 200, 80), Color32::from_gray(20)),
            std::cmp::Ordering::Greater => (Color32::from_gray(48), Color32::from_gray(150)),
        };
        painter.rect_filled(cell, size * 0.25, fill);
        painter.text(
            cell.center(),
            egui::Align2::CENTER_CENTER,
            name,
            FontId::proportional(size * 0.72),
            text,
        );
    }
    let rows = narrative.chapters.len().div_ceil(columns);
    y += rows as f32 * (box_h + gap) + size * 0.8;

    let font = FontId::proportional(size);
    let last = narrative.paragraphs.len().saturating_sub(1);
    for (i, paragraph) in narrative.paragraphs.iter().enumerate() {
        let mut job = egui::text::LayoutJob {
            wrap: egui::text::TextWrapping::wrap_at_width(width),
            ..Default::default()
        };
        for shown in paragraph {
            let mut color = word_color(graph, shown, true);
            if i < last {
                color = color.gamma_multiply(0.55);
            }
            let mut format = egui::TextFormat::simple(font.clone(), color);
            if matches!(shown, Shown::Tensor(..) | Shown::Dim(..)) {
                format.underline = egui::Stroke::new(1.0, color.gamma_multiply(0.6));
            }
            job.append(text_of(shown), 0.0, format);
        }
        job.wrap.max_width = width;
        let galley = painter.layout_job(job);
        let height = galley.size().y;
        painter.galley(Pos2::new(rect.left() + pad, y), galley, Color32::WHITE);
        y += height + size * 0.8;
    }
    if narrative.remaining > 0 {
        line(
            format!(
                "{} more paragraph{} in this chapter",
                narrative.remaining,
                if narrative.remaining == 1 { "" } else { "s" }
            ),
            FontId::proportional(size * 0.85),
            grey,
            &mut y,
        );
    }
}
