//! Plays a scene's walkthrough on a [`Viewer`]: at each time it runs the graph to the paragraph's
//! op, points the camera, appends the prediction in the generation chapter, and fills the
//! paragraph's references with values read from the GPU (once per paragraph, never per frame).

use crate::graph::{Dim, TensorId};
use crate::render::names::plain_name;
use crate::render::{Camera, Highlight};
use crate::scene::walkthrough::{parse_text, Moment, Segment};
use crate::viewer::narrative::Narrative;
use crate::viewer::Viewer;

/// Seconds the camera takes to fly from one paragraph's camera to the next.
pub const FLIGHT_SECONDS: f32 = 1.2;

/// A piece of caption text, ready to show.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    Text(String),
    /// Words naming a tensor: hovering highlights it.
    Tensor(String, TensorId),
    /// A dimension, in its colour: hovering highlights every tensor along it.
    Dim(String, Dim),
    /// A number read from the model.
    Number(String),
}

#[derive(Default)]
pub struct WalkthroughPlayer {
    pub time: f32,
    pub playing: bool,
    /// The moment last applied and the prompt it was applied to.
    applied: Option<(Moment, Vec<u32>)>,
    pub title: String,
    pub caption: Vec<Shown>,
    /// The chapter so far, for the narrative panel.
    pub narrative: Narrative,
}

impl WalkthroughPlayer {
    pub fn duration(viewer: &Viewer) -> f32 {
        viewer.scene().walkthrough.duration()
    }

    /// Brings the viewer to time `time` of the walkthrough, with `base_ids` as the prompt, and
    /// returns the camera to show. Reads values back only when the paragraph (or the prompt)
    /// changes; otherwise it is ready at once.
    pub async fn apply(
        &mut self,
        viewer: &mut Viewer,
        base_ids: &[u32],
        time: f32,
        aspect: f32,
    ) -> Option<Camera> {
        let walkthrough = viewer.scene().walkthrough.clone();
        self.time = time.clamp(0.0, walkthrough.duration());
        let moment = walkthrough.at(self.time)?;
        let same_paragraph = self.applied.as_ref().is_some_and(|(m, base)| {
            m.chapter == moment.chapter && m.paragraph == moment.paragraph && base == base_ids
        });
        if !same_paragraph {
            // A chapter with a prompt of its own runs that one (checked when the scene loaded).
            let own = moment
                .prompt
                .as_ref()
                .and_then(|p| viewer.scene().tokenizer.encode(p).ok());
            let base_ids = own.as_deref().unwrap_or(base_ids);
            let units = moment
                .ablate
                .iter()
                .filter_map(|u| u.parse().ok())
                .collect();
            let ablations = crate::graph::probe::Ablations { units, mean: false };
            viewer.set_ablations(ablations).await.ok()?;
            let mut ids = base_ids.to_vec();
            if moment.append && ids.len() < viewer.scene().model.config.n_positions {
                // The generation loop: run the prompt, take the most likely token, append it.
                if viewer.ids() != base_ids {
                    viewer.set_ids(base_ids).await.ok()?;
                }
                viewer.run_to(viewer.graph().ops.len());
                let prediction = viewer.top_predictions(1).await.ok()?.first()?.0;
                ids.push(prediction);
            }
            if viewer.ids() != ids {
                viewer.set_ids(&ids).await.ok()?;
            }
            let chapter = &walkthrough.chapters[moment.chapter];
            self.title = chapter.title.clone();
            // The paragraphs before this one stay as they were read, within the chapter; those
            // not read yet are read as they stood (their op and ablations), before this one.
            let mut so_far = match &self.applied {
                Some((m, base)) if m.chapter == moment.chapter && base == base_ids => {
                    self.narrative.paragraphs.clone()
                }
                _ => Vec::new(),
            };
            so_far.truncate(moment.paragraph);
            while so_far.len() < moment.paragraph {
                so_far.push(resolve_paragraph(viewer, chapter, so_far.len()).await?);
            }
            self.caption = resolve_paragraph(viewer, chapter, moment.paragraph).await?;
            so_far.push(self.caption.clone());
            self.narrative = Narrative::new(viewer, moment.chapter, so_far);
            self.applied = Some((moment.clone(), base_ids.to_vec()));
        }
        let target = viewer.camera(&moment.camera, aspect)?;
        let camera = match moment
            .previous_camera
            .as_ref()
            .and_then(|c| viewer.camera(c, aspect))
        {
            Some(from) if moment.into < FLIGHT_SECONDS => {
                from.lerp(&target, moment.into / FLIGHT_SECONDS)
            }
            _ => target,
        };
        Some(camera)
    }

    /// Forgets what was applied: the next `apply` runs the graph and reads the values again
    /// (after the user stepped the graph by hand).
    pub fn invalidate(&mut self) {
        self.applied = None;
    }

    /// The (chapter, paragraph) last applied.
    pub fn key(&self) -> Option<(usize, usize)> {
        self.applied.as_ref().map(|(m, _)| (m.chapter, m.paragraph))
    }
}

fn format_number(v: f32) -> String {
    if v == f32::NEG_INFINITY {
        "-∞".into()
    } else if v.abs() >= 1e-3 || v == 0.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// Brings the viewer to paragraph `index` of `chapter` (its op, its ablations) and fills its
/// references.
async fn resolve_paragraph(
    viewer: &mut Viewer,
    chapter: &crate::scene::walkthrough::Chapter,
    index: usize,
) -> Option<Vec<Shown>> {
    let paragraph = &chapter.paragraphs[index];
    let units = paragraph
        .ablate
        .iter()
        .filter_map(|u| u.parse().ok())
        .collect();
    let ablations = crate::graph::probe::Ablations { units, mean: false };
    viewer.set_ablations(ablations).await.ok()?;
    let op = paragraph.op.as_ref().unwrap_or(&chapter.op);
    let index = viewer.graph().op_index(op)?;
    viewer.step_to(index);
    Some(resolve(viewer, &paragraph.text).await)
}

/// Fills a paragraph's references from the running model.
pub async fn resolve(viewer: &Viewer, text: &str) -> Vec<Shown> {
    let Ok(segments) = parse_text(text) else {
        return vec![Shown::Text(text.to_string())];
    };
    let graph = viewer.graph();
    let config = &viewer.scene().model.config;
    let mut shown = Vec::with_capacity(segments.len());
    // The why tools run once per paragraph, when it names them.
    let mut lens = None;
    let mut scores = None;
    for segment in segments {
        shown.push(match segment {
            Segment::Text(t) => Shown::Text(t),
            // A reference without its own words reads as the tensor's plain name, the one on
            // its tag; the graph's name shows on hover.
            Segment::Tensor { name, shown } => match graph.tensor_id(&name) {
                Some(id) if shown == name => Shown::Tensor(plain_name(&name), id),
                Some(id) => Shown::Tensor(shown, id),
                None => Shown::Text(shown),
            },
            Segment::Dim(dim) => {
                let size = match dim {
                    Dim::Token | Dim::KeyToken => viewer.ids().len(),
                    Dim::Channel => config.n_embd,
                    Dim::Head => config.n_head,
                    Dim::HeadChannel => config.head_dim(),
                    Dim::Vocab => config.vocab_size,
                    Dim::Position => config.n_positions,
                    Dim::Rank => crate::graph::probe::DEFAULT_TOP,
                    Dim::Score => crate::graph::probe::HEAD_SCORE_NAMES.len(),
                    Dim::Split => {
                        let capacity = crate::generate::capacity(config);
                        capacity.div_ceil(crate::graph::decode_split_span(capacity))
                    }
                };
                Shown::Dim(
                    format!("{} = {size}", crate::render::style::dim_letter(dim)),
                    dim,
                )
            }
            Segment::Value { tensor, index } => {
                let element = graph.tensor_id(&tensor).and_then(|id| {
                    let shape = &graph.tensors[id].shape;
                    let inside =
                        index.len() == shape.len() && index.iter().zip(shape).all(|(i, n)| i < n);
                    inside.then(|| {
                        let flat = shape
                            .iter()
                            .zip(&index)
                            .fold(0, |acc, (&n, &i)| acc * n + i);
                        (id, flat)
                    })
                });
                let value = match element {
                    Some((id, flat)) => viewer.read_elements(id, &[flat]).await.ok().map(|v| v[0]),
                    None => None,
                };
                Shown::Number(value.map_or_else(|| "—".into(), format_number))
            }
            Segment::Token(position) => Shown::Number(viewer.ids().get(position).map_or_else(
                || "—".into(),
                |&id| format!("“{}”", viewer.scene().tokenizer.decode_one(id)),
            )),
            Segment::Config(field) => Shown::Number(
                match field.as_str() {
                    "n_layer" => config.n_layer,
                    "n_head" => config.n_head,
                    "n_embd" => config.n_embd,
                    "vocab_size" => config.vocab_size,
                    "n_positions" => config.n_positions,
                    "n_kv_head" => config.n_kv_head(),
                    "mlp_width" => config.mlp_width(),
                    _ => config.head_dim(),
                }
                .to_string(),
            ),
            Segment::Lens { layer, position } => {
                if lens.is_none() {
                    let runner = viewer.why_runner();
                    let ran = crate::why::lens::lens(
                        &runner,
                        config,
                        viewer.ids(),
                        1,
                        viewer.ablations(),
                    );
                    lens = Some(ran.await.ok());
                }
                let best = lens.as_ref().and_then(|l| {
                    l.as_ref()?
                        .layers
                        .get(layer)?
                        .positions
                        .get(position)?
                        .top
                        .first()
                        .cloned()
                });
                Shown::Number(best.map_or_else(
                    || "—".into(),
                    |b| {
                        format!(
                            "“{}” ({:.0}%)",
                            viewer.scene().tokenizer.decode_one(b.id),
                            b.prob * 100.0
                        )
                    },
                ))
            }
            Segment::Score { layer, head, name } => {
                if scores.is_none() {
                    let runner = viewer.why_runner();
                    let ran = crate::why::heads::head_scores(
                        &runner,
                        config,
                        viewer.ids(),
                        viewer.ablations(),
                    );
                    scores = Some(ran.await.ok());
                }
                let score = scores.as_ref().and_then(|s| {
                    let s = s.as_ref()?;
                    let h = s.layers.get(layer)?.heads.get(head)?.clone();
                    Some(match name.as_str() {
                        "previous_token" => h.previous_token,
                        "first_token" => h.first_token,
                        "diagonal" => h.diagonal,
                        _ => h.induction,
                    })
                });
                Shown::Number(score.map_or_else(|| "—".into(), format_number))
            }
            Segment::Prediction => {
                let best = match viewer.op_count() == graph.ops.len() {
                    true => viewer
                        .top_predictions(1)
                        .await
                        .ok()
                        .and_then(|p| p.first().copied()),
                    false => None,
                };
                Shown::Number(best.map_or_else(
                    || "—".into(),
                    |(id, p)| {
                        format!(
                            "“{}” ({:.1}%)",
                            viewer.scene().tokenizer.decode_one(id),
                            p * 100.0
                        )
                    },
                ))
            }
        });
    }
    shown
}

/// Highlights for a hovered caption reference: the tensor, or every tensor along a dimension.
pub fn highlights_for(viewer: &Viewer, shown: &Shown) -> Vec<Highlight> {
    let whole = |tensor| Highlight {
        tensor,
        head: None,
        row: None,
        col: None,
    };
    match shown {
        Shown::Tensor(_, id) => vec![whole(*id)],
        Shown::Dim(_, dim) => viewer
            .gpu_graph()
            .graph()
            .tensors
            .iter()
            .enumerate()
            .filter(|(_, t)| t.dims.contains(dim))
            .map(|(id, _)| whole(id))
            .collect(),
        _ => Vec::new(),
    }
}

/// Paints the caption (title and paragraph) into `rect` with egui, for `glassbox render
/// --chapter` pictures.
pub fn paint_caption(painter: &egui::Painter, rect: egui::Rect, title: &str, caption: &[Shown]) {
    use crate::render::style::{dim_color, to_egui, CURRENT_INPUT};
    let font = egui::FontId::proportional(17.0);
    let mut job = egui::text::LayoutJob {
        wrap: egui::text::TextWrapping::wrap_at_width(rect.width() - 32.0),
        ..Default::default()
    };
    job.append(
        &format!("{title}\n"),
        0.0,
        egui::TextFormat::simple(egui::FontId::proportional(21.0), egui::Color32::WHITE),
    );
    for shown in caption {
        let (text, color) = match shown {
            Shown::Text(t) => (t.as_str(), egui::Color32::from_gray(215)),
            Shown::Tensor(t, _) => (t.as_str(), to_egui(CURRENT_INPUT)),
            Shown::Dim(t, dim) => (t.as_str(), to_egui(dim_color(*dim))),
            Shown::Number(t) => (t.as_str(), egui::Color32::from_rgb(255, 215, 110)),
        };
        job.append(text, 0.0, egui::TextFormat::simple(font.clone(), color));
    }
    let galley = painter.layout_job(job);
    let height = galley.size().y + 24.0;
    let frame = egui::Rect::from_min_max(
        egui::pos2(rect.left() + 8.0, rect.bottom() - height - 8.0),
        rect.right_bottom() - egui::vec2(8.0, 8.0),
    );
    painter.rect_filled(frame, 6.0, egui::Color32::from_black_alpha(215));
    painter.galley(
        frame.min + egui::vec2(16.0, 12.0),
        galley,
        egui::Color32::WHITE,
    );
}
