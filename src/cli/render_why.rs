//! `glassbox render --view lens|heads`: the "why" tools' pictures, and the before/after panel an
//! ablated model picture carries.

use anyhow::{bail, Context, Result};

use crate::render::offscreen::Offscreen;
use crate::render::why::{attribution_bars, embedding_view, head_grid, lens_grid, patch_grid};
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
    /// Direct logit attribution of the answer (default: the predicted token) as bars.
    Attribution,
    /// Activation patching from the prompt into --corrupt, as a layers x positions heatmap.
    Patching,
}

/// What the attribution and patching views explain.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct WhyViewArgs {
    /// --view patching: the corrupted prompt (as many tokens as the prompt).
    #[arg(long)]
    pub corrupt: Option<String>,
    /// --view attribution, patching: the answer, one token of text (default: the prompt's
    /// prediction).
    #[arg(long)]
    pub answer: Option<String>,
    /// --view patching: the wrong answer, one token (default: the corrupted prompt's prediction).
    #[arg(long)]
    pub wrong: Option<String>,
    /// --view patching: what is patched.
    #[arg(long, value_enum, default_value = "resid")]
    pub site: super::why::SiteArg,
}

/// The one token of `text`, or an error naming the flag.
fn one_token(viewer: &Viewer, flag: &str, text: &str) -> Result<u32> {
    let ids = viewer.scene().tokenizer.encode(text)?;
    match ids.as_slice() {
        [id] => Ok(*id),
        _ => bail!(
            "{flag} {text:?}: expected one token, it is {} ({ids:?})",
            ids.len()
        ),
    }
}

/// The token a run of `ids` predicts after its last position.
async fn predicted(viewer: &Viewer, ids: &[u32]) -> Result<u32> {
    let config = &viewer.scene().model.config;
    let graph = crate::graph::Graph::forward_ablated(config, ids.len(), viewer.ablations());
    let logits = why::tensor(&graph, "logits");
    let rows = viewer.why_runner().run(&graph, ids, &[], &[logits]).await?;
    let v = config.vocab_size;
    Ok(crate::cpu::sampling::argmax(
        &rows[0][(ids.len() - 1) * v..],
    ))
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
    (view, args): (View, &WhyViewArgs),
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
        View::Attribution => {
            let token = match &args.answer {
                Some(text) => Some(one_token(viewer, "--answer", text)?),
                None => None,
            };
            let report =
                why::attribution::attribute(&runner, config, ids, token, None, viewer.ablations())
                    .await?;
            let text = tokenizer.decode_one(report.token);
            draw(&mut target, &|painter, rect| {
                attribution_bars::paint(painter, rect, &title, &report, &text);
            });
        }
        View::Patching => {
            let corrupt = args
                .corrupt
                .as_deref()
                .context("--view patching needs --corrupt PROMPT")?;
            let corrupt = tokenizer.encode(corrupt)?;
            let answer = match &args.answer {
                Some(text) => one_token(viewer, "--answer", text)?,
                None => predicted(viewer, ids).await?,
            };
            let wrong = match &args.wrong {
                Some(text) => one_token(viewer, "--wrong", text)?,
                None => predicted(viewer, &corrupt).await?,
            };
            let report = why::patch::patch(
                &runner,
                config,
                (ids, &corrupt),
                (answer, wrong),
                args.site.into(),
                viewer.ablations(),
            )
            .await?;
            let columns: Vec<String> = match report.columns {
                "head" => (0..config.n_head).map(|h| format!("head {h}")).collect(),
                _ => ids
                    .iter()
                    .zip(&corrupt)
                    .map(|(&a, &b)| match a == b {
                        true => tokenizer.decode_one(a),
                        false => format!("{}/{}", tokenizer.decode_one(a), tokenizer.decode_one(b)),
                    })
                    .collect(),
            };
            let (answer, wrong) = (tokenizer.decode_one(answer), tokenizer.decode_one(wrong));
            let labels = patch_grid::PatchLabels {
                title: &title,
                columns: &columns,
                answer: &answer,
                wrong: &wrong,
            };
            draw(&mut target, &|painter, rect| {
                patch_grid::paint(painter, rect, &report, &labels, None);
            });
        }
    }
    Ok(target.read_image(viewer.gpu()).await?)
}
