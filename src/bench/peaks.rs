//! Peaks measured on the device under test in the same run, so that every kernel's speed can be
//! given as a fraction of what that device can do: a copy for bandwidth, FMA chains for arithmetic.

use std::time::Instant;

use serde::Serialize;
use wgpu::util::DeviceExt;

use super::{median, time_gpu};
use crate::gpu::kernels::params::{PeakCopyParams, PeakFmaParams};
use crate::gpu::{Gpu, GpuError, KernelId, KernelRegistry, Launch, Precision};

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Peaks {
    /// Copy bandwidth, bytes read plus bytes written per second, in GB/s.
    pub bandwidth_gbs: f64,
    /// Arithmetic rate in GFLOP/s (an FMA counts as two).
    pub gflops: f64,
}

/// A tensor big enough to leave the caches: 64 MiB, or the binding limit if that is smaller.
fn probe_bytes(gpu: &Gpu) -> u64 {
    (64u64 << 20).min(gpu.max_binding_bytes) / 16 * 16
}

/// Seconds of one run of a probe kernel: its GPU timestamps, unless they claim less than a tenth
/// of the wall clock around the submit and wait (lavapipe's do, on a device that also drives a
/// window); the wall clock is used then. A real GPU's launch overhead stays well inside that 10x.
async fn probe_seconds(
    gpu: &Gpu,
    registry: &KernelRegistry,
    launch: &Launch,
    reps: usize,
) -> Result<f64, GpuError> {
    let start = Instant::now();
    let secs = median(time_gpu(gpu, registry, launch, reps).await?);
    let wall = start.elapsed().as_secs_f64() / (reps + 1) as f64;
    Ok(if secs * 10.0 < wall { wall } else { secs })
}

/// The copy probe over two fresh tensors of [`probe_bytes`] each, and the bytes of one.
fn copy_probe(gpu: &Gpu, registry: &KernelRegistry) -> Result<(Launch, u64), GpuError> {
    let bytes = probe_bytes(gpu);
    let src = gpu
        .device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("peak src"),
            contents: &vec![1u8; bytes as usize],
            usage: wgpu::BufferUsages::STORAGE,
        });
    let dst = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("peak dst"),
        size: bytes,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let vec4s = (bytes / 16) as usize;
    let copy = Launch::new(
        gpu,
        registry,
        &KernelId::new("peak_copy", "default"),
        "the copy probe",
        &PeakCopyParams { n: vec4s as u32 },
        &[&src, &dst],
    )?;
    Ok((copy, bytes))
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
    let (copy, bytes) = copy_probe(gpu, registry)?;
    let copy_secs = probe_seconds(gpu, registry, &copy, reps).await?;

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
    }
}
