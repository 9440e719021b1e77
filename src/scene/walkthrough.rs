//! The guided walkthrough of a scene: chapters of short paragraphs, each tied to an op of the
//! graph and a camera, laid out on a timeline so it can be played, paused, scrubbed and rewound:
//! everything shown is a function of the time.
//!
//! Paragraph text is plain text with references in braces, resolved against the running model:
//! `{tensor:NAME}` or `{tensor:NAME|words}` (hovering highlights the tensor), `{dim:C}` (a
//! dimension, in its colour), `{value:NAME[i,j]}` (a value read from the GPU buffer),
//! `{token:i}` (the i-th prompt token), `{config:n_embd}`, `{prediction}`, and from the "why"
//! tools `{lens:L,T}` (the logit lens's top token at layer L, position T, with its probability)
//! and `{score:L.H.NAME}` (a head's score: previous_token, first_token, diagonal, induction).

use serde::Deserialize;

use crate::graph::{Dim, Graph};

fn default_seconds() -> f32 {
    6.0
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Paragraph {
    pub text: String,
    /// How long the paragraph stays on screen while playing.
    #[serde(default = "default_seconds")]
    pub seconds: f32,
    /// The op shown as current during this paragraph (else the chapter's).
    #[serde(default)]
    pub op: Option<String>,
    /// The camera during this paragraph (else the chapter's).
    #[serde(default)]
    pub camera: Option<String>,
    /// Units switched off during this paragraph (`h.0.head.2`, `h.1.mlp`, ...).
    #[serde(default)]
    pub ablate: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Chapter {
    pub name: String,
    pub title: String,
    /// A camera of the scene, a region or a tensor name.
    pub camera: String,
    /// The op the graph runs up to (and highlights) in this chapter.
    pub op: String,
    /// Whether this chapter shows the generation loop: the predicted token appended to the
    /// prompt and the model run again.
    #[serde(default)]
    pub append: bool,
    /// A prompt of its own, run instead of the user's during this chapter.
    #[serde(default)]
    pub prompt: Option<String>,
    pub paragraphs: Vec<Paragraph>,
}

/// What the walkthrough shows at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    pub chapter: usize,
    pub paragraph: usize,
    /// Seconds since this paragraph started.
    pub into: f32,
    pub camera: String,
    /// The camera of the paragraph before (for the flight between them).
    pub previous_camera: Option<String>,
    pub op: String,
    pub append: bool,
    /// The chapter's own prompt, if any.
    pub prompt: Option<String>,
    /// Units switched off during the paragraph.
    pub ablate: Vec<String>,
}

/// A piece of paragraph text.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    Text(String),
    Tensor {
        name: String,
        shown: String,
    },
    Dim(Dim),
    Value {
        tensor: String,
        index: Vec<usize>,
    },
    Token(usize),
    Config(String),
    Prediction,
    /// The logit lens's top token at a layer and position.
    Lens {
        layer: usize,
        position: usize,
    },
    /// A head's score by name.
    Score {
        layer: usize,
        head: usize,
        name: String,
    },
}

pub fn dim_from_letter(letter: &str) -> Option<Dim> {
    Some(match letter {
        "T" => Dim::Token,
        "C" => Dim::Channel,
        "H" => Dim::Head,
        "D" => Dim::HeadChannel,
        "V" => Dim::Vocab,
        "P" => Dim::Position,
        _ => return None,
    })
}

/// Splits paragraph text into segments; errors say which reference is wrong.
pub fn parse_text(text: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            segments.push(Segment::Text(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in {:?}", &rest[open..]))?
            + open;
        let reference = &rest[open + 1..close];
        let (kind, arg) = reference.split_once(':').unwrap_or((reference, ""));
        segments.push(match kind {
            "tensor" => {
                let (name, shown) = arg.split_once('|').unwrap_or((arg, arg));
                Segment::Tensor {
                    name: name.to_string(),
                    shown: shown.to_string(),
                }
            }
            "dim" => Segment::Dim(dim_from_letter(arg).ok_or_else(|| format!("{{dim:{arg}}}: expected one of T, C, H, D, V, P"))?),
            "value" => {
                let (tensor, index) = arg
                    .strip_suffix(']')
                    .and_then(|a| a.split_once('['))
                    .ok_or_else(|| format!("{{value:{arg}}}: expected NAME[i,j,...]"))?;
                let index = index
                    .split(',')
                    .map(|i| i.trim().parse::<usize>().map_err(|_| format!("{{value:{arg}}}: {i:?} is not an index")))
                    .collect::<Result<Vec<_>, _>>()?;
                Segment::Value {
                    tensor: tensor.to_string(),
                    index,
                }
            }
            "token" => Segment::Token(arg.parse().map_err(|_| format!("{{token:{arg}}}: expected a position"))?),
            "config" => Segment::Config(arg.to_string()),
            "prediction" => Segment::Prediction,
            "lens" => {
                let numbers: Vec<usize> = arg.split(',').filter_map(|n| n.trim().parse().ok()).collect();
                match numbers.as_slice() {
                    [layer, position] if arg.split(',').count() == 2 => Segment::Lens { layer: *layer, position: *position },
                    _ => return Err(format!("{{lens:{arg}}}: expected LAYER,POSITION")),
                }
            }
            "score" => {
                let parts: Vec<&str> = arg.splitn(3, '.').collect();
                match parts.as_slice() {
                    [layer, head, name] if layer.parse::<usize>().is_ok() && head.parse::<usize>().is_ok() => Segment::Score {
                        layer: layer.parse().expect("checked"),
                        head: head.parse().expect("checked"),
                        name: name.to_string(),
                    },
                    _ => return Err(format!("{{score:{arg}}}: expected LAYER.HEAD.NAME, as 0.2.first_token")),
                }
            }
            _ => return Err(format!("unknown reference {{{reference}}}: use tensor, dim, value, token, config, prediction, lens or score")),
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        segments.push(Segment::Text(rest.to_string()));
    }
    Ok(segments)
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Walkthrough {
    pub chapters: Vec<Chapter>,
}

impl Walkthrough {
    /// Total length in seconds.
    pub fn duration(&self) -> f32 {
        self.chapters
            .iter()
            .flat_map(|c| &c.paragraphs)
            .map(|p| p.seconds)
            .sum()
    }

    /// When chapter `index` starts, in seconds.
    pub fn chapter_start(&self, index: usize) -> f32 {
        self.chapters[..index.min(self.chapters.len())]
            .iter()
            .flat_map(|c| &c.paragraphs)
            .map(|p| p.seconds)
            .sum()
    }

    /// When paragraph `paragraph` (from 0) of chapter `chapter` starts, in seconds.
    pub fn paragraph_start(&self, chapter: usize, paragraph: usize) -> f32 {
        let before: f32 = self.chapters[chapter].paragraphs[..paragraph]
            .iter()
            .map(|p| p.seconds)
            .sum();
        self.chapter_start(chapter) + before
    }

    pub fn chapter_index(&self, name: &str) -> Option<usize> {
        self.chapters.iter().position(|c| c.name == name)
    }

    /// What is shown at time `t` (clamped to the timeline). None without chapters.
    pub fn at(&self, t: f32) -> Option<Moment> {
        let mut start = 0.0;
        let mut previous: Option<String> = None;
        let last = self.chapters.len().checked_sub(1)?;
        for (ci, chapter) in self.chapters.iter().enumerate() {
            for (pi, paragraph) in chapter.paragraphs.iter().enumerate() {
                let camera = paragraph
                    .camera
                    .clone()
                    .unwrap_or_else(|| chapter.camera.clone());
                let end = start + paragraph.seconds;
                let is_last = ci == last && pi + 1 == chapter.paragraphs.len();
                if t < end || is_last {
                    return Some(Moment {
                        chapter: ci,
                        paragraph: pi,
                        into: (t - start).max(0.0),
                        camera,
                        previous_camera: previous,
                        op: paragraph.op.clone().unwrap_or_else(|| chapter.op.clone()),
                        append: chapter.append,
                        prompt: chapter.prompt.clone(),
                        ablate: paragraph.ablate.clone(),
                    });
                }
                previous = Some(camera);
                start = end;
            }
        }
        None
    }

    /// Checks every reference against the graph: ops, tensors and config fields must exist,
    /// and the text must parse. Errors name the chapter and paragraph.
    pub fn validate(&self, graph: &Graph) -> Result<(), String> {
        const CONFIG_FIELDS: [&str; 8] = [
            "n_layer",
            "n_head",
            "n_embd",
            "vocab_size",
            "n_positions",
            "head_dim",
            "n_kv_head",
            "mlp_width",
        ];
        for chapter in &self.chapters {
            let at = |i: usize| format!("chapter {:?}, paragraph {}", chapter.name, i + 1);
            if chapter.paragraphs.is_empty() {
                return Err(format!("chapter {:?}: no paragraphs", chapter.name));
            }
            for (i, paragraph) in chapter.paragraphs.iter().enumerate() {
                let op = paragraph.op.as_ref().unwrap_or(&chapter.op);
                if graph.op_index(op).is_none() {
                    return Err(format!("{}: no op named {op:?}", at(i)));
                }
                if !(paragraph.seconds > 0.0 && paragraph.seconds.is_finite()) {
                    return Err(format!(
                        "{}: `seconds` must be a positive finite number, got {}",
                        at(i),
                        paragraph.seconds
                    ));
                }
                for unit in &paragraph.ablate {
                    let checked = unit
                        .parse::<crate::graph::probe::Ablation>()
                        .and_then(|u| u.check(&graph.config));
                    checked.map_err(|e| format!("{}: ablate {e}", at(i)))?;
                }
                for segment in parse_text(&paragraph.text).map_err(|e| format!("{}: {e}", at(i)))? {
                    let config = &graph.config;
                    match &segment {
                        Segment::Lens { layer, .. } if *layer > config.n_layer => {
                            return Err(format!(
                                "{}: {{lens:{layer},..}}: layers are 0..={}",
                                at(i),
                                config.n_layer
                            ));
                        }
                        Segment::Score { layer, head, name } => {
                            let known =
                                crate::graph::probe::HEAD_SCORE_NAMES.contains(&name.as_str());
                            if *layer >= config.n_layer || *head >= config.n_head || !known {
                                return Err(format!(
                                    "{}: {{score:{layer}.{head}.{name}}}: expected a layer below {}, a head below {} and one of {:?}",
                                    at(i),
                                    config.n_layer,
                                    config.n_head,
                                    crate::graph::probe::HEAD_SCORE_NAMES
                                ));
                            }
                        }
                        _ => {}
                    }
                    let tensor = match &segment {
                        Segment::Tensor { name, .. } => Some(name),
                        Segment::Value { tensor, .. } => Some(tensor),
                        Segment::Config(field) if !CONFIG_FIELDS.contains(&field.as_str()) => {
                            return Err(format!("{}: no config field {field:?}", at(i)));
                        }
                        _ => None,
                    };
                    if let Some(name) = tensor {
                        let Some(id) = graph.tensor_id(name) else {
                            return Err(format!("{}: no tensor named {name:?}", at(i)));
                        };
                        if let Segment::Value { index, .. } = &segment {
                            let shape = &graph.tensors[id].shape;
                            let fits = index.len() == shape.len()
                                && index.iter().zip(shape).all(|(i, n)| i < n);
                            if !fits {
                                return Err(format!(
                                    "{}: index {index:?} outside {name} {shape:?}",
                                    at(i)
                                ));
                            }
                        }
                    }
                }
            }
        }
        if !self.duration().is_finite() {
            return Err("the paragraphs' `seconds` add up to more than an f32 holds".into());
        }
        Ok(())
    }
}
