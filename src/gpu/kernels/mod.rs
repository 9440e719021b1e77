//! The WGSL kernels, built into the binary, and their validation with naga: a kernel that does
//! not compile is reported with its file, line and column before any device sees it.

use std::collections::HashMap;

use thiserror::Error;

mod builtin;

pub use builtin::BUILTIN_KERNELS;

/// A kernel's interface: binding 0 is its uniform parameters, then `reads` read-only storage
/// buffers, then `writes` read-write ones. Every kernel of the same name shares it, so a kernel
/// edited at run time plugs into the bind groups that already exist.
#[derive(Clone, Copy, Debug)]
pub struct KernelSpec {
    /// The file name without `.wgsl`.
    pub name: &'static str,
    pub source: &'static str,
    pub reads: u32,
    pub writes: u32,
    /// Whether it uses subgroup operations, which only some adapters have.
    pub subgroups: bool,
}

const fn spec(name: &'static str, source: &'static str, reads: u32, writes: u32) -> KernelSpec {
    KernelSpec {
        name,
        source,
        reads,
        writes,
        subgroups: false,
    }
}

const fn subgroup_spec(
    name: &'static str,
    source: &'static str,
    reads: u32,
    writes: u32,
) -> KernelSpec {
    KernelSpec {
        subgroups: true,
        ..spec(name, source, reads, writes)
    }
}

/// A kernel that failed to parse or validate, located in its file.
#[derive(Debug, Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct KernelError {
    pub file: String,
    /// 1-based; 0 when naga gave no location.
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Parses and validates WGSL with the naga that wgpu itself uses.
pub fn validate_wgsl(file: &str, source: &str) -> Result<naga::Module, KernelError> {
    let located = |message: String, span: Option<naga::SourceLocation>| KernelError {
        file: file.to_string(),
        line: span.map_or(0, |l| l.line_number),
        column: span.map_or(0, |l| l.line_position),
        message,
    };
    let module = naga::front::wgsl::parse_str(source)
        .map_err(|e| located(e.message().to_string(), e.location(source)))?;
    let mut validator = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        // What every WebGPU device has, plus subgroup operations and f16 (kernels that use them
        // are only built where the adapter has them): a kernel that needs more is refused here,
        // with its location, instead of failing later on the device.
        naga::valid::Capabilities::SUBGROUP | naga::valid::Capabilities::SHADER_FLOAT16,
    );
    validator.validate(&module).map_err(|e| {
        let location = e.spans().next().map(|(span, _)| span.location(source));
        let mut message = e.as_inner().to_string();
        let mut source_err: Option<&dyn std::error::Error> =
            std::error::Error::source(e.as_inner());
        while let Some(inner) = source_err {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            source_err = inner.source();
        }
        located(message, location)
    })?;
    Ok(module)
}

/// What the executor relies on in a kernel: its workgroup size (dispatch sizes are computed
/// from it) and its bindings, as (binding, read-only) for the storage buffers in order.
#[derive(Clone, Debug, PartialEq)]
struct Interface {
    workgroup_size: [u32; 3],
    storage: Vec<(u32, bool)>,
}

fn interface(module: &naga::Module) -> Option<Interface> {
    let entry = module
        .entry_points
        .iter()
        .find(|e| e.name == "main" && e.stage == naga::ShaderStage::Compute)?;
    let mut storage: Vec<(u32, bool)> = module
        .global_variables
        .iter()
        .filter_map(|(_, var)| match (var.space, &var.binding) {
            (naga::AddressSpace::Storage { access }, Some(binding)) => Some((
                binding.binding,
                !access.contains(naga::StorageAccess::STORE),
            )),
            _ => None,
        })
        .collect();
    storage.sort();
    Some(Interface {
        workgroup_size: entry.workgroup_size,
        storage,
    })
}

/// A compiled kernel and the bind group layout every version of it shares.
struct Kernel {
    spec: KernelSpec,
    interface: Interface,
    source: String,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
    /// The same kernel with f16 storage, once [`KernelRegistry::enable_f16`] built it.
    pipeline_f16: Option<wgpu::ComputePipeline>,
}

/// Compiled compute pipelines by kernel name. Sources can be replaced at run time: a new source
/// is validated first, and on error the previous pipeline stays in place.
pub struct KernelRegistry {
    kernels: HashMap<&'static str, Kernel>,
    /// Whether every kernel also has its f16-storage pipeline.
    f16: bool,
}

/// The f16-storage pipeline of a kernel's source, validated first.
fn compile_f16(
    device: &wgpu::Device,
    name: &str,
    layout: &wgpu::BindGroupLayout,
    source: &str,
) -> Result<wgpu::ComputePipeline, KernelError> {
    let source = super::f16_source(source);
    validate_wgsl(
        &format!("kernels/{name}.wgsl (derived f16 version)"),
        &source,
    )?;
    Ok(compile(device, name, layout, &source))
}

fn bind_group_layout(device: &wgpu::Device, spec: &KernelSpec) -> wgpu::BindGroupLayout {
    layout_for(device, spec.name, spec.reads, spec.writes)
}

fn layout_for(device: &wgpu::Device, name: &str, reads: u32, writes: u32) -> wgpu::BindGroupLayout {
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
    for i in 0..reads + writes {
        let read_only = i < reads;
        entries.push(entry(1 + i, wgpu::BufferBindingType::Storage { read_only }));
    }
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(name),
        entries: &entries,
    })
}

fn compile(
    device: &wgpu::Device,
    name: &str,
    layout: &wgpu::BindGroupLayout,
    source: &str,
) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(name),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(name),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    })
}

impl KernelRegistry {
    pub fn builtin(device: &wgpu::Device) -> Result<KernelRegistry, KernelError> {
        let mut kernels = HashMap::new();
        let subgroups = device.features().contains(wgpu::Features::SUBGROUP);
        for spec in BUILTIN_KERNELS.iter().filter(|s| subgroups || !s.subgroups) {
            let file = format!("kernels/{}.wgsl", spec.name);
            let module = validate_wgsl(&file, spec.source)?;
            let interface = interface(&module).ok_or_else(|| KernelError {
                file,
                line: 0,
                column: 0,
                message: "no compute entry point `main`".into(),
            })?;
            let layout = bind_group_layout(device, spec);
            let pipeline = compile(device, spec.name, &layout, spec.source);
            kernels.insert(
                spec.name,
                Kernel {
                    spec: *spec,
                    interface,
                    source: spec.source.to_string(),
                    layout,
                    pipeline,
                    pipeline_f16: None,
                },
            );
        }
        Ok(KernelRegistry {
            kernels,
            f16: false,
        })
    }

    /// The built-in kernels for `gpu`, with their f16 versions when it stores f16.
    pub fn for_gpu(gpu: &super::Gpu) -> Result<KernelRegistry, KernelError> {
        let mut registry = KernelRegistry::builtin(&gpu.device)?;
        if gpu.precision == super::Precision::F16 {
            registry.enable_f16(&gpu.device)?;
        }
        Ok(registry)
    }

    /// Builds the f16-storage version of every kernel (derived from its current source), for
    /// graphs stored in f16. Once on, replaced kernels get theirs too.
    pub fn enable_f16(&mut self, device: &wgpu::Device) -> Result<(), KernelError> {
        if self.f16 {
            return Ok(());
        }
        for kernel in self.kernels.values_mut() {
            let pipeline = compile_f16(device, kernel.spec.name, &kernel.layout, &kernel.source)?;
            kernel.pipeline_f16 = Some(pipeline);
        }
        self.f16 = true;
        Ok(())
    }

    pub fn has_f16(&self) -> bool {
        self.f16
    }

    /// The pipeline of a kernel for tensors stored at `precision`.
    pub fn pipeline_for(&self, name: &str, precision: super::Precision) -> &wgpu::ComputePipeline {
        let kernel = self.kernel(name);
        match precision {
            super::Precision::F32 => &kernel.pipeline,
            super::Precision::F16 => kernel
                .pipeline_f16
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: f16 pipelines not built (enable_f16)")),
        }
    }

    fn kernel(&self, name: &str) -> &Kernel {
        self.kernels
            .get(name)
            .unwrap_or_else(|| panic!("no kernel named {name}"))
    }

    /// Validates `source` and, if it is good, makes it the kernel `name`; `file` names it in
    /// errors. On error the previous version stays in use.
    pub fn replace(
        &mut self,
        device: &wgpu::Device,
        name: &str,
        file: &str,
        source: &str,
    ) -> Result<(), KernelError> {
        let module = validate_wgsl(file, source)?;
        let error = |message: String| KernelError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message,
        };
        let kernel = self
            .kernels
            .get_mut(name)
            .ok_or_else(|| error(format!("no built-in kernel is named {name:?}")))?;
        let found = interface(&module);
        if found.as_ref() != Some(&kernel.interface) {
            return Err(error(format!(
                "the kernel must keep the interface of {name}: a compute entry point `main` with \
                 @workgroup_size{:?} and storage bindings (binding, read-only) {:?}; found {:?}",
                kernel.interface.workgroup_size, kernel.interface.storage, found
            )));
        }
        if self.f16 {
            kernel.pipeline_f16 = Some(compile_f16(
                device,
                kernel.spec.name,
                &kernel.layout,
                source,
            )?);
        }
        kernel.pipeline = compile(device, kernel.spec.name, &kernel.layout, source);
        kernel.source = source.to_string();
        Ok(())
    }

    /// The execution-trace version of a kernel's current source (see `trace_source`), for
    /// tensors stored at `precision`, and its layout: the kernel's bindings, then the counter
    /// and the cell buffer. Built when asked: tracing is rare.
    pub fn trace_pipeline(
        &self,
        device: &wgpu::Device,
        name: &str,
        precision: super::Precision,
    ) -> Result<(wgpu::BindGroupLayout, wgpu::ComputePipeline), KernelError> {
        let kernel = self.kernel(name);
        let spec = kernel.spec;
        let file = format!("kernels/{name}.wgsl (derived trace version)");
        let error = |message: String| KernelError {
            file: file.clone(),
            line: 0,
            column: 0,
            message,
        };
        let first = 1 + spec.reads + spec.writes;
        let output = super::trace_source::binding_name(&kernel.source, 1 + spec.reads)
            .ok_or_else(|| error("no output binding to trace".to_string()))?;
        let mut source =
            super::trace_source::trace_source(&kernel.source, &output, first).map_err(error)?;
        if precision == super::Precision::F16 {
            source = super::f16_source(&source);
        }
        validate_wgsl(&file, &source)?;
        let layout = layout_for(device, name, spec.reads, spec.writes + 2);
        let pipeline = compile(device, name, &layout, &source);
        Ok((layout, pipeline))
    }

    /// Whether the kernel was built for this device (subgroup kernels need the feature).
    pub fn has(&self, name: &str) -> bool {
        self.kernels.contains_key(name)
    }

    pub fn pipeline(&self, name: &str) -> &wgpu::ComputePipeline {
        &self.kernel(name).pipeline
    }

    pub fn layout(&self, name: &str) -> &wgpu::BindGroupLayout {
        &self.kernel(name).layout
    }

    pub fn spec(&self, name: &str) -> KernelSpec {
        self.kernel(name).spec
    }

    pub fn source(&self, name: &str) -> &str {
        &self.kernel(name).source
    }
}
