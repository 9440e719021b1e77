//! One colour per role and one per dimension, used the same way everywhere: panel frames in the
//! 3D view, labels, the outline and the panels of the app.

use crate::graph::{Dim, Role};

pub type Rgba = [f32; 4];

pub fn role_color(role: Role) -> Rgba {
    match role {
        Role::Input => [0.85, 0.85, 0.85, 1.0],
        Role::Weight => [0.36, 0.52, 0.95, 1.0],
        Role::Activation => [0.38, 0.80, 0.50, 1.0],
        Role::Aggregate => [0.76, 0.50, 0.92, 1.0],
        Role::Cache => [0.98, 0.55, 0.30, 1.0],
    }
}

/// The material of a slab's sides and grid: what kind of tensor it is, seen before its values.
pub fn role_material(role: Role) -> Rgba {
    match role {
        Role::Input => [0.55, 0.56, 0.60, 1.0],
        Role::Weight => [0.40, 0.47, 0.68, 1.0],
        Role::Activation => [0.33, 0.60, 0.40, 1.0],
        Role::Aggregate => [0.58, 0.44, 0.70, 1.0],
        Role::Cache => [0.80, 0.50, 0.28, 1.0],
    }
}

pub fn dim_color(dim: Dim) -> Rgba {
    match dim {
        Dim::Token => [1.0, 0.62, 0.25, 1.0],
        Dim::KeyToken => [1.0, 0.80, 0.45, 1.0],
        Dim::Channel => [0.45, 0.85, 0.45, 1.0],
        Dim::Head => [1.0, 0.45, 0.70, 1.0],
        Dim::HeadChannel => [0.35, 0.85, 0.85, 1.0],
        Dim::Vocab => [0.70, 0.55, 1.0, 1.0],
        Dim::Position => [0.95, 0.90, 0.40, 1.0],
        Dim::Rank => [0.55, 0.75, 1.0, 1.0],
        Dim::Score => [0.85, 0.85, 0.85, 1.0],
        Dim::Split => [0.95, 0.60, 0.45, 1.0],
    }
}

pub fn dim_letter(dim: Dim) -> &'static str {
    match dim {
        Dim::Token => "T",
        Dim::KeyToken => "T'",
        Dim::Channel => "C",
        Dim::Head => "H",
        Dim::HeadChannel => "D",
        Dim::Vocab => "V",
        Dim::Position => "P",
        Dim::Rank => "K",
        Dim::Score => "S",
        Dim::Split => "N",
    }
}

/// The frame of the op being shown, and of the tensors it reads.
pub const CURRENT_OUTPUT: Rgba = [1.0, 0.85, 0.2, 1.0];
pub const CURRENT_INPUT: Rgba = [0.3, 0.9, 1.0, 1.0];
/// The frame of tensors named by the hovered words of the walkthrough.
pub const HOVERED: Rgba = [1.0, 1.0, 1.0, 1.0];
/// The residual stream's arrows.
pub const RESIDUAL: Rgba = [1.0, 0.62, 0.25, 1.0];
/// Light, like a page or a projected slide; the draw shader fades ghosts towards the same colour.
pub const BACKGROUND: wgpu::Color = wgpu::Color {
    r: 0.925,
    g: 0.93,
    b: 0.94,
    a: 1.0,
};

/// A colour dark enough to read as text on the light background and panels.
pub fn on_light(c: Rgba) -> egui::Color32 {
    to_egui([c[0] * 0.5, c[1] * 0.5, c[2] * 0.5, c[3]])
}

pub fn to_egui(c: Rgba) -> egui::Color32 {
    egui::Rgba::from_rgba_unmultiplied(c[0], c[1], c[2], c[3]).into()
}
