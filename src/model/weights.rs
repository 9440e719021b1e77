//! Loading GPT-2 weights from safetensors bytes, with or without the `transformer.` prefix that
//! `save_pretrained` writes, and making random ones of any shape for tests and benchmarks.

use std::collections::HashMap;

use safetensors::Dtype;

use super::header::{read_spans, TensorSpan};
use super::{Config, LoadError};
use crate::graph::Graph;

/// The trained parameters, by their GPT-2 names (`wte.weight`, `h.0.attn.c_attn.weight`, ...),
/// as f32; and for a model read from a GGUF file, its matrices' bytes as the file stores them.
#[derive(Clone, Debug, Default)]
pub struct Weights {
    tensors: HashMap<String, Vec<f32>>,
    blocks: HashMap<String, Blocks>,
}

/// A matrix as a GGUF file stores it: `rows` rows of `row_len` values in blocks of `ty` (for a
/// projection, a row is one output: [out, in], the transpose of the graph's [in, out]). Q and K
/// rows are already in transformers' order. The GPU reads these bytes, quantized.
#[derive(Clone, Debug)]
pub struct Blocks {
    pub ty: crate::model::gguf::GgmlType,
    pub rows: usize,
    pub row_len: usize,
    pub bytes: Vec<u8>,
    /// Whether the graph holds this matrix transposed ([in, out]: the projections).
    pub transposed: bool,
}

impl Weights {
    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.tensors.get(name).map(Vec::as_slice)
    }

    pub fn insert(&mut self, name: &str, values: Vec<f32>) {
        self.tensors.insert(name.to_string(), values);
    }

    /// The file's blocks of a weight, for a model read from GGUF.
    pub fn blocks(&self, name: &str) -> Option<&Blocks> {
        self.blocks.get(name)
    }

    pub fn insert_blocks(&mut self, name: &str, blocks: Blocks) {
        self.blocks.insert(name.to_string(), blocks);
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
pub(crate) fn expected_weights(config: &Config) -> Vec<(String, Vec<usize>)> {
    Graph::forward(config, 1)
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

    /// Reads `config.json` and `model.safetensors` (or the shards `model.safetensors.index.json`
    /// lists) from a folder.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &std::path::Path) -> Result<Model, LoadError> {
        Model::load_dir_with(dir, &mut |_, _, _| {})
    }

    /// A model folder, or a GGUF file (`*.gguf`), reporting progress as it reads.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_path_with(path: &std::path::Path, progress: Progress) -> Result<Model, LoadError> {
        if !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
        {
            return Model::load_dir_with(path, progress);
        }
        let bytes = read_with_progress(path, &mut *progress).map_err(|e| LoadError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Model::from_gguf(&path.display().to_string(), &bytes)
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
        let single = dir.join("model.safetensors");
        let index = dir.join(super::shards::INDEX);
        let files = if !single.exists() && index.exists() {
            let text = read(super::shards::INDEX)?;
            super::shards::shard_files(&index.display().to_string(), &text)?
        } else {
            vec!["model.safetensors".to_string()]
        };
        let mut sources = Vec::new();
        for name in files {
            let bytes = read(&name)?;
            sources.push((dir.join(&name).display().to_string(), bytes));
        }
        let sources: Vec<(String, &[u8])> = sources
            .iter()
            .map(|(file, bytes)| (file.clone(), bytes.as_slice()))
            .collect();
        Model::from_files_with(config, &config_path, &sources, progress)
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
        Model::from_files_with(
            config,
            config_file,
            &[(file.to_string(), bytes)],
            &mut |_, _, _| {},
        )
    }

    /// The weights out of one or more safetensors files (the shards of one checkpoint), each
    /// found in whichever file holds it, decoded from F32, F16 or BF16 to f32, and put in the
    /// graph's layout (the Llama family's [out, in] projections turned to [in, out]).
    fn from_files_with(
        config: Config,
        config_file: &str,
        files: &[(String, &[u8])],
        progress: Progress,
    ) -> Result<Model, LoadError> {
        config.check(config_file)?;
        let mut found: HashMap<String, (usize, TensorSpan)> = HashMap::new();
        for (index, (file, bytes)) in files.iter().enumerate() {
            // With the whole file at hand, the header is all there: `None` cannot happen.
            let spans =
                read_spans(file, bytes, bytes.len())?.ok_or_else(|| LoadError::Safetensors {
                    file: file.clone(),
                    message: "the header runs past the end of the file".into(),
                })?;
            found.extend(spans.into_iter().map(|(name, span)| (name, (index, span))));
        }
        // Errors name the one file, or the first shard, for a tensor found nowhere.
        let spans: HashMap<String, TensorSpan> = found
            .iter()
            .map(|(name, (_, span))| (name.clone(), span.clone()))
            .collect();
        let expected = expected_weights(&config);
        let total: u64 = expected
            .iter()
            .map(|(_, shape)| 4 * shape.iter().product::<usize>() as u64)
            .sum();
        let mut weights = Weights::default();
        let mut done = 0;
        for (name, shape) in expected {
            let transposed = stored_transposed(&config, &name);
            let file_shape = file_shape(&shape, transposed);
            let span = weight_span(&spans, &files[0].0, config_file, &name, &file_shape)?;
            let (file, bytes) = &files[stored_in(&found, &name)];
            let data = &bytes[span.begin..span.end];
            let mut values = decode(file, &name, span.dtype, data)?;
            if transposed {
                values = transpose(&values, file_shape[0], file_shape[1]);
            }
            weights.insert(&name, values);
            done += 4 * shape.iter().product::<usize>() as u64;
            progress("decoding the weights", done, total);
        }
        if config.llama().is_none_or(|l| l.tied) {
            let embedding = embedding_name(&config);
            check_tied_head(&found, files, &weights, embedding)?;
        }
        Ok(Model { config, weights })
    }

    /// The weights as safetensors bytes in the Hugging Face layout of the architecture (what
    /// `load_dir` reads); F32.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, safetensors::SafeTensorError> {
        let tensors: Vec<(String, Vec<usize>, Vec<f32>)> = expected_weights(&self.config)
            .into_iter()
            .map(|(name, shape)| {
                let values = self
                    .weights
                    .get(&name)
                    .expect("a model holds all its weights");
                if stored_transposed(&self.config, &name) {
                    let file = file_shape(&shape, true);
                    (name, file, transpose(values, shape[0], shape[1]))
                } else {
                    (name, shape, values.to_vec())
                }
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
                || name.ends_with("layernorm.weight")
                || name == "ln_f.weight"
                || name == "norm.weight"
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

/// Where weight `name` lies in a file (under its own name, or the `transformer.` or `model.`
/// prefixed one that `save_pretrained` writes for GPT-2 and the Llama family), checked to be
/// F32, F16 or BF16 of `shape` (which `config_file` asks for). The loader and the GPU stream
/// check weights through it alike.
pub(crate) fn weight_span<'s>(
    spans: &'s HashMap<String, TensorSpan>,
    file: &str,
    config_file: &str,
    name: &str,
    shape: &[usize],
) -> Result<&'s TensorSpan, LoadError> {
    let span = stored_name(spans, name)
        .and_then(|stored| spans.get(&stored))
        .ok_or_else(|| LoadError::MissingTensor {
            file: file.to_string(),
            tensor: name.to_string(),
        })?;
    if ![Dtype::F32, Dtype::F16, Dtype::BF16].contains(&span.dtype) {
        return Err(LoadError::DType {
            file: file.to_string(),
            tensor: name.to_string(),
            found: format!("{:?}", span.dtype),
            expected: "F32, F16 or BF16",
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

/// The name a weight is stored under in a file: its own, or with a prefix.
fn stored_name<T>(spans: &HashMap<String, T>, name: &str) -> Option<String> {
    [
        name.to_string(),
        format!("transformer.{name}"),
        format!("model.{name}"),
    ]
    .into_iter()
    .find(|n| spans.contains_key(n))
}

/// Which of the files holds weight `name` (found by [`weight_span`] first).
fn stored_in(found: &HashMap<String, (usize, TensorSpan)>, name: &str) -> usize {
    let stored = stored_name(found, name).expect("the span was found");
    found[&stored].0
}

/// Whether the file stores weight `name` transposed from the graph's [in, out] layout: the Llama
/// family's projections are `nn.Linear`, [out, in].
pub(crate) fn stored_transposed(config: &Config, name: &str) -> bool {
    config.llama().is_some() && name.ends_with("_proj.weight")
}

/// The token embedding, which a tied output head reuses.
pub(crate) fn embedding_name(config: &Config) -> &'static str {
    match config.llama() {
        Some(_) => "embed_tokens.weight",
        None => "wte.weight",
    }
}

fn file_shape(shape: &[usize], transposed: bool) -> Vec<usize> {
    if transposed {
        shape.iter().rev().copied().collect()
    } else {
        shape.to_vec()
    }
}

/// `values` [rows, cols] as [cols, rows].
pub(crate) fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// Little-endian F32, F16 or BF16 `bytes` of `tensor` as f32 (exactly: both halves widen
/// without rounding), refusing a value that is not finite.
fn decode(file: &str, tensor: &str, dtype: Dtype, bytes: &[u8]) -> Result<Vec<f32>, LoadError> {
    let values: Vec<f32> = match dtype {
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        _ => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    };
    check_finite_values(file, tensor, 0, values.iter().copied())?;
    Ok(values)
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
    check_finite_values(file, tensor, first, values)
}

/// Refuses the first NaN or infinity among `values` of `tensor`, which start at index `first`.
fn check_finite_values(
    file: &str,
    tensor: &str,
    first: usize,
    values: impl Iterator<Item = f32>,
) -> Result<(), LoadError> {
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

/// A tied output head is the token embedding itself. Files written by `save_pretrained` may
/// carry a copy as `lm_head.weight`; a head that differs from the embedding would give logits
/// glassbox does not compute.
fn check_tied_head(
    found: &HashMap<String, (usize, TensorSpan)>,
    files: &[(String, &[u8])],
    weights: &Weights,
    embedding: &str,
) -> Result<(), LoadError> {
    let Some((index, head)) = found.get("lm_head.weight") else {
        return Ok(());
    };
    let (file, bytes) = &files[*index];
    let wte = weights.get(embedding).expect("the embedding was loaded");
    let same = [Dtype::F32, Dtype::F16, Dtype::BF16].contains(&head.dtype)
        && decode(
            file,
            "lm_head.weight",
            head.dtype,
            &bytes[head.begin..head.end],
        )
        .is_ok_and(|values| values == wte);
    if same {
        Ok(())
    } else {
        Err(LoadError::UntiedHead {
            file: file.clone(),
            embedding: embedding.to_string(),
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
