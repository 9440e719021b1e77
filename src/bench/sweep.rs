//! Forward passes over several sequence lengths, and the decode step against its physical
//! bound: a step must read every weight once, so it can take no less than the weights' bytes
//! divided by the copy bandwidth measured in the same run.

use std::time::Instant;

use serde::Serialize;

use super::{median, Peaks};
use crate::cpu::CpuRun;
use crate::gpu::{Gpu, GpuError, GpuGraph, GpuModel, KernelRegistry};
use crate::graph::probe::Ablations;
use crate::graph::{Graph, Path};
use crate::model::Model;

/// The sequence lengths `glassbox bench` sweeps unless told otherwise: short enough that the
/// whole benchmark stays within minutes on a software adapter; `--seq-lens 1,64,256,1024` is
/// the long sweep.
pub const DEFAULT_SEQ_LENS: [usize; 2] = [1, 64];

#[derive(Debug, Serialize)]
pub struct ScaleRow {
    pub seq_len: usize,
    /// The picture's graph: scores, softmax and mix as separate ops.
    pub gpu_ms: f64,
    /// The fast path's graph: attention fused, no [H, T, T] buffers.
    pub gpu_fast_ms: f64,
    pub cpu_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct DecodeRow {
    /// The graph's path: "fast" (generation's: attention fused and split over the cache) or
    /// "picture" (the window's: every intermediate stored).
    pub path: &'static str,
    /// Tokens already in the KV cache when the timed step runs.
    pub position: usize,
    pub gpu_ms: f64,
    pub cpu_ms: f64,
    /// Bytes of weights one step reads: all of them, except wpe of which it reads one row (at
    /// the precision they are stored in).
    pub weight_bytes: u64,
    /// weight_bytes / the measured GPU copy bandwidth.
    pub bound_ms: f64,
    /// gpu_ms / bound_ms: 1 is the hardware's limit.
    pub gpu_vs_bound: f64,
    pub tokens_per_second: f64,
    /// Kernel launches one step makes.
    pub dispatches: usize,
    /// Rows of the KV cache each step's attention spans (generation's capacity).
    pub capacity: usize,
    /// Where gpu_ms goes: encoding, submit, wait, and the GPU's own time.
    pub times: StepTimes,
}

/// The token ids every benchmark and `tune` run: spread over the vocabulary, the same each run.
pub(crate) fn bench_ids(model: &Model, count: usize) -> Vec<u32> {
    (0..count)
        .map(|i| (i * 7919 % model.config.vocab_size) as u32)
        .collect()
}

/// How long a GPU runs the work to be timed before the timing starts: an H200 idles at 345 MHz
/// and boosts to 1980 only under load, so a pass timed right after the CPU reference's seconds
/// of work runs at a fraction of its speed (a 1024-token pass read 56 ms cold, against 21 ms).
/// CPU adapters have no such clock, and no time to spare.
const GPU_WARM_UP: std::time::Duration = std::time::Duration::from_millis(300);

/// Runs `f` until [`GPU_WARM_UP`] has passed, on GPUs.
pub(crate) fn warm_up(
    gpu: &Gpu,
    mut f: impl FnMut() -> Result<(), GpuError>,
) -> Result<(), GpuError> {
    if gpu.is_cpu_adapter() {
        return Ok(());
    }
    let start = Instant::now();
    while start.elapsed() < GPU_WARM_UP {
        f()?;
    }
    Ok(())
}

fn wall_ms(reps: usize, mut f: impl FnMut() -> Result<(), GpuError>) -> Result<f64, GpuError> {
    f()?;
    let mut samples = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        f()?;
        samples.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(samples))
}

/// A whole forward pass at each length, wall clock from submit to idle, on both backends.
pub async fn scaling(
    gpu: &Gpu,
    registry: &KernelRegistry,
    model: &Model,
    weights: &GpuModel,
    seq_lens: &[usize],
    reps: usize,
) -> Result<Vec<ScaleRow>, GpuError> {
    let mut rows = Vec::new();
    for &seq_len in seq_lens {
        let seq_len = seq_len.clamp(1, model.config.n_positions);
        if rows.iter().any(|r: &ScaleRow| r.seq_len == seq_len) {
            continue;
        }
        let ids = bench_ids(model, seq_len);
        let mut gpu_ms = [0.0; 2];
        for (ms, path) in gpu_ms.iter_mut().zip([Path::Picture, Path::Fast]) {
            let graph = Graph::forward_on(&model.config, seq_len, &Ablations::default(), path);
            let gpu_graph = GpuGraph::new(gpu, registry, graph, weights).await?;
            gpu_graph.set_ids(gpu, &ids)?;
            let mut run = || {
                gpu_graph.run(gpu, registry);
                gpu.wait_idle()
            };
            warm_up(gpu, &mut run)?;
            *ms = wall_ms(reps, run)?;
        }
        let graph = Graph::forward(&model.config, seq_len);
        let cpu_ms = wall_ms(reps, || {
            crate::cpu::forward(&graph, model, &ids)?;
            Ok(())
        })?;
        rows.push(ScaleRow {
            seq_len,
            gpu_ms: gpu_ms[0],
            gpu_fast_ms: gpu_ms[1],
            cpu_ms,
        });
    }
    Ok(rows)
}

/// One decode step on each path, generation's fast one first, with `position` tokens already
/// cached, on both backends. The two paths' GPU steps alternate, so that the machine's drift
/// (large on a shared CPU) falls on both alike.
pub async fn decode_steps(
    gpu: &Gpu,
    registry: &KernelRegistry,
    (model, weights): (&Model, &GpuModel),
    peaks: &Peaks,
    reps: usize,
) -> Result<Vec<DecodeRow>, GpuError> {
    let config = &model.config;
    let position = 64.min(config.n_positions - 1);
    let ids = bench_ids(model, position + 1);
    // The cache generation itself allocates: the picture's attention spans all of it every step.
    let capacity = crate::generate::capacity(config);
    let mut steps = Vec::new();
    for path in [Path::Fast, Path::Picture] {
        let graph = Graph::decode_on(config, capacity, &Ablations::default(), path);
        let step = GpuGraph::new(gpu, registry, graph.clone(), weights).await?;
        for (p, &id) in ids.iter().enumerate() {
            step.set_token(gpu, id, p)?;
            step.run(gpu, registry);
        }
        steps.push((graph, step));
    }
    let mut samples = vec![Vec::new(); steps.len()];
    warm_up(gpu, || {
        for (_, step) in &steps {
            step.set_token(gpu, ids[position], position)?;
            step.run(gpu, registry);
        }
        gpu.wait_idle()
    })?;
    // Round 0 warms up and is not counted.
    for round in 0..=reps {
        for ((_, step), samples) in steps.iter().zip(&mut samples) {
            let times = time_step(gpu, registry, step, ids[position], position).await?;
            if round > 0 {
                samples.push(times);
            }
        }
    }
    let mut rows = Vec::new();
    for ((graph, step), samples) in steps.into_iter().zip(samples) {
        let dispatches = (0..graph.ops.len()).map(|i| step.launches(i).len()).sum();
        let weight_bytes = step.weight_bytes_read();
        drop(step);
        let cpu_ms = cpu_decode_ms(&graph, model, &ids, reps)?;
        rows.push(decode_row(
            &graph,
            (weight_bytes, peaks),
            (position, capacity, dispatches),
            (StepTimes::median(&samples), cpu_ms),
        ));
    }
    Ok(rows)
}

/// Where one decode step's wall-clock time goes, in ms: the CPU encoding its commands (token
/// and position writes included), the submit, and the wait for the GPU; and the GPU's own time
/// for the step's one pass, from its timestamps (none on CPU adapters, whose timestamps are not
/// to be trusted).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct StepTimes {
    pub total_ms: f64,
    pub encode_ms: f64,
    pub submit_ms: f64,
    pub wait_ms: f64,
    pub gpu_busy_ms: Option<f64>,
}

impl StepTimes {
    /// Each figure's own median over the samples.
    fn median(samples: &[StepTimes]) -> StepTimes {
        let of = |f: fn(&StepTimes) -> f64| median(samples.iter().map(f).collect());
        StepTimes {
            total_ms: of(|t| t.total_ms),
            encode_ms: of(|t| t.encode_ms),
            submit_ms: of(|t| t.submit_ms),
            wait_ms: of(|t| t.wait_ms),
            gpu_busy_ms: samples[0]
                .gpu_busy_ms
                .map(|_| of(|t| t.gpu_busy_ms.unwrap_or_default())),
        }
    }
}

/// One decode step at `position`, its phases timed apart.
async fn time_step(
    gpu: &Gpu,
    registry: &KernelRegistry,
    step: &GpuGraph,
    token: u32,
    position: usize,
) -> Result<StepTimes, GpuError> {
    let timed = gpu.timestamps && !gpu.is_cpu_adapter();
    let query_set = timed.then(|| {
        gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("decode step"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        })
    });
    let resolved = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("decode step timestamps"),
        size: 16,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let start = Instant::now();
    step.set_token(gpu, token, position)?;
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    let writes = query_set
        .as_ref()
        .map(|query_set| wgpu::ComputePassTimestampWrites {
            query_set,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        });
    step.encode_one_pass(registry, &mut encoder, 0..step.graph().ops.len(), writes);
    if let Some(query_set) = &query_set {
        encoder.resolve_query_set(query_set, 0..2, &resolved, 0);
    }
    let commands = encoder.finish();
    let encoded = Instant::now();
    gpu.queue.submit([commands]);
    let submitted = Instant::now();
    gpu.wait_idle()?;
    let done = Instant::now();
    let gpu_busy_ms = match timed {
        true => {
            let ticks: Vec<u64> =
                bytemuck::pod_collect_to_vec(&gpu.read_buffers(&[(&resolved, 16)]).await?);
            let period = gpu.queue.get_timestamp_period() as f64;
            Some(ticks[1].saturating_sub(ticks[0]) as f64 * period * 1e-6)
        }
        false => None,
    };
    let ms = |from: Instant, to: Instant| (to - from).as_secs_f64() * 1e3;
    Ok(StepTimes {
        total_ms: ms(start, done),
        encode_ms: ms(start, encoded),
        submit_ms: ms(encoded, submitted),
        wait_ms: ms(submitted, done),
        gpu_busy_ms,
    })
}

/// The CPU reference's step at the last of `ids`, the ones before it cached.
fn cpu_decode_ms(graph: &Graph, model: &Model, ids: &[u32], reps: usize) -> Result<f64, GpuError> {
    let position = ids.len() - 1;
    let mut cpu = CpuRun::new(graph, model, &ids[..1])?;
    for (p, &id) in ids.iter().enumerate() {
        cpu.set_token(id, p)?;
        cpu.run_all();
    }
    wall_ms(reps, || {
        cpu.set_token(ids[position], position)?;
        cpu.run_all();
        Ok(())
    })
}

/// A decode step's row: its times against the bound set by the bytes of weights it reads (as the
/// GPU stores them: quantized blocks where it keeps them).
fn decode_row(
    graph: &Graph,
    (weight_bytes, peaks): (u64, &Peaks),
    (position, capacity, dispatches): (usize, usize, usize),
    (times, cpu_ms): (StepTimes, f64),
) -> DecodeRow {
    let gpu_ms = times.total_ms;
    let bound_ms = weight_bytes as f64 / (peaks.bandwidth_gbs * 1e9) * 1e3;
    DecodeRow {
        path: graph.path().name(),
        position,
        gpu_ms,
        cpu_ms,
        weight_bytes,
        bound_ms,
        gpu_vs_bound: gpu_ms / bound_ms,
        tokens_per_second: 1e3 / gpu_ms,
        dispatches,
        capacity,
        times,
    }
}
