//! Which kernel runs each op: the variant chosen for its family (`--kernel linear=tiled`, or
//! the app's Kernels box), else the variant a `--kernels` folder added, else what suits the op
//! and the adapter, else the family's default (its first built-in kernel).

use std::collections::BTreeMap;

use super::kernels::{params, KernelId, KernelRegistry};
use crate::graph::OpKind;

/// Which variant runs for each family (the default where none is chosen).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelChoice {
    chosen: BTreeMap<String, String>,
    /// Prefer kernels without workgroup barriers where there is a choice (see
    /// [`KernelChoice::for_adapter`]).
    barrier_free: bool,
}

impl KernelChoice {
    /// The defaults suited to an adapter. On a CPU adapter (lavapipe) a workgroup runs as a loop
    /// on one core, where a barrier costs more than the parallelism it buys: measured there, a
    /// GPT-2-small decode step's linear ops take 126 ms with the barrier-free naive kernel
    /// against 187 ms with the split-K matvec. GPUs keep the matvec, whose eight slices of K
    /// give eight times the workgroups.
    pub fn for_adapter(mut self, device_type: wgpu::DeviceType) -> KernelChoice {
        self.barrier_free = device_type == wgpu::DeviceType::Cpu;
        self
    }

    /// Parses `family=variant` choices, such as `linear=tiled`. Whether the variant exists is
    /// known once the kernels are loaded (a `--kernels` folder may add it): see
    /// [`KernelChoice::check`].
    pub fn parse(choices: &[String]) -> Result<KernelChoice, String> {
        let mut result = KernelChoice::default();
        for choice in choices {
            let (family, variant) = choice
                .split_once('=')
                .filter(|(f, v)| !f.is_empty() && !v.is_empty())
                .ok_or_else(|| {
                    format!("--kernel {choice:?}: expected FAMILY=VARIANT, such as linear=tiled")
                })?;
            if params::family(family).is_none() {
                let families: Vec<&str> = params::FAMILIES.iter().map(|f| f.name).collect();
                return Err(format!(
                    "--kernel {choice:?}: no family `{family}`; the families are {}",
                    families.join(", ")
                ));
            }
            result
                .chosen
                .insert(family.to_string(), variant.to_string());
        }
        Ok(result)
    }

    /// Refuses a chosen variant the registry does not have, listing those it has.
    pub fn check(&self, registry: &KernelRegistry) -> Result<(), String> {
        for (family, variant) in &self.chosen {
            if !registry.has(&KernelId::new(family, variant)) {
                let known: Vec<String> = registry
                    .variants(family)
                    .iter()
                    .map(|k| k.id.to_string())
                    .collect();
                return Err(format!(
                    "--kernel {family}={variant}: no such variant on this adapter; the variants \
                     of {family} are {}",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Whether no variant is chosen for any family.
    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }

    /// The choice of exactly one variant.
    pub fn only(id: &KernelId) -> KernelChoice {
        let mut choice = KernelChoice::default();
        choice.set(id);
        choice
    }

    /// Runs `id` for its family from now on.
    pub fn set(&mut self, id: &KernelId) {
        self.chosen.insert(id.family.clone(), id.variant.clone());
    }

    /// Every choice made, by family.
    pub fn choices(&self) -> impl Iterator<Item = KernelId> + '_ {
        self.chosen
            .iter()
            .map(|(family, variant)| KernelId::new(family, variant))
    }

    /// The variant chosen for `family`, if any.
    pub fn chosen(&self, family: &str) -> Option<KernelId> {
        self.chosen
            .get(family)
            .map(|variant| KernelId::new(family, variant))
    }

    /// The kernel that runs `kind`: the chosen variant of its family; else the one a kernel
    /// folder added; else, for one-token linear and logits ops (a decode step), the fastest
    /// matrix-vector kernel the device has; else the family's default.
    pub fn kernel_for_op(&self, kind: &OpKind, registry: &KernelRegistry) -> KernelId {
        let family = kind.kernel_name();
        if let Some(id) = self.chosen(family).or_else(|| registry.dropped_in(family)) {
            return id;
        }
        let preferred: &[&str] = match kind {
            OpKind::Linear { rows: 1, .. } if self.barrier_free => &["naive"],
            OpKind::Linear { rows: 1, .. } => &["matvec"],
            // The subgroup kernel reads wte at 90% of the copy peak on lavapipe, where the
            // workgroup-memory one reaches a third of it.
            OpKind::Logits { t: 1, .. } => &["subgroup", "matvec"],
            _ => &[],
        };
        preferred
            .iter()
            .map(|variant| KernelId::new(family, variant))
            .find(|id| registry.has(id))
            .or_else(|| registry.default_for(family).cloned())
            .unwrap_or_else(|| KernelId::new(family, "default"))
    }
}

/// The `--kernel` help: every built-in variant with what it does, read from the kernel files.
pub fn kernel_help() -> String {
    let mut lines = vec![
        "Run an op family with another kernel variant, FAMILY=VARIANT (repeatable). Without it \
         each family runs its default (listed first), one-token ops (a decode step) run \
         linear=matvec (linear=naive on CPU adapters) and logits=subgroup (logits=matvec \
         without subgroups), and a family that --kernels DIR adds a variant to runs that one. \
         The built-in variants:"
            .to_string(),
    ];
    let mut families_seen: Vec<String> = Vec::new();
    for header in super::kernels::builtin_choices() {
        let default = if families_seen.contains(&header.family) {
            ""
        } else {
            families_seen.push(header.family.clone());
            " (default)"
        };
        let needs = if header.needs.is_empty() {
            ""
        } else {
            " [needs subgroups]"
        };
        lines.push(format!(
            "  {}={}{default}{needs}: {}",
            header.family, header.variant, header.about
        ));
    }
    lines.join("\n")
}
