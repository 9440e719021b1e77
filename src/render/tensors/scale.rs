//! The colour scale of every tensor, computed on the GPU after the graph runs and read by the
//! draw shader from the same buffers: the largest |value| (for the difference view) and a robust
//! scale, the 99.5th percentile of |value| to a quarter octave, so that a few outlier channels
//! saturate instead of washing out every other cell.

use wgpu::util::DeviceExt;

use crate::gpu::kernels::params::{AbsmaxParams, ScaleHistogramParams, ScalePickParams};
use crate::gpu::{Gpu, GpuError, GpuGraph, KernelId, KernelRegistry, Launch, Precision};

/// Bins per tensor of the histogram (quarter octaves below the largest |value|).
const BINS: usize = 64;
/// The share of the largest |values| the robust scale lets saturate.
pub const TAIL: f32 = 0.005;

pub(super) struct ColourScale {
    /// Per tensor: the largest |value|, as f32 bits.
    pub absmax: wgpu::Buffer,
    bins: wgpu::Buffer,
    /// Per tensor: the robust scale, as f32 bits.
    pub scales: wgpu::Buffer,
    absmax_launches: Vec<Launch>,
    histogram_launches: Vec<Launch>,
    pick: Launch,
}

fn zeroed(gpu: &Gpu, label: &str, words: usize) -> wgpu::Buffer {
    gpu.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(&vec![0u32; words.max(1)]),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
        })
}

impl ColourScale {
    pub fn new(
        gpu: &Gpu,
        registry: &KernelRegistry,
        graph: &GpuGraph,
    ) -> Result<ColourScale, GpuError> {
        let tensors = graph.graph().tensors.len();
        let absmax = zeroed(gpu, "absmax", tensors);
        let bins = zeroed(gpu, "colour scale histogram", tensors * BINS);
        let scales = zeroed(gpu, "colour scales", tensors);
        let what = "the colour scale";
        let absmax_kernel = KernelId::new("absmax", "default");
        let histogram_kernel = KernelId::new("scale_histogram", "default");
        let mut absmax_launches = Vec::new();
        let mut histogram_launches = Vec::new();
        for id in 0..tensors {
            let tensor = graph.tensor(id);
            for (chunk, _, rows) in tensor.chunk_ranges() {
                let n = (rows * tensor.row_len) as u32;
                let slot = id as u32;
                absmax_launches.push(Launch::new(
                    gpu,
                    registry,
                    &absmax_kernel,
                    what,
                    &AbsmaxParams { n, slot },
                    &[chunk, &absmax],
                )?);
                histogram_launches.push(Launch::new(
                    gpu,
                    registry,
                    &histogram_kernel,
                    what,
                    &ScaleHistogramParams { n, slot },
                    &[chunk, &absmax, &bins],
                )?);
            }
        }
        let pick = Launch::new(
            gpu,
            registry,
            &KernelId::new("scale_pick", "default"),
            what,
            &ScalePickParams {
                tensors: tensors as u32,
                tail: TAIL,
            },
            &[&absmax, &bins, &scales],
        )?;
        Ok(ColourScale {
            absmax,
            bins,
            scales,
            absmax_launches,
            histogram_launches,
            pick,
        })
    }

    /// Records the three passes (largest |value|, histogram, pick). Reads nothing back.
    pub fn encode(
        &self,
        registry: &KernelRegistry,
        precision: Precision,
        encoder: &mut wgpu::CommandEncoder,
    ) {
        encoder.clear_buffer(&self.absmax, 0, None);
        encoder.clear_buffer(&self.bins, 0, None);
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("colour scale"),
            timestamp_writes: None,
        });
        let launches = self.absmax_launches.iter().chain(&self.histogram_launches);
        for launch in launches.chain([&self.pick]) {
            launch.dispatch(&mut pass, registry, precision);
        }
    }
}
