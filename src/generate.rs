//! The generation loop: each token runs once through the decode graph, which appends its key
//! and value to the KV cache and picks the next token with the sample op. The prompt goes
//! through the same steps, so a sequence of n tokens costs n decode steps and never a full
//! recompute. Generation runs the fast path (attention fused and split over the cache: nothing
//! here draws the scores); the CPU reference runs the same graph with the same sampler.

pub use crate::cpu::sampling::Sampling;
use crate::cpu::CpuRun;
use crate::gpu::{Gpu, GpuError, GpuGraph, GpuModel, KernelRegistry};
use crate::graph::probe::Ablations;
use crate::graph::{Graph, Path};
use crate::model::{validate_ids, Config, LoadError, Model};

/// The most positions a generation's KV cache holds: long-context models (Llama 3.2 has
/// 131072 positions, 8.6 GB of cache in f32) would otherwise reserve memory no prompt uses.
pub const MAX_CACHE_POSITIONS: usize = 4096;

/// How many tokens a sequence may grow to: the model's positions, at most
/// [`MAX_CACHE_POSITIONS`].
pub fn capacity(config: &Config) -> usize {
    config.n_positions.min(MAX_CACHE_POSITIONS)
}

/// The prompt's ids are in the vocabulary and fit the cache with room for none or more tokens.
fn validate_prompt(config: &Config, prompt: &[u32]) -> Result<(), LoadError> {
    validate_ids(config, prompt)?;
    if prompt.len() > capacity(config) {
        return Err(LoadError::PromptOverCache {
            count: prompt.len(),
            capacity: capacity(config),
        });
    }
    Ok(())
}

/// Generates on the GPU with one decode graph whose KV cache holds every position.
pub struct GpuGenerator<'a> {
    gpu: &'a Gpu,
    registry: &'a KernelRegistry,
    step: GpuGraph,
    /// The token after which generation ends, if any.
    stop: Option<u32>,
}

impl<'a> GpuGenerator<'a> {
    pub async fn new(
        gpu: &'a Gpu,
        registry: &'a KernelRegistry,
        model: &Model,
    ) -> Result<GpuGenerator<'a>, GpuError> {
        let weights = GpuModel::upload(gpu, model).await?;
        Self::with_weights(gpu, registry, &weights).await
    }

    /// A generator over weights already on the device.
    pub async fn with_weights(
        gpu: &'a Gpu,
        registry: &'a KernelRegistry,
        weights: &GpuModel,
    ) -> Result<GpuGenerator<'a>, GpuError> {
        Self::ablated(gpu, registry, weights, &Ablations::default()).await
    }

    /// A generator with units switched off (zeroed: a decode step has one position, so no mean
    /// over positions; checked against the model by the caller).
    pub async fn ablated(
        gpu: &'a Gpu,
        registry: &'a KernelRegistry,
        weights: &GpuModel,
        ablations: &Ablations,
    ) -> Result<GpuGenerator<'a>, GpuError> {
        let capacity = capacity(&weights.config);
        let graph = Graph::decode_on(&weights.config, capacity, ablations, Path::Fast);
        let step = GpuGraph::new(gpu, registry, graph, weights).await?;
        Ok(GpuGenerator {
            gpu,
            registry,
            step,
            stop: None,
        })
    }

    /// Ends [`GpuGenerator::generate`] after `token` (an instruct model's end of turn).
    pub fn stop_at(&mut self, token: Option<u32>) {
        self.stop = token;
    }

    /// The decode graph, to read its tensors (the KV cache, logits, probabilities).
    pub fn graph(&self) -> &GpuGraph {
        &self.step
    }

    /// Which path runs and what one token costs in kernel launches, said to the user.
    pub fn path_note(&self) -> String {
        let graph = self.step.graph();
        let dispatches: usize = (0..graph.ops.len())
            .map(|i| self.step.launches(i).len())
            .sum();
        format!("{}, {dispatches} dispatches per token", path_note(graph))
    }

    /// Runs token `id` at `position`: appends its key and value to the cache and samples the
    /// token after it. Nothing is read back.
    pub fn step(&self, id: u32, position: usize) -> Result<(), GpuError> {
        self.step.set_token(self.gpu, id, position)?;
        self.step.run(self.gpu, self.registry);
        Ok(())
    }

    /// The token the last step sampled.
    pub async fn next_token(&self) -> Result<u32, GpuError> {
        let id = self
            .step
            .graph()
            .tensor_id("next_token")
            .expect("decode graph");
        Ok(self.step.read(self.gpu, id).await?[0] as u32)
    }

    /// The logits of the last step.
    pub async fn logits(&self) -> Result<Vec<f32>, GpuError> {
        let id = self.step.graph().tensor_id("logits").expect("decode graph");
        self.step.read(self.gpu, id).await
    }

    /// Runs `prompt` into the cache, then appends up to `count` tokens, calling `each` with
    /// every new token as it comes. Stops early when the cache is full.
    pub async fn generate(
        &mut self,
        prompt: &[u32],
        count: usize,
        sampling: &Sampling,
        mut each: impl FnMut(u32),
    ) -> Result<Vec<u32>, GpuError> {
        validate_prompt(&self.step.graph().config, prompt)?;
        self.step.set_sampling(self.gpu, sampling);
        for (position, &id) in prompt.iter().enumerate() {
            self.step(id, position)?;
        }
        let mut produced = Vec::new();
        let mut position = prompt.len();
        while produced.len() < count {
            let next = self.next_token().await?;
            each(next);
            produced.push(next);
            let full = position == capacity(&self.step.graph().config);
            if produced.len() == count || full || self.stop == Some(next) {
                break;
            }
            self.step(next, position)?;
            position += 1;
        }
        Ok(produced)
    }
}

/// The path a decode graph was built on, in words.
pub fn path_note(graph: &Graph) -> String {
    let how = match graph.path() {
        Path::Fast => "attention fused with the online softmax, split over the cache",
        Path::Picture => "every intermediate stored, as the window draws it",
    };
    format!(
        "path: {} ({how}; {} ops)",
        graph.path().name(),
        graph.ops.len()
    )
}

/// The same loop on the CPU reference.
pub fn generate_cpu(
    model: &Model,
    prompt: &[u32],
    count: usize,
    sampling: &Sampling,
    each: impl FnMut(u32),
) -> Result<Vec<u32>, LoadError> {
    generate_cpu_ablated(
        model,
        (prompt, count, None),
        sampling,
        &Ablations::default(),
        each,
    )
}

/// [`generate_cpu`] with units switched off (zeroed, as [`GpuGenerator::ablated`]), ending
/// after `stop` if it comes.
pub fn generate_cpu_ablated(
    model: &Model,
    (prompt, count, stop): (&[u32], usize, Option<u32>),
    sampling: &Sampling,
    ablations: &Ablations,
    mut each: impl FnMut(u32),
) -> Result<Vec<u32>, LoadError> {
    validate_prompt(&model.config, prompt)?;
    let capacity = capacity(&model.config);
    let graph = Graph::decode_on(&model.config, capacity, ablations, Path::Fast);
    let mut run = CpuRun::new(&graph, model, &prompt[..1])?;
    run.sampling = *sampling;
    let next_id = graph.tensor_id("next_token").expect("decode graph");
    let step = |run: &mut CpuRun, id: u32, position: usize| -> Result<u32, LoadError> {
        run.set_token(id, position)?;
        run.run_all();
        Ok(run.values.values[next_id][0] as u32)
    };
    let mut next = 0;
    for (position, &id) in prompt.iter().enumerate() {
        next = step(&mut run, id, position)?;
    }
    let mut produced = Vec::new();
    let mut position = prompt.len();
    while produced.len() < count {
        each(next);
        produced.push(next);
        if produced.len() == count || position == capacity || stop == Some(next) {
            break;
        }
        next = step(&mut run, next, position)?;
        position += 1;
    }
    Ok(produced)
}
