//! `glassbox render --view lens|heads`: the "why" tools' pictures, and the before/after panel an
//! ablated model picture carries.

use anyhow::Result;

use crate::render::offscreen::Offscreen;
use crate::render::why::{embedding_view, head_grid, lens_grid};
use crate::viewer::Viewer;
use crate::why;

/// What `render` draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    /// The model in 3D, every tensor from its GPU buffer.
    #[default]
    Model,
    /// The logit lens grid: the top token of every layer at every position.
    Lens,
    /// Every head's attention pattern (the model view), with its scores.
    Heads,
    /// The embedding space: the prompt's tokens, their neighbours and the residual streams'
    /// paths through the layers, along their principal components.
    Embedding,
}

fn title(viewer: &Viewer, ids: &[u32]) -> String {
    let scene = viewer.scene();
    let prompt = scene.tokenizer.decode(ids);
    let ablated = match viewer.ablations().is_empty() {
        true => String::new(),
        false => format!("  ({})", super::why::describe(viewer.ablations())),
    };
    format!("{}: {prompt:?}{ablated}", scene.name)
}

/// Paints `view` (not the model) over a frame of the viewer and returns the image.
pub async fn picture(
    viewer: &Viewer,
    view: View,
    ids: &[u32],
    (width, height): (u32, u32),
) -> Result<image::RgbaImage> {
    let config = &viewer.scene().model.config;
    let tokenizer = &viewer.scene().tokenizer;
    let runner = viewer.why_runner();
    let title = title(viewer, ids);
    let mut target = Offscreen::new(viewer.gpu(), width, height)?;
    let camera = viewer
        .camera("overview", width as f32 / height as f32)
        .expect("the overview camera");
    let draw = |target: &mut Offscreen, paint: &dyn Fn(&egui::Painter, egui::Rect)| {
        target.draw_with_overlay(
            viewer.gpu(),
            viewer.renderer(),
            viewer.graph(),
            &camera,
            &viewer.states(),
            paint,
        )
    };
    match view {
        View::Model => unreachable!("the model view is render's own"),
        View::Lens => {
            let report = why::lens::lens(&runner, config, ids, 1, viewer.ablations()).await?;
            let inputs: Vec<String> = ids.iter().map(|&id| tokenizer.decode_one(id)).collect();
            let token = |id: u32| tokenizer.decode_one(id);
            let labels = lens_grid::LensLabels {
                title: &title,
                inputs: &inputs,
                token: &token,
            };
            draw(&mut target, &|painter, rect| {
                lens_grid::paint(painter, rect, &report, &labels, None);
            });
        }
        View::Heads => {
            let report = why::heads::head_scores(&runner, config, ids, viewer.ablations()).await?;
            let probs = why::heads::patterns(&runner, config, ids, viewer.ablations()).await?;
            let layers: Vec<head_grid::LayerPatterns> = probs
                .iter()
                .zip(&report.layers)
                .map(|(probs, layer)| head_grid::LayerPatterns {
                    probs,
                    scores: &layer.heads,
                })
                .collect();
            draw(&mut target, &|painter, rect| {
                head_grid::paint(painter, rect, &title, &layers, ids.len(), None);
            });
        }
        View::Embedding => {
            let model = &viewer.scene().model;
            let tokens = why::embedding::default_tokens(&runner, model, ids, 8).await?;
            let report =
                why::embedding::embedding(&runner, model, ids, &tokens, viewer.ablations()).await?;
            let inputs: Vec<String> = ids.iter().map(|&id| tokenizer.decode_one(id)).collect();
            let token = |id: u32| tokenizer.decode_one(id);
            let labels = embedding_view::EmbeddingLabels {
                title: &title,
                inputs: &inputs,
                token: &token,
            };
            draw(&mut target, &|painter, rect| {
                embedding_view::paint(
                    painter,
                    rect,
                    &report,
                    &labels,
                    embedding_view::DEFAULT_TURN,
                );
            });
        }
    }
    Ok(target.read_image(viewer.gpu()).await?)
}
