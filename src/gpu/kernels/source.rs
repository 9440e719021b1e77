//! A kernel file made ready to compile: its header read, its includes appended, its WGSL
//! validated by naga, its interface reflected and checked against its family. Built-in and
//! dropped-in kernels go through the same steps, so both are described by their file alone.

use std::collections::BTreeMap;

use super::grid::Grid;
use super::header::Header;
use super::params::{self, Family, Scalar};
use super::KernelError;

/// What the executor relies on in a kernel: binding 0 is its `Params` uniform, then storage
/// buffers at bindings 1..=n, as (read-only) flags in binding order; the workgroup size is the
/// kernel's own business (its grid accounts for it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub storage: Vec<bool>,
}

impl Interface {
    /// The binding of the first buffer the kernel writes: what an execution trace records.
    pub fn first_output(&self) -> Option<u32> {
        self.storage
            .iter()
            .position(|read_only| !read_only)
            .map(|i| i as u32 + 1)
    }

    fn describe(&self) -> String {
        let bindings: Vec<String> = self
            .storage
            .iter()
            .enumerate()
            .map(|(i, &ro)| format!("{} {}", i + 1, if ro { "read" } else { "read_write" }))
            .collect();
        format!("storage bindings [{}]", bindings.join(", "))
    }
}

#[derive(Clone, Debug)]
pub struct KernelSource {
    /// Where it came from, for errors: `kernels/ops/linear/naive.wgsl` or a user's path.
    pub file: String,
    pub header: Header,
    pub family: &'static Family,
    /// The file as written (what hot reload compares with and the editor shows).
    pub text: String,
    /// The text with its includes appended: what is compiled.
    pub resolved: String,
    pub interface: Interface,
    /// The file's module-scope `const NAME: u32 = V;` lines, which grids may read.
    pub constants: BTreeMap<String, u32>,
}

/// The module-scope `const NAME: u32 = V;` (or `Vu`) lines of a WGSL text, by name. Only lines
/// that start with `const` count: constants inside functions are indented.
pub fn u32_constants(text: &str) -> BTreeMap<String, u32> {
    text.lines()
        .filter_map(|line| {
            let (name, value) = line.strip_prefix("const ")?.split_once(": u32 =")?;
            let value = value.trim().strip_suffix(';')?.trim_end_matches('u');
            Some((name.trim().to_string(), value.parse().ok()?))
        })
        .collect()
}

/// Parses and validates WGSL with the naga that wgpu itself uses; errors carry the line and
/// column in `file`.
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

/// The interface of a validated module.
fn interface(module: &naga::Module) -> Result<Interface, String> {
    module
        .entry_points
        .iter()
        .find(|e| e.name == "main" && e.stage == naga::ShaderStage::Compute)
        .ok_or("no compute entry point `main`")?;
    let mut storage: Vec<(u32, bool)> = Vec::new();
    for (_, var) in module.global_variables.iter() {
        let Some(binding) = &var.binding else {
            continue;
        };
        if binding.group != 0 {
            return Err(format!(
                "binding {} is in group {}: kernels bind everything in group 0",
                binding.binding, binding.group
            ));
        }
        if let naga::AddressSpace::Storage { access } = var.space {
            storage.push((
                binding.binding,
                !access.contains(naga::StorageAccess::STORE),
            ));
        }
    }
    storage.sort();
    for (i, (binding, _)) in storage.iter().enumerate() {
        if *binding != i as u32 + 1 {
            return Err(format!(
                "storage bindings must be numbered 1, 2, ... without gaps; found binding {binding} \
                 where {} was expected",
                i + 1
            ));
        }
    }
    Ok(Interface {
        storage: storage.into_iter().map(|(_, ro)| ro).collect(),
    })
}

/// Appends the helpers the header includes, so that the file's own lines keep their numbers
/// (WGSL declarations may come in any order). Returns the text and, per included helper, the
/// first line it occupies.
fn resolve(
    file: &str,
    text: &str,
    header: &Header,
    include: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Vec<(u32, String)>), KernelError> {
    let mut resolved = text.trim_end().to_string();
    resolved.push('\n');
    let mut spans = Vec::new();
    for name in &header.includes {
        let helper = include(name).ok_or_else(|| KernelError {
            file: file.to_string(),
            line: line_of(text, &format!("// Include: {name}")),
            column: 1,
            message: format!(
                "`Include: {name}`: no such helper; the built-in ones are {}",
                super::catalog::SHARED_HELPERS
                    .iter()
                    .map(|h| h.path)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        resolved.push_str(&format!("\n// Included from {name}:\n"));
        spans.push((resolved.lines().count() as u32 + 1, name.clone()));
        resolved.push_str(&helper);
    }
    Ok((resolved, spans))
}

fn line_of(text: &str, needle: &str) -> u32 {
    text.lines()
        .position(|l| l.trim_end() == needle)
        .map_or(1, |i| i as u32 + 1)
}

impl KernelSource {
    /// Reads a kernel file. `include` finds the text of a helper its header names.
    pub fn parse(
        file: &str,
        text: &str,
        include: &dyn Fn(&str) -> Option<String>,
    ) -> Result<KernelSource, KernelError> {
        let header = Header::parse(file, text)?;
        let at_dispatch = |message: String| KernelError {
            file: file.to_string(),
            line: header.dispatch_line,
            column: 1,
            message,
        };
        let family = params::family(&header.family).ok_or_else(|| KernelError {
            file: file.to_string(),
            line: line_of(
                text,
                &format!("// Kernel: {}/{}", header.family, header.variant),
            ),
            column: 1,
            message: format!(
                "no kernel family `{}`; the families are {}",
                header.family,
                params::FAMILIES
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        let (resolved, spans) = resolve(file, text, &header, include)?;
        let constants = u32_constants(&resolved);
        check_grid(&header.grid, family, &constants).map_err(at_dispatch)?;
        if let Some(tune) = &header.tune {
            if !constants.contains_key(&tune.name) {
                return Err(KernelError {
                    file: file.to_string(),
                    line: text
                        .lines()
                        .position(|l| l.starts_with("// Tune:"))
                        .map_or(1, |i| i as u32 + 1),
                    column: 1,
                    message: format!(
                        "`Tune: {}` names no `const {}: u32 = ...;` line of the file",
                        tune.name, tune.name
                    ),
                });
            }
        }
        let module = validate_wgsl(file, &resolved).map_err(|e| locate(e, &spans))?;
        let whole_file = |message: String| KernelError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message,
        };
        params::check_params(&module, family).map_err(whole_file)?;
        let interface = interface(&module).map_err(whole_file)?;
        Ok(KernelSource {
            file: file.to_string(),
            header,
            family,
            text: text.to_string(),
            resolved,
            interface,
            constants,
        })
    }

    /// The kernel of `text` and, where its header has a `Tune:` line, one more kernel for each
    /// other value of the tuned constant ([`tuned_texts`]): variants like any other, which
    /// `tune` and `bench` time and `--kernel` names.
    pub fn parse_tuned(
        file: &str,
        text: &str,
        include: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<KernelSource>, KernelError> {
        let base = KernelSource::parse(file, text, include)?;
        let mut all = Vec::new();
        for (name, value, derived) in tuned_texts(&base.header, text) {
            let file = format!("{file} ({name} = {value})");
            all.push(KernelSource::parse(&file, &derived, include)?);
        }
        all.insert(0, base);
        Ok(all)
    }

    /// The kernel as one self-contained file: its helpers appended, its `Include:` lines kept
    /// as prose so loading it again does not append them twice.
    pub fn self_contained(&self) -> String {
        let mut text = self.resolved.clone();
        for name in &self.header.includes {
            text = text.replacen(
                &format!("// Include: {name}"),
                &format!("// Included at the end: {name}"),
                1,
            );
        }
        text
    }

    /// Checks that a variant binds what its family's other kernels bind.
    pub fn check_interface(&self, family_interface: &Interface) -> Result<(), KernelError> {
        if &self.interface == family_interface {
            return Ok(());
        }
        Err(KernelError {
            file: self.file.clone(),
            line: 0,
            column: 0,
            message: format!(
                "family `{}` binds Params at 0 and {}; this kernel has {}",
                self.family.name,
                family_interface.describe(),
                self.interface.describe()
            ),
        })
    }
}

/// For a file whose header has a `Tune: NAME = ...` line, the file again for each value other
/// than its own `const NAME`: that constant set to the value, the variant named by
/// [`super::header::Tune::variant`] and the value added to its `About:` line. Each comes with
/// the constant's name and value.
pub fn tuned_texts(header: &Header, text: &str) -> Vec<(String, u32, String)> {
    let Some(tune) = &header.tune else {
        return Vec::new();
    };
    let own = u32_constants(text).get(&tune.name).copied();
    let (family, variant) = (&header.family, &header.variant);
    let kernel_line = format!("// Kernel: {family}/{variant}");
    let const_line = format!("const {}:", tune.name);
    tune.values
        .iter()
        .filter(|&&value| Some(value) != own)
        .map(|&value| {
            let derived = text
                .lines()
                .map(|line| {
                    if line.starts_with(&const_line) {
                        format!("const {}: u32 = {value}u;", tune.name)
                    } else if line == kernel_line {
                        format!("// Kernel: {family}/{}", tune.variant(variant, value))
                    } else if let Some(about) = line.strip_prefix("// About: ") {
                        format!("// About: {about}; {} = {value}", tune.name)
                    } else {
                        line.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            (tune.name.clone(), value, derived)
        })
        .collect()
}

/// Grids may only read the family's u32 fields and the file's u32 constants.
fn check_grid(
    grid: &Grid,
    family: &Family,
    constants: &BTreeMap<String, u32>,
) -> Result<(), String> {
    for name in grid.fields() {
        if constants.contains_key(name) {
            continue;
        }
        match family.fields.iter().find(|f| f.name == name) {
            Some(f) if f.scalar == Scalar::U32 => {}
            Some(_) => {
                return Err(format!(
                    "`Dispatch:` reads `{name}`, an f32; grids read u32 fields"
                ))
            }
            None => {
                return Err(format!(
                    "`Dispatch:` reads `{name}`, which {} does not have (nor a `const {name}: u32` line of the file)",
                    family.wgsl()
                ))
            }
        }
    }
    Ok(())
}

/// Moves an error found in an appended helper to the helper's own file and line.
fn locate(mut error: KernelError, spans: &[(u32, String)]) -> KernelError {
    if let Some((first, name)) = spans.iter().rev().find(|(first, _)| error.line >= *first) {
        error.message = format!(
            "{} (in the helper included by {})",
            error.message, error.file
        );
        error.file = format!("kernels/{name}");
        error.line = error.line - first + 1;
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tuned_file_is_one_variant_per_value_with_its_own_grid() {
        let file = super::super::BUILTIN_KERNELS
            .iter()
            .find(|f| f.path == "ops/linear/broadcast_row.wgsl")
            .unwrap();
        let sources = super::super::builtin_sources(file).unwrap();
        let variants: Vec<(&str, u32)> = sources
            .iter()
            .map(|s| (s.header.variant.as_str(), s.constants["GROUPS"]))
            .collect();
        assert_eq!(
            variants,
            [
                ("broadcast_row", 1),
                ("broadcast_row_groups2", 2),
                ("broadcast_row_groups4", 4),
                ("broadcast_row_groups8", 8)
            ]
        );
        // One row of 768 columns: 64 columns per group of 8 lanes.
        let counts: Vec<u32> = sources
            .iter()
            .map(|s| {
                let field = |name: &str| match name {
                    "n" => Some(768),
                    "rows" => Some(1),
                    other => s.constants.get(other).copied(),
                };
                s.header.grid.eval(&field, 65535).unwrap()[0]
            })
            .collect();
        assert_eq!(counts, [12, 6, 3, 2]);
        assert!(sources[1].resolved.contains("const GROUPS: u32 = 2u;"));
        assert!(sources[1].header.about.ends_with("; GROUPS = 2"));
    }

    #[test]
    fn a_tune_line_must_name_a_constant() {
        let text =
            "// Kernel: gelu/mine\n// Tune: WIDE = 1, 2\n// Dispatch: (ceil(n / 64), 1, 1)\n\
                    struct Params { n: u32 }\n\
                    @group(0) @binding(0) var<uniform> p: Params;\n\
                    @group(0) @binding(1) var<storage, read> x: array<f32>;\n\
                    @group(0) @binding(2) var<storage, read_write> y: array<f32>;\n\
                    @compute @workgroup_size(64) fn main() { y[0] = x[0] + f32(p.n); }\n";
        let error = KernelSource::parse("mine.wgsl", text, &|_| None).unwrap_err();
        assert_eq!(error.line, 2, "{error}");
        assert!(
            error.message.contains("names no `const WIDE: u32"),
            "{error}"
        );
    }
}
