//! The "why" window: the logit lens grid (click a cell to fly to that residual), every head's
//! attention pattern (click a head to switch it off), and the ablations with the next-token
//! probabilities before and after. Everything it shows is computed on the viewer's device when
//! the tokens or the ablations change, never per frame.

use egui::{Color32, RichText};

use crate::graph::probe::{Ablation, Ablations};
use crate::render::why::{before_after, head_grid, head_lines, lens_grid};
use crate::viewer::Viewer;
use crate::why::heads::HeadsReport;
use crate::why::lens::LensReport;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tab {
    Lens,
    Heads,
    Ablation,
    Embedding,
    Attribution,
    Patching,
}

/// What the window asks of the rest of the window after a frame.
pub enum WhyAction {
    None,
    /// Fly to this tensor.
    FlyTo(String),
    /// The ablations changed: the graph ran again.
    Ablated,
}

/// What was computed, for which tokens and ablations.
pub(super) struct Computed {
    pub ids: Vec<u32>,
    pub ablations: Ablations,
    pub lens: LensReport,
    /// Attention probabilities per layer, [heads, t, t].
    pub patterns: Vec<Vec<f32>>,
    pub heads: HeadsReport,
    pub before: Vec<f32>,
    pub after: Vec<f32>,
    pub embedding: crate::why::embedding::EmbeddingReport,
    pub attribution: crate::why::attribution::AttributionReport,
}

pub struct WhyView {
    pub open: bool,
    pub(super) tab: Tab,
    pub(super) computed: Option<Computed>,
    unit: String,
    pub(super) error: Option<String>,
    /// The embedding view's turn (yaw, pitch), changed by dragging.
    pub(super) turn: (f32, f32),
    /// The patching tab's corrupted prompt, and its last sweep.
    pub(super) corrupt: String,
    pub(super) site: crate::why::patch::Site,
    pub(super) patching: Option<super::why_views::Patched>,
    /// The head whose lines the heads tab draws: the last one hovered.
    lines_head: (usize, usize),
    /// The embedding tab's neighbour search ("king - man + woman") and its answer.
    pub(super) query: String,
    pub(super) neighbors: Option<crate::why::neighbors::NeighborsReport>,
}

impl Default for WhyView {
    fn default() -> WhyView {
        WhyView {
            open: false,
            tab: Tab::Lens,
            computed: None,
            unit: "h.0.head.0".to_string(),
            error: None,
            turn: crate::render::why::embedding_view::DEFAULT_TURN,
            corrupt: String::new(),
            site: crate::why::patch::Site::Resid,
            patching: None,
            lines_head: (0, 0),
            query: String::new(),
            neighbors: None,
        }
    }
}

/// Lens tokens kept per cell: the best is drawn, the rest listed on hover.
const LENS_TOP: usize = 3;

impl WhyView {
    /// Computes what the window shows when the tokens or ablations changed; returns whether
    /// it read anything back (not a steady frame).
    fn refresh(&mut self, viewer: &Viewer) -> bool {
        let ids = viewer.ids().to_vec();
        let fresh = self
            .computed
            .as_ref()
            .is_some_and(|c| c.ids == ids && c.ablations == *viewer.ablations());
        if fresh || viewer.decoding() {
            return false;
        }
        let computed = pollster::block_on(compute(viewer, &ids));
        match computed {
            Ok(computed) => {
                self.computed = Some(computed);
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        true
    }

    /// Shows the window; `changed` is set when it read from the GPU this frame.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        viewer: &mut Viewer,
        changed: &mut bool,
    ) -> WhyAction {
        if !self.open {
            return WhyAction::None;
        }
        *changed |= self.refresh(viewer);
        let mut open = self.open;
        let mut action = WhyAction::None;
        egui::Window::new("Why: lens, heads, ablation")
            .open(&mut open)
            .default_size([760.0, 520.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.tab, Tab::Lens, "Logit lens");
                    ui.selectable_value(&mut self.tab, Tab::Heads, "Heads");
                    ui.selectable_value(&mut self.tab, Tab::Ablation, "Ablation");
                    ui.selectable_value(&mut self.tab, Tab::Attribution, "Attribution");
                    ui.selectable_value(&mut self.tab, Tab::Patching, "Patching");
                    ui.selectable_value(&mut self.tab, Tab::Embedding, "Embedding");
                });
                if viewer.decoding() {
                    ui.label("The why tools read the full forward pass: turn the KV cache off.");
                    return;
                }
                if let Some(error) = &self.error {
                    ui.colored_label(Color32::from_rgb(255, 120, 100), error);
                }
                action = match self.tab {
                    Tab::Lens => self.lens_tab(ui, viewer),
                    Tab::Heads => self.heads_tab(ui, viewer),
                    Tab::Ablation => self.ablation_tab(ui, viewer),
                    Tab::Embedding => self.embedding_tab(ui, viewer),
                    Tab::Attribution => self.attribution_tab(ui, viewer),
                    Tab::Patching => self.patching_tab(ui, viewer, changed),
                };
            });
        self.open = open;
        action
    }

    pub(super) fn canvas(ui: &mut egui::Ui) -> (egui::Response, egui::Painter) {
        let size = egui::vec2(
            ui.available_width(),
            (ui.available_height() - 8.0).max(240.0),
        );
        ui.allocate_painter(size, egui::Sense::click_and_drag())
    }

    fn lens_tab(&mut self, ui: &mut egui::Ui, viewer: &Viewer) -> WhyAction {
        let Some(computed) = &self.computed else {
            return WhyAction::None;
        };
        let tokenizer = &viewer.scene().tokenizer;
        let inputs: Vec<String> = computed
            .ids
            .iter()
            .map(|&id| tokenizer.decode_one(id))
            .collect();
        let token = |id: u32| tokenizer.decode_one(id);
        let title = format!(
            "{}: click a cell to fly to that residual",
            viewer.scene().name
        );
        let labels = lens_grid::LensLabels {
            title: &title,
            inputs: &inputs,
            token: &token,
        };
        let (response, painter) = Self::canvas(ui);
        let pointer = response.hover_pos();
        let hovered = lens_grid::paint(&painter, response.rect, &computed.lens, &labels, pointer);
        let Some((layer, position)) = hovered else {
            return WhyAction::None;
        };
        let top = &computed.lens.layers[layer].positions[position].top;
        let listed: Vec<String> = top
            .iter()
            .map(|r| format!("{:?} {:.3}", tokenizer.decode_one(r.id), r.prob))
            .collect();
        response.clone().on_hover_text(format!(
            "layer {layer}, position {position}: {}",
            listed.join(", ")
        ));
        if response.clicked() {
            return WhyAction::FlyTo(
                viewer.graph().tensors[viewer.graph().hidden_state(layer)]
                    .name
                    .clone(),
            );
        }
        WhyAction::None
    }

    fn heads_tab(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) -> WhyAction {
        let Some(computed) = &self.computed else {
            return WhyAction::None;
        };
        let layers: Vec<head_grid::LayerPatterns> = computed
            .patterns
            .iter()
            .zip(&computed.heads.layers)
            .map(|(probs, layer)| head_grid::LayerPatterns {
                probs,
                scores: &layer.heads,
            })
            .collect();
        let title = format!(
            "{}: click a head to switch it off or on",
            viewer.scene().name
        );
        let t = computed.ids.len();
        let tokenizer = &viewer.scene().tokenizer;
        let tokens: Vec<String> = computed
            .ids
            .iter()
            .map(|&id| tokenizer.decode_one(id))
            .collect();
        let (response, painter) = Self::canvas(ui);
        // The grid on the left, the hovered (or last hovered) head's lines on the right.
        let split = response.rect.left() + response.rect.width() * 0.64;
        let grid_rect =
            egui::Rect::from_min_max(response.rect.min, egui::pos2(split, response.rect.bottom()));
        let lines_rect =
            egui::Rect::from_min_max(egui::pos2(split, response.rect.top()), response.rect.max);
        let hovered = head_grid::paint(
            &painter,
            grid_rect,
            &title,
            &layers,
            t,
            response.hover_pos(),
        );
        if let Some(head) = hovered {
            self.lines_head = head;
        }
        let (layer, head) = self.lines_head;
        if let Some(probs) = computed
            .patterns
            .get(layer)
            .and_then(|p| p.get(head * t * t..(head + 1) * t * t))
        {
            let pointer = response.hover_pos().filter(|p| lines_rect.contains(*p));
            head_lines::paint(&painter, lines_rect, (layer, head), probs, &tokens, pointer);
        }
        let Some((layer, head)) = hovered else {
            return WhyAction::None;
        };
        let s = &computed.heads.layers[layer].heads[head];
        response.clone().on_hover_text(format!(
            "head {layer}.{head}: previous token {:.3}, first token {:.3}, self {:.3}, induction {:.3}",
            s.previous_token, s.first_token, s.diagonal, s.induction
        ));
        if response.clicked() {
            return self.toggle(viewer, Ablation::Head { layer, head });
        }
        WhyAction::None
    }

    fn show_ablation(&mut self) {
        self.tab = Tab::Ablation;
    }

    /// Switches `unit` off, or back on when it is off.
    pub fn toggle(&mut self, viewer: &mut Viewer, unit: Ablation) -> WhyAction {
        let mut ablations = viewer.ablations().clone();
        match ablations.units.iter().position(|u| *u == unit) {
            Some(i) => {
                ablations.units.remove(i);
            }
            None => ablations.units.push(unit),
        }
        self.set(viewer, ablations)
    }

    fn set(&mut self, viewer: &mut Viewer, ablations: Ablations) -> WhyAction {
        match pollster::block_on(viewer.set_ablations(ablations)) {
            Ok(()) => {
                self.error = None;
                WhyAction::Ablated
            }
            Err(e) => {
                self.error = Some(e.to_string());
                WhyAction::None
            }
        }
    }

    fn ablation_tab(&mut self, ui: &mut egui::Ui, viewer: &mut Viewer) -> WhyAction {
        let mut action = WhyAction::None;
        ui.label(
            "Switch units off: everything downstream runs again. With the difference view on, \
             every tensor shows what changed against the run without them.",
        );
        ui.horizontal(|ui| {
            ui.label("unit");
            ui.add(egui::TextEdit::singleline(&mut self.unit).desired_width(180.0))
                .on_hover_text("h.L.head.H, h.L.mlp or h.L.mlp.neuron.N; or press X over a head, neuron or MLP output in the 3D view");
            if ui.button("Switch off").clicked() {
                match self.unit.trim().parse::<Ablation>() {
                    Ok(unit) if !viewer.ablations().units.contains(&unit) => {
                        action = self.toggle(viewer, unit);
                    }
                    Ok(_) => {}
                    Err(e) => self.error = Some(e),
                }
            }
            let mut mean = viewer.ablations().mean;
            if ui
                .checkbox(&mut mean, "mean instead of zero")
                .on_hover_text("Replace with the mean over the prompt's positions")
                .changed()
            {
                let mut ablations = viewer.ablations().clone();
                ablations.mean = mean;
                action = self.set(viewer, ablations);
            }
        });
        let units = viewer.ablations().units.clone();
        for unit in units {
            ui.horizontal(|ui| {
                ui.label(RichText::new(unit.to_string()).monospace());
                if ui.small_button("switch on").clicked() {
                    action = self.toggle(viewer, unit);
                }
            });
        }
        if let Some(computed) = &self.computed {
            if !computed.ablations.is_empty() {
                let tokenizer = &viewer.scene().tokenizer;
                let rows = before_after::compare(&computed.before, &computed.after, 5, &|id| {
                    tokenizer.decode_one(id)
                });
                let (response, painter) = Self::canvas(ui);
                let size = 14.0;
                before_after::paint(
                    &painter,
                    response.rect.right_top() + egui::vec2(-size, size * 0.5),
                    "next token",
                    &rows,
                    size,
                );
            }
        }
        action
    }
}

/// Everything the window shows, for `ids` as the viewer runs them now.
async fn compute(viewer: &Viewer, ids: &[u32]) -> Result<Computed, crate::why::WhyError> {
    let runner = viewer.why_runner();
    let config = &viewer.scene().model.config;
    let ablations = viewer.ablations().clone();
    let lens = crate::why::lens::lens(&runner, config, ids, LENS_TOP, &ablations).await?;
    let heads = crate::why::heads::head_scores(&runner, config, ids, &ablations).await?;
    let patterns = crate::why::heads::patterns(&runner, config, ids, &ablations).await?;
    let model = &viewer.scene().model;
    let tokens = crate::why::embedding::default_tokens(&runner, model, ids, 8).await?;
    let embedding =
        crate::why::embedding::embedding(&runner, model, ids, &tokens, &ablations).await?;
    let attribution =
        crate::why::attribution::attribute(&runner, config, ids, None, None, &ablations).await?;
    let after = viewer.next_token_probs().await?;
    let before = match ablations.is_empty() {
        true => after.clone(),
        false => viewer.next_token_probs_without_ablations().await?,
    };
    Ok(Computed {
        ids: ids.to_vec(),
        ablations,
        lens,
        patterns,
        heads,
        before,
        after,
        embedding,
        attribution,
    })
}

impl super::UiState {
    /// The "why" window, and what its clicks ask for.
    pub(super) fn why_window(
        &mut self,
        ctx: &egui::Context,
        viewer: &mut Viewer,
        now: std::time::Instant,
    ) {
        let mut read = false;
        match self.why.show(ctx, viewer, &mut read) {
            WhyAction::FlyTo(name) => {
                if let Some(camera) = viewer.camera(&name, self.scene_rect.aspect_ratio()) {
                    self.fly_to(camera, now);
                }
            }
            WhyAction::Ablated => self.tokens_changed(viewer),
            WhyAction::None => {}
        }
        self.changed_this_frame |= read;
    }

    /// X over the picture: switches the head, neuron or MLP under the pointer off (or on).
    pub(super) fn ablate_hovered(&mut self, viewer: &mut Viewer) {
        let Some(hover) = &self.hover else {
            return;
        };
        let Some(unit) = viewer.graph().unit_at(hover.tensor, &hover.index) else {
            return;
        };
        self.why.open = true;
        self.why.show_ablation();
        if let WhyAction::Ablated = self.why.toggle(viewer, unit) {
            self.tokens_changed(viewer);
        }
    }

    /// Opens or closes the "why" window.
    pub(super) fn toggle_why(&mut self) {
        self.why.open = !self.why.open;
    }
}
