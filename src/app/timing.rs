//! The timing window: every op's GPU time from timestamps, as a timeline, and a roofline chart
//! of achieved GFLOP/s against arithmetic intensity under the peaks measured on the same device.
//! Measuring is a deliberate action (one run of the graph and one readback), never per frame.

use egui::{Color32, Pos2, RichText, Stroke};

use crate::bench::peaks::{gpu_peaks, Peaks};
use crate::gpu::OpTiming;
use crate::render::style::to_egui;
use crate::viewer::Viewer;

#[derive(Default)]
pub struct TimingView {
    pub open: bool,
    timings: Option<Vec<OpTiming>>,
    peaks: Option<Peaks>,
    message: Option<String>,
}

impl TimingView {
    fn measure(&mut self, viewer: &Viewer) {
        if self.peaks.is_none() {
            match pollster::block_on(gpu_peaks(viewer.gpu(), viewer.registry(), 3)) {
                Ok(peaks) => self.peaks = Some(peaks),
                Err(e) => {
                    self.message = Some(format!("measuring the device's peaks failed: {e}"));
                    return;
                }
            }
        }
        match pollster::block_on(
            viewer
                .gpu_graph()
                .run_timed(viewer.gpu(), viewer.registry()),
        ) {
            Ok(Some(timings)) => {
                self.timings = Some(timings);
                self.message = None;
            }
            Ok(None) => self.message = Some("this adapter has no timestamp queries".into()),
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    pub fn show(&mut self, ctx: &egui::Context, viewer: &Viewer) {
        let mut open = self.open;
        egui::Window::new("GPU timing")
            .open(&mut open)
            .default_size([560.0, 520.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui
                        .button("Measure")
                        .on_hover_text("run the whole graph once with a timestamp around every op")
                        .clicked()
                    {
                        self.measure(viewer);
                    }
                    ui.label(viewer.gpu().describe());
                });
                if let Some(message) = &self.message {
                    ui.colored_label(Color32::from_rgb(255, 120, 100), message);
                }
                let (Some(timings), Some(peaks)) = (&self.timings, &self.peaks) else {
                    return;
                };
                if timings.len() != viewer.graph().ops.len() {
                    ui.label("The graph changed: measure again.");
                    return;
                }
                let total: f64 = timings.iter().map(|t| t.nanos).sum();
                ui.label(format!(
                    "{:.3} ms in {} ops · peaks {:.1} GFLOP/s, {:.1} GB/s",
                    total / 1e6,
                    timings.len(),
                    peaks.gflops,
                    peaks.bandwidth_gbs
                ));
                timeline(ui, viewer, timings, total);
                roofline(ui, viewer, timings, peaks);
            });
        self.open = open;
    }
}

/// One bar per op, its width its share of the total time; hover for the numbers.
fn timeline(ui: &mut egui::Ui, viewer: &Viewer, timings: &[OpTiming], total: f64) {
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), 28.0), egui::Sense::hover());
    let mut x = rect.left();
    for (op, timing) in viewer.graph().ops.iter().zip(timings) {
        let width = (timing.nanos / total.max(1.0)) as f32 * rect.width();
        let bar = egui::Rect::from_min_size(
            Pos2::new(x, rect.top()),
            egui::vec2(width.max(0.5), rect.height()),
        );
        let hue = (op.kind.kernel_name().len() * 37 % 255) as u8;
        ui.painter().rect_filled(
            bar,
            0.0,
            Color32::from_rgb(90 + hue / 3, 140, 220 - hue / 2),
        );
        let response = ui.interact(bar, ui.scope_id().with(&op.name), egui::Sense::hover());
        response.on_hover_text(format!(
            "{}: {:.1} µs, {:.2} GFLOP/s, {:.2} GB/s",
            op.name,
            timing.nanos / 1e3,
            op.kind.flops() as f64 / timing.nanos,
            op.kind.bytes() as f64 / timing.nanos
        ));
        x += width;
    }
}

/// Log-log roofline: x = FLOPs per byte, y = GFLOP/s; the roof is min(peak, intensity x bandwidth).
fn roofline(ui: &mut egui::Ui, viewer: &Viewer, timings: &[OpTiming], peaks: &Peaks) {
    ui.label(
        RichText::new("Roofline (log-log): each dot an op; the roof is what this device allows")
            .weak(),
    );
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), 300.0),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_gray(20));
    let (x_lo, x_hi) = (-3.0f64, 3.0f64);
    let y_hi = peaks.gflops.max(1e-6).log10().ceil() + 0.5;
    let y_lo = y_hi - 6.0;
    let to_screen = |intensity: f64, gflops: f64| {
        let fx = (intensity.max(1e-9).log10() - x_lo) / (x_hi - x_lo);
        let fy = (gflops.max(1e-9).log10() - y_lo) / (y_hi - y_lo);
        Pos2::new(
            rect.left() + fx.clamp(0.0, 1.0) as f32 * rect.width(),
            rect.bottom() - fy.clamp(0.0, 1.0) as f32 * rect.height(),
        )
    };
    let roof: Vec<Pos2> = (0..=60)
        .map(|i| {
            let intensity = 10f64.powf(x_lo + (x_hi - x_lo) * i as f64 / 60.0);
            to_screen(
                intensity,
                (intensity * peaks.bandwidth_gbs).min(peaks.gflops),
            )
        })
        .collect();
    painter.add(egui::Shape::line(
        roof,
        Stroke::new(2.0, Color32::from_gray(200)),
    ));
    let font = egui::FontId::proportional(11.0);
    painter.text(
        rect.left_bottom() + egui::vec2(4.0, -4.0),
        egui::Align2::LEFT_BOTTOM,
        "0.001 FLOP/B",
        font.clone(),
        Color32::GRAY,
    );
    painter.text(
        rect.right_bottom() + egui::vec2(-4.0, -4.0),
        egui::Align2::RIGHT_BOTTOM,
        "1000 FLOP/B",
        font.clone(),
        Color32::GRAY,
    );
    painter.text(
        rect.left_top() + egui::vec2(4.0, 4.0),
        egui::Align2::LEFT_TOP,
        format!("{:.0} GFLOP/s", 10f64.powf(y_hi)),
        font,
        Color32::GRAY,
    );
    let pointer = ui.input(|i| i.pointer.hover_pos());
    for (op, timing) in viewer.graph().ops.iter().zip(timings) {
        let (flops, bytes) = (op.kind.flops() as f64, op.kind.bytes() as f64);
        if flops == 0.0 || timing.nanos <= 0.0 {
            continue;
        }
        let at = to_screen(flops / bytes, flops / timing.nanos);
        let color = to_egui(crate::render::style::role_color(
            crate::graph::Role::Activation,
        ));
        painter.circle_filled(at, 3.0, color);
        if pointer.is_some_and(|p| p.distance(at) < 5.0) {
            painter.text(
                at + egui::vec2(6.0, -6.0),
                egui::Align2::LEFT_BOTTOM,
                &op.name,
                egui::FontId::proportional(12.0),
                Color32::WHITE,
            );
        }
    }
}
