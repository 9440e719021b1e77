//! Headless device setup with the adapter's real limits, and the one way data comes back from
//! the GPU: [`Gpu::read_buffer`], which counts every readback.

use std::sync::atomic::{AtomicU64, Ordering};

use super::GpuError;

/// Settings for [`Gpu::new`].
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Also split the vocabulary-sized tensors (`wte`, `logits`, `probs`) every this many rows,
    /// below what the binding limit requires: tests use it to exercise splitting on tiny models.
    pub max_chunk_rows: Option<usize>,
    /// Which kernel variant runs each op family.
    pub kernels: super::variants::KernelChoice,
    /// A folder of kernel files (`--kernels DIR`) loaded over the built-in ones: new variants
    /// and edited built-ins.
    pub kernel_dir: Option<std::path::PathBuf>,
    /// How float tensors are stored (f16 needs the adapter's SHADER_F16).
    pub precision: super::Precision,
    /// How a GGUF model's matrices are kept; None: as suits the adapter (see
    /// [`super::WeightStorage::for_adapter`]).
    pub weights: Option<super::WeightStorage>,
    /// The longest the GPU may take to finish what was submitted before the work is declared
    /// hung (a kernel loaded from a file that never ends): none by default.
    pub time_limit: Option<std::time::Duration>,
    /// A file of `glassbox tune`'s choices ([`super::tuned`]) whose entries for this adapter
    /// and precision pick the kernels where nothing else does. None by default: the CLI and
    /// the window give the user's file.
    pub tuned: Option<std::path::PathBuf>,
}

pub struct Gpu {
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter_info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Whether compute passes can be timed with GPU timestamps.
    pub timestamps: bool,
    /// The largest tensor chunk bound to one kernel argument, in bytes.
    pub max_binding_bytes: u64,
    /// See [`GpuOptions::max_chunk_rows`].
    pub max_chunk_rows: Option<usize>,
    /// See [`GpuOptions::kernels`].
    pub kernels: super::variants::KernelChoice,
    /// See [`GpuOptions::kernel_dir`].
    pub kernel_dir: Option<std::path::PathBuf>,
    /// Where compiled pipelines are kept between runs: the tuned file's folder.
    pub pipeline_cache_dir: Option<std::path::PathBuf>,
    /// See [`GpuOptions::time_limit`].
    pub time_limit: Option<std::time::Duration>,
    /// How models uploaded from now on store their float tensors; see [`GpuOptions::precision`].
    pub precision: super::Precision,
    /// How models uploaded from now on keep a GGUF file's matrices; see [`GpuOptions::weights`].
    pub weights: super::WeightStorage,
    /// Whether the device can store f16 (SHADER_F16).
    pub f16: bool,
    readbacks: AtomicU64,
    /// Kept for its reports of live GPU objects (see `health`); the browser gives none.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(super) instance: wgpu::Instance,
    /// What made the device unusable, once [`Gpu::watch_health`] watches it.
    pub(super) problem: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// Whether it is running work that never ends (see [`GpuOptions::time_limit`]).
    pub(super) hung: std::sync::atomic::AtomicBool,
}

impl Gpu {
    /// Opens the first adapter wgpu finds (a real GPU if there is one, else a software one such
    /// as lavapipe) with every limit it supports. No adapter is an error, never a silent CPU
    /// fallback.
    pub async fn new(options: &GpuOptions) -> Result<Gpu, GpuError> {
        let instance = wgpu::Instance::new(instance_descriptor());
        Self::open(options, instance, None).await
    }

    /// Like [`Gpu::new`], with an adapter that can present to `window`, and the window's surface.
    pub async fn with_window<W>(
        options: &GpuOptions,
        window: W,
    ) -> Result<(Gpu, wgpu::Surface<'static>), GpuError>
    where
        W: wgpu::DisplayAndWindowHandle + std::fmt::Debug + Clone + Send + Sync + 'static,
    {
        let mut descriptor = instance_descriptor();
        descriptor.display = Some(Box::new(window.clone()));
        let instance = wgpu::Instance::new(descriptor);
        let surface = instance
            .create_surface(window)
            .map_err(|e| GpuError::NoAdapter(format!("cannot draw into the window: {e}")))?;
        let gpu = Self::open(options, instance, Some(&surface)).await?;
        Ok((gpu, surface))
    }

    /// Like [`Gpu::with_window`], drawing into any surface target: the browser's canvas.
    pub async fn with_surface_target(
        options: &GpuOptions,
        target: impl Into<wgpu::SurfaceTarget<'static>>,
    ) -> Result<(Gpu, wgpu::Surface<'static>), GpuError> {
        let instance = wgpu::Instance::new(instance_descriptor());
        let surface = instance
            .create_surface(target)
            .map_err(|e| GpuError::NoAdapter(format!("cannot draw into the canvas: {e}")))?;
        let gpu = Self::open(options, instance, Some(&surface)).await?;
        Ok((gpu, surface))
    }

    async fn open(
        options: &GpuOptions,
        instance: wgpu::Instance,
        surface: Option<&wgpu::Surface<'static>>,
    ) -> Result<Gpu, GpuError> {
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                compatible_surface: surface,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let adapter_info = adapter.get_info();
        let device_type = adapter_info.device_type;
        let mut kernels = options
            .kernels
            .clone()
            .for_adapter(adapter_info.device_type);
        if let Some(path) = &options.tuned {
            let file = super::tuned::TunedFile::load(path)?;
            let adapter = super::tuned::adapter_key(&adapter_info);
            kernels = kernels.with_tuned(file.choices(&adapter, options.precision));
        }
        let limits = adapter.limits();
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let mut required_features = wgpu::Features::empty();
        if timestamps {
            required_features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        // Subgroup operations, for the kernel variants that reduce in registers, and f16 storage.
        // The pipeline cache, where the backend has one (Vulkan), for starts that compile nothing.
        required_features |= adapter.features()
            & (wgpu::Features::SUBGROUP
                | wgpu::Features::SHADER_F16
                | wgpu::Features::PIPELINE_CACHE);
        let f16 = adapter.features().contains(wgpu::Features::SHADER_F16);
        if options.precision == super::Precision::F16 && !f16 {
            return Err(GpuError::RequestDevice(format!(
                "{} cannot store f16 (no SHADER_F16): run with f32",
                adapter_info.name
            )));
        }
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("glassbox"),
                required_features,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::RequestDevice(e.to_string()))?;
        let max_binding_bytes =
            (limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size);
        Ok(Gpu {
            adapter,
            device,
            queue,
            adapter_info,
            limits,
            timestamps,
            max_binding_bytes,
            max_chunk_rows: options.max_chunk_rows,
            kernels,
            kernel_dir: options.kernel_dir.clone(),
            pipeline_cache_dir: options
                .tuned
                .as_deref()
                .and_then(std::path::Path::parent)
                .map(std::path::Path::to_path_buf),
            time_limit: options.time_limit,
            precision: options.precision,
            weights: options
                .weights
                .unwrap_or(super::WeightStorage::for_adapter(device_type)),
            f16,
            readbacks: AtomicU64::new(0),
            instance,
            problem: Default::default(),
            hung: Default::default(),
        })
    }

    /// Whether the adapter runs on the CPU (lavapipe): kernels run as loops on its cores, its
    /// timestamps are not to be trusted, and the kernels chosen for it differ.
    pub fn is_cpu_adapter(&self) -> bool {
        self.adapter_info.device_type == wgpu::DeviceType::Cpu
    }

    /// A one-line description of the adapter, for reports.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.adapter_info.name, self.adapter_info.backend, self.adapter_info.device_type
        )
    }

    /// How many times data has been read back from the GPU since the device opened.
    pub fn readback_count(&self) -> u64 {
        self.readbacks.load(Ordering::Relaxed)
    }

    /// Copies `size` bytes of each buffer (from offset 0) back to the CPU, concatenated, in one
    /// submission. Counts as one readback. Each buffer gets its own staging buffer, so parts of
    /// a split tensor never need one buffer larger than the device allows.
    pub async fn read_buffers(
        &self,
        buffers: &[(&wgpu::Buffer, u64)],
    ) -> Result<Vec<u8>, GpuError> {
        let ranges: Vec<_> = buffers.iter().map(|&(b, size)| (b, 0, size)).collect();
        self.read_ranges(&ranges).await
    }

    /// Copies (buffer, offset, size) ranges back to the CPU, concatenated, in one submission.
    /// Counts as one readback. Offsets and sizes are multiples of 4.
    pub async fn read_ranges(
        &self,
        buffers: &[(&wgpu::Buffer, u64, u64)],
    ) -> Result<Vec<u8>, GpuError> {
        self.readbacks.fetch_add(1, Ordering::Relaxed);
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let staging: Vec<(wgpu::Buffer, u64)> = buffers
            .iter()
            .map(|&(buffer, offset, size)| {
                let copy = self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("readback"),
                    size: size.max(4),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                encoder.copy_buffer_to_buffer(buffer, offset, &copy, 0, size);
                (copy, size)
            })
            .collect();
        self.submit_timed(encoder.finish());
        let receivers: Vec<_> = staging
            .iter()
            .map(|(copy, _)| {
                let (sender, receiver) = futures_channel::oneshot::channel();
                copy.map_async(wgpu::MapMode::Read, .., move |result| {
                    let _ = sender.send(result);
                });
                receiver
            })
            .collect();
        // Native backends only call the map callbacks from poll; on the web this returns at once
        // and the browser calls them.
        self.wait_idle()?;
        let mut bytes = Vec::new();
        for ((copy, size), receiver) in staging.iter().zip(receivers) {
            receiver
                .await
                .map_err(|_| GpuError::Readback("map callback dropped".into()))?
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            let view = copy
                .get_mapped_range(..*size)
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            bytes.extend_from_slice(&view);
            drop(view);
            copy.unmap();
        }
        Ok(bytes)
    }

    /// Runs `create` and turns any out-of-memory or validation error it causes on the device into
    /// a [`GpuError::Device`] that says what was being made and how many bytes it needed.
    pub async fn checked<T>(
        &self,
        what: &str,
        bytes: u64,
        create: impl FnOnce() -> Result<T, GpuError>,
    ) -> Result<T, GpuError> {
        let memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let result = create();
        let errors = [validation.pop().await, memory.pop().await];
        if let Some(error) = errors.into_iter().flatten().next() {
            return Err(GpuError::Device {
                what: what.to_string(),
                bytes,
                message: error.to_string(),
                has: self.memory_description(),
            });
        }
        result
    }

    /// Bytes of memory free for buffers, where the device says: a CPU device (lavapipe) uses
    /// system memory, so that is what is free. GPUs do not report it through WebGPU.
    pub fn memory_available(&self) -> Option<u64> {
        if self.adapter.get_info().device_type != wgpu::DeviceType::Cpu {
            return None;
        }
        system_memory_available()
    }

    /// What the device has, for error messages.
    pub fn memory_description(&self) -> String {
        match self.memory_available() {
            Some(bytes) => format!("it has {:.2} GB free", bytes as f64 / 1e9),
            None => format!(
                "it does not report its free memory; its largest buffer is {:.2} GB",
                self.limits.max_buffer_size as f64 / 1e9
            ),
        }
    }

    /// Fails before allocating when the device is known not to have `bytes` free (allocating
    /// anyway could get the process killed rather than an error).
    pub fn ensure_memory(&self, what: &str, bytes: u64) -> Result<(), GpuError> {
        match self.memory_available() {
            Some(free) if bytes > free => Err(GpuError::Device {
                what: what.to_string(),
                bytes,
                message: "not enough memory".to_string(),
                has: self.memory_description(),
            }),
            _ => Ok(()),
        }
    }

    /// Blocks until all submitted work is done (native); used to time without timestamps.
    /// With a [`GpuOptions::time_limit`], work that takes longer is a [`GpuError::Hung`] (and the
    /// device is then never waited for again, see `health`).
    pub fn wait_idle(&self) -> Result<(), GpuError> {
        self.check_not_hung()?;
        let poll = wgpu::PollType::Wait {
            submission_index: None,
            timeout: self.time_limit,
        };
        let waited = self.timed(|| self.device.poll(poll));
        match waited {
            Ok(_) => self.check_not_hung(),
            Err(wgpu::PollError::Timeout) => {
                self.mark_hung();
                self.check_not_hung()
            }
            Err(e) => Err(GpuError::Readback(e.to_string())),
        }
    }

    /// Submits the graph's work. Where the driver runs it inside the submit (lavapipe does),
    /// this is where a kernel past the time limit shows.
    pub fn submit_timed(&self, commands: wgpu::CommandBuffer) {
        self.timed(|| self.queue.submit([commands]));
    }

    /// Runs `f`, marking the device hung when it takes longer than the time limit: drivers that
    /// block in a submit, or ignore a wait's timeout, are caught after the fact.
    fn timed<T>(&self, f: impl FnOnce() -> T) -> T {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let start = std::time::Instant::now();
            let result = f();
            if self.time_limit.is_some_and(|limit| start.elapsed() > limit) {
                self.mark_hung();
            }
            result
        }
        #[cfg(target_arch = "wasm32")]
        f()
    }

    fn check_not_hung(&self) -> Result<(), GpuError> {
        match self.hung.load(std::sync::atomic::Ordering::Relaxed) {
            true => Err(GpuError::Hung {
                seconds: self.time_limit.unwrap_or_default().as_secs_f64(),
            }),
            false => Ok(()),
        }
    }
}

/// The instance settings: an allocation past 95% of the memory budget the driver reports is
/// an out-of-memory error rather than swapping or a lost device.
fn instance_descriptor() -> wgpu::InstanceDescriptor {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    descriptor.memory_budget_thresholds = wgpu::MemoryBudgetThresholds {
        for_resource_creation: Some(95),
        for_device_loss: None,
    };
    descriptor
}

/// MemAvailable from /proc/meminfo, where there is one.
fn system_memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
