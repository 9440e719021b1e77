//! `glassbox render`: the renderer offscreen, to a PNG (or, with `--video`, a film: see
//! [`super::video`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::gpu::GpuOptions;
use crate::render::offscreen::{Offscreen, FORMAT};
use crate::scene::Scene;
use crate::viewer::narrative::{paint_beside, panel_width};
use crate::viewer::walkthrough::WalkthroughPlayer;
use crate::viewer::Viewer;

#[derive(Args)]
pub struct RenderArgs {
    /// Scene folder (with scene.toml); the built-in `sort` scene when neither this nor --model
    /// is given.
    #[arg(long, conflicts_with = "model")]
    pub scene: Option<PathBuf>,
    /// A model folder (config.json + model.safetensors) to draw without a scene.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Draw GPT-2 small's shape (12 layers, 768 channels, 50257 tokens) with random weights:
    /// the layout at GPT-2's size without downloading it.
    #[arg(long, conflicts_with_all = ["scene", "model", "chapter"])]
    pub gpt2_small_shape: bool,
    /// Text to run instead of the scene's prompt.
    #[arg(long)]
    pub prompt: Option<String>,
    /// Show a chapter of the scene's walkthrough (its op, camera and caption); with --video,
    /// film that chapter.
    #[arg(long, conflicts_with_all = ["op", "step"])]
    pub chapter: Option<String>,
    /// With --chapter: which paragraph (1-based; the first for a still, the whole chapter for a
    /// film).
    #[arg(long, requires = "chapter")]
    pub paragraph: Option<usize>,
    /// Show the graph run up to op N (0-based), with op N highlighted.
    #[arg(long, conflicts_with = "op")]
    pub step: Option<usize>,
    /// Show the graph run up to the op of this name, highlighted.
    #[arg(long)]
    pub op: Option<String>,
    /// Image size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080")]
    pub size: String,
    /// A camera of the scene, or "all", a region ("block 0") or a tensor name.
    #[arg(long, default_value = "overview")]
    pub camera: String,
    /// The PNG to write (a film is written by --video instead).
    #[arg(long, value_name = "FILE.png", required_unless_present = "video")]
    pub out: Option<PathBuf>,
    /// Also render 10 more frames and print the frame time and readbacks per frame.
    #[arg(long)]
    pub stats: bool,
    /// Show the decode step with its KV cache instead of the full forward pass.
    #[arg(long, conflicts_with = "chapter")]
    pub kv_cache: bool,
    /// Draw the execution trace of this op over its output: which workgroup computed which
    /// cells, numbered in the order the GPU started them.
    #[arg(long, value_name = "OP")]
    pub trace: Option<String>,
    /// Colour activations by |GPU - CPU| against the CPU reference instead of by value.
    #[arg(long)]
    pub difference: bool,
    /// Append this many generated tokens (greedy) before drawing.
    #[arg(long, default_value_t = 0, conflicts_with = "chapter")]
    pub generate: usize,
    /// What to draw: the model, the logit lens grid, or every head's attention pattern.
    #[arg(long, value_enum, default_value = "model", conflicts_with_all = ["chapter", "video"])]
    pub view: super::render_why::View,
    #[command(flatten)]
    pub why_view: super::render_why::WhyViewArgs,
    #[command(flatten)]
    pub ablate: super::why::AblateArgs,
    #[command(flatten)]
    pub video: super::video::VideoArgs,
}

/// The index of chapter `name` of the viewer's scene, or an error listing the chapters.
pub fn chapter_index(viewer: &Viewer, name: &str) -> Result<usize> {
    let walkthrough = &viewer.scene().walkthrough;
    walkthrough.chapter_index(name).with_context(|| {
        let names: Vec<&str> = walkthrough
            .chapters
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        format!(
            "--chapter {name:?}: no such chapter; the chapters are {}",
            names.join(", ")
        )
    })
}

/// Refuses paragraph `n` (1-based) of a chapter of `count` paragraphs when there is none.
pub fn check_paragraph(chapter: &str, n: usize, count: usize) -> Result<()> {
    if n == 0 || n > count {
        bail!("--paragraph {n}: chapter {chapter:?} has paragraphs 1..={count}");
    }
    Ok(())
}

/// `--camera NAME` for this aspect, or an error listing the scene's cameras.
pub fn named_camera(viewer: &Viewer, name: &str, aspect: f32) -> Result<crate::render::Camera> {
    viewer.camera(name, aspect).with_context(|| {
        let names: Vec<&String> = viewer.scene().cameras.keys().collect();
        format!("--camera {name:?}: not a camera of the scene ({names:?}), a region or a tensor")
    })
}

pub fn parse_size(size: &str) -> Result<(u32, u32)> {
    let (w, h) = size
        .split_once(['x', 'X'])
        .with_context(|| format!("--size {size:?}: expected WIDTHxHEIGHT, such as 1920x1080"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<u32>()
            .with_context(|| format!("--size {size:?}: {s:?} is not a number"))
    };
    Ok((parse(w)?, parse(h)?))
}

/// The scene of `--scene DIR`, or a bare scene for `--model DIR`, or the built-in one.
pub fn load_scene(scene: Option<&Path>, model: Option<&Path>) -> Result<Scene> {
    Ok(match (scene, model) {
        (Some(dir), _) => Scene::load(dir)?,
        (None, Some(dir)) => Scene::from_model_dir(dir, super::load_model(dir)?)?,
        (None, None) => Scene::embedded(),
    })
}

pub fn render(args: &RenderArgs, options: &GpuOptions) -> Result<()> {
    let (width, height) = parse_size(&args.size)?;
    super::video::check(args, width, height)?;
    let scene = match args.gpt2_small_shape {
        true => Scene::gpt2_small_shape(16),
        false => load_scene(args.scene.as_deref(), args.model.as_deref())?,
    };
    let prompt = args.prompt.clone().unwrap_or_else(|| scene.prompt.clone());
    let ids = scene.tokenizer.encode(&prompt)?;
    pollster::block_on(async {
        let mut viewer = Viewer::new(scene, &ids, options, FORMAT).await?;
        viewer.set_decoding(args.kv_cache).await?;
        for _ in 0..args.generate {
            if viewer.append_token().await?.is_none() {
                break;
            }
        }
        let ablations = args.ablate.ablations(&viewer.scene().model)?;
        let before = match ablations.is_empty() {
            true => None,
            false => Some(viewer.next_token_probs().await?),
        };
        viewer.set_ablations(ablations).await?;
        if args.difference {
            viewer.set_difference(true).await?;
        }
        if args.view != super::render_why::View::Model {
            let image = super::render_why::picture(
                &viewer,
                (args.view, &args.why_view),
                &ids,
                (width, height),
            )
            .await?;
            let out = args
                .out
                .as_deref()
                .expect("clap requires --out without --video");
            image
                .save(out)
                .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} ({width}x{height})", out.display());
            return Ok(());
        }
        let compared = match before {
            Some(before) => {
                let after = viewer.next_token_probs().await?;
                let tokenizer = &viewer.scene().tokenizer;
                Some(crate::render::why::before_after::compare(
                    &before,
                    &after,
                    5,
                    &|id| tokenizer.decode_one(id),
                ))
            }
            None => None,
        };
        if args.video.video.is_some() {
            return super::video::record(&mut viewer, &ids, args, width, height).await;
        }
        let ops = &viewer.graph().ops;
        let step = match (&args.op, args.step) {
            (Some(name), _) => Some(viewer.graph().op_index(name).with_context(|| {
                let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
                format!(
                    "--op {name:?}: no such op; the ops are {}",
                    names.join(", ")
                )
            })?),
            (None, Some(step)) if step >= ops.len() => {
                bail!(
                    "--step {step}: the graph has {} ops (0..={})",
                    ops.len(),
                    ops.len() - 1
                )
            }
            (None, step) => step,
        };
        if let Some(step) = step {
            viewer.step_to(step);
        }
        // A chapter's picture has the narrative panel on its left; the scene takes the rest.
        let panel = match args.chapter {
            Some(_) => panel_width(width),
            None => 0,
        };
        let aspect = (width - panel) as f32 / height as f32;
        let mut player = WalkthroughPlayer::default();
        let camera = match &args.chapter {
            Some(name) => {
                let index = chapter_index(&viewer, name)?;
                let walkthrough = &viewer.scene().walkthrough;
                let paragraphs = &walkthrough.chapters[index].paragraphs;
                let paragraph = args.paragraph.unwrap_or(1);
                check_paragraph(name, paragraph, paragraphs.len())?;
                // Just after the camera has arrived on the paragraph.
                let seconds = paragraphs[paragraph - 1].seconds;
                let time =
                    walkthrough.paragraph_start(index, paragraph - 1) + seconds.min(1.5) * 0.99;
                pollster::block_on(player.apply(&mut viewer, &ids, time, aspect))
                    .context("the chapter's camera or op is not in this model")?
            }
            None => named_camera(&viewer, &args.camera, aspect)?,
        };
        let trace = match &args.trace {
            Some(name) => {
                let index = viewer
                    .gpu_graph()
                    .graph()
                    .op_index(name)
                    .with_context(|| format!("--trace {name:?}: no such op"))?;
                let trace = viewer
                    .gpu_graph()
                    .trace(viewer.gpu(), viewer.registry(), index)
                    .await?;
                Some(trace.with_context(|| {
                    format!("--trace {name:?}: its output is split over several buffers")
                })?)
            }
            None => None,
        };
        let mut target = Offscreen::new(viewer.gpu(), width, height)?;
        target.reserve_panel(panel);
        let states = viewer.states();
        // The current op's output gets its legend (one readback, before any frame is timed).
        let current = viewer.current().map(|op| viewer.graph().ops[op].outputs[0]);
        let legend = match current {
            Some(tensor) => viewer.legend(tensor).await?,
            None => None,
        };
        let caption = |painter: &egui::Painter, rect: egui::Rect| {
            if let Some(legend) = &legend {
                let size = (13.0 * rect.height() / 900.0).max(9.0);
                crate::render::legend::paint(
                    painter,
                    rect.right_bottom() - egui::vec2(size, size),
                    legend,
                    size,
                );
            }
            if let Some(trace) = &trace {
                crate::render::trace::paint(painter, rect, viewer.layout(), &camera, trace, 1.0);
            }
            if args.chapter.is_some() {
                paint_beside(painter, rect, viewer.graph(), &player.narrative);
            }
            if let Some(rows) = &compared {
                let size = (13.0 * rect.height() / 900.0).max(9.0);
                let title = format!("next token, {}", super::why::describe(viewer.ablations()));
                crate::render::why::before_after::paint(
                    painter,
                    rect.right_top() + egui::vec2(-size, size),
                    &title,
                    rows,
                    size,
                );
            }
        };
        target.draw_with_overlay(
            viewer.gpu(),
            viewer.renderer(),
            viewer.graph(),
            &camera,
            &states,
            caption,
        );
        if args.stats {
            let frames = 10;
            let (ms, readbacks) =
                crate::bench::frames::time_frames(&viewer, &mut target, &camera, frames)?;
            println!(
                "frame time {ms:.2} ms (median of {frames}, {width}x{height}), readbacks per frame: {}",
                readbacks as f64 / frames as f64
            );
        }
        let out = args
            .out
            .as_deref()
            .expect("clap requires --out without --video");
        let image = target.read_image(viewer.gpu()).await?;
        image
            .save(out)
            .with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {} ({width}x{height})", out.display());
        Ok(())
    })
}
