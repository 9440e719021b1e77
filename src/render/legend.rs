//! The legend: the colour scale of one tensor (the one under the pointer, or the current op's
//! output), with the values at its ends. The colours are the draw shader's, computed here the
//! same way; the numbers are the GPU's colour-scale buffers, read when the tensor changes.

use egui::{Color32, FontId, Pos2, Rect, Stroke};

use super::style::Rgba;
use crate::gpu::{Gpu, GpuError};
use crate::graph::TensorId;

/// A tensor's colour scale as the draw shader uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct Legend {
    pub tensor: TensorId,
    /// The tensor's plain name.
    pub name: String,
    /// |value| at which colours saturate: the 99.5th percentile of |value| to a quarter octave.
    pub scale: f32,
    /// The largest |value|.
    pub absmax: f32,
    /// Probabilities (viridis from 0) rather than signed values (diverging around 0).
    pub probability: bool,
}

/// The diverging map of the draw shader (after Crameri's berlin), for u in -1..1.
pub fn diverging(u: f32) -> Rgba {
    const STOPS: [[f32; 3]; 5] = [
        [0.62, 0.69, 0.99],
        [0.20, 0.50, 0.70],
        [0.07, 0.06, 0.05],
        [0.58, 0.22, 0.10],
        [1.0, 0.68, 0.66],
    ];
    let x = (u.clamp(-1.0, 1.0) + 1.0) * 2.0;
    let i = (x as usize).min(3);
    let t = x - i as f32;
    let c = |k: usize| STOPS[i][k] + (STOPS[i + 1][k] - STOPS[i][k]) * t;
    [c(0), c(1), c(2), 1.0]
}

/// viridis, the same polynomial fit as the draw shader's, for t in 0..1.
pub fn viridis(t: f32) -> Rgba {
    const C: [[f32; 3]; 7] = [
        [0.277_727_33, 0.005_407_344_5, 0.334_099_8],
        [0.105_093_04, 1.404_613_5, 1.384_590_2],
        [-0.330_861_83, 0.214_847_56, 0.095_095_16],
        [-4.634_230_6, -5.799_101, -19.332_441],
        [6.228_27, 14.179_933, 56.690_55],
        [4.776_385, -13.745_145, -65.353_03],
        [-5.435_456, 4.645_852_6, 26.312_435],
    ];
    let x = t.clamp(0.0, 1.0);
    let channel = |k: usize| {
        C.iter()
            .rev()
            .fold(0.0, |acc, c| acc * x + c[k])
            .clamp(0.0, 1.0)
    };
    [channel(0), channel(1), channel(2), 1.0]
}

/// Reads the colour scale of `tensor` (one readback: call it when the tensor changes).
pub async fn read(
    gpu: &Gpu,
    buffers: (&wgpu::Buffer, &wgpu::Buffer),
    tensor: TensorId,
) -> Result<(f32, f32), GpuError> {
    let at = tensor as u64 * 4;
    let bytes = gpu
        .read_ranges(&[(buffers.0, at, 4), (buffers.1, at, 4)])
        .await?;
    let word = |i: usize| f32::from_le_bytes(bytes[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
    Ok((word(0), word(1)))
}

fn number(v: f32) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 || v.abs() < 0.01 {
        format!("{v:.2e}")
    } else {
        format!("{v:.3}")
    }
}

/// Paints the legend with its bottom-right corner at `corner`, sized for text of `size` points.
pub fn paint(painter: &egui::Painter, corner: Pos2, legend: &Legend, size: f32) {
    let bar = egui::vec2(size * 20.0, size * 0.9);
    let pad = size * 0.6;
    let font = FontId::proportional(size);
    let small = FontId::proportional(size * 0.85);
    let text = Color32::from_gray(235);
    let box_size = egui::vec2(bar.x + 2.0 * pad, bar.y + size * 4.2 + 2.0 * pad);
    let frame = Rect::from_min_size(corner - box_size, box_size);
    painter.rect_filled(
        frame,
        size * 0.3,
        Color32::from_rgba_unmultiplied(28, 30, 36, 235),
    );
    let title = format!("{}: colour scale", legend.name);
    painter.text(
        frame.min + egui::vec2(pad, pad),
        egui::Align2::LEFT_TOP,
        title,
        font,
        text,
    );
    let bar_rect = Rect::from_min_size(frame.min + egui::vec2(pad, pad + size * 1.6), bar);
    let steps = 64;
    for i in 0..steps {
        let t = (i as f32 + 0.5) / steps as f32;
        let color = if legend.probability {
            viridis(t)
        } else {
            diverging(2.0 * t - 1.0)
        };
        let x0 = bar_rect.left() + bar.x * i as f32 / steps as f32;
        let x1 = bar_rect.left() + bar.x * (i + 1) as f32 / steps as f32 + 0.5;
        painter.rect_filled(
            Rect::from_x_y_ranges(x0..=x1, bar_rect.y_range()),
            0.0,
            super::style::to_egui(color),
        );
    }
    painter.rect_stroke(
        bar_rect,
        0.0,
        Stroke::new(1.0, Color32::from_gray(120)),
        egui::StrokeKind::Outside,
    );
    let below = bar_rect.bottom() + size * 0.3;
    let (left, middle) = if legend.probability {
        ("0".to_string(), number(legend.scale / 2.0))
    } else {
        (number(-legend.scale), "0".to_string())
    };
    let at = |x: f32| Pos2::new(x, below);
    painter.text(
        at(bar_rect.left()),
        egui::Align2::LEFT_TOP,
        left,
        small.clone(),
        text,
    );
    painter.text(
        at(bar_rect.center().x),
        egui::Align2::CENTER_TOP,
        middle,
        small.clone(),
        text,
    );
    painter.text(
        at(bar_rect.right()),
        egui::Align2::RIGHT_TOP,
        number(legend.scale),
        small.clone(),
        text,
    );
    painter.text(
        Pos2::new(bar_rect.left(), below + size * 1.3),
        egui::Align2::LEFT_TOP,
        format!(
            "largest |value| {} (past the scale, colours saturate)",
            number(legend.absmax)
        ),
        small,
        Color32::from_gray(190),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_match_their_ends() {
        assert_eq!(diverging(-1.0), [0.62, 0.69, 0.99, 1.0]);
        assert_eq!(diverging(0.0), [0.07, 0.06, 0.05, 1.0]);
        assert_eq!(diverging(5.0), [1.0, 0.68, 0.66, 1.0]);
        // viridis runs from dark purple to yellow.
        let (start, end) = (viridis(0.0), viridis(1.0));
        assert!(start[2] > start[1] && start[0] < 0.3, "{start:?}");
        assert!(end[0] > 0.9 && end[1] > 0.85 && end[2] < 0.2, "{end:?}");
    }
}
