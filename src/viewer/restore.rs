//! Carrying a session over to a new device: what the user had (scene, tokens, step, mode,
//! sampling, precision, kernel choice and the kernel files they loaded or edited) taken from a
//! viewer, and put back on a viewer built on a fresh device after the old one was lost.

use super::Viewer;
use crate::cpu::sampling::Sampling;
use crate::gpu::kernels::{KernelError, Origin};
use crate::gpu::variants::KernelChoice;
use crate::gpu::{Gpu, GpuError, Precision};
use crate::scene::Scene;

/// What a viewer shows, without the device it shows it on.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub scene: Scene,
    pub ids: Vec<u32>,
    pub op_count: usize,
    pub current: Option<usize>,
    pub decoding: bool,
    pub sampling: Sampling,
    pub difference: bool,
    pub precision: Precision,
    pub kernels: KernelChoice,
    /// The kernel files loaded at run time, as (file, text with its helpers appended), in the
    /// order they were loaded.
    pub kernel_files: Vec<(String, String)>,
}

impl Viewer {
    /// The kernel files loaded at run time, as (file, text): self-contained, so that helpers
    /// included from the user's folder come along.
    pub fn snapshot_kernel_files(&self) -> Vec<(String, String)> {
        self.registry
            .kernels()
            .filter(|k| k.origin != Origin::BuiltIn)
            .map(|k| (k.file, self.registry.source(&k.id).self_contained()))
            .collect()
    }

    pub fn snapshot(&self) -> Snapshot {
        let kernel_files = self.snapshot_kernel_files();
        Snapshot {
            scene: self.scene.clone(),
            ids: self.ids.clone(),
            op_count: self.op_count,
            current: self.current,
            decoding: self.decoding,
            sampling: self.sampling,
            difference: self.difference.is_some(),
            precision: self.graph.precision,
            kernels: self.gpu.kernels.clone(),
            kernel_files,
        }
    }

    /// A viewer on `gpu` showing what `snapshot` holds, and the kernel files that no longer
    /// load there (the new adapter lacks a feature, say): those are left out.
    pub async fn restore(
        mut gpu: Gpu,
        snapshot: Snapshot,
        format: wgpu::TextureFormat,
    ) -> Result<(Viewer, Vec<KernelError>), GpuError> {
        // The choice may name variants of the kernel files: it applies once they are loaded.
        gpu.precision = snapshot.precision;
        let mut viewer = Viewer::with_gpu(gpu, snapshot.scene, &snapshot.ids, format).await?;
        let mut left_out = Vec::new();
        {
            let (device, registry) = viewer.kernels_mut();
            for (file, text) in &snapshot.kernel_files {
                if let Err(error) = registry.load(device, file, text, &|_| None) {
                    left_out.push(error);
                }
            }
        }
        viewer.sampling = snapshot.sampling;
        let mut kernels = snapshot.kernels;
        if kernels.check(&viewer.registry).is_err() {
            kernels = viewer.gpu.kernels.clone();
        }
        viewer.set_kernels(kernels).await?;
        viewer.set_decoding(snapshot.decoding).await?;
        viewer.set_difference(snapshot.difference).await?;
        viewer.run_to(snapshot.op_count);
        if let Some(current) = snapshot.current {
            viewer.step_to(current);
        }
        Ok((viewer, left_out))
    }
}
