//! The generation loop: run the model, pick the next token from the last position's logits,
//! append it, run again. Picking is greedy (argmax) or seeded sampling with temperature, top-k
//! and top-p, so that a run is reproducible.

use crate::gpu::{Gpu, GpuError, GpuGraph, GpuModel, KernelRegistry};
use crate::graph::Graph;
use crate::model::{LoadError, Model};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Divides the logits before the softmax: below 1 sharpens, above 1 flattens. 0 is greedy.
    pub temperature: f32,
    /// Keep only the k most likely tokens.
    pub top_k: Option<usize>,
    /// Keep the most likely tokens whose probabilities add up to p.
    pub top_p: Option<f32>,
    pub seed: u64,
}

impl Sampling {
    pub const GREEDY: Sampling = Sampling {
        temperature: 0.0,
        top_k: None,
        top_p: None,
        seed: 0,
    };
}

/// A small seeded generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Picks the next token from one row of logits.
pub fn pick(logits: &[f32], sampling: &Sampling, rng: &mut Rng) -> u32 {
    let argmax = || {
        logits
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i as u32)
    };
    if sampling.temperature <= 0.0 {
        return argmax();
    }
    let mut ranked: Vec<(u32, f64)> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, l as f64 / sampling.temperature as f64))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some(k) = sampling.top_k {
        ranked.truncate(k.max(1));
    }
    let max = ranked[0].1;
    let mut total = 0.0;
    for entry in &mut ranked {
        entry.1 = (entry.1 - max).exp();
        total += entry.1;
    }
    if let Some(p) = sampling.top_p {
        let mut kept = 0.0;
        let cut = ranked
            .iter()
            .position(|&(_, w)| {
                kept += w / total;
                kept >= p as f64
            })
            .map_or(ranked.len(), |i| i + 1);
        ranked.truncate(cut);
        total = ranked.iter().map(|e| e.1).sum();
    }
    let mut target = rng.unit() * total;
    for &(id, w) in &ranked {
        if target < w {
            return id;
        }
        target -= w;
    }
    // Rounding left a sliver past the end: the last token that can be drawn at all.
    ranked
        .iter()
        .rev()
        .find(|e| e.1 > 0.0)
        .map_or_else(argmax, |e| e.0)
}

/// Generates on the GPU, keeping one graph per sequence length it has seen.
pub struct GpuGenerator<'a> {
    gpu: &'a Gpu,
    registry: &'a KernelRegistry,
    model: &'a Model,
    gpu_model: GpuModel,
    /// Graphs by sequence length, most recently used last; at most GRAPH_CACHE of them, since
    /// each holds its activations (T x T attention maps per layer).
    graphs: Vec<GpuGraph>,
}

const GRAPH_CACHE: usize = 12;

impl<'a> GpuGenerator<'a> {
    pub async fn new(
        gpu: &'a Gpu,
        registry: &'a KernelRegistry,
        model: &'a Model,
    ) -> Result<GpuGenerator<'a>, GpuError> {
        let gpu_model = GpuModel::upload(gpu, model).await?;
        Ok(GpuGenerator {
            gpu,
            registry,
            model,
            gpu_model,
            graphs: Vec::new(),
        })
    }

    /// The logits of the last position after running `ids`.
    pub async fn next_logits(&mut self, ids: &[u32]) -> Result<Vec<f32>, GpuError> {
        crate::model::validate_ids(&self.model.config, ids)?;
        let t = ids.len();
        let graph = match self.graphs.iter().position(|g| g.graph.seq_len == t) {
            Some(i) => self.graphs.remove(i),
            None => {
                if self.graphs.len() >= GRAPH_CACHE {
                    self.graphs.remove(0);
                }
                let graph = Graph::gpt2(&self.model.config, t);
                GpuGraph::new(self.gpu, self.registry, graph, &self.gpu_model).await?
            }
        };
        self.graphs.push(graph);
        let graph = self.graphs.last().expect("pushed above");
        graph.set_ids(self.gpu, ids)?;
        graph.run(self.gpu, self.registry);
        let logits = graph.graph.tensor_id("logits").expect("graph has logits");
        graph.tensor(logits).read_row(self.gpu, t - 1).await
    }

    /// Appends `count` tokens to `prompt`, calling `each` with every new token as it comes.
    pub async fn generate(
        &mut self,
        prompt: &[u32],
        count: usize,
        sampling: &Sampling,
        mut each: impl FnMut(u32),
    ) -> Result<Vec<u32>, GpuError> {
        let mut ids = prompt.to_vec();
        let mut rng = Rng::new(sampling.seed);
        for _ in 0..count {
            let logits = self.next_logits(&ids).await?;
            let next = pick(&logits, sampling, &mut rng);
            each(next);
            ids.push(next);
            if ids.len() > self.model.config.n_positions {
                break;
            }
        }
        Ok(ids[prompt.len()..].to_vec())
    }
}

/// The same loop on the CPU reference.
pub fn generate_cpu(
    model: &Model,
    prompt: &[u32],
    count: usize,
    sampling: &Sampling,
    mut each: impl FnMut(u32),
) -> Result<Vec<u32>, LoadError> {
    let mut ids = prompt.to_vec();
    let mut rng = Rng::new(sampling.seed);
    let vocab = model.config.vocab_size;
    for _ in 0..count {
        let graph = Graph::gpt2(&model.config, ids.len().clamp(1, model.config.n_positions));
        let values = crate::cpu::forward(&graph, model, &ids)?;
        let logits = values.get(graph.tensor_id("logits").expect("graph has logits"));
        let next = pick(&logits[(ids.len() - 1) * vocab..], sampling, &mut rng);
        each(next);
        ids.push(next);
        if ids.len() > model.config.n_positions {
            break;
        }
    }
    Ok(ids[prompt.len()..].to_vec())
}
