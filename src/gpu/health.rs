//! Long sessions: noticing that the device was lost or ran out of memory (so that the window can
//! open a new one and restore what the user had), and counting the GPU objects alive, so that a
//! soak test can tell a leak from churn.

use super::Gpu;

/// GPU objects alive, by kind (what the program holds, not what the driver caches).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LiveObjects {
    pub buffers: usize,
    pub textures: usize,
    pub texture_views: usize,
    pub bind_groups: usize,
    pub bind_group_layouts: usize,
    pub pipelines: usize,
    pub shader_modules: usize,
    pub query_sets: usize,
}

impl LiveObjects {
    pub fn total(&self) -> usize {
        self.buffers
            + self.textures
            + self.texture_views
            + self.bind_groups
            + self.bind_group_layouts
            + self.pipelines
            + self.shader_modules
            + self.query_sets
    }
}

impl Drop for Gpu {
    fn drop(&mut self) {
        // A device still running a kernel that never ends would be waited for when its queue
        // drops: keep it, never dropped, instead of hanging the program.
        if self.hung.load(std::sync::atomic::Ordering::Relaxed) {
            std::mem::forget(self.device.clone());
            std::mem::forget(self.queue.clone());
        }
    }
}

impl Gpu {
    /// From now on, a lost device or an error no call caught (out of memory, say) is recorded
    /// for [`Gpu::problem`] instead of ending the process: the window checks it every frame.
    pub fn watch_health(&self) {
        let problem = self.problem.clone();
        self.device
            .set_device_lost_callback(move |reason, message| {
                let mut slot = problem.lock().unwrap_or_else(|e| e.into_inner());
                let detail = if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                };
                slot.get_or_insert(format!("the GPU device was lost ({reason:?}){detail}"));
            });
        let problem = self.problem.clone();
        self.device
            .on_uncaptured_error(std::sync::Arc::new(move |error: wgpu::Error| {
                let what = match &error {
                    wgpu::Error::OutOfMemory { .. } => "the GPU ran out of memory",
                    wgpu::Error::Validation { .. } => "a GPU call was refused",
                    wgpu::Error::Internal { .. } => "the GPU driver failed",
                };
                let mut slot = problem.lock().unwrap_or_else(|e| e.into_inner());
                slot.get_or_insert(format!("{what}: {error}"));
            }));
    }

    /// What made the device unusable, if anything did (see [`Gpu::watch_health`]). Polls the
    /// device first, without waiting: a lost device is reported from there.
    pub fn problem(&self) -> Option<String> {
        // A device that fails to poll is lost, which its callback reports.
        let _ = self.device.poll(wgpu::PollType::Poll);
        self.problem
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records that the device is running work that does not end: it is unusable from now on,
    /// and never waited for again (dropping it would wait forever).
    pub(super) fn mark_hung(&self) {
        self.hung.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut slot = self.problem.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(
            "the GPU did not finish its work in time (a kernel that never ends?)".to_string(),
        );
    }

    /// Loses the device on purpose, as a driver reset would: for testing recovery.
    pub fn lose_device(&self) {
        self.device.destroy();
    }

    /// The GPU objects alive now, where the backend reports them (not on the web).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn live_objects(&self) -> Option<LiveObjects> {
        let report = self.instance.generate_report()?;
        let hub = report.hub_report();
        let kept = |r: &wgpu::wgc::registry::RegistryReport| r.num_kept_from_user;
        Some(LiveObjects {
            buffers: kept(&hub.buffers),
            textures: kept(&hub.textures),
            texture_views: kept(&hub.texture_views),
            bind_groups: kept(&hub.bind_groups),
            bind_group_layouts: kept(&hub.bind_group_layouts),
            pipelines: kept(&hub.compute_pipelines) + kept(&hub.render_pipelines),
            shader_modules: kept(&hub.shader_modules),
            query_sets: kept(&hub.query_sets),
        })
    }

    /// The GPU objects alive now: the browser's WebGPU does not say.
    #[cfg(target_arch = "wasm32")]
    pub fn live_objects(&self) -> Option<LiveObjects> {
        None
    }
}
