//! The why window's embedding, attribution and patching tabs.

use egui::Color32;

use super::why::{WhyAction, WhyView};
use crate::render::why::{attribution_bars, embedding_view, patch_grid};
use crate::viewer::Viewer;
use crate::why::patch::{PatchReport, Site};

/// A patching sweep and what it was run on.
pub struct Patched {
    report: PatchReport,
    columns: Vec<String>,
    answer: String,
    wrong: String,
}

impl WhyView {
    pub(super) fn embedding_tab(&mut self, ui: &mut egui::Ui, viewer: &Viewer) -> WhyAction {
        self.neighbor_search(ui, viewer);
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
        let title = format!("{}: drag to turn", viewer.scene().name);
        let labels = embedding_view::EmbeddingLabels {
            title: &title,
            inputs: &inputs,
            token: &token,
        };
        let (response, painter) = Self::canvas(ui);
        let drag = response.drag_delta();
        self.turn.0 += drag.x * 0.01;
        self.turn.1 = (self.turn.1 + drag.y * 0.01).clamp(-1.5, 1.5);
        embedding_view::paint(
            &painter,
            response.rect,
            &computed.embedding,
            &labels,
            self.turn,
        );
        WhyAction::None
    }

    /// Nearest neighbours of a token, or of a sum of tokens, over the whole embedding.
    fn neighbor_search(&mut self, ui: &mut egui::Ui, viewer: &Viewer) {
        let tokenizer = &viewer.scene().tokenizer;
        ui.horizontal(|ui| {
            ui.label("nearest to");
            let field = ui
                .add(egui::TextEdit::singleline(&mut self.query).desired_width(200.0))
                .on_hover_text("A token, or tokens joined by + and -: king - man + woman");
            let asked = ui.button("Find").clicked()
                || (field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)));
            if asked {
                let model = &viewer.scene().model;
                let found =
                    crate::why::neighbors::parse_terms(&self.query, tokenizer).and_then(|terms| {
                        let runner = viewer.why_runner();
                        pollster::block_on(crate::why::neighbors::neighbors(
                            &runner, model, &terms, 10,
                        ))
                        .map_err(|e| e.to_string())
                    });
                match found {
                    Ok(report) => {
                        self.neighbors = Some(report);
                        self.error = None;
                    }
                    Err(e) => self.error = Some(e),
                }
            }
        });
        if let Some(report) = &self.neighbors {
            let listed: Vec<String> = report
                .neighbors
                .iter()
                .map(|n| format!("{:?} {:.3}", tokenizer.decode_one(n.id), n.cosine))
                .collect();
            ui.label(listed.join("  ·  "));
        }
    }

    pub(super) fn attribution_tab(&mut self, ui: &mut egui::Ui, viewer: &Viewer) -> WhyAction {
        let Some(computed) = &self.computed else {
            return WhyAction::None;
        };
        let report = &computed.attribution;
        let token = viewer.scene().tokenizer.decode_one(report.token);
        let title = format!("{}: what writes the prediction", viewer.scene().name);
        let (response, painter) = Self::canvas(ui);
        attribution_bars::paint(&painter, response.rect, &title, report, &token);
        WhyAction::None
    }

    pub(super) fn patching_tab(
        &mut self,
        ui: &mut egui::Ui,
        viewer: &Viewer,
        changed: &mut bool,
    ) -> WhyAction {
        ui.horizontal(|ui| {
            ui.label("corrupted prompt");
            ui.add(egui::TextEdit::singleline(&mut self.corrupt).desired_width(200.0))
                .on_hover_text(
                    "As many tokens as the prompt; the answers are the two prompts' predictions",
                );
            for site in Site::ALL {
                ui.selectable_value(&mut self.site, site, site.name());
            }
            if ui.button("Patch every layer and position").clicked() {
                *changed = true;
                match pollster::block_on(sweep(viewer, &self.corrupt, self.site)) {
                    Ok(patched) => {
                        self.patching = Some(patched);
                        self.error = None;
                    }
                    Err(e) => self.error = Some(format!("{e:#}")),
                }
            }
        });
        let Some(patched) = &self.patching else {
            ui.colored_label(
                Color32::GRAY,
                "Type a prompt that differs from yours in a token or two, then patch.",
            );
            return WhyAction::None;
        };
        let title = format!("{}: where the answer is carried", viewer.scene().name);
        let labels = patch_grid::PatchLabels {
            title: &title,
            columns: &patched.columns,
            answer: &patched.answer,
            wrong: &patched.wrong,
        };
        let (response, painter) = Self::canvas(ui);
        if let Some((layer, column)) = patch_grid::paint(
            &painter,
            response.rect,
            &patched.report,
            &labels,
            response.hover_pos(),
        ) {
            let diff = patched.report.layers[layer].logit_diff[column];
            response.on_hover_text(format!(
                "layer {layer}, {}: logit difference {diff:.3}",
                patched.columns[column]
            ));
        }
        WhyAction::None
    }
}

/// Patches from the viewer's prompt into `corrupt` at every layer and position (or head).
async fn sweep(viewer: &Viewer, corrupt: &str, site: Site) -> anyhow::Result<Patched> {
    let scene = viewer.scene();
    let tokenizer = &scene.tokenizer;
    let config = &scene.model.config;
    let ids = viewer.ids();
    let corrupt = tokenizer.encode(corrupt)?;
    let runner = viewer.why_runner();
    let predicted =
        |rows: &[f32]| crate::cpu::sampling::argmax(&rows[rows.len() - config.vocab_size..]);
    let mut answers = Vec::new();
    for prompt in [ids, corrupt.as_slice()] {
        crate::model::validate_ids(config, prompt)?;
        let graph = crate::graph::Graph::forward_ablated(config, prompt.len(), viewer.ablations());
        let logits = crate::why::tensor(&graph, "logits");
        let rows = runner.run(&graph, prompt, &[], &[logits]).await?;
        answers.push(predicted(&rows[0]));
    }
    let report = crate::why::patch::patch(
        &runner,
        config,
        (ids, &corrupt),
        (answers[0], answers[1]),
        site,
        viewer.ablations(),
    )
    .await?;
    let columns = match site {
        Site::Head => (0..config.n_head).map(|h| format!("head {h}")).collect(),
        _ => ids
            .iter()
            .zip(&corrupt)
            .map(|(&a, &b)| match a == b {
                true => tokenizer.decode_one(a),
                false => format!("{}/{}", tokenizer.decode_one(a), tokenizer.decode_one(b)),
            })
            .collect(),
    };
    Ok(Patched {
        report,
        columns,
        answer: tokenizer.decode_one(answers[0]),
        wrong: tokenizer.decode_one(answers[1]),
    })
}
