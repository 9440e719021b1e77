//! Kernel variants: several kernels for the same op, chosen per op family (`--kernel
//! linear=tiled`). Every variant of a family has the same bindings; each has its own dispatch
//! shape, given here.

use std::collections::BTreeMap;

use crate::graph::OpKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    /// The op family (the graph's kernel name: `linear`, `softmax`, `layernorm`).
    pub family: &'static str,
    /// The variant's name on the command line.
    pub name: &'static str,
    /// The kernel file (without `.wgsl`).
    pub kernel: &'static str,
    pub about: &'static str,
}

/// Every variant; the first of each family is its default.
pub const VARIANTS: &[Variant] = &[
    Variant {
        family: "linear",
        name: "blocked",
        kernel: "linear",
        about: "4 x 4 outputs per thread in registers, each weight load serving 4 rows",
    },
    Variant {
        family: "linear",
        name: "naive",
        kernel: "linear_naive",
        about: "one thread per output, every operand from memory",
    },
    Variant {
        family: "linear",
        name: "tiled",
        kernel: "linear_tiled",
        about: "16 x 16 tiles staged in workgroup memory",
    },
    Variant {
        family: "linear",
        name: "matvec",
        kernel: "linear_matvec",
        about: "32 outputs x 8 slices of K per workgroup: each weight read once, in full lines (decode)",
    },
    Variant {
        family: "logits",
        name: "rows4",
        kernel: "logits",
        about: "one vocabulary row per thread, serving 4 tokens",
    },
    Variant {
        family: "logits",
        name: "matvec",
        kernel: "logits_matvec",
        about: "64 threads share each vocabulary row, reading it in full lines (decode)",
    },
    Variant {
        family: "logits",
        name: "subgroup",
        kernel: "logits_subgroup",
        about: "one subgroup per vocabulary row, summed with subgroupAdd: no barrier (decode; where the adapter has subgroups)",
    },
    Variant {
        family: "softmax",
        name: "workgroup",
        kernel: "softmax",
        about: "one 64-thread workgroup per row, reductions in workgroup memory",
    },
    Variant {
        family: "softmax",
        name: "row",
        kernel: "softmax_row",
        about: "one thread per row",
    },
    Variant {
        family: "softmax",
        name: "subgroup",
        kernel: "softmax_subgroup",
        about: "one 64-thread workgroup per row, reductions with subgroupMax/subgroupAdd (where the adapter has subgroups)",
    },
    Variant {
        family: "layernorm",
        name: "workgroup",
        kernel: "layernorm",
        about: "one 64-thread workgroup per row, reductions in workgroup memory",
    },
    Variant {
        family: "layernorm",
        name: "row",
        kernel: "layernorm_row",
        about: "one thread per row",
    },
    Variant {
        family: "layernorm",
        name: "subgroup",
        kernel: "layernorm_subgroup",
        about: "one 64-thread workgroup per row, sums with subgroupAdd (where the adapter has subgroups)",
    },
];

/// Which variant runs for each family (the default where none is chosen).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelChoice {
    chosen: BTreeMap<&'static str, &'static str>,
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

    /// Parses `family=variant` choices, such as `linear=tiled`.
    pub fn parse(choices: &[String]) -> Result<KernelChoice, String> {
        let mut result = KernelChoice::default();
        for choice in choices {
            let (family, name) = choice.split_once('=').ok_or_else(|| {
                format!("--kernel {choice:?}: expected OP=VARIANT, such as linear=tiled")
            })?;
            let variant = VARIANTS
                .iter()
                .find(|v| v.family == family && v.name == name)
                .ok_or_else(|| {
                    let known: Vec<String> = VARIANTS
                        .iter()
                        .map(|v| format!("{}={}", v.family, v.name))
                        .collect();
                    format!(
                        "--kernel {choice:?}: unknown; the variants are {}",
                        known.join(", ")
                    )
                })?;
            result.chosen.insert(variant.family, variant.kernel);
        }
        Ok(result)
    }

    /// The choice of exactly one variant.
    pub fn only(variant: &Variant) -> KernelChoice {
        KernelChoice {
            chosen: BTreeMap::from([(variant.family, variant.kernel)]),
            barrier_free: false,
        }
    }

    /// Runs `variant` for its family from now on.
    pub fn set(&mut self, variant: &Variant) {
        self.chosen.insert(variant.family, variant.kernel);
    }

    /// The variant that runs the ops of `family`.
    pub fn variant_for(&self, family: &str) -> Option<&'static Variant> {
        let kernel = self.chosen.get(family).copied().unwrap_or_default();
        VARIANTS
            .iter()
            .find(|v| v.family == family && (v.kernel == kernel || kernel.is_empty()))
    }

    /// The kernel that runs `kind`, among those the device has built (`built`): the chosen
    /// variant of its family; where none is chosen, for one-token linear and logits ops (a
    /// decode step) the fastest matrix-vector kernel the device has, else the family's default.
    pub fn kernel_for_op(&self, kind: &OpKind, built: impl Fn(&str) -> bool) -> &'static str {
        let family = kind.kernel_name();
        if let Some(kernel) = self.chosen.get(family) {
            return kernel;
        }
        let preferred: &[&'static str] = match kind {
            OpKind::Linear { rows: 1, .. } if self.barrier_free => &["linear_naive"],
            OpKind::Linear { rows: 1, .. } => &["linear_matvec"],
            // The subgroup kernel reads wte at 90% of the copy peak on lavapipe, where the
            // workgroup-memory one reaches a third of it.
            OpKind::Logits { t: 1, .. } => &["logits_subgroup", "logits_matvec"],
            _ => &[],
        };
        preferred
            .iter()
            .copied()
            .find(|kernel| built(kernel))
            .unwrap_or(family)
    }
}
