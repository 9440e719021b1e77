//! What is drawn over the tensors with egui's painter, in screen space: the data-flow arrows
//! (routed in world space by `flow`), plain-name tags, and dimension brackets in their
//! dimension's colour. Shared by the window and by `glassbox render`, so both show the same
//! picture. Sizes follow the image height, so a 4K or 8K picture is the 1080p one, sharper.

use egui::{Color32, FontId, Pos2, Stroke};
use glam::{Vec2, Vec3};

use super::flow::FlowKind;
use super::names::plain_name;
use super::style::{dim_color, dim_letter, on_light, role_material, to_egui, RESIDUAL};
use super::{Camera, Layout, TensorState};
use crate::graph::{Graph, Role};

/// Text size at 900 pixels of height, in points.
const TEXT_AT_900: f32 = 13.0;

fn to_pos(v: Vec2) -> Pos2 {
    Pos2::new(v.x, v.y)
}

/// Screen rectangle of world bounds (min, max) on the z = 0 plane.
fn screen_rect(camera: &Camera, viewport: Vec2, min: Vec2, max: Vec2) -> Option<egui::Rect> {
    let a = camera.project(Vec3::new(min.x, max.y, 0.0), viewport)?;
    let b = camera.project(Vec3::new(max.x, min.y, 0.0), viewport)?;
    Some(egui::Rect::from_two_pos(to_pos(a), to_pos(b)))
}

/// The size of one world unit on screen near `point`, in points.
fn pixels_per_unit(camera: &Camera, viewport: Vec2, point: Vec2) -> f32 {
    let a = camera.project(point.extend(0.0), viewport);
    let b = camera.project((point + Vec2::X).extend(0.0), viewport);
    match (a, b) {
        (Some(a), Some(b)) => (b - a).length(),
        _ => 0.0,
    }
}

/// Paints labels and arrows for the scene drawn into `view` (screen points).
pub fn paint(
    painter: &egui::Painter,
    view: egui::Rect,
    graph: &Graph,
    layout: &Layout,
    camera: &Camera,
    states: &[TensorState],
) {
    let clip = painter.clip_rect().intersect(view);
    let viewport = Vec2::new(view.width(), view.height());
    let collapsed = layout.collapsed(camera, viewport);
    let hidden = layout.hidden_tensors(graph, &collapsed);
    let rect_of = |id: usize| {
        if hidden[id] {
            return None;
        }
        let (min, max) = layout.tensor_bounds(id)?;
        screen_rect(camera, viewport, min, max).map(|r| r.translate(view.min.to_vec2()))
    };
    let region_rect =
        |min, max| screen_rect(camera, viewport, min, max).map(|r| r.translate(view.min.to_vec2()));
    collapsed_labels(painter, layout, &collapsed, &region_rect);
    arrows(painter, view, layout, camera, states, &hidden);
    let titles = region_titles(painter, view, layout, &region_rect);
    labels(painter, view, graph, &rect_of, clip, titles, states);
}

/// Each region's name ("Block 2", "Embedding", "Output") in large type above its top-left
/// corner; returns where they went, so that tags keep clear of them.
fn region_titles(
    painter: &egui::Painter,
    view: egui::Rect,
    layout: &Layout,
    region_rect: &dyn Fn(Vec2, Vec2) -> Option<egui::Rect>,
) -> Vec<egui::Rect> {
    let size = 2.0 * TEXT_AT_900 * view.height() / 900.0;
    let mut taken = Vec::new();
    for region in &layout.regions {
        let Some(rect) = region_rect(region.min, region.max) else {
            continue;
        };
        // Only where the region is big enough on screen for its title to belong to it.
        if rect.height() < size * 4.0 || !painter.clip_rect().intersects(rect) {
            continue;
        }
        let mut name = region.name.clone();
        if let Some(first) = name.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        let galley =
            painter.layout_no_wrap(name, FontId::proportional(size), Color32::from_gray(95));
        let at = rect.left_top() - egui::vec2(0.0, galley.size().y + size * 0.4);
        let title = egui::Rect::from_min_size(at, galley.size());
        if taken.iter().any(|t: &egui::Rect| t.intersects(title)) {
            continue;
        }
        taken.push(title);
        painter.galley(at, galley, Color32::from_gray(95));
    }
    taken
}

/// The arrows, translucent and as wide as the world they run in; those into the current op's
/// output stand out, the others fade while an op is current.
fn arrows(
    painter: &egui::Painter,
    view: egui::Rect,
    layout: &Layout,
    camera: &Camera,
    states: &[TensorState],
    hidden: &[bool],
) {
    let viewport = Vec2::new(view.width(), view.height());
    let op_current = states.contains(&TensorState::CurrentOutput);
    let max_width = 0.5 * TEXT_AT_900 * view.height() / 900.0;
    for arrow in &layout.arrows {
        if hidden[arrow.from] || hidden[arrow.to] {
            continue;
        }
        let points: Option<Vec<Pos2>> = arrow
            .points
            .iter()
            .map(|p| {
                camera
                    .project(p.extend(0.0), viewport)
                    .map(|s| to_pos(s) + view.min.to_vec2())
            })
            .collect();
        let Some(mut points) = points else {
            continue;
        };
        let bounds = egui::Rect::from_points(&points);
        if !painter.clip_rect().intersects(bounds.expand(20.0)) {
            continue;
        }
        let (world_width, color) = match arrow.kind {
            FlowKind::Residual => (4.0, RESIDUAL),
            FlowKind::Activation => (2.2, role_material(Role::Activation)),
            FlowKind::Weight => (2.2, role_material(Role::Weight)),
        };
        // As wide as the world it runs in where it ends, within what a label's text allows.
        let tip_world = arrow.points[arrow.points.len() - 1];
        let width = (world_width * pixels_per_unit(camera, viewport, tip_world))
            .clamp(1.5, (max_width * world_width).max(1.5));
        let current = states[arrow.to] == TensorState::CurrentOutput;
        let alpha = match (op_current, current) {
            (_, true) => 0.85,
            (true, false) => 0.15,
            (false, false) if states[arrow.to] == TensorState::NotComputed => 0.25,
            _ => 0.5,
        };
        let color = to_egui([color[0], color[1], color[2], alpha]);
        // The head: a triangle past the end of the shortened line.
        let n = points.len();
        let dir = (points[n - 1] - points[n - 2]).normalized();
        let head = width * 2.0 + 4.0;
        let tip = points[n - 1];
        let base = tip - dir * head;
        if (points[n - 1] - points[n - 2]).length() > head {
            points[n - 1] = base;
        }
        painter.add(egui::Shape::line(points, Stroke::new(width, color)));
        let side = egui::vec2(-dir.y, dir.x) * head * 0.75;
        painter.add(egui::Shape::convex_polygon(
            vec![tip, base + side, base - side],
            color,
            Stroke::NONE,
        ));
    }
}

/// Plain-name tags above the tensors and brackets along their edges. Tags never overlap:
/// activations claim their place first, then inputs, weights and aggregates; a tag that would
/// cover another or a tensor is left out (hovering still names the tensor).
fn labels(
    painter: &egui::Painter,
    view: egui::Rect,
    graph: &Graph,
    rect_of: &dyn Fn(usize) -> Option<egui::Rect>,
    clip: egui::Rect,
    titles: Vec<egui::Rect>,
    states: &[TensorState],
) {
    let text_size = (TEXT_AT_900 * view.height() / 900.0).max(9.0);
    let panels: Vec<(usize, egui::Rect)> = (0..graph.tensors.len())
        .filter_map(|id| rect_of(id).filter(|r| clip.intersects(*r)).map(|r| (id, r)))
        .collect();
    let free = |rect: egui::Rect, id: usize, taken: &[egui::Rect]| {
        !panels
            .iter()
            .any(|&(other, r)| other != id && r.intersects(rect))
            && !taken.iter().any(|t| t.intersects(rect))
    };
    let mut taken: Vec<egui::Rect> = titles;
    // Brackets come after every tag, so that no bracket takes a tag's place.
    let mut tagged = Vec::new();
    let order = [
        Role::Activation,
        Role::Cache,
        Role::Input,
        Role::Weight,
        Role::Aggregate,
    ];
    // The current op's tensors first, whatever else their tags would cover; then by role.
    let current = |id: usize| {
        matches!(
            states[id],
            TensorState::CurrentInput | TensorState::CurrentOutput
        )
    };
    let mut ordered: Vec<(usize, egui::Rect)> = panels
        .iter()
        .copied()
        .filter(|&(id, _)| current(id))
        .collect();
    for role in order {
        ordered.extend(
            panels
                .iter()
                .copied()
                .filter(|&(id, _)| !current(id) && graph.tensors[id].role == role),
        );
    }
    for (id, rect) in ordered {
        let tensor = &graph.tensors[id];
        let size = (rect.height() / 3.0).clamp(text_size * 0.8, text_size * 1.5);
        if rect.height().max(rect.width()) < size * 2.0 {
            continue;
        }
        let font = FontId::proportional(size);
        let name = painter.layout_no_wrap(plain_name(&tensor.name), font, Color32::WHITE);
        let pad = egui::vec2(size * 0.45, size * 0.2);
        let tag = egui::Rect::from_min_size(
            rect.left_top() - egui::vec2(0.0, name.size().y + 2.0 * pad.y + size * 0.3),
            name.size() + 2.0 * pad,
        );
        let placed = match current(id) {
            true => !taken.iter().any(|t| t.intersects(tag)),
            false => free(tag, id, &taken),
        };
        if !placed {
            continue;
        }
        taken.push(tag);
        painter.rect_filled(
            tag,
            size * 0.25,
            Color32::from_rgba_unmultiplied(28, 30, 36, 235),
        );
        let stripe = egui::Rect::from_min_size(tag.min, egui::vec2(size * 0.22, tag.height()));
        painter.rect_filled(stripe, size * 0.25, to_egui(role_material(tensor.role)));
        painter.galley(
            tag.min + pad + egui::vec2(size * 0.15, 0.0),
            name,
            Color32::WHITE,
        );
        tagged.push((id, rect, size));
    }
    for (id, rect, size) in tagged {
        brackets(painter, graph, id, rect, size * 0.85, &free, &mut taken);
    }
}

/// Dimension brackets: the columns' along the bottom edge, the rows' along the left edge, each
/// in its dimension's colour with its size (T = 6, C = 48).
fn brackets(
    painter: &egui::Painter,
    graph: &Graph,
    id: usize,
    rect: egui::Rect,
    size: f32,
    free: &dyn Fn(egui::Rect, usize, &[egui::Rect]) -> bool,
    taken: &mut Vec<egui::Rect>,
) {
    let tensor = &graph.tensors[id];
    if rect.width() < size * 6.0 || rect.height() < size * 1.5 {
        return;
    }
    let font = FontId::proportional(size);
    let gap = size * 0.3;
    let stroke = |dim| Stroke::new((size / 8.0).max(1.0), to_egui(dim_color(dim)));
    let row_dim = tensor
        .dims
        .iter()
        .position(|&d| matches!(d, crate::graph::Dim::Token | crate::graph::Dim::KeyToken))
        .filter(|_| tensor.dims.len() > 1);

    let mut job = egui::text::LayoutJob::default();
    for (i, (&dim, &n)) in tensor.dims.iter().zip(&tensor.shape).enumerate() {
        if Some(i) == row_dim {
            continue;
        }
        if !job.text.is_empty() {
            job.append(
                " × ",
                0.0,
                egui::TextFormat::simple(font.clone(), Color32::from_gray(90)),
            );
        }
        let format = egui::TextFormat::simple(font.clone(), on_light(dim_color(dim)));
        job.append(&format!("{} = {n}", dim_letter(dim)), 0.0, format);
    }
    let cols = painter.layout_job(job);
    let y = rect.bottom() + gap;
    let text_rect = egui::Rect::from_center_size(
        Pos2::new(rect.center().x, y + gap + cols.size().y / 2.0),
        cols.size(),
    );
    if free(text_rect, id, taken) {
        taken.push(text_rect);
        let col_dim = tensor.dims[tensor.dims.len() - 1];
        bracket_line(
            painter,
            rect.left(),
            rect.right(),
            y,
            gap,
            stroke(col_dim),
            false,
        );
        painter.galley(text_rect.min, cols, Color32::WHITE);
    }

    if let Some(r) = row_dim {
        let dim = tensor.dims[r];
        let text = format!("{} = {}", dim_letter(dim), tensor.shape[r]);
        let galley = painter.layout_no_wrap(text, font, on_light(dim_color(dim)));
        let x = rect.left() - gap;
        let text_rect = egui::Rect::from_min_size(
            Pos2::new(
                x - gap - galley.size().y,
                rect.center().y - galley.size().x / 2.0,
            ),
            egui::vec2(galley.size().y, galley.size().x),
        );
        if rect.height() > galley.size().x + gap && free(text_rect, id, taken) {
            taken.push(text_rect);
            bracket_line(
                painter,
                rect.top(),
                rect.bottom(),
                x,
                gap,
                stroke(dim),
                true,
            );
            let at = Pos2::new(text_rect.left(), text_rect.bottom());
            painter.add(
                egui::epaint::TextShape::new(at, galley, Color32::WHITE)
                    .with_angle(-std::f32::consts::FRAC_PI_2),
            );
        }
    }
}

/// A bracket from `a` to `b` at `at` (y for a horizontal one, x for a vertical one), its ends
/// bent back towards the tensor by `tick`.
fn bracket_line(
    painter: &egui::Painter,
    a: f32,
    b: f32,
    at: f32,
    tick: f32,
    stroke: Stroke,
    vertical: bool,
) {
    let point = |along: f32, across: f32| {
        if vertical {
            Pos2::new(across, along)
        } else {
            Pos2::new(along, across)
        }
    };
    let back = if vertical { at + tick } else { at - tick };
    painter.add(egui::Shape::line(
        vec![point(a, back), point(a, at), point(b, at), point(b, back)],
        stroke,
    ));
}

/// One label beside each collapsed block, saying what its summary stands for.
fn collapsed_labels(
    painter: &egui::Painter,
    layout: &Layout,
    collapsed: &[bool],
    region_rect: &dyn Fn(Vec2, Vec2) -> Option<egui::Rect>,
) {
    for (region, _) in layout.regions.iter().zip(collapsed).filter(|(_, &c)| c) {
        let Some(rect) = region_rect(region.min, region.max) else {
            continue;
        };
        if !painter.clip_rect().intersects(rect) {
            continue;
        }
        painter.text(
            rect.right_center() + egui::vec2(8.0, 0.0),
            egui::Align2::LEFT_CENTER,
            format!(
                "{}: resid_out ({} ops folded, zoom in)",
                region.name, region.ops
            ),
            FontId::proportional(11.0),
            Color32::from_gray(70),
        );
    }
}
