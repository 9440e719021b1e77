//! Kernel launches: a kernel, its typed parameters in a uniform buffer, the buffers it binds and
//! its workgroup grid, evaluated from the parameters by the grid its header states.

use wgpu::util::DeviceExt;

use super::kernels::{KernelError, KernelId, KernelParams, KernelRegistry};
use super::{Gpu, GpuError};

/// One kernel launch, bound once and dispatched every run.
pub struct Launch {
    pub kernel: KernelId,
    pub bind_group: wgpu::BindGroup,
    pub workgroups: [u32; 3],
    /// What the bind group holds, for binding the same launch to a trace version of the kernel.
    pub params: Vec<u8>,
    pub buffers: Vec<wgpu::Buffer>,
}

impl Launch {
    /// Binds `buffers` (in binding order, after the parameters) to `kernel`, a kernel of the
    /// family `P` belongs to. `what` names the launch in errors.
    pub fn new<P: KernelParams>(
        gpu: &Gpu,
        registry: &KernelRegistry,
        kernel: &KernelId,
        what: &str,
        params: &P,
        buffers: &[&wgpu::Buffer],
    ) -> Result<Launch, GpuError> {
        assert_eq!(
            kernel.family,
            P::FAMILY,
            "{what}: parameters of another family"
        );
        Self::with_params(
            gpu,
            registry,
            kernel,
            what,
            bytemuck::bytes_of(params),
            buffers,
        )
    }

    /// The same launch (parameters and buffers) with another kernel of its family, and the grid
    /// that kernel's header gives for these parameters: how `glassbox tune` times a variant on
    /// an op of a graph.
    pub fn with_kernel(
        &self,
        gpu: &Gpu,
        registry: &KernelRegistry,
        kernel: &KernelId,
        what: &str,
    ) -> Result<Launch, GpuError> {
        assert_eq!(kernel.family, self.kernel.family, "{what}: another family");
        let buffers: Vec<&wgpu::Buffer> = self.buffers.iter().collect();
        Self::with_params(gpu, registry, kernel, what, &self.params, &buffers)
    }

    fn with_params(
        gpu: &Gpu,
        registry: &KernelRegistry,
        kernel: &KernelId,
        what: &str,
        bytes: &[u8],
        buffers: &[&wgpu::Buffer],
    ) -> Result<Launch, GpuError> {
        let source = registry.source(kernel);
        assert_eq!(
            buffers.len(),
            source.interface.storage.len(),
            "{what}: family {} binds {} buffers",
            kernel.family,
            source.interface.storage.len()
        );
        // Copied out: a byte vector need not be aligned for u32.
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let field = |name: &str| match source.family.fields.iter().position(|f| f.name == name) {
            Some(index) => words.get(index).copied(),
            None => source.constants.get(name).copied(),
        };
        let limit = gpu.limits.max_compute_workgroups_per_dimension;
        let workgroups = source
            .header
            .grid
            .eval(&field, limit)
            .map_err(|message| KernelError {
                file: source.file.clone(),
                line: source.header.dispatch_line,
                column: 1,
                message: format!("{what}: {message}"),
            })?;
        if workgroups.iter().any(|&w| w > limit) {
            return Err(GpuError::Dispatch {
                op: what.to_string(),
                workgroups,
                limit,
            });
        }
        registry.prepare(kernel)?;
        let layout = registry.layout(&kernel.family);
        Ok(Launch {
            kernel: kernel.clone(),
            bind_group: bind_group(gpu, layout, what, bytes, buffers),
            workgroups,
            params: bytes.to_vec(),
            buffers: buffers.iter().map(|&b| b.clone()).collect(),
        })
    }

    /// Records the launch into a compute pass, with the kernel's pipeline for `precision`.
    pub fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        registry: &KernelRegistry,
        precision: super::Precision,
    ) {
        pass.set_pipeline(registry.pipeline_for(&self.kernel, precision));
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}

/// A bind group for `layout`: `params` as a uniform buffer at binding 0, then `buffers`.
pub fn bind_group(
    gpu: &Gpu,
    layout: &wgpu::BindGroupLayout,
    label: &str,
    params: &[u8],
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    // Uniform buffers are bound in multiples of 16 bytes.
    let mut padded = params.to_vec();
    padded.resize(params.len().div_ceil(16).max(1) * 16, 0);
    let uniform = gpu
        .device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: &padded,
            usage: wgpu::BufferUsages::UNIFORM,
        });
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: uniform.as_entire_binding(),
    }];
    for (i, buffer) in buffers.iter().enumerate() {
        entries.push(wgpu::BindGroupEntry {
            binding: 1 + i as u32,
            resource: buffer.as_entire_binding(),
        });
    }
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}
