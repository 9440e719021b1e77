//! What is drawn over the tensors with egui's painter, in screen space: tensor names, dimension
//! labels in their dimension's colour, and arrows for the data flow and the residual stream.
//! Shared by the window and by `glassbox render`, so both show the same picture.

use egui::{Color32, FontId, Pos2, Stroke};
use glam::{Vec2, Vec3};

use super::style::{dim_color, dim_letter, role_color, to_egui, RESIDUAL};
use super::{Camera, Layout, TensorState};
use crate::graph::{Graph, OpKind, Role};

/// Labels appear once a tensor is at least this tall on screen, in points.
const LABEL_MIN_HEIGHT: f32 = 12.0;

fn to_pos(v: Vec2) -> Pos2 {
    Pos2::new(v.x, v.y)
}

/// Screen rectangle of world bounds (min, max) on the z = 0 plane.
fn screen_rect(camera: &Camera, viewport: Vec2, min: Vec2, max: Vec2) -> Option<egui::Rect> {
    let a = camera.project(Vec3::new(min.x, max.y, 0.0), viewport)?;
    let b = camera.project(Vec3::new(max.x, min.y, 0.0), viewport)?;
    Some(egui::Rect::from_two_pos(to_pos(a), to_pos(b)))
}

fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, stroke: Stroke) {
    let dir = to - from;
    if dir.length() < 8.0 {
        return;
    }
    painter.line_segment([from, to], stroke);
    let d = dir.normalized() * 6.0;
    let n = egui::vec2(-d.y, d.x) * 0.6;
    painter.add(egui::Shape::convex_polygon(
        vec![to, to - d + n, to - d - n],
        stroke.color,
        Stroke::NONE,
    ));
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

    for op in &graph.ops {
        let Some(out) = rect_of(op.outputs[0]) else {
            continue;
        };
        for (i, &input) in op.inputs.iter().enumerate() {
            let Some(from) = rect_of(input) else {
                continue;
            };
            if !clip.intersects(from.union(out)) {
                continue;
            }
            let computed = states[input] != TensorState::NotComputed;
            let alpha = if computed { 200 } else { 70 };
            if graph.tensors[input].role == Role::Weight {
                let color = to_egui(role_color(Role::Weight)).gamma_multiply_u8(alpha);
                arrow(
                    painter,
                    from.right_center(),
                    out.left_center(),
                    Stroke::new(1.0, color),
                );
            } else {
                let residual = matches!(op.kind, OpKind::Add { .. }) && i == 0;
                let (width, color) = if residual {
                    (2.5, to_egui(RESIDUAL))
                } else {
                    (1.2, Color32::from_gray(170))
                };
                let start = if residual {
                    from.left_bottom() + egui::vec2(-4.0, 0.0)
                } else {
                    from.center_bottom()
                };
                let end = if residual {
                    out.left_top() + egui::vec2(-4.0, 0.0)
                } else {
                    out.center_top()
                };
                arrow(
                    painter,
                    start,
                    end,
                    Stroke::new(width, color.gamma_multiply_u8(alpha)),
                );
            }
        }
    }

    // Labels never overlap: activations claim their place first, then inputs, weights and
    // aggregates; a label that would cover another is left out (hovering still names the tensor).
    let panels: Vec<(usize, egui::Rect)> = (0..graph.tensors.len())
        .filter_map(|id| rect_of(id).filter(|r| clip.intersects(*r)).map(|r| (id, r)))
        .collect();
    let mut taken: Vec<egui::Rect> = Vec::new();
    let order = [
        Role::Activation,
        Role::Cache,
        Role::Input,
        Role::Weight,
        Role::Aggregate,
    ];
    for role in order {
        for (id, tensor) in graph
            .tensors
            .iter()
            .enumerate()
            .filter(|(_, t)| t.role == role)
        {
            let Some(rect) = rect_of(id) else {
                continue;
            };
            if rect.height() < LABEL_MIN_HEIGHT || !clip.intersects(rect) {
                continue;
            }
            let font = FontId::proportional((rect.height() / 6.0).clamp(9.0, 14.0));
            let name_color = to_egui(role_color(tensor.role));
            let name = painter.layout_no_wrap(tensor.name.clone(), font.clone(), name_color);
            let name_rect = egui::Rect::from_min_size(
                rect.left_top() - egui::vec2(0.0, 2.0 + name.size().y),
                name.size(),
            );
            let covers_panel = panels
                .iter()
                .any(|&(other, r)| other != id && r.intersects(name_rect));
            if covers_panel || taken.iter().any(|t| t.intersects(name_rect)) {
                continue;
            }
            taken.push(name_rect);
            painter.galley(name_rect.min, name, name_color);

            let mut job = egui::text::LayoutJob::default();
            for (i, (&dim, &n)) in tensor.dims.iter().zip(&tensor.shape).enumerate() {
                if i > 0 {
                    job.append(
                        " × ",
                        0.0,
                        egui::TextFormat::simple(font.clone(), Color32::GRAY),
                    );
                }
                let text = format!("{} {n}", dim_letter(dim));
                job.append(
                    &text,
                    0.0,
                    egui::TextFormat::simple(font.clone(), to_egui(dim_color(dim))),
                );
            }
            let dims = painter.layout_job(job);
            let dims_rect = egui::Rect::from_min_size(
                rect.right_top() + egui::vec2(-dims.size().x, -2.0 - dims.size().y),
                dims.size(),
            );
            let covers_panel = panels
                .iter()
                .any(|&(other, r)| other != id && r.intersects(dims_rect));
            if dims_rect.left() > name_rect.right() + 8.0
                && !covers_panel
                && !taken.iter().any(|t| t.intersects(dims_rect))
            {
                taken.push(dims_rect);
                painter.galley(dims_rect.min, dims, Color32::WHITE);
            }
        }
    }
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
            Color32::from_gray(150),
        );
    }
}
