//! The kernel table. Every kernel is one WGSL file whose header names its family and variant,
//! the adapter features it needs and its dispatch grid (see `header`); its `Params` and its
//! bindings are read from the WGSL by naga and checked against its family (see `params`).
//! Built-in kernels are listed in `catalog`; a file dropped into `--kernels DIR` goes through
//! the same steps and becomes a variant of its family, or replaces the built-in one of the same
//! name. A kernel that does not compile is reported with its file, line and column before any
//! device sees it, and the previous version stays in use.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

use thiserror::Error;

mod catalog;
pub mod grid;
pub mod header;
pub mod params;
mod source;

pub use catalog::{shared_helper, BuiltinFile, BUILTIN_KERNELS, SHARED_HELPERS};
pub use header::Feature;
pub use params::KernelParams;
pub use source::{validate_wgsl, Interface, KernelSource};

use super::Precision;

/// A kernel that failed to parse or validate, located in its file.
#[derive(Debug, Error)]
pub struct KernelError {
    pub file: String,
    /// 1-based; 0 when the error is about the whole file.
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file, self.message),
            line => write!(f, "{}:{line}:{}: {}", self.file, self.column, self.message),
        }
    }
}

/// A kernel's name: its family (the op it computes) and its variant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelId {
    pub family: String,
    pub variant: String,
}

impl KernelId {
    pub fn new(family: &str, variant: &str) -> KernelId {
        KernelId {
            family: family.to_string(),
            variant: variant.to_string(),
        }
    }
}

impl fmt::Display for KernelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.family, self.variant)
    }
}

/// A built-in kernel's source, by its path under `kernels/`, with its helpers resolved.
pub fn builtin_source(file: &BuiltinFile) -> Result<KernelSource, KernelError> {
    KernelSource::parse(&format!("kernels/{}", file.path), file.source, &|name| {
        shared_helper(name).map(str::to_string)
    })
}

/// Every kernel a built-in file makes: the file's own and, for a `Tune:` line, one per other
/// value of its tile parameter.
pub fn builtin_sources(file: &BuiltinFile) -> Result<Vec<KernelSource>, KernelError> {
    KernelSource::parse_tuned(&format!("kernels/{}", file.path), file.source, &|name| {
        shared_helper(name).map(str::to_string)
    })
}

/// The headers of the built-in kernels whose family has a choice (two variants or more), in
/// catalog order, a tuned file's other values after it: what `--kernel` chooses between. Only
/// the headers are read (no naga): the CLI's help asks for this on every start.
pub fn builtin_choices() -> Vec<header::Header> {
    let mut headers: Vec<header::Header> = Vec::new();
    for file in BUILTIN_KERNELS {
        let Ok(header) = header::Header::parse(file.path, file.source) else {
            continue;
        };
        let derived = source::tuned_texts(&header, file.source);
        headers.push(header);
        headers.extend(
            derived
                .iter()
                .filter_map(|(_, _, text)| header::Header::parse(file.path, text).ok()),
        );
    }
    headers
        .iter()
        .filter(|h| headers.iter().filter(|o| o.family == h.family).count() > 1)
        .cloned()
        .collect()
}

/// Whether a kernel came with the binary or from a file loaded at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    /// Replaces the built-in kernel of the same family and variant.
    Edited,
    /// A variant the binary does not have.
    DroppedIn,
}

/// Pipelines compiled, and the seconds that took (the wall clock, where there is one).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CompileStats {
    pub pipelines: u64,
    pub seconds: f64,
}

#[derive(Default)]
struct CompileCount {
    pipelines: std::sync::atomic::AtomicU64,
    nanos: std::sync::atomic::AtomicU64,
}

impl CompileCount {
    fn count<T>(&self, compile: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering::Relaxed;
        #[cfg(not(target_arch = "wasm32"))]
        let start = std::time::Instant::now();
        let result = compile();
        #[cfg(not(target_arch = "wasm32"))]
        self.nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
        self.pipelines.fetch_add(1, Relaxed);
        result
    }

    fn stats(&self) -> CompileStats {
        use std::sync::atomic::Ordering::Relaxed;
        CompileStats {
            pipelines: self.pipelines.load(Relaxed),
            seconds: self.nanos.load(Relaxed) as f64 * 1e-9,
        }
    }
}

/// A kernel and its pipelines. The binary's own kernels are compiled when a launch first needs
/// them (a run uses a few of the hundred variants); text a user wrote is compiled as it loads,
/// so that what the device refuses is reported then, with the file's name.
struct Kernel {
    id: KernelId,
    source: KernelSource,
    origin: Origin,
    trust: Trust,
    pipeline: OnceLock<wgpu::ComputePipeline>,
    /// The same kernel with f16 storage, once [`KernelRegistry::enable_f16`] is on.
    pipeline_f16: OnceLock<wgpu::ComputePipeline>,
}

/// A family's bind group layout, which every variant shares, so that a kernel loaded at run
/// time plugs into the bind groups that already exist.
struct FamilyLayout {
    interface: Interface,
    layout: wgpu::BindGroupLayout,
}

/// What loading a kernel file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// A new variant of its family.
    Added(KernelId),
    /// The kernel of this name now runs the file's code.
    Replaced(KernelId),
    /// The file holds what already runs.
    Unchanged(KernelId),
}

impl Loaded {
    pub fn id(&self) -> &KernelId {
        match self {
            Loaded::Added(id) | Loaded::Replaced(id) | Loaded::Unchanged(id) => id,
        }
    }
}

/// A kernel as lists show it.
#[derive(Clone, Debug)]
pub struct KernelInfo {
    pub id: KernelId,
    pub about: String,
    pub file: String,
    pub origin: Origin,
}

/// Compiled compute pipelines by kernel name, in catalog order (so the first of a family is its
/// default), loaded files after them.
pub struct KernelRegistry {
    device: wgpu::Device,
    /// Pipelines compiled by earlier runs on this adapter, and saved for later ones.
    #[cfg(not(target_arch = "wasm32"))]
    disk_cache: Option<super::pipeline_cache::DiskPipelineCache>,
    /// Pipelines compiled on first use since the registry was made (the disk cache is saved
    /// when it goes if any were), and the time they took.
    compiles: CompileCount,
    kernels: Vec<Kernel>,
    index: HashMap<KernelId, usize>,
    layouts: HashMap<&'static str, FamilyLayout>,
    /// Whether every kernel also has its f16-storage pipeline.
    f16: bool,
    /// Whether the device has subgroup operations.
    subgroups: bool,
    /// Per family, the variant loaded from a folder that runs unless `--kernel` says otherwise.
    dropped_in: BTreeMap<String, String>,
}

fn bind_group_layout(device: &wgpu::Device, name: &str, storage: &[bool]) -> wgpu::BindGroupLayout {
    let entry = |binding: u32, ty: wgpu::BufferBindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let mut entries = vec![entry(0, wgpu::BufferBindingType::Uniform)];
    for (i, &read_only) in storage.iter().enumerate() {
        entries.push(entry(
            1 + i as u32,
            wgpu::BufferBindingType::Storage { read_only },
        ));
    }
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(name),
        entries: &entries,
    })
}

/// Whether a kernel's source is the binary's own, tested against the CPU reference on awkward
/// shapes, or text a user wrote or edited.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Trust {
    Tested,
    UserText,
}

impl Trust {
    fn of(origin: Origin) -> Trust {
        match origin {
            Origin::BuiltIn => Trust::Tested,
            Origin::Edited | Origin::DroppedIn => Trust::UserText,
        }
    }
}

/// A compute pipeline for `source`. naga has validated it already; what only the device can
/// refuse (a workgroup above its limits, too much workgroup memory, a binding the family's
/// layout lacks, a feature it does not have) is caught here too, so that a bad kernel file is an
/// error with its name rather than a device error later.
fn compile(
    device: &wgpu::Device,
    name: &str,
    layout: &wgpu::BindGroupLayout,
    source: &str,
    (trust, cache): (Trust, Option<&wgpu::PipelineCache>),
) -> Result<wgpu::ComputePipeline, KernelError> {
    // Native devices report at once; the browser answers later, so there a refused pipeline
    // goes to the device's error handler (`Gpu::problem`) instead.
    #[cfg(not(target_arch = "wasm32"))]
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let descriptor = wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    };
    let module = match trust {
        // SAFETY: the binary's own kernels clamp every index they compute, never loop without
        // end for the parameters the planner gives them, and are checked against the CPU
        // reference on awkward shapes by the test suite. Dropping naga's injected bounds checks
        // and loop counters is worth up to a third of a kernel's time on lavapipe, where each
        // check is a branch per lane; the driver's own robust buffer access still applies.
        Trust::Tested => unsafe {
            device.create_shader_module_trusted(descriptor, wgpu::ShaderRuntimeChecks::unchecked())
        },
        Trust::UserText => device.create_shader_module(descriptor),
    };
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(name),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(name),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache,
    });
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(error) = pollster::block_on(scope.pop()) {
        return Err(KernelError {
            file: name.to_string(),
            line: 0,
            column: 0,
            message: format!("the device refuses this kernel: {error}"),
        });
    }
    Ok(pipeline)
}

/// The f16-storage pipeline of a kernel's source, validated first.
fn compile_f16(
    device: &wgpu::Device,
    source: &KernelSource,
    layout: &wgpu::BindGroupLayout,
    how: (Trust, Option<&wgpu::PipelineCache>),
) -> Result<wgpu::ComputePipeline, KernelError> {
    let text = super::wgsl::f16_source(&source.resolved);
    let file = format!("{} (derived f16 version)", source.file);
    validate_wgsl(&file, &text)?;
    compile(device, &file, layout, &text, how)
}

#[cfg(not(target_arch = "wasm32"))]
impl Drop for KernelRegistry {
    /// Saves the pipelines compiled in this run for the next one.
    fn drop(&mut self) {
        if let Some(cache) = &self.disk_cache {
            if self.compiles.stats().pipelines > 0 {
                cache.save();
            }
        }
    }
}

impl KernelRegistry {
    /// Every built-in kernel the device can run (subgroup kernels need the feature).
    pub fn builtin(device: &wgpu::Device) -> Result<KernelRegistry, KernelError> {
        let mut registry = KernelRegistry {
            device: device.clone(),
            #[cfg(not(target_arch = "wasm32"))]
            disk_cache: None,
            compiles: Default::default(),
            kernels: Vec::new(),
            index: HashMap::new(),
            layouts: HashMap::new(),
            f16: false,
            subgroups: device.features().contains(wgpu::Features::SUBGROUP),
            dropped_in: BTreeMap::new(),
        };
        for file in BUILTIN_KERNELS {
            for source in builtin_sources(file)? {
                if registry.runs(&source) {
                    registry.insert(device, source, Origin::BuiltIn)?;
                }
            }
        }
        Ok(registry)
    }

    /// The built-in kernels for `gpu`, with their f16 versions when it stores f16, and the
    /// kernel files of its `--kernels` folder.
    pub fn for_gpu(gpu: &super::Gpu) -> Result<KernelRegistry, super::GpuError> {
        let mut registry = KernelRegistry::builtin(&gpu.device)?;
        #[cfg(not(target_arch = "wasm32"))]
        {
            registry.disk_cache = gpu.pipeline_cache_dir.as_deref().and_then(|dir| {
                super::pipeline_cache::DiskPipelineCache::open(&gpu.device, &gpu.adapter_info, dir)
            });
        }
        if gpu.precision == Precision::F16 {
            registry.enable_f16(&gpu.device)?;
        }
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(dir) = &gpu.kernel_dir {
            registry.load_dir(&gpu.device, dir)?;
        }
        gpu.kernels
            .check(&registry)
            .map_err(super::GpuError::Choice)?;
        Ok(registry)
    }

    /// Whether the device has what the kernel needs.
    fn runs(&self, source: &KernelSource) -> bool {
        source.header.needs.iter().all(|need| match need {
            Feature::Subgroups => self.subgroups,
        })
    }

    fn insert(
        &mut self,
        device: &wgpu::Device,
        source: KernelSource,
        origin: Origin,
    ) -> Result<Loaded, KernelError> {
        let id = KernelId::new(&source.header.family, &source.header.variant);
        let family = source.family.name;
        let existing = self.layouts.entry(family).or_insert_with(|| FamilyLayout {
            interface: source.interface.clone(),
            layout: bind_group_layout(device, family, &source.interface.storage),
        });
        source.check_interface(&existing.interface)?;
        // Whatever replaces a built-in kernel (an exported file, perhaps edited) is user text.
        let trust = match self.index.contains_key(&id) {
            true => Trust::UserText,
            false => Trust::of(origin),
        };
        let kernel = Kernel {
            id: id.clone(),
            source,
            origin,
            trust,
            pipeline: OnceLock::new(),
            pipeline_f16: OnceLock::new(),
        };
        if trust == Trust::UserText {
            let layout = &existing.layout;
            let compiled = compile(
                device,
                &kernel.source.file,
                layout,
                &kernel.source.resolved,
                (trust, None),
            )?;
            let _ = kernel.pipeline.set(compiled);
            if self.f16 {
                let _ = kernel.pipeline_f16.set(compile_f16(
                    device,
                    &kernel.source,
                    layout,
                    (trust, None),
                )?);
            }
        }
        if let Some(&i) = self.index.get(&id) {
            let existing = &mut self.kernels[i];
            // An exported file is the built-in one made self-contained: the same kernel.
            if existing.source.self_contained() == kernel.source.self_contained() {
                return Ok(Loaded::Unchanged(id));
            }
            let origin = match existing.origin {
                Origin::BuiltIn => Origin::Edited,
                other => other,
            };
            *existing = Kernel { origin, ..kernel };
            return Ok(Loaded::Replaced(id));
        }
        self.index.insert(id.clone(), self.kernels.len());
        self.kernels.push(kernel);
        Ok(Loaded::Added(id))
    }

    /// Loads a kernel file's text (`file` names it in errors): a new variant of its family, or
    /// the new code of the kernel of the same name. On error nothing changes. Helpers it
    /// includes are looked up with `include` first, then among the built-in ones.
    pub fn load(
        &mut self,
        device: &wgpu::Device,
        file: &str,
        text: &str,
        include: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, KernelError> {
        let source = KernelSource::parse(file, text, &|name| {
            include(name).or_else(|| shared_helper(name).map(str::to_string))
        })?;
        if !self.runs(&source) {
            let id = KernelId::new(&source.header.family, &source.header.variant);
            // An exported built-in this adapter cannot run is left alone, as the built-in is.
            let exported_builtin = BUILTIN_KERNELS
                .iter()
                .filter(|f| {
                    header::Header::parse(f.path, f.source)
                        .is_ok_and(|h| h.family == id.family && h.variant == id.variant)
                })
                .any(|f| {
                    builtin_source(f).is_ok_and(|b| b.self_contained() == source.self_contained())
                });
            if exported_builtin {
                return Ok(Loaded::Unchanged(id));
            }
            return Err(KernelError {
                file: file.to_string(),
                line: 0,
                column: 0,
                message: "it needs subgroups, which this adapter does not have".to_string(),
            });
        }
        let loaded = self.insert(device, source, Origin::DroppedIn)?;
        if let Loaded::Added(id) = &loaded {
            self.dropped_in
                .insert(id.family.clone(), id.variant.clone());
        }
        Ok(loaded)
    }

    /// Loads every `.wgsl` file under `dir` (but its `shared/` helpers), in path order. A
    /// folder holding two new variants of one family is refused: which would run is unclear.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(
        &mut self,
        device: &wgpu::Device,
        dir: &std::path::Path,
    ) -> Result<Vec<Loaded>, KernelError> {
        let files = kernel_files(dir)?;
        let mut loaded = Vec::new();
        let mut new_in_family: BTreeMap<String, String> = BTreeMap::new();
        for path in files {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| KernelError {
                file: file.clone(),
                line: 0,
                column: 0,
                message: e.to_string(),
            })?;
            let result = self.load(device, &file, &text, &|name| {
                std::fs::read_to_string(dir.join(name)).ok()
            })?;
            if let Loaded::Added(id) = &result {
                if let Some(other) = new_in_family.insert(id.family.clone(), file.clone()) {
                    return Err(KernelError {
                        file,
                        line: 0,
                        column: 0,
                        message: format!(
                            "{other} also adds a `{}` variant: keep one new variant per family \
                             in {}, or choose with --kernel",
                            id.family,
                            dir.display()
                        ),
                    });
                }
            }
            loaded.push(result);
        }
        Ok(loaded)
    }

    /// Builds the f16-storage version of every kernel (derived from its current source), for
    /// graphs stored in f16. Once on, loaded kernels get theirs too.
    pub fn enable_f16(&mut self, device: &wgpu::Device) -> Result<(), KernelError> {
        if self.f16 {
            return Ok(());
        }
        for kernel in self.kernels.iter().filter(|k| k.trust == Trust::UserText) {
            let layout = &self.layouts[kernel.source.family.name].layout;
            let compiled = compile_f16(device, &kernel.source, layout, (kernel.trust, None))?;
            let _ = kernel.pipeline_f16.set(compiled);
        }
        self.f16 = true;
        Ok(())
    }

    pub fn has_f16(&self) -> bool {
        self.f16
    }

    fn kernel(&self, id: &KernelId) -> &Kernel {
        let index = self
            .index
            .get(id)
            .unwrap_or_else(|| panic!("no kernel {id} was built (check `has` first)"));
        &self.kernels[*index]
    }

    /// Whether the kernel was built for this device.
    pub fn has(&self, id: &KernelId) -> bool {
        self.index.contains_key(id)
    }

    /// Compiles the kernel's pipelines (f32, and f16 once enabled) unless that is done: a launch
    /// prepares its kernel when it is made, so that a device refusing a kernel is an error then
    /// and never one while a pass is being recorded.
    pub fn prepare(&self, id: &KernelId) -> Result<(), KernelError> {
        let kernel = self.kernel(id);
        self.pipeline(kernel, Precision::F32)?;
        if self.f16 {
            self.pipeline(kernel, Precision::F16)?;
        }
        Ok(())
    }

    fn pipeline<'a>(
        &self,
        kernel: &'a Kernel,
        precision: Precision,
    ) -> Result<&'a wgpu::ComputePipeline, KernelError> {
        let cell = match precision {
            Precision::F32 => &kernel.pipeline,
            Precision::F16 => &kernel.pipeline_f16,
        };
        if let Some(pipeline) = cell.get() {
            return Ok(pipeline);
        }
        #[cfg(not(target_arch = "wasm32"))]
        let cache = self.disk_cache.as_ref().map(|c| &c.cache);
        #[cfg(target_arch = "wasm32")]
        let cache = None;
        let layout = self.layout(kernel.source.family.name);
        let how = (kernel.trust, cache);
        let compiled = self.compiles.count(|| match precision {
            Precision::F32 => compile(
                &self.device,
                &kernel.source.file,
                layout,
                &kernel.source.resolved,
                how,
            ),
            Precision::F16 => compile_f16(&self.device, &kernel.source, layout, how),
        })?;
        Ok(cell.get_or_init(|| compiled))
    }

    /// The file compiled pipelines are kept in between runs, where the backend has one.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn pipeline_cache_file(&self) -> Option<&std::path::Path> {
        self.disk_cache.as_ref().map(|c| c.path())
    }

    /// How many pipelines this registry compiled on first use, and the time that took.
    pub fn compile_stats(&self) -> CompileStats {
        self.compiles.stats()
    }

    /// The pipeline of a kernel for tensors stored at `precision`.
    pub fn pipeline_for(&self, id: &KernelId, precision: Precision) -> &wgpu::ComputePipeline {
        assert!(
            precision == Precision::F32 || self.f16,
            "{id}: f16 pipelines not built (enable_f16)"
        );
        self.pipeline(self.kernel(id), precision)
            .unwrap_or_else(|e| panic!("{e} (a launch prepares its kernel when it is made)"))
    }

    /// The bind group layout every kernel of `family` shares.
    pub fn layout(&self, family: &str) -> &wgpu::BindGroupLayout {
        &self.layouts[family].layout
    }

    pub fn source(&self, id: &KernelId) -> &KernelSource {
        &self.kernel(id).source
    }

    /// The family's default: its first built-in kernel this device has.
    pub fn default_for(&self, family: &str) -> Option<&KernelId> {
        self.kernels
            .iter()
            .find(|k| k.id.family == family && k.origin != Origin::DroppedIn)
            .map(|k| &k.id)
    }

    /// The variant loaded from a folder for `family`, which runs unless one is chosen.
    pub fn dropped_in(&self, family: &str) -> Option<KernelId> {
        self.dropped_in
            .get(family)
            .map(|variant| KernelId::new(family, variant))
    }

    /// Every kernel, in catalog order, loaded ones last.
    pub fn kernels(&self) -> impl Iterator<Item = KernelInfo> + '_ {
        self.kernels.iter().map(|k| KernelInfo {
            id: k.id.clone(),
            about: k.source.header.about.clone(),
            file: k.source.file.clone(),
            origin: k.origin,
        })
    }

    /// The variants of `family`, its default first.
    pub fn variants(&self, family: &str) -> Vec<KernelInfo> {
        self.kernels().filter(|k| k.id.family == family).collect()
    }

    /// The execution-trace version of a kernel's current source (see `wgsl::trace_source`), for
    /// tensors stored at `precision`, and its layout: the kernel's bindings, then the counter
    /// and the cell buffer. Built when asked: tracing is rare.
    pub fn trace_pipeline(
        &self,
        device: &wgpu::Device,
        id: &KernelId,
        precision: Precision,
    ) -> Result<(wgpu::BindGroupLayout, wgpu::ComputePipeline), KernelError> {
        let source = &self.kernel(id).source;
        let file = format!("{} (derived trace version)", source.file);
        let error = |message: String| KernelError {
            file: file.clone(),
            line: 0,
            column: 0,
            message,
        };
        let storage = &source.interface.storage;
        let output = source
            .interface
            .first_output()
            .and_then(|binding| super::wgsl::binding_name(&source.resolved, binding))
            .ok_or_else(|| error("no output binding to trace".to_string()))?;
        let first = 1 + storage.len() as u32;
        let mut text =
            super::wgsl::trace_source(&source.resolved, &output, first).map_err(error)?;
        if precision == Precision::F16 {
            text = super::wgsl::f16_source(&text);
        }
        validate_wgsl(&file, &text)?;
        let mut traced = storage.clone();
        traced.extend([false, false]);
        let layout = bind_group_layout(device, &file, &traced);
        let pipeline = compile(device, &file, &layout, &text, (Trust::UserText, None))?;
        Ok((layout, pipeline))
    }
}

/// The kernel files under `dir`, sorted, but those of its `shared/` helper folder.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn kernel_files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, KernelError> {
    let error = |path: &std::path::Path, e: std::io::Error| KernelError {
        file: path.display().to_string(),
        line: 0,
        column: 0,
        message: format!("reading the kernel folder: {e}"),
    };
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).map_err(|e| error(&folder, e))? {
            let path = entry.map_err(|e| error(&folder, e))?.path();
            if path.is_dir() {
                if path != dir.join("shared") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "wgsl") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Writes the built-in kernels into `dir` for editing, each self-contained (its helpers
/// appended) at its path under `kernels/`. Existing files are never overwritten (they may hold
/// someone's edits): they are listed in the error instead.
#[cfg(not(target_arch = "wasm32"))]
pub fn export_kernels(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let existing: Vec<String> = BUILTIN_KERNELS
        .iter()
        .map(|file| dir.join(file.path))
        .filter(|path| path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("not overwriting {}", existing.join(", ")),
        ));
    }
    let mut written = Vec::new();
    for file in BUILTIN_KERNELS {
        let source = builtin_source(file).map_err(std::io::Error::other)?;
        let path = dir.join(file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, source.self_contained())?;
        written.push(path);
    }
    Ok(written)
}
