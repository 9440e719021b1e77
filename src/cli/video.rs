//! `glassbox render --video`: a film instead of a still. The scene's walkthrough (whole, or one
//! `--chapter`) or the player over an `--op-range`, drawn offscreen frame by frame and encoded by
//! ffmpeg (see [`super::encode`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::encode::{Sink, Written};
use super::render::RenderArgs;
use crate::render::offscreen::Offscreen;
use crate::viewer::narrative::{paint_beside, panel_width};
use crate::viewer::walkthrough::{paint_caption, Shown, WalkthroughPlayer};
use crate::viewer::Viewer;

/// How long `--op-range` shows each op.
pub const OP_SECONDS: f32 = 0.5;
/// The share of an op's time its output takes to fill in.
const FILL_SHARE: f32 = 0.8;

#[derive(Args)]
pub struct VideoArgs {
    /// Record a film (H.264 through ffmpeg) instead of a still: the scene's whole walkthrough,
    /// one --chapter (or one --paragraph of it), or the ops of --op-range.
    #[arg(long, value_name = "OUT.mp4", conflicts_with_all = ["out", "op", "step", "stats", "trace"])]
    pub video: Option<PathBuf>,
    /// Frames per second of the film: 30 (the default) or 60.
    #[arg(long, value_name = "30|60", value_parser = parse_fps, requires = "video")]
    pub fps: Option<u32>,
    /// Cut the film after this many seconds.
    #[arg(long, value_name = "S", value_parser = parse_seconds, requires = "video")]
    pub seconds: Option<f32>,
    /// Film the player over these ops instead of the walkthrough, 0.5 s each: FIRST..LAST
    /// (inclusive), each an op name or index (h.0.ln_1..h.0.attn.softmax, 3..12).
    #[arg(
        long,
        value_name = "FIRST..LAST",
        requires = "video",
        conflicts_with = "chapter"
    )]
    pub op_range: Option<String>,
    /// Write the frames as numbered PNGs (DIR/frame_00001.png ...) instead of encoding them,
    /// and print the ffmpeg command that does. Without ffmpeg on PATH they go to OUT-frames/.
    #[arg(long, value_name = "DIR", requires = "video")]
    pub frames_dir: Option<PathBuf>,
}

fn parse_fps(text: &str) -> Result<u32, String> {
    match text.trim() {
        "30" => Ok(30),
        "60" => Ok(60),
        _ => Err("expected 30 or 60 frames per second".into()),
    }
}

fn parse_seconds(text: &str) -> Result<f32, String> {
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .ok_or_else(|| "expected a positive number of seconds".into())
}

/// What the film shows over time.
enum Plan {
    /// The walkthrough from `start` for `seconds`.
    Walkthrough { start: f32, seconds: f32 },
    /// These ops, each for [`OP_SECONDS`], with a fixed camera.
    Ops(Vec<usize>),
}

impl Plan {
    fn seconds(&self) -> f32 {
        match self {
            Plan::Walkthrough { seconds, .. } => *seconds,
            Plan::Ops(ops) => ops.len() as f32 * OP_SECONDS,
        }
    }
}

/// Refuses what a film cannot do before anything is loaded.
pub fn check(args: &RenderArgs, width: u32, height: u32) -> Result<()> {
    let video = &args.video;
    if video.video.is_none() {
        // clap's `requires` lets these through when --out, which conflicts with --video, is given.
        let given = [
            ("--fps", video.fps.is_some()),
            ("--seconds", video.seconds.is_some()),
            ("--op-range", video.op_range.is_some()),
            ("--frames-dir", video.frames_dir.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(_, given)| *given) {
            bail!("{name} is for films: give it with --video OUT.mp4 (and without --out)");
        }
        return Ok(());
    }
    if width % 2 == 1 || height % 2 == 1 {
        bail!(
            "--size {width}x{height}: a film (H.264, yuv420p) needs an even width and height, \
             such as {}x{}",
            width + width % 2,
            height + height % 2
        );
    }
    if args.video.op_range.is_none() && (args.kv_cache || args.generate > 0) {
        bail!(
            "--kv-cache and --generate film only with --op-range: the walkthrough sets its own \
             tokens"
        );
    }
    Ok(())
}

/// Which ops `FIRST..LAST` names: names or indices, either end open.
fn op_range(viewer: &Viewer, text: &str) -> Result<Vec<usize>> {
    let ops = &viewer.graph().ops;
    let (first, last) = text.split_once("..").with_context(|| {
        format!("--op-range {text:?}: expected FIRST..LAST, op names or indices such as 3..12")
    })?;
    let op = |end: &str, default: usize| -> Result<usize> {
        let end = end.trim();
        if end.is_empty() {
            return Ok(default);
        }
        if let Ok(index) = end.parse::<usize>() {
            if index >= ops.len() {
                bail!(
                    "--op-range {text:?}: op {index} is past the last op ({})",
                    ops.len() - 1
                );
            }
            return Ok(index);
        }
        viewer.graph().op_index(end).with_context(|| {
            let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
            format!(
                "--op-range {text:?}: no op {end:?}; the ops are {}",
                names.join(", ")
            )
        })
    };
    let (first, last) = (op(first, 0)?, op(last, ops.len() - 1)?);
    if first > last {
        bail!("--op-range {text:?}: op {first} comes after op {last}; give them in graph order");
    }
    Ok((first..=last).collect())
}

fn plan(viewer: &Viewer, args: &RenderArgs) -> Result<Plan> {
    if let Some(range) = &args.video.op_range {
        return Ok(Plan::Ops(op_range(viewer, range)?));
    }
    let walkthrough = &viewer.scene().walkthrough;
    if walkthrough.chapters.is_empty() {
        bail!(
            "scene {:?} has no walkthrough to film: give --op-range FIRST..LAST instead",
            viewer.scene().name
        );
    }
    let Some(name) = &args.chapter else {
        return Ok(Plan::Walkthrough {
            start: 0.0,
            seconds: walkthrough.duration(),
        });
    };
    let index = super::render::chapter_index(viewer, name)?;
    let paragraphs = &walkthrough.chapters[index].paragraphs;
    Ok(match args.paragraph {
        None => Plan::Walkthrough {
            start: walkthrough.chapter_start(index),
            seconds: paragraphs.iter().map(|p| p.seconds).sum(),
        },
        Some(n) => {
            super::render::check_paragraph(name, n, paragraphs.len())?;
            Plan::Walkthrough {
                start: walkthrough.paragraph_start(index, n - 1),
                seconds: paragraphs[n - 1].seconds,
            }
        }
    })
}

/// The folder of PNGs next to `out` when ffmpeg is missing: film.mp4 -> film-frames/.
fn frames_beside(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or("film".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}-frames"))
}

/// Records the film of `args` from `viewer` (set up with the prompt `ids`).
pub async fn record(
    viewer: &mut Viewer,
    ids: &[u32],
    args: &RenderArgs,
    width: u32,
    height: u32,
) -> Result<()> {
    let out = args.video.video.as_deref().expect("a film was asked for");
    let fps = args.video.fps.unwrap_or(30);
    let plan = plan(viewer, args)?;
    let seconds = args
        .video
        .seconds
        .map_or(plan.seconds(), |s| s.min(plan.seconds()));
    let frames = ((seconds * fps as f32).round() as u64).max(1);
    // The walkthrough's films have the narrative panel on their left; the scene takes the rest.
    let panel = match plan {
        Plan::Walkthrough { .. } => panel_width(width),
        Plan::Ops(_) => 0,
    };
    let aspect = (width - panel) as f32 / height as f32;
    let fixed_camera = match plan {
        Plan::Ops(_) => Some(super::render::named_camera(viewer, &args.camera, aspect)?),
        Plan::Walkthrough { .. } => None,
    };
    let mut target = Offscreen::new(viewer.gpu(), width, height)?;
    target.reserve_panel(panel);

    let mut sink = match &args.video.frames_dir {
        Some(dir) => Sink::pngs(dir, frames, "--frames-dir: the frames are PNGs".into())?,
        None => match Sink::ffmpeg(out, width, height, fps)? {
            Some(sink) => sink,
            None => {
                let dir = frames_beside(out);
                println!(
                    "ffmpeg is not on PATH: writing the frames as PNGs to {} instead",
                    dir.display()
                );
                Sink::pngs(&dir, frames, "ffmpeg is not on PATH".into())?
            }
        },
    };

    let bar = super::progress::frames_bar(frames);
    let started = Instant::now();
    let mut player = WalkthroughPlayer::default();
    let mut shown = None;
    let (mut title, mut caption) = (String::new(), Vec::new());
    let mut narrative = None;
    let mut filling = None;
    for index in 0..frames {
        let time = index as f32 / fps as f32;
        let camera = match &plan {
            Plan::Walkthrough { start, .. } => {
                let camera = pollster::block_on(player.apply(viewer, ids, start + time, aspect))
                    .context("the walkthrough's camera or op is not in this model")?;
                if shown != player.key() {
                    shown = player.key();
                    narrative = Some(player.narrative.clone());
                    if args.difference {
                        viewer.refresh_difference().await?;
                    }
                }
                camera
            }
            Plan::Ops(ops) => {
                let slot = ((time / OP_SECONDS) as usize).min(ops.len() - 1);
                let op = ops[slot];
                if shown != Some((op, 0)) {
                    shown = Some((op, 0));
                    viewer.step_to(op);
                    // Each op's output fills in as its workgroups started on the GPU, over
                    // the first part of its time (traced once: one readback per op).
                    filling = viewer.start_fill().await?;
                    let op = &viewer.graph().ops[op];
                    title.clone_from(&op.name);
                    caption = vec![Shown::Text(op.formula.to_string())];
                    if args.difference {
                        viewer.refresh_difference().await?;
                    }
                }
                if let Some(workgroups) = filling {
                    let into = (time - slot as f32 * OP_SECONDS) / (OP_SECONDS * FILL_SHARE);
                    let rank = (into * workgroups as f32).ceil() as u32;
                    if rank > workgroups {
                        viewer.stop_fill();
                        filling = None;
                    } else {
                        viewer.show_fill(rank.max(1));
                    }
                }
                fixed_camera.expect("set for op ranges")
            }
        };
        let states = viewer.states();
        target.draw_with_overlay(
            viewer.gpu(),
            viewer.renderer(),
            viewer.graph(),
            &camera,
            &states,
            |painter, rect| match &narrative {
                Some(narrative) => paint_beside(painter, rect, viewer.graph(), narrative),
                None => paint_caption(painter, rect, &title, &caption),
            },
        );
        let image = target.read_image(viewer.gpu()).await?;
        sink.frame(index, &image)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let written = sink.finish(fps, out)?;
    let elapsed = started.elapsed().as_secs_f64();
    let pace = format!(
        "in {elapsed:.1} s, {:.0} ms a frame",
        elapsed * 1000.0 / frames as f64
    );
    match written {
        Written::Film(path) => println!(
            "wrote {} ({frames} frames, {width}x{height}, {fps} fps) {pace}",
            path.display()
        ),
        Written::Frames {
            dir,
            command,
            reason,
        } => println!(
            "wrote {frames} frames ({width}x{height}, {fps} fps) as PNGs to {} {pace}\n\
             {reason}; encode them with:\n  {command}",
            dir.display()
        ),
    }
    Ok(())
}
