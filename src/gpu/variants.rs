//! Which kernel runs each op: the variant chosen for its family (`--kernel linear=tiled`, or
//! the app's Kernels box), else the variant a `--kernels` folder added, else the one `glassbox
//! tune` found fastest for the op's shape on this adapter, else what suits the op and the
//! adapter, else the family's default (its first built-in kernel).

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
    /// What `glassbox tune` measured on this adapter: the fastest correct variant by op shape
    /// ([`tuning_key`]).
    tuned: BTreeMap<String, String>,
    /// Leave a `--kernels` folder's new variants out (see [`KernelChoice::without_dropped_in`]).
    skip_dropped_in: bool,
}

/// Why an op runs the kernel it runs, as `bench` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChoiceReason {
    /// `--kernel FAMILY=VARIANT`, or the app's Kernels box.
    Asked,
    /// The new variant a `--kernels` folder added.
    DroppedIn,
    /// The fastest correct variant `glassbox tune` measured for this shape on this adapter.
    Tuned,
    /// What suits this kind of adapter and op (see [`KernelChoice::kernel_for_op`]).
    ForAdapter,
    /// The family's default: its first built-in kernel.
    FamilyDefault,
}

impl ChoiceReason {
    pub fn describe(self) -> &'static str {
        match self {
            ChoiceReason::Asked => "asked for",
            ChoiceReason::DroppedIn => "from --kernels",
            ChoiceReason::Tuned => "tuned",
            ChoiceReason::ForAdapter => "default for this adapter",
            ChoiceReason::FamilyDefault => "family default",
        }
    }
}

/// The longest row the one-thread-per-row kernels run by default on CPU adapters: their three
/// passes stay under the 65535 loop rounds Mesa 22.3's lavapipe allows an invocation.
const ROW_KERNEL_MAX: usize = 16384;

/// Workgroups a GPU matmul should make to keep a large GPU busy: about four per multiprocessor
/// of an H200 (132), since a 256-thread workgroup holding 64 sums a thread leaves room for two.
const GPU_MATMUL_WORKGROUPS: usize = 512;

/// The matmul for an output of `rows` x `cols` on a GPU: the largest tile that still makes
/// [`GPU_MATMUL_WORKGROUPS`]. Measured on an H200 at 1024 tokens: logits (3144 blocks of 128 x
/// 128) at 61% of the FMA peak with gemm; c_attn (144 such blocks) at 37% with gemm and 44%
/// with tile64's 576 blocks of 64 x 64.
fn gpu_matmul(rows: usize, cols: usize) -> &'static [&'static str] {
    let blocks = |block_rows: usize, block_cols: usize| {
        rows.div_ceil(block_rows) * cols.div_ceil(block_cols)
    };
    if blocks(128, 128) >= GPU_MATMUL_WORKGROUPS {
        &["gemm", "tile64"]
    } else if blocks(64, 128) >= GPU_MATMUL_WORKGROUPS {
        &["gemm_block_rows64", "tile64"]
    } else {
        &["tile64"]
    }
}

/// What identifies an op's shape for tuning: its kind with every size, such as
/// `Linear { rows: 64, k: 768, n: 2304, bias: true }`.
pub fn tuning_key(kind: &OpKind) -> String {
    format!("{kind:?}")
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

    /// Runs the variants `glassbox tune` measured fastest (by [`tuning_key`]) where nothing
    /// else is chosen.
    pub fn with_tuned(mut self, tuned: BTreeMap<String, String>) -> KernelChoice {
        self.tuned = tuned;
        self
    }

    /// Runs the built-in kernels even where a `--kernels` folder added a variant: `glassbox
    /// tune` computes every op's inputs with them, so that a wrong new variant is measured
    /// against right inputs, and refused.
    pub fn without_dropped_in(mut self) -> KernelChoice {
        self.skip_dropped_in = true;
        self
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

    /// The kernel for a linear layer or the logits over `rows` tokens whose weights are kept
    /// quantized: `--kernel matmul_q=VARIANT`, else the matrix-vector kernel for a decode step's
    /// few rows (on CPU adapters the barrier-free one) and the tiled one for more.
    pub fn quantized_matmul(
        &self,
        rows: usize,
        registry: &KernelRegistry,
    ) -> (KernelId, ChoiceReason) {
        if let Some(id) = self.chosen("matmul_q") {
            return (id, ChoiceReason::Asked);
        }
        if let Some(id) = registry.dropped_in("matmul_q") {
            return (id, ChoiceReason::DroppedIn);
        }
        let variant = match (rows <= 4, self.barrier_free) {
            (true, true) => "rows",
            (true, false) => "matvec",
            (false, _) => "tiled",
        };
        (KernelId::new("matmul_q", variant), ChoiceReason::ForAdapter)
    }

    /// The kernel that runs `kind`; see [`KernelChoice::choose`].
    pub fn kernel_for_op(&self, kind: &OpKind, registry: &KernelRegistry) -> KernelId {
        self.choose(kind, registry).0
    }

    /// The kernel that runs `kind`, and why: the chosen variant of its family; else the one a
    /// kernel folder added; else the one tuned for its shape; else what suits the adapter (for
    /// one-token linear and logits ops, a decode step, the fastest matrix-vector kernel the
    /// device has; on CPU adapters, the subgroup-broadcast kernels for longer ones); else the
    /// family's default.
    pub fn choose(&self, kind: &OpKind, registry: &KernelRegistry) -> (KernelId, ChoiceReason) {
        let family = kind.kernel_name();
        if let Some(id) = self.chosen(family) {
            return (id, ChoiceReason::Asked);
        }
        if let Some(id) = registry
            .dropped_in(family)
            .filter(|_| !self.skip_dropped_in)
        {
            return (id, ChoiceReason::DroppedIn);
        }
        let tuned = self
            .tuned
            .get(&tuning_key(kind))
            .map(|variant| KernelId::new(family, variant))
            .filter(|id| registry.has(id));
        if let Some(id) = tuned {
            return (id, ChoiceReason::Tuned);
        }
        // Measured on lavapipe (Mesa 22.3, 2 cores): GPT-2 small's c_fc at one row takes 4.6 ms
        // with broadcast_row against 8.7 with naive; at 64 rows linear=broadcast takes a
        // quarter of blocked's time and logits=broadcast a ninth of rows4's. The one-thread-
        // per-row kernels (softmax=row, layernorm=row) are faster on short rows, but Mesa
        // 22.3's lavapipe stops an invocation's loops after 65535 rounds in all, and three
        // passes over a 50257-column vocabulary row pass that: they run up to ROW_KERNEL_MAX.
        let preferred: &[&str] = match kind {
            // In a GPT-2-small decode step on lavapipe (steps alternating, weights streamed from
            // memory) the linear ops took 78 ms with row_stream against 137 to 156 with
            // broadcast_row: 16 rows of w read side by side, not 256 bytes of one and a jump.
            OpKind::Linear { rows: 1, .. } if self.barrier_free => {
                &["row_stream", "broadcast_row", "naive"]
            }
            OpKind::Linear { rows: 1, .. } => &["matvec"],
            // At one token on lavapipe row_stream read wte in 35 ms against 70 for the
            // subgroup kernel and 79 for broadcast (its other 15 token rows repeat the first),
            // and in a decode step, streaming wte from memory, in 32 to 39 ms.
            OpKind::Logits { t: 1, .. } if self.barrier_free => &["row_stream", "subgroup"],
            // On GPUs the subgroup kernel, one subgroup per vocabulary row; it read wte at 90%
            // of the copy peak on lavapipe, where the workgroup-memory one reaches a third.
            OpKind::Logits { t: 1, .. } => &["subgroup", "matvec"],
            OpKind::Linear { .. } if self.barrier_free => &["broadcast", "blocked"],
            // GPT-2 small at 64 tokens on lavapipe: scores 0.78 against 3.28 ms, mix 0.57
            // against 3.67 (the default kernels' lanes each load their own operands).
            OpKind::AttnScores { .. } | OpKind::AttnMix { .. } if self.barrier_free => {
                &["broadcast"]
            }
            // Rows short enough for one invocation's loops (see above): the attention's
            // softmax, 0.24 against 2.2 ms at 64 tokens; layer norms, 0.43 against 0.57 ms.
            OpKind::Softmax { cols, .. } if self.barrier_free && *cols <= ROW_KERNEL_MAX => {
                &["row"]
            }
            OpKind::LayerNorm { c, .. } if self.barrier_free && *c <= ROW_KERNEL_MAX => &["row"],
            OpKind::Logits { .. } if self.barrier_free => &["broadcast", "rows4"],
            OpKind::Linear { rows, n, .. } => gpu_matmul(*rows, *n),
            OpKind::Logits { t, v, .. } => gpu_matmul(*t, *v),
            // On an H200 at 1024 tokens: scores 0.34 ms against 1.64 for the default kernel.
            OpKind::AttnScores { .. } => &["broadcast"],
            // Measured on an H200 (tests and the 1024-token pass); attn_fused=lanes, four
            // times the workgroups, is checked on lavapipe but not yet timed on a GPU: `tune`
            // picks it where it is faster.
            OpKind::AttnFused { .. } if !self.barrier_free => &["blocked"],
            _ => &[],
        };
        if let Some(id) = preferred
            .iter()
            .map(|variant| KernelId::new(family, variant))
            .find(|id| registry.has(id))
        {
            return (id, ChoiceReason::ForAdapter);
        }
        let default = registry
            .default_for(family)
            .cloned()
            .unwrap_or_else(|| KernelId::new(family, "default"));
        (default, ChoiceReason::FamilyDefault)
    }
}

/// The `--kernel` help: every built-in variant with what it does, read from the kernel files.
pub fn kernel_help() -> String {
    let mut lines = vec![format!(
        "Run an op family with another kernel variant, FAMILY=VARIANT (repeatable). Without it \
         each family runs the variant `glassbox tune` found fastest for the op's shape on this \
         adapter, else its default (listed first), except that one-token ops (a decode step) \
         run linear=matvec (linear=row_stream, else linear=naive, on CPU adapters) and \
         logits=subgroup (logits=row_stream on CPU adapters, logits=matvec without subgroups), \
         CPU adapters run linear=broadcast and logits=broadcast for longer ones too, \
         attn_scores=broadcast, attn_mix=broadcast, and softmax=row and layernorm=row on rows \
         of up to {ROW_KERNEL_MAX}; GPUs run linear and logits on longer ones as linear=gemm, \
         gemm_block_rows64 or tile64 (the largest tile that still makes {GPU_MATMUL_WORKGROUPS} \
         workgroups), attn_scores=broadcast and attn_fused=blocked; and a family that \
         --kernels DIR adds a variant to runs that one. The built-in variants:"
    )];
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
