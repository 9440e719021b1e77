//! Peaks measured on the device under test in the same run, so that every kernel's speed can be
//! given as a fraction of what that device can do: a copy for bandwidth, FMA chains for arithmetic.

use std::time::Instant;

use serde::Serialize;

use super::{median, time_pass};
use crate::gpu::kernels::params::{PeakCopyParams, PeakFmaParams};
use crate::gpu::{Gpu, GpuError, KernelId, KernelRegistry, Launch, Precision};

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Peaks {
    /// Copy bandwidth, bytes read plus bytes written per second, in GB/s.
    pub bandwidth_gbs: f64,
    /// Arithmetic rate in GFLOP/s (an FMA counts as two).
    pub gflops: f64,
    /// The same bytes moved by `copy_buffer_to_buffer` (the driver's own copy), GB/s: a check
    /// on the copy kernel. None on CPU adapters and for the CPU itself.
    pub copy_engine_gbs: Option<f64>,
    /// The maker's FP32 figure for this adapter where its name is known, GFLOP/s.
    pub datasheet_gflops: Option<f64>,
    /// Whether the probes were timed by the wall clock around a submit and wait (CPU adapters,
    /// whose timestamps are not to be trusted, and the CPU itself) rather than by timestamps.
    pub wall_clock: bool,
}

/// Bytes the copy probe moves each way. A GPU's: at least four times the largest L2 caches
/// (an H200's is 60 MB), 1 GiB where a binding may be that large, so that the copy measures
/// memory and not the cache. A CPU adapter's (lavapipe): 64 MiB, past a CPU's last-level cache,
/// small enough for the wall clock to time within seconds.
fn probe_bytes(gpu: &Gpu) -> u64 {
    let wanted: u64 = if gpu.is_cpu_adapter() {
        64 << 20
    } else {
        1 << 30
    };
    wanted.min(gpu.max_binding_bytes) / 16 * 16
}

/// Launches of a probe kernel in one timed pass on a GPU: long enough that the pass's start
/// and end cost nothing beside it (a 1 GiB copy takes about 0.5 ms on an H200).
const LAUNCHES_PER_PASS: usize = 8;

/// Seconds of one launch of a probe kernel. On a GPU: the median over `reps` passes of
/// [`LAUNCHES_PER_PASS`] launches each, timed by the pass's timestamps. On a CPU adapter, whose
/// timestamps can claim a tenth of the real time (lavapipe's do on a device that also drives a
/// window), or on a device without timestamps: the wall clock around a submit and wait of one.
async fn probe_seconds(
    gpu: &Gpu,
    registry: &KernelRegistry,
    launch: &Launch,
    reps: usize,
) -> Result<f64, GpuError> {
    if gpu.is_cpu_adapter() || !gpu.timestamps {
        let mut samples = Vec::new();
        for rep in 0..=reps {
            let start = Instant::now();
            submit_launches(gpu, registry, launch, 1);
            gpu.wait_idle()?;
            if rep > 0 {
                samples.push(start.elapsed().as_secs_f64());
            }
        }
        return Ok(median(samples));
    }
    let mut samples = Vec::new();
    for rep in 0..=reps {
        let secs = time_pass(gpu, |encoder, timestamp_writes| {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("probe"),
                timestamp_writes,
            });
            for _ in 0..LAUNCHES_PER_PASS {
                launch.dispatch(&mut pass, registry, Precision::F32);
            }
        })
        .await?;
        if rep > 0 {
            samples.push(secs / LAUNCHES_PER_PASS as f64);
        }
    }
    Ok(median(samples))
}

fn submit_launches(gpu: &Gpu, registry: &KernelRegistry, launch: &Launch, count: usize) {
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        for _ in 0..count {
            launch.dispatch(&mut pass, registry, Precision::F32);
        }
    }
    gpu.queue.submit([encoder.finish()]);
}

/// Two tensors of [`probe_bytes`] each. Their contents do not matter to a copy: wgpu zeroes them.
fn probe_buffers(gpu: &Gpu) -> (wgpu::Buffer, wgpu::Buffer) {
    let bytes = probe_bytes(gpu);
    let buffer = |label| {
        gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    };
    (buffer("peak src"), buffer("peak dst"))
}

/// The copy probe between two fresh tensors, and the bytes of one.
fn copy_probe(gpu: &Gpu, registry: &KernelRegistry) -> Result<(Launch, u64), GpuError> {
    let (src, dst) = probe_buffers(gpu);
    copy_launch(gpu, registry, &src, &dst)
}

fn copy_launch(
    gpu: &Gpu,
    registry: &KernelRegistry,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> Result<(Launch, u64), GpuError> {
    let bytes = src.size();
    let copy = Launch::new(
        gpu,
        registry,
        &KernelId::new("peak_copy", "default"),
        "the copy probe",
        &PeakCopyParams {
            n: (bytes / 16) as u32,
        },
        &[src, dst],
    )?;
    Ok((copy, bytes))
}

/// Seconds of one `copy_buffer_to_buffer` of `src` into `dst`: the wall clock around
/// [`LAUNCHES_PER_PASS`] of them in one submit, after one to warm up. A copy is no compute pass,
/// so timestamps around it need a feature not every adapter has; at 8 GiB moved per submit the
/// submit and wait are a small share of the time.
fn copy_engine_seconds(gpu: &Gpu, src: &wgpu::Buffer, dst: &wgpu::Buffer) -> Result<f64, GpuError> {
    let run = |count: usize| -> Result<f64, GpuError> {
        let start = Instant::now();
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        for _ in 0..count {
            encoder.copy_buffer_to_buffer(src, 0, dst, 0, src.size());
        }
        gpu.queue.submit([encoder.finish()]);
        gpu.wait_idle()?;
        Ok(start.elapsed().as_secs_f64() / count as f64)
    };
    run(1)?;
    let samples = (0..3)
        .map(|_| run(LAUNCHES_PER_PASS))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(median(samples))
}

/// The maker's FP32 rate (GFLOP/s, boost clock, without tensor cores) for adapters whose name
/// says which chip they are; the FMA probe is shown beside it.
pub fn datasheet_gflops(adapter_name: &str) -> Option<f64> {
    const DATASHEET: [(&str, f64); 8] = [
        ("H200", 66_900.0),
        ("H100 PCIe", 51_200.0),
        ("H100", 66_900.0),
        ("A100", 19_500.0),
        ("L40S", 91_600.0),
        ("RTX 4090", 82_600.0),
        ("RTX 3090", 35_600.0),
        ("A10G", 31_200.0),
    ];
    DATASHEET
        .iter()
        .find(|(name, _)| adapter_name.contains(name))
        .map(|&(_, gflops)| gflops)
}

/// Pushes everything else out of the CPU's caches (lavapipe's device memory is host memory)
/// and a GPU's L2 by copying a tensor larger than them: run before an op is timed, it makes
/// the op read its weights from memory, as a decode step, which reads every weight once, does.
pub(crate) struct CacheFlush(Launch);

impl CacheFlush {
    pub(crate) fn new(gpu: &Gpu, registry: &KernelRegistry) -> Result<CacheFlush, GpuError> {
        Ok(CacheFlush(copy_probe(gpu, registry)?.0))
    }

    pub(crate) fn run(&self, gpu: &Gpu, registry: &KernelRegistry) -> Result<(), GpuError> {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            self.0.dispatch(&mut pass, registry, Precision::F32);
        }
        gpu.queue.submit([encoder.finish()]);
        gpu.wait_idle()
    }
}

pub async fn gpu_peaks(
    gpu: &Gpu,
    registry: &KernelRegistry,
    reps: usize,
) -> Result<Peaks, GpuError> {
    let (src, dst) = probe_buffers(gpu);
    let (copy, bytes) = copy_launch(gpu, registry, &src, &dst)?;
    let copy_secs = probe_seconds(gpu, registry, &copy, reps).await?;
    let copy_engine_gbs = if gpu.is_cpu_adapter() {
        None
    } else {
        Some(2.0 * bytes as f64 / copy_engine_seconds(gpu, &src, &dst)? / 1e9)
    };
    drop((copy, src, dst));

    // Enough threads to fill the largest GPUs (an H200 keeps about 270k resident), then more work
    // per thread until one run is long enough that launching it costs nothing in comparison.
    let threads = 1u32 << 18;
    let out = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("peak fma out"),
        size: threads as u64 * 4,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let mut iterations = 16u32;
    loop {
        let fma = Launch::new(
            gpu,
            registry,
            &KernelId::new("peak_fma", "default"),
            "the arithmetic probe",
            &PeakFmaParams {
                threads,
                iterations,
            },
            &[&out],
        )?;
        let secs = probe_seconds(gpu, registry, &fma, reps).await?;
        if secs > 0.05 || iterations >= 1 << 20 {
            let flops = threads as f64 * iterations as f64 * 64.0;
            return Ok(Peaks {
                bandwidth_gbs: 2.0 * bytes as f64 / copy_secs / 1e9,
                gflops: flops / secs / 1e9,
                copy_engine_gbs,
                datasheet_gflops: datasheet_gflops(&gpu.adapter_info.name),
                wall_clock: gpu.is_cpu_adapter() || !gpu.timestamps,
            });
        }
        iterations *= 4;
    }
}

/// CPU peaks: a memory copy on one thread, and sgemm on a large square matrix (the arithmetic
/// rate the CPU reference's matrix products can reach on this machine).
pub fn cpu_peaks(reps: usize) -> Peaks {
    let len = (64usize << 20) / 4;
    let src = vec![1.0f32; len];
    let mut dst = vec![0.0f32; len];
    let copy = median(
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                dst.copy_from_slice(&src);
                std::hint::black_box(&dst);
                start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let n = 1024;
    let a = vec![0.5f32; n * n];
    let b = vec![0.25f32; n * n];
    let mut c = vec![0.0f32; n * n];
    let gemm = median(
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                crate::cpu::ops::linear(&mut c, &a, &b, Some(&vec![0.0; n]), n, n, n);
                std::hint::black_box(&c);
                start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    Peaks {
        bandwidth_gbs: 2.0 * (len * 4) as f64 / copy / 1e9,
        gflops: 2.0 * (n * n * n) as f64 / gemm / 1e9,
        copy_engine_gbs: None,
        datasheet_gflops: None,
        wall_clock: true,
    }
}
