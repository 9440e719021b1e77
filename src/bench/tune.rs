//! `glassbox tune`: every variant of every family that has a choice, on each op shape of a
//! model's forward pass (at the given length, and at one token: a decode step's shapes), on the
//! present adapter. Each variant runs on the op's own inputs in the graph, its output is compared
//! with the CPU reference, and the fastest one that agrees is kept per (adapter, precision, op
//! shape) in the tuned file ([`crate::gpu::tuned`]), which picks the kernels from then on.
//! One-token ops are timed with the caches flushed before each run: a decode step reads each
//! weight once, from memory, and a kernel's walk through memory is what decides its speed
//! there (on lavapipe `linear=row_stream` is no faster than `broadcast_row` on cached weights,
//! and twice as fast inside a step).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::peaks::CacheFlush;
use super::{median, time_pass};
use crate::gpu::kernels::KernelId;
use crate::gpu::tuned::{adapter_key, entry_key, TriedVariant, TunedFile, TunedOp};
use crate::gpu::variants::tuning_key;
use crate::gpu::{Gpu, GpuError, GpuGraph, GpuModel, GpuOptions, KernelRegistry, Launch};
use crate::graph::Graph;
use crate::model::Model;
use crate::values::compare::compare;

pub struct TuneOptions {
    /// Tokens of the longer forward pass whose shapes are tuned (one token is always tuned too).
    pub seq_len: usize,
    pub reps: usize,
    /// The tuned file to update.
    pub file: PathBuf,
}

#[derive(Debug, Serialize)]
pub struct TuneReport {
    pub device: String,
    pub precision: String,
    /// The tuned file written.
    pub file: String,
    pub shapes: Vec<TunedShape>,
}

#[derive(Debug, Serialize)]
pub struct TunedShape {
    /// The first op of the graph with this shape.
    pub op: String,
    pub shape: String,
    pub family: String,
    /// What ran before this run of `tune` (a tuned file's earlier choice included).
    pub before: String,
    /// The fastest variant that agreed with the CPU reference: what runs from now on.
    pub chosen: Option<String>,
    pub tried: Vec<TriedVariant>,
}

pub async fn tune(
    model: &Model,
    options: &TuneOptions,
    gpu_options: &GpuOptions,
) -> Result<TuneReport, GpuError> {
    let started = Instant::now();
    let stage = super::stage_lines("tune", started);
    let mut gpu = Gpu::new(gpu_options).await?;
    let registry = KernelRegistry::for_gpu(&gpu)?;
    let before = gpu.kernels.clone();
    gpu.kernels = before.clone().without_dropped_in();
    let gpu_model = GpuModel::upload_dequantized(&gpu, model).await?;
    let mut file = TunedFile::load(&options.file)?;
    let adapter = adapter_key(&gpu.adapter_info);
    let reps = options.reps.max(1);
    let mut lengths = vec![options.seq_len.clamp(1, model.config.n_positions), 1];
    lengths.dedup();

    let mut shapes = Vec::new();
    let mut seen = BTreeSet::new();
    let flush = CacheFlush::new(&gpu, &registry)?;
    for t in lengths {
        let streamed = (t == 1).then_some(&flush);
        let graph = Graph::forward(&model.config, t);
        let targets: Vec<usize> = (0..graph.ops.len())
            .filter(|&i| {
                let kind = &graph.ops[i].kind;
                registry.variants(kind.kernel_name()).len() > 1 && seen.insert(tuning_key(kind))
            })
            .collect();
        if targets.is_empty() {
            continue;
        }
        stage(format!(
            "{} op shapes at {t} tokens on {}",
            targets.len(),
            gpu.describe()
        ));
        let ids = super::sweep::bench_ids(model, t);
        let reference = crate::cpu::forward(&graph, model, &ids)?;
        let gpu_graph = GpuGraph::new(&gpu, &registry, graph.clone(), &gpu_model).await?;
        gpu_graph.set_ids(&gpu, &ids)?;
        gpu_graph.run(&gpu, &registry);
        gpu.wait_idle()?;
        for index in targets {
            let op = &graph.ops[index];
            let family = op.kind.kernel_name();
            let output = op.outputs[0];
            let expected = reference.get(output);
            let mut tried = Vec::new();
            for variant in registry.variants(family) {
                tried.push(
                    try_variant(
                        &gpu,
                        &registry,
                        &gpu_graph,
                        index,
                        &variant.id,
                        expected,
                        Timing {
                            reps,
                            flush: streamed,
                        },
                    )
                    .await?,
                );
            }
            // The op's output as the graph's own kernel writes it, for the ops after it.
            gpu_graph.run_range(&gpu, &registry, index..index + 1);
            gpu.wait_idle()?;
            let fastest = tried
                .iter()
                .filter_map(|v| v.ms.map(|ms| (ms, v)))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(ms, v)| (ms, v.variant.clone()));
            let shape = tuning_key(&op.kind);
            let entries = file.adapters.entry(adapter.clone()).or_default();
            if let Some((ms, variant)) = &fastest {
                entries.insert(
                    entry_key(gpu.precision, &shape),
                    TunedOp {
                        family: family.to_string(),
                        variant: variant.clone(),
                        ms: *ms,
                        tried: tried.clone(),
                    },
                );
            }
            stage(format!(
                "{}: {} ({})",
                op.name,
                fastest
                    .as_ref()
                    .map_or("no variant agreed", |(_, v)| v.as_str()),
                tried
                    .iter()
                    .map(|v| match v.ms {
                        Some(ms) => format!("{} {ms:.3} ms", v.variant),
                        None => format!("{} refused", v.variant),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            shapes.push(TunedShape {
                op: op.name.clone(),
                shape,
                family: family.to_string(),
                before: before.kernel_for_op(&op.kind, &registry).variant,
                chosen: fastest.map(|(_, v)| v),
                tried,
            });
        }
    }
    file.save(&options.file)?;
    Ok(TuneReport {
        device: gpu.describe(),
        precision: gpu.precision.name().to_string(),
        file: options.file.display().to_string(),
        shapes,
    })
}

/// How a variant is timed: the median of `reps` runs, with `flush` run before each where given.
struct Timing<'a> {
    reps: usize,
    flush: Option<&'a CacheFlush>,
}

/// Runs `kernel` in place of op `index`'s own kernel, on the op's inputs, and checks its output
/// against the CPU reference (the output is poisoned with NaN first, so a kernel that writes
/// nothing cannot pass on what the graph left there); times it only if it agrees, with `flush`
/// run before each timing where given.
async fn try_variant(
    gpu: &Gpu,
    registry: &KernelRegistry,
    graph: &GpuGraph,
    index: usize,
    kernel: &KernelId,
    expected: &[f32],
    Timing { reps, flush }: Timing<'_>,
) -> Result<TriedVariant, GpuError> {
    let op = &graph.graph().ops[index];
    let tried = |ms: Option<f64>, outcome: String| TriedVariant {
        variant: kernel.variant.clone(),
        ms,
        outcome,
    };
    let launches = match graph
        .launches(index)
        .iter()
        .map(|launch| launch.with_kernel(gpu, registry, kernel, &op.name))
        .collect::<Result<Vec<Launch>, GpuError>>()
    {
        Ok(launches) => launches,
        Err(e) => return Ok(tried(None, e.to_string())),
    };
    let output = op.outputs[0];
    for (buffer, _, _) in graph.tensor(output).chunk_ranges() {
        gpu.queue
            .write_buffer(buffer, 0, &vec![0xFF; buffer.size() as usize]);
    }
    let record = |encoder: &mut wgpu::CommandEncoder,
                  timestamp_writes: Option<wgpu::ComputePassTimestampWrites<'_>>| {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("tuned kernel"),
            timestamp_writes,
        });
        for launch in &launches {
            launch.dispatch(&mut pass, registry, graph.precision);
        }
    };
    // The first run also warms up caches and pipelines.
    time_pass(gpu, record).await?;
    let difference = compare(&graph.read(gpu, output).await?, expected);
    let tolerance = graph.precision.tolerance();
    if !difference.within(tolerance) {
        return Ok(tried(
            None,
            format!(
                "differs from the CPU reference by {} (allowed {})",
                difference.max_abs,
                tolerance * difference.scale
            ),
        ));
    }
    let mut samples = Vec::new();
    for _ in 0..reps {
        if let Some(flush) = flush {
            flush.run(gpu, registry)?;
        }
        samples.push(time_pass(gpu, record).await?);
    }
    Ok(tried(Some(median(samples) * 1e3), "ok".to_string()))
}

impl TuneReport {
    /// The report as a plain-text table: per op shape, each variant's time and the one kept.
    pub fn table(&self) -> String {
        let mut lines = vec![format!(
            "device: {} ({} storage); tuned choices written to {}",
            self.device, self.precision, self.file
        )];
        for shape in &self.shapes {
            lines.push(format!(
                "{} ({}): {} -> {}",
                shape.op,
                shape.shape,
                shape.before,
                shape
                    .chosen
                    .as_deref()
                    .unwrap_or("nothing agreed: unchanged"),
            ));
            for tried in &shape.tried {
                let time = tried
                    .ms
                    .map_or_else(|| "-".to_string(), |ms| format!("{ms:.3} ms"));
                lines.push(format!(
                    "  {:<12} {:>12}  {}",
                    tried.variant, time, tried.outcome
                ));
            }
        }
        lines.push(String::new());
        lines.join("\n")
    }
}
