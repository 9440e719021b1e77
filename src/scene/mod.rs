//! Scenes: `scenes/NAME/scene.toml` names a model, a tokenizer, a default prompt and named camera
//! positions. The `sort` scene is built into the binary, so glassbox opens with no download.

pub mod chat;
#[cfg(not(target_arch = "wasm32"))]
mod gguf_tokenizer;
#[cfg(not(target_arch = "wasm32"))]
pub mod hf_tokenizer;
mod tokenizer;
pub mod walkthrough;

use std::collections::BTreeMap;

use serde::Deserialize;
use thiserror::Error;

pub use tokenizer::{TextStream, Tokenizer, TokenizerError};
pub use walkthrough::Walkthrough;

use crate::model::{Config, LoadError, Model};

#[derive(Debug, Error)]
pub enum SceneError {
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{file}: walkthrough: {message}")]
    Walkthrough { file: String, message: String },
    #[error("{file}: the scene's model {path} is not there{how}")]
    MissingModel {
        file: String,
        path: String,
        /// How to get it, or where to say where it is.
        how: String,
    },
}

/// A named camera position, given by what it frames rather than by coordinates, so it survives
/// layout changes.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CameraSpec {
    /// "all", a region ("embedding", "block 0", "output") or a tensor name ("h.0.attn.probs").
    pub fit: String,
    /// Degrees around the vertical axis (0: straight at the panels).
    #[serde(default = "oblique_yaw")]
    pub yaw: f32,
    /// Degrees above the panels' plane.
    #[serde(default = "oblique_pitch")]
    pub pitch: f32,
}

/// The default view: from the right of the activations and a little above, so the slabs show
/// their thickness and the picture reads as 3D.
pub const OBLIQUE_YAW: f32 = 16.0;
pub const OBLIQUE_PITCH: f32 = 14.0;

fn oblique_yaw() -> f32 {
    OBLIQUE_YAW
}

fn oblique_pitch() -> f32 {
    OBLIQUE_PITCH
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SceneFile {
    name: String,
    #[serde(default)]
    description: String,
    /// The model: a folder or a GGUF file, relative to the scene's folder (`~/` is the home
    /// folder).
    model: String,
    /// An environment variable that, when set, names the model instead. (The page reads
    /// scenes but opens models its own way.)
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    model_env: Option<String>,
    /// How to get the model, said when it is not there.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    get_model: Option<String>,
    /// Without one, the model's own: a GGUF file's, or the `tokenizer.json` beside its weights.
    tokenizer: Option<Tokenizer>,
    prompt: String,
    #[serde(default)]
    cameras: BTreeMap<String, CameraSpec>,
    #[serde(default)]
    chapters: Vec<walkthrough::Chapter>,
}

#[derive(Clone, Debug)]
pub struct Scene {
    pub name: String,
    /// The model folder as scene.toml names it, relative to the scene's folder.
    pub model_dir: String,
    pub description: String,
    pub model: Model,
    pub tokenizer: Tokenizer,
    pub prompt: String,
    pub cameras: BTreeMap<String, CameraSpec>,
    pub walkthrough: Walkthrough,
}

/// The built-in scene's files.
const EMBEDDED_TOML: &str = include_str!("../../scenes/sort/scene.toml");
const EMBEDDED_CONFIG: &str = include_str!("../../scenes/sort/config.json");
const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../scenes/sort/model.safetensors");

impl Scene {
    /// Parses scene.toml text; `file` names it in errors, which give the line and the key.
    fn parse(file: &str, text: &str) -> Result<SceneFile, SceneError> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            // The key is the left side of the offending line, when it is an assignment.
            let key = line
                .and_then(|l| text.lines().nth(l - 1))
                .and_then(|l| l.split_once('='))
                .map(|(key, _)| key.trim().to_string());
            let message = match (line, key) {
                (Some(line), Some(key)) => format!("line {line}, key `{key}`: {}", e.message()),
                (Some(line), None) => format!("line {line}: {}", e.message()),
                _ => e.message().to_string(),
            };
            SceneError::Toml {
                file: file.to_string(),
                message,
            }
        })
    }

    /// A scene from scene.toml text and the model it names; `file` names the text in errors.
    pub fn from_toml(file: &str, text: &str, model: Model) -> Result<Scene, SceneError> {
        let parsed = Scene::parse(file, text)?;
        Scene::from_file(file, parsed, model)
    }

    /// GPT-2 small's shape (12 layers, 12 heads, 768 channels, 50257 tokens) with random
    /// weights (seed 0), run on `tokens` token ids: the layout and the kernels at GPT-2's size
    /// without the download. Its numbers are computed, from random weights, not GPT-2's.
    pub fn gpt2_small_shape(tokens: usize) -> Scene {
        Scene {
            name: "gpt2-small-shape".into(),
            model_dir: String::new(),
            description: "GPT-2 small's shape, random weights".into(),
            model: Model::random(Config::gpt2_small(), 0),
            tokenizer: Tokenizer::Ids,
            prompt: (0..tokens)
                .map(|i| (i * 997 % 50257).to_string())
                .collect::<Vec<_>>()
                .join(","),
            cameras: Default::default(),
            walkthrough: Default::default(),
        }
    }

    /// The scene built into the binary (`scenes/sort`).
    pub fn embedded() -> Scene {
        let config = Config::from_json("scenes/sort/config.json", EMBEDDED_CONFIG)
            .expect("the built-in config parses");
        let model = Model::from_safetensors(
            config,
            "scenes/sort/config.json",
            "scenes/sort/model.safetensors",
            EMBEDDED_WEIGHTS,
        )
        .expect("the built-in model loads");
        Scene::from_toml("scenes/sort/scene.toml", EMBEDDED_TOML, model)
            .expect("the built-in scene is valid")
    }

    /// Builds the scene, checking the walkthrough against the model's graph for the prompt.
    fn from_file(path: &str, file: SceneFile, model: Model) -> Result<Scene, SceneError> {
        let walkthrough = Walkthrough {
            chapters: file.chapters,
        };
        let key_error = |key: &str, message: String| SceneError::Toml {
            file: path.to_string(),
            message: format!("key `{key}`: {message}"),
        };
        let tokenizer = file.tokenizer.clone().ok_or_else(|| {
            key_error(
                "tokenizer",
                "the model has no tokenizer of its own: name one ([tokenizer] kind = ...)".into(),
            )
        })?;
        if let Tokenizer::Chars { alphabet } = &tokenizer {
            check_alphabet(alphabet, model.config.vocab_size)
                .map_err(|e| key_error("tokenizer.alphabet", e))?;
        }
        let tokens = tokenizer
            .encode(&file.prompt)
            .map_err(|e| key_error("prompt", e.to_string()))?;
        crate::model::validate_ids(&model.config, &tokens)
            .map_err(|e| key_error("prompt", e.to_string()))?;
        let graph = crate::graph::Graph::forward(&model.config, tokens.len());
        let walkthrough_error = |message| SceneError::Walkthrough {
            file: path.to_string(),
            message,
        };
        walkthrough.validate(&graph).map_err(walkthrough_error)?;
        for chapter in &walkthrough.chapters {
            if let Some(prompt) = &chapter.prompt {
                let ids = tokenizer.encode(prompt).map_err(|e| {
                    walkthrough_error(format!("chapter {:?}: prompt: {e}", chapter.name))
                })?;
                crate::model::validate_ids(&model.config, &ids).map_err(|e| {
                    walkthrough_error(format!("chapter {:?}: prompt: {e}", chapter.name))
                })?;
            }
        }
        // What a camera may frame: everything, a region, or a tensor.
        let frames = |fit: &str| {
            fit == "all"
                || fit == "embedding"
                || fit == "output"
                || fit
                    .strip_prefix("block ")
                    .and_then(|i| i.parse::<usize>().ok())
                    .is_some_and(|i| i < model.config.n_layer)
                || graph.tensor_id(fit).is_some()
        };
        for (name, spec) in &file.cameras {
            for (key, angle) in [("yaw", spec.yaw), ("pitch", spec.pitch)] {
                if !angle.is_finite() {
                    return Err(key_error(
                        &format!("cameras.{name}.{key}"),
                        format!("expected a finite number of degrees, got {angle}"),
                    ));
                }
            }
            if !frames(&spec.fit) {
                return Err(SceneError::Toml {
                    file: path.to_string(),
                    message: format!(
                        "key `cameras.{name}.fit`: {:?} is not \"all\", a region (embedding, block N, output) or a tensor",
                        spec.fit
                    ),
                });
            }
        }
        for chapter in &walkthrough.chapters {
            let cameras = std::iter::once(&chapter.camera)
                .chain(chapter.paragraphs.iter().filter_map(|p| p.camera.as_ref()));
            for camera in cameras {
                if !file.cameras.contains_key(camera) && !frames(camera) {
                    return Err(walkthrough_error(format!(
                        "chapter {:?}: camera {camera:?} is neither a camera of the scene nor a region or tensor",
                        chapter.name
                    )));
                }
            }
        }
        Ok(Scene {
            name: file.name,
            model_dir: file.model,
            description: file.description,
            model,
            tokenizer,
            prompt: file.prompt,
            cameras: file.cameras,
            walkthrough,
        })
    }

    /// A scene for a bare model folder: GPT-2's tokenizer when the vocabulary is GPT-2's, else
    /// token ids; no named cameras and no walkthrough.
    pub fn from_model(name: &str, model: Model) -> Scene {
        let gpt2_vocab = model.config.vocab_size == 50257;
        let (tokenizer, prompt) = if gpt2_vocab {
            (Tokenizer::Gpt2, "The quick brown fox".to_string())
        } else {
            (Tokenizer::Ids, "0,1,2".to_string())
        };
        Scene {
            name: name.to_string(),
            model_dir: String::new(),
            description: String::new(),
            model,
            tokenizer,
            prompt,
            cameras: BTreeMap::new(),
            walkthrough: Walkthrough::default(),
        }
    }

    /// [`Scene::from_model`] for the model in `dir`, with the folder's own `tokenizer.json`
    /// when it has one.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_model_dir(dir: &std::path::Path, model: Model) -> Result<Scene, TokenizerError> {
        let name = dir
            .file_name()
            .map_or("model".into(), |n| n.to_string_lossy().into_owned());
        let mut scene = Scene::from_model(&name, model);
        let gguf = dir
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gguf"));
        if gguf || dir.join(hf_tokenizer::TOKENIZER_FILE).is_file() {
            scene.tokenizer = Tokenizer::Json(hf_tokenizer::HfTokenizer::load(dir)?);
            scene.prompt = "The quick brown fox".to_string();
        }
        Ok(scene)
    }

    /// Reads `DIR/scene.toml` and the model it names.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(dir: &std::path::Path) -> Result<Scene, SceneError> {
        let path = dir.join("scene.toml");
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| SceneError::Toml {
            file: shown.clone(),
            message: format!("cannot read: {e}"),
        })?;
        let mut file = Scene::parse(&shown, &text)?;
        let path = scene_model_path(dir, &file);
        if !path.exists() {
            let mut how = match &file.model_env {
                Some(var) => format!(" (set {var} to where it is, or open it with --model)"),
                None => String::new(),
            };
            if let Some(get) = &file.get_model {
                how += &format!("; get it with: {get}");
            }
            return Err(SceneError::MissingModel {
                file: shown,
                path: path.display().to_string(),
                how,
            });
        }
        let model = Model::load_path_with(&path, &mut |_, _, _| {})?;
        if file.tokenizer.is_none() {
            let own = hf_tokenizer::HfTokenizer::load(&path).map_err(|e| SceneError::Toml {
                file: shown.clone(),
                message: format!("key `tokenizer`: none named, and the model's own: {e}"),
            })?;
            file.tokenizer = Some(Tokenizer::Json(own));
        }
        Scene::from_file(&shown, file, model)
    }
}

/// Where a scene's model is: the file or folder its environment variable names when set, else
/// `model` from the scene's folder (or the home folder, for `~/...`).
#[cfg(not(target_arch = "wasm32"))]
fn scene_model_path(dir: &std::path::Path, file: &SceneFile) -> std::path::PathBuf {
    let from_env = file
        .model_env
        .as_ref()
        .and_then(std::env::var_os)
        .filter(|value| !value.is_empty());
    if let Some(path) = from_env {
        return path.into();
    }
    match (file.model.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ => dir.join(&file.model),
    }
}

/// A chars tokenizer's alphabet: each character is the token id of its position, so it must be
/// non-empty, hold no character twice and have no more characters than the model has tokens.
fn check_alphabet(alphabet: &str, vocab_size: usize) -> Result<(), String> {
    let chars: Vec<char> = alphabet.chars().collect();
    if chars.is_empty() {
        return Err("expected at least one character".into());
    }
    let mut seen = std::collections::HashMap::with_capacity(chars.len());
    for (second, &c) in chars.iter().enumerate() {
        if let Some(first) = seen.insert(c, second) {
            return Err(format!(
                "character {c:?} is at positions {first} and {second}; each character must be one token"
            ));
        }
    }
    if chars.len() > vocab_size {
        return Err(format!(
            "{} characters, but the model has vocab_size = {vocab_size}: each character is a token id",
            chars.len()
        ));
    }
    Ok(())
}
