//! Compiled pipelines kept on disk between runs (wgpu's `PipelineCache`, on Vulkan), in the
//! folder of the tuned file, one file per adapter and driver: a GPU driver compiles a kernel in
//! tens of milliseconds, and a cold start would otherwise compile every kernel it runs again.

use std::path::{Path, PathBuf};

/// A pipeline cache and the file it is loaded from and saved to.
pub struct DiskPipelineCache {
    pub cache: wgpu::PipelineCache,
    path: PathBuf,
}

impl DiskPipelineCache {
    /// The cache for this device in `dir`, holding what an earlier run saved there. None where
    /// the device has no pipeline cache (every backend but Vulkan) or wgpu gives the adapter no
    /// cache key.
    pub fn open(
        device: &wgpu::Device,
        adapter_info: &wgpu::AdapterInfo,
        dir: &Path,
    ) -> Option<DiskPipelineCache> {
        if !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        let path = dir.join(wgpu::util::pipeline_cache_key(adapter_info)?);
        let data = std::fs::read(&path).ok();
        // SAFETY: the data is what `get_data` saved for this adapter's key; wgpu checks its header
        // (adapter, driver, size) and, with `fallback`, starts empty on anything it refuses.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("glassbox pipelines"),
                data: data.as_deref(),
                fallback: true,
            })
        };
        Some(DiskPipelineCache { cache, path })
    }

    /// The file the cache is loaded from and saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the cache (through a temporary file, so that a reader never sees half of it). A
    /// cache that cannot be written costs the next start its compile time and nothing else, so
    /// failures are left unreported.
    pub fn save(&self) {
        let Some(data) = self.cache.get_data() else {
            return;
        };
        let temporary = self.path.with_extension("partial");
        let written = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&temporary, &data))
            .and_then(|_| std::fs::rename(&temporary, &self.path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
    }
}
