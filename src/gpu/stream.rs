//! Weights streamed straight into GPU buffers as a safetensors file arrives (the browser reading
//! it from the network or from disk): only the header and a few bytes at a time are held in
//! memory, never the checkpoint, so a model loads wherever the GPU can hold it. The same checks
//! as the loader: every weight present, F32, the graph's shape, finite.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use super::{Gpu, GpuError, GpuModel, GpuTensor, Precision};
use crate::graph::Graph;
use crate::model::header::{read_spans, TensorSpan};
use crate::model::weights::{check_finite, weight_span};
use crate::model::{Config, LoadError};

/// Why a stream failed: the file, or the device.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// One weight the graph needs: where its bytes lie in the file, and its buffers.
struct Target {
    name: String,
    begin: usize,
    end: usize,
    tensor: GpuTensor,
    /// The first bytes of a value whose other bytes have not arrived yet.
    partial: Vec<u8>,
}

/// A safetensors file on its way into GPU buffers, pushed in pieces in file order.
pub struct WeightStream {
    config: Config,
    config_file: String,
    file: String,
    total: usize,
    /// The file's first bytes, until they hold the whole header.
    head: Vec<u8>,
    /// How many bytes of the file have been pushed.
    received: usize,
    /// The weights, in file order, once the header has been read.
    targets: Vec<Target>,
    /// What the device said about allocating them (out of memory), answered later.
    allocation: Option<Pin<Box<dyn Future<Output = Option<wgpu::Error>>>>>,
    /// Their bytes, for the error when they do not fit.
    bytes: u64,
}

impl WeightStream {
    /// A stream of `file`, `total` bytes long, holding the weights of `config` (read from
    /// `config_file`). Floats are stored as f32: a streamed model keeps no copy to convert.
    pub fn new(
        config: Config,
        config_file: &str,
        file: &str,
        total: usize,
    ) -> Result<WeightStream, LoadError> {
        config.check(config_file)?;
        if config.llama().is_some() {
            return Err(LoadError::ConfigField {
                file: config_file.to_string(),
                field: "model_type".into(),
                expected: "gpt2: weights stream to the GPU for GPT-2 checkpoints only (the Llama family's projections are turned on loading)".into(),
            });
        }
        Ok(WeightStream {
            config,
            config_file: config_file.to_string(),
            file: file.to_string(),
            total,
            head: Vec::new(),
            received: 0,
            targets: Vec::new(),
            allocation: None,
            bytes: 0,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The names of the config file and the weights file, as errors give them.
    pub fn files(&self) -> (String, String) {
        (self.config_file.clone(), self.file.clone())
    }

    /// The next bytes of the file: weights they complete go to the device.
    pub fn push(&mut self, gpu: &Gpu, bytes: &[u8]) -> Result<(), StreamError> {
        let start = self.received;
        self.received += bytes.len();
        if self.received > self.total {
            return Err(self.error(format!(
                "more than the {} bytes announced arrived: the file changed while loading",
                self.total
            )));
        }
        if self.targets.is_empty() {
            self.head.extend_from_slice(bytes);
            let Some(spans) = read_spans(&self.file, &self.head, self.total)? else {
                return Ok(());
            };
            self.targets = self.plan(gpu, &spans)?;
            // What arrived past the header is weight data: write it as if pushed now.
            let head = std::mem::take(&mut self.head);
            let data_start = spans.values().map(|s| s.begin).min().unwrap_or(head.len());
            self.write(gpu, data_start, &head[data_start.min(head.len())..])?;
            return Ok(());
        }
        self.write(gpu, start, bytes)
    }

    /// The model on the device, once every byte has arrived; a model the device could not
    /// hold is the loader's out-of-memory error.
    pub async fn finish(mut self, gpu: &Gpu) -> Result<GpuModel, StreamError> {
        if self.received < self.total || self.targets.is_empty() {
            return Err(self.error(format!(
                "only {} of its {} bytes arrived",
                self.received, self.total
            )));
        }
        if let Some(error) = self
            .allocation
            .take()
            .expect("planned with the targets")
            .await
        {
            return Err(GpuError::Device {
                what: "uploading the weights".into(),
                bytes: self.bytes,
                message: error.to_string(),
                has: gpu.memory_description(),
            }
            .into());
        }
        let weights = self
            .targets
            .into_iter()
            .map(|t| (t.name, t.tensor))
            .collect();
        Ok(GpuModel::from_tensors(self.config, Precision::F32, weights))
    }

    fn error(&self, message: String) -> StreamError {
        StreamError::Load(LoadError::Safetensors {
            file: self.file.clone(),
            message,
        })
    }

    /// Checks every weight the graph needs against the header and makes its buffers; what the
    /// device says about allocating them is answered in `finish`.
    fn plan(
        &mut self,
        gpu: &Gpu,
        spans: &HashMap<String, TensorSpan>,
    ) -> Result<Vec<Target>, StreamError> {
        let graph = Graph::forward(&self.config, 1);
        self.bytes = graph.weights().map(|t| 4 * t.len() as u64).sum();
        gpu.ensure_memory("uploading the weights", self.bytes)?;
        let memory = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let mut targets = Vec::new();
        let planned = graph.weights().try_for_each(|tensor| {
            let span = weight_span(
                spans,
                &self.file,
                &self.config_file,
                &tensor.name,
                &tensor.shape,
            )?;
            if span.dtype != safetensors::Dtype::F32 {
                return Err(LoadError::DType {
                    file: self.file.clone(),
                    tensor: tensor.name.clone(),
                    found: format!("{:?}", span.dtype),
                    expected: "F32 (weights stream to the GPU as the file holds them)",
                }
                .into());
            }
            targets.push(Target {
                name: tensor.name.clone(),
                begin: span.begin,
                end: span.end,
                tensor: GpuTensor::zeroed(gpu, tensor, Precision::F32)?,
                partial: Vec::new(),
            });
            Ok::<(), StreamError>(())
        });
        self.allocation = Some(Box::pin(memory.pop()));
        planned?;
        targets.sort_by_key(|t| t.begin);
        Ok(targets)
    }

    /// Writes file bytes starting at file offset `at` into the weights they belong to, whole
    /// 4-byte values at a time: a value split between two pushes waits in its target.
    fn write(&mut self, gpu: &Gpu, at: usize, bytes: &[u8]) -> Result<(), StreamError> {
        let end = at + bytes.len();
        for target in &mut self.targets {
            let (from, to) = (target.begin.max(at), target.end.min(end));
            if from >= to {
                continue;
            }
            let mut piece = std::mem::take(&mut target.partial);
            // The partial value's bytes come right before `from`, so this is a whole value.
            let first = (from - piece.len() - target.begin) / 4;
            piece.extend_from_slice(&bytes[from - at..to - at]);
            let whole = piece.len() / 4 * 4;
            check_finite(&self.file, &target.name, first, &piece[..whole])?;
            write_values(gpu, &target.tensor, first, &piece[..whole]);
            target.partial = piece[whole..].to_vec();
        }
        Ok(())
    }
}

/// Writes f32 values (as bytes) into `tensor` from flat element `first` on, across its chunks.
fn write_values(gpu: &Gpu, tensor: &GpuTensor, first: usize, bytes: &[u8]) {
    let chunk_len = tensor.rows_per_chunk * tensor.row_len;
    let mut element = first;
    let mut rest = bytes;
    while !rest.is_empty() {
        let chunk = element / chunk_len;
        let within = element % chunk_len;
        let take = rest.len().min((chunk_len - within) * 4);
        gpu.queue
            .write_buffer(&tensor.chunks[chunk], (within * 4) as u64, &rest[..take]);
        element += take / 4;
        rest = &rest[take..];
    }
}
