//! Loading GPT-2 weights from safetensors bytes, with or without the `transformer.` prefix that
//! `save_pretrained` writes, and making random ones of any shape for tests and benchmarks.

use std::collections::HashMap;

use safetensors::Dtype;

use super::header::{read_spans, TensorSpan};
use super::{Config, LoadError};
use crate::graph::Graph;

/// The trained parameters, by their GPT-2 names (`wte.weight`, `h.0.attn.c_attn.weight`, ...).
#[derive(Clone, Debug, Default)]
pub struct Weights {
    tensors: HashMap<String, Vec<f32>>,
}

impl Weights {
    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.tensors.get(name).map(Vec::as_slice)
    }

    pub fn insert(&mut self, name: &str, values: Vec<f32>) {
        self.tensors.insert(name.to_string(), values);
    }
}

/// A config and the weights it describes, every weight checked against the graph's shapes.
#[derive(Clone, Debug)]
pub struct Model {
    pub config: Config,
    pub weights: Weights,
}

/// Names of the weight tensors a GPT-2 model needs, with their shapes: those of a one-token
/// graph, since weights do not depend on the sequence length.
fn expected_weights(config: &Config) -> Vec<(String, Vec<usize>)> {
    Graph::gpt2(config, 1)
        .weights()
        .map(|t| (t.name.clone(), t.shape.clone()))
        .collect()
}

impl Model {
    /// A model known by its config alone, its weights elsewhere (streamed to the GPU).
    pub fn config_only(config: Config) -> Model {
        Model {
            config,
            weights: Weights::default(),
        }
    }

    /// Whether the weights are in memory (not for a model streamed to the GPU).
    pub fn has_weights(&self) -> bool {
        !self.weights.tensors.is_empty()
    }

    /// Reads `config.json` and `model.safetensors` from a folder.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &std::path::Path) -> Result<Model, LoadError> {
        Model::load_dir_with(dir, &mut |_, _, _| {})
    }

    /// [`Model::load_dir`], reporting progress as it reads and decodes the weights.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir_with(dir: &std::path::Path, progress: Progress) -> Result<Model, LoadError> {
        let io_error = |path: &std::path::Path, e: std::io::Error| LoadError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        };
        let mut read = |name: &str| {
            let path = dir.join(name);
            read_with_progress(&path, &mut *progress).map_err(|e| io_error(&path, e))
        };
        let config_path = dir.join("config.json").display().to_string();
        let config_bytes = read("config.json")?;
        let config_text = String::from_utf8(config_bytes).map_err(|e| LoadError::Config {
            file: config_path.clone(),
            message: e.to_string(),
        })?;
        let config = Config::from_json(&config_path, &config_text)?;
        let weights_path = dir.join("model.safetensors").display().to_string();
        let bytes = read("model.safetensors")?;
        Model::from_safetensors_with(config, &config_path, &weights_path, &bytes, progress)
    }

    /// Takes the weights the config asks for out of safetensors bytes, checking each one's
    /// dtype and shape. Tensors the graph does not use (`attn.bias` masks, a tied `lm_head`)
    /// are ignored.
    pub fn from_safetensors(
        config: Config,
        config_file: &str,
        file: &str,
        bytes: &[u8],
    ) -> Result<Model, LoadError> {
        Model::from_safetensors_with(config, config_file, file, bytes, &mut |_, _, _| {})
    }

    fn from_safetensors_with(
        config: Config,
        config_file: &str,
        file: &str,
        bytes: &[u8],
        progress: Progress,
    ) -> Result<Model, LoadError> {
        config.check(config_file)?;
        // With the whole file at hand, the header is all there: `None` cannot happen.
        let spans =
            read_spans(file, bytes, bytes.len())?.ok_or_else(|| LoadError::Safetensors {
                file: file.to_string(),
                message: "the header runs past the end of the file".into(),
            })?;
        let mut weights = Weights::default();
        let expected = expected_weights(&config);
        let total: u64 = expected
            .iter()
            .map(|(_, shape)| 4 * shape.iter().product::<usize>() as u64)
            .sum();
        let mut done = 0;
        for (name, shape) in expected {
            let span = weight_span(&spans, file, config_file, &name, &shape)?;
            let data = &bytes[span.begin..span.end];
            check_finite(file, &name, 0, data)?;
            let values = data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            weights.insert(&name, values);
            done += data.len() as u64;
            progress("decoding the weights", done, total);
        }
        check_tied_head(&spans, bytes, file, &weights)?;
        Ok(Model { config, weights })
    }

    /// The weights as safetensors bytes in the Hugging Face GPT-2 layout (what `load_dir` reads).
    pub fn to_safetensors(&self) -> Result<Vec<u8>, safetensors::SafeTensorError> {
        let tensors: Vec<(String, Vec<usize>, &[f32])> = expected_weights(&self.config)
            .into_iter()
            .map(|(name, shape)| {
                let values = self
                    .weights
                    .get(&name)
                    .expect("a model holds all its weights");
                (name, shape, values)
            })
            .collect();
        let views = tensors
            .iter()
            .map(|(name, shape, values)| {
                safetensors::tensor::TensorView::new(
                    Dtype::F32,
                    shape.clone(),
                    bytemuck::cast_slice(values),
                )
                .map(|view| (name.clone(), view))
            })
            .collect::<Result<Vec<_>, _>>()?;
        safetensors::serialize(views, None)
    }

    /// A model of the given shape with seeded random weights: GPT-2-like scales (0.02 for
    /// matrices), and layer-norm gains and biases randomised too so that every parameter matters.
    pub fn random(config: Config, seed: u64) -> Model {
        let mut rng = SplitMix64(seed);
        let mut weights = Weights::default();
        for (name, shape) in expected_weights(&config) {
            let len = shape.iter().product();
            let values = if name.ends_with("ln_1.weight")
                || name.ends_with("ln_2.weight")
                || name == "ln_f.weight"
            {
                (0..len).map(|_| 1.0 + 0.2 * rng.symmetric()).collect()
            } else if shape.len() == 1 {
                (0..len).map(|_| 0.05 * rng.symmetric()).collect()
            } else {
                (0..len).map(|_| 0.04 * rng.symmetric()).collect()
            };
            weights.insert(&name, values);
        }
        Model { config, weights }
    }
}

/// Where weight `name` lies in a file (under its own name, or the `transformer.` one that
/// `save_pretrained` writes), checked to be F32 of `shape` (which `config_file` asks for). The
/// loader and the GPU stream check weights through it alike.
pub(crate) fn weight_span<'s>(
    spans: &'s HashMap<String, TensorSpan>,
    file: &str,
    config_file: &str,
    name: &str,
    shape: &[usize],
) -> Result<&'s TensorSpan, LoadError> {
    let span = spans
        .get(name)
        .or_else(|| spans.get(&format!("transformer.{name}")))
        .ok_or_else(|| LoadError::MissingTensor {
            file: file.to_string(),
            tensor: name.to_string(),
        })?;
    if span.dtype != Dtype::F32 {
        return Err(LoadError::DType {
            file: file.to_string(),
            tensor: name.to_string(),
            found: format!("{:?}", span.dtype),
        });
    }
    if span.shape != shape {
        return Err(LoadError::Shape {
            file: file.to_string(),
            tensor: name.to_string(),
            found: span.shape.clone(),
            expected: shape.to_vec(),
            config: config_file.to_string(),
        });
    }
    Ok(span)
}

/// Refuses little-endian f32 `bytes` of `tensor` holding a NaN or an infinity (`first` is the
/// index of their first value in the tensor): such a weight would make every number downstream
/// of it NaN or infinite, far from where the file went wrong.
pub(crate) fn check_finite(
    file: &str,
    tensor: &str,
    first: usize,
    bytes: &[u8],
) -> Result<(), LoadError> {
    let values = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    match values.enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, value)) => Err(LoadError::NonFinite {
            file: file.to_string(),
            tensor: tensor.to_string(),
            index: first + index,
            value,
        }),
        None => Ok(()),
    }
}

/// GPT-2's output head is `wte` itself. Files written by `save_pretrained` may carry a copy as
/// `lm_head.weight`; a head that differs from `wte` would give logits glassbox does not compute.
fn check_tied_head(
    spans: &HashMap<String, TensorSpan>,
    bytes: &[u8],
    file: &str,
    weights: &Weights,
) -> Result<(), LoadError> {
    let Some(head) = spans.get("lm_head.weight") else {
        return Ok(());
    };
    let data = &bytes[head.begin..head.end];
    let wte = weights.get("wte.weight").expect("wte was loaded");
    let same = head.dtype == Dtype::F32
        && data.len() == wte.len() * 4
        && data
            .chunks_exact(4)
            .zip(wte)
            .all(|(b, &w)| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) == w);
    if same {
        Ok(())
    } else {
        Err(LoadError::UntiedHead {
            file: file.to_string(),
        })
    }
}

/// A tiny seeded generator (SplitMix64): reproducible random weights without a dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn symmetric(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Told how loading goes: what is happening, bytes done and bytes in all.
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

/// Reads a whole file in 16 MiB pieces, reporting each (a 6 GB gpt2-xl takes a while).
#[cfg(not(target_arch = "wasm32"))]
fn read_with_progress(path: &std::path::Path, progress: Progress) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let total = file.metadata()?.len();
    let mut bytes = Vec::with_capacity(total as usize);
    let stage = format!(
        "reading {}",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut piece = vec![0u8; 16 << 20];
    loop {
        let n = file.read(&mut piece)?;
        if n == 0 {
            return Ok(bytes);
        }
        bytes.extend_from_slice(&piece[..n]);
        progress(&stage, bytes.len() as u64, total);
    }
}
