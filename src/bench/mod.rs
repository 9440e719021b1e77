//! `glassbox bench`: every op of one transformer block (plus the embedding and the output head)
//! and the whole forward pass, on the GPU and on the CPU reference, as time, GFLOP/s, GB/s and
//! fractions of peaks measured on the same devices in the same run.

mod flags;
pub mod frames;
pub mod peaks;
pub mod sweep;
mod table;
pub mod tune;

use std::time::Instant;

use serde::Serialize;

pub use peaks::Peaks;
pub use sweep::{DecodeRow, ScaleRow, DEFAULT_SEQ_LENS};

use crate::cpu::CpuRun;
use crate::gpu::variants::KernelChoice;
use crate::gpu::WeightStorage;
use crate::gpu::{Gpu, GpuError, GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use crate::graph::Graph;
use crate::model::gguf::GgmlType;
use crate::model::Model;

pub struct BenchOptions {
    pub seq_len: usize,
    pub reps: usize,
    /// Sequence lengths of the whole-forward-pass sweep.
    pub seq_lens: Vec<usize>,
}

#[derive(Debug, Serialize)]
pub struct Speed {
    pub ms: f64,
    pub gflops: f64,
    pub gbs: f64,
    /// gflops / peak gflops of the same device.
    pub compute_fraction: f64,
    /// gbs / peak bandwidth of the same device.
    pub bandwidth_fraction: f64,
}

impl Speed {
    fn new(secs: f64, flops: u64, bytes: u64, peaks: &Peaks) -> Speed {
        let gflops = flops as f64 / secs / 1e9;
        let gbs = bytes as f64 / secs / 1e9;
        Speed {
            ms: secs * 1e3,
            gflops,
            gbs,
            compute_fraction: gflops / peaks.gflops,
            bandwidth_fraction: gbs / peaks.bandwidth_gbs,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct KernelRow {
    pub op: String,
    pub kernel: String,
    /// Why this kernel runs: "asked for", "from --kernels", "tuned", "default for this
    /// adapter" or "family default".
    pub why: String,
    pub flops: u64,
    pub bytes: u64,
    pub gpu: Speed,
    pub cpu: Speed,
}

#[derive(Debug, Serialize)]
pub struct ForwardRow {
    pub gpu_ms: f64,
    pub cpu_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub device: String,
    /// How the GPU stored floats: f32, or f16 (`--precision f16`).
    pub precision: String,
    /// "timestamps" when GPU times come from timestamp queries, else "wall clock".
    pub gpu_timing: String,
    pub model: String,
    pub seq_len: usize,
    pub gpu_peaks: Peaks,
    pub cpu_peaks: Peaks,
    pub kernels: Vec<KernelRow>,
    /// Every kernel variant on the first op of its family.
    pub variants: Vec<VariantRow>,
    /// Launches of the op back to back in the pass that times a variant.
    pub variant_launches: usize,
    pub forward: ForwardRow,
    pub scaling: Vec<ScaleRow>,
    /// The decode step generation runs (the fast path).
    pub decode: DecodeRow,
    /// The same step on the picture's graph, as the window runs it.
    pub decode_picture: DecodeRow,
    /// Measurements that break a physical limit (see [`BenchReport::find_measurement_errors`]).
    pub measurement_errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct VariantRow {
    pub family: String,
    pub variant: String,
    pub kernel: String,
    pub about: String,
    pub op: String,
    pub gpu: Speed,
}

/// Prints one line per stage on stderr, `NAME [seconds since started] what`, so that a slow
/// adapter shows where the time goes.
pub(crate) fn stage_lines(name: &'static str, started: Instant) -> impl Fn(String) {
    move |what| eprintln!("{name} [{:6.1} s] {what}", started.elapsed().as_secs_f64())
}

pub(crate) fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn time_cpu(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn describe(model: &Model) -> String {
    let c = &model.config;
    format!(
        "{} layers, {} heads, {} channels, vocab {}",
        c.n_layer, c.n_head, c.n_embd, c.vocab_size
    )
}

/// The ops benchmarked one by one: everything outside blocks 1.. (each block repeats block 0).
fn benchmarked_ops(graph: &Graph) -> Vec<usize> {
    (0..graph.ops.len())
        .filter(|&i| {
            let name = &graph.ops[i].name;
            !name.starts_with("h.") || name.starts_with("h.0.")
        })
        .collect()
}

pub async fn run(
    model: &Model,
    options: &BenchOptions,
    gpu_options: &GpuOptions,
) -> Result<BenchReport, GpuError> {
    let reps = options.reps.max(1);
    let started = Instant::now();
    let stage = stage_lines("bench", started);
    let seq_len = options.seq_len.clamp(1, model.config.n_positions);
    let graph = Graph::forward(&model.config, seq_len);
    let ids = sweep::bench_ids(model, seq_len);

    let mut gpu = Gpu::new(gpu_options).await?;
    let registry = KernelRegistry::for_gpu(&gpu)?;
    stage(format!(
        "peaks: copy bandwidth and FMA rate of {}",
        gpu.describe()
    ));
    let gpu_peaks = peaks::gpu_peaks(&gpu, &registry, reps).await?;
    let cpu_peaks = peaks::cpu_peaks(reps);

    let gpu_model = GpuModel::upload(&gpu, model).await?;
    let gpu_graph = GpuGraph::new(&gpu, &registry, graph.clone(), &gpu_model).await?;
    gpu_graph.set_ids(&gpu, &ids)?;
    let ops = benchmarked_ops(&graph);
    stage(format!(
        "{} ops of one block at {seq_len} tokens, GPU then CPU, {reps} repetitions",
        ops.len()
    ));
    let gpu_secs = gpu_op_times(&gpu, &registry, &gpu_graph, &ops, reps).await?;

    let mut cpu_run = CpuRun::new(&graph, model, &ids)?;
    for i in 0..graph.ops.len() {
        cpu_run.run_op(i);
    }
    let kernels = ops
        .iter()
        .zip(gpu_secs)
        .map(|(&i, gpu_s)| {
            let op = &graph.ops[i];
            let cpu_s = time_cpu(reps, || cpu_run.run_op(i));
            let (flops, bytes) = (op.kind.flops(), op.kind.bytes());
            let (kernel, why) = gpu_graph.kernel_of(&gpu, &registry, i);
            KernelRow {
                op: op.name.clone(),
                kernel: kernel.to_string(),
                why: why.describe().to_string(),
                flops,
                bytes,
                gpu: Speed::new(gpu_s, flops, bytes, &gpu_peaks),
                cpu: Speed::new(cpu_s, flops, bytes, &cpu_peaks),
            }
        })
        .collect();

    stage(format!("the whole forward pass at {seq_len} tokens"));
    sweep::warm_up(&gpu, || {
        gpu_graph.run(&gpu, &registry);
        gpu.wait_idle()
    })?;
    let gpu_forward = median(
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                gpu_graph.run(&gpu, &registry);
                gpu.wait_idle().map(|_| start.elapsed().as_secs_f64())
            })
            .collect::<Result<Vec<_>, _>>()?,
    );
    let cpu_forward = time_cpu(reps, || {
        crate::cpu::forward(&graph, model, &ids).expect("ids were validated");
    });
    let mut variants = Vec::new();
    // Variants this adapter cannot run (subgroups) are left out of the report.
    let kernels_with_choices = registry
        .kernels()
        .filter(|k| registry.variants(&k.id.family).len() > 1)
        .collect::<Vec<_>>();
    stage(format!("{} kernel variants", kernels_with_choices.len()));
    let choices = gpu.kernels.clone();
    // The picture's graph, then the fast path's for the families only it runs (attn_fused).
    let fast = Graph::forward_on(
        &model.config,
        seq_len,
        &crate::graph::probe::Ablations::default(),
        crate::graph::Path::Fast,
    );
    // The quantized kernels on the model's matrices as the file holds them, else in Q4_1.
    let quantized = model
        .quantized(GgmlType::Q4_1)
        .expect("Q4_1 has a quantizer");
    let quantized = GpuModel::upload_as(
        &gpu,
        &quantized,
        WeightStorage::Quantized,
        &mut |_, _, _| {},
    )
    .await?;
    for variant in kernels_with_choices {
        let first = |g: &Graph| {
            g.ops.iter().position(|o| match variant.id.family.as_str() {
                "matmul_q" => matches!(o.kind, crate::graph::OpKind::Linear { .. }),
                family => o.kind.kernel_name() == family,
            })
        };
        let Some((graph, index)) = first(&graph)
            .map(|i| (&graph, i))
            .or_else(|| first(&fast).map(|i| (&fast, i)))
        else {
            continue;
        };
        let weights = match variant.id.family.as_str() {
            "matmul_q" => &quantized,
            _ => &gpu_model,
        };
        gpu.kernels = KernelChoice::only(&variant.id);
        let with_variant = GpuGraph::new(&gpu, &registry, graph.clone(), weights).await?;
        if with_variant.launches(index)[0].kernel != variant.id {
            // The model's first linear layer does not split into blocks of 32.
            continue;
        }
        with_variant.set_ids(&gpu, &ids)?;
        // Only the ops the timed one reads from: a whole pass with a slow variant of a family
        // used everywhere (linear=naive) would cost more than every measurement together.
        with_variant.run_prefix(&gpu, &registry, index);
        let secs = repeated_op_time(&gpu, &registry, &with_variant, index, reps).await?;
        let op = &graph.ops[index];
        variants.push(VariantRow {
            family: variant.id.family.clone(),
            variant: variant.id.variant.clone(),
            kernel: variant.file,
            about: variant.about,
            op: op.name.clone(),
            gpu: Speed::new(secs, op.kind.flops(), op.kind.bytes(), &gpu_peaks),
        });
    }
    gpu.kernels = choices;
    drop(gpu_graph);
    stage(format!("forward passes at {:?} tokens", options.seq_lens));
    let scaling =
        sweep::scaling(&gpu, &registry, model, &gpu_model, &options.seq_lens, reps).await?;
    stage("the decode step on both paths, alternating, against its bound".to_string());
    let loaded = (model, &gpu_model);
    let mut decode_rows = sweep::decode_steps(&gpu, &registry, loaded, &gpu_peaks, reps).await?;
    let decode_picture = decode_rows.pop().expect("the picture's step");
    let decode = decode_rows.pop().expect("the fast step");
    stage("done".to_string());

    let mut report = BenchReport {
        device: gpu.describe(),
        precision: gpu.precision.name().to_string(),
        gpu_timing: if gpu.timestamps {
            "timestamps"
        } else {
            "wall clock"
        }
        .to_string(),
        model: describe(model),
        seq_len,
        gpu_peaks,
        cpu_peaks,
        kernels,
        variants,
        variant_launches: variant_launches(&gpu),
        forward: ForwardRow {
            gpu_ms: gpu_forward * 1e3,
            cpu_ms: cpu_forward * 1e3,
        },
        scaling,
        decode,
        decode_picture,
        measurement_errors: Vec::new(),
    };
    report.measurement_errors = report.find_measurement_errors();
    Ok(report)
}

/// Seconds of one pass that `record` encodes: the pass writes timestamps 0 and 1 of the query set
/// it is given (when the adapter has timestamps), and the time comes from them, else from the
/// wall clock around the submit and wait.
pub(crate) async fn time_pass(
    gpu: &Gpu,
    record: impl FnOnce(&mut wgpu::CommandEncoder, Option<wgpu::ComputePassTimestampWrites<'_>>),
) -> Result<f64, GpuError> {
    let query_set = gpu.timestamps.then(|| {
        gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("bench"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        })
    });
    let resolved = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("bench timestamps"),
        size: 16,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    let timestamp_writes = query_set
        .as_ref()
        .map(|query_set| wgpu::ComputePassTimestampWrites {
            query_set,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        });
    record(&mut encoder, timestamp_writes);
    if let Some(query_set) = &query_set {
        encoder.resolve_query_set(query_set, 0..2, &resolved, 0);
    }
    let start = Instant::now();
    gpu.queue.submit([encoder.finish()]);
    gpu.wait_idle()?;
    let wall = start.elapsed().as_secs_f64();
    pass_seconds(gpu, &resolved, wall).await
}

/// Seconds between the two timestamps resolved into `resolved`, or `wall` when the adapter has no
/// timestamps or reports the same tick at both ends (lavapipe does for some passes), so that a
/// measurement is never zero.
async fn pass_seconds(gpu: &Gpu, resolved: &wgpu::Buffer, wall: f64) -> Result<f64, GpuError> {
    if !gpu.timestamps {
        return Ok(wall);
    }
    let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&gpu.read_buffers(&[(resolved, 16)]).await?);
    let secs =
        ticks[1].saturating_sub(ticks[0]) as f64 * gpu.queue.get_timestamp_period() as f64 * 1e-9;
    Ok(if secs > 0.0 { secs } else { wall })
}

/// Median seconds of op `index` run alone: timestamps around its pass where the adapter has them,
/// else wall clock around a submit and wait.
async fn op_time(
    gpu: &Gpu,
    registry: &KernelRegistry,
    graph: &GpuGraph,
    index: usize,
    reps: usize,
) -> Result<f64, GpuError> {
    let mut samples = Vec::new();
    for _ in 0..reps {
        let secs = time_pass(gpu, |encoder, timestamp_writes| {
            let query_set = timestamp_writes.map(|w| w.query_set);
            graph.encode(registry, encoder, index..index + 1, query_set);
        })
        .await?;
        samples.push(secs);
    }
    Ok(median(samples))
}

/// Launches of an op in one pass when the variant table times it on a GPU: there one launch of
/// a small op is shorter than a pass's start, and an op timed alone after an idle GPU runs at
/// the clock the GPU idles at. A CPU adapter runs one: it has neither problem, and a slow
/// variant (linear=naive) takes seconds a launch there.
pub(crate) fn variant_launches(gpu: &Gpu) -> usize {
    if gpu.is_cpu_adapter() {
        1
    } else {
        8
    }
}

/// Median seconds of op `index` run alone, [`variant_launches`] times back to back in one pass
/// (its operands stay in cache where they fit), per launch.
async fn repeated_op_time(
    gpu: &Gpu,
    registry: &KernelRegistry,
    graph: &GpuGraph,
    index: usize,
    reps: usize,
) -> Result<f64, GpuError> {
    let launches = variant_launches(gpu);
    let mut samples = Vec::new();
    for rep in 0..=reps {
        let secs = time_pass(gpu, |encoder, timestamp_writes| {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("one op, repeated"),
                timestamp_writes,
            });
            for _ in 0..launches {
                for launch in graph.launches(index) {
                    launch.dispatch(&mut pass, registry, graph.precision);
                }
            }
        })
        .await?;
        if rep > 0 {
            samples.push(secs / launches as f64);
        }
    }
    Ok(median(samples))
}

/// Median seconds per op: from per-op timestamps of whole-graph runs when the adapter has them,
/// else wall clock around each op submitted alone.
async fn gpu_op_times(
    gpu: &Gpu,
    registry: &KernelRegistry,
    graph: &GpuGraph,
    ops: &[usize],
    reps: usize,
) -> Result<Vec<f64>, GpuError> {
    let mut samples = vec![Vec::new(); ops.len()];
    sweep::warm_up(gpu, || {
        graph.run(gpu, registry);
        gpu.wait_idle()
    })?;
    for _ in 0..reps {
        if let Some(timings) = graph.run_timed(gpu, registry).await? {
            for (slot, &i) in ops.iter().enumerate() {
                samples[slot].push(timings[i].nanos * 1e-9);
            }
        } else {
            for (slot, &i) in ops.iter().enumerate() {
                samples[slot].push(op_time(gpu, registry, graph, i, 1).await?);
            }
        }
    }
    Ok(samples.into_iter().map(median).collect())
}
