//! The kernels built into the binary: every op kernel, its variants, and the probes and helpers
//! the benchmarks and the renderer run.

use super::{spec, subgroup_spec, KernelSpec};

/// Every built-in kernel.
pub const BUILTIN_KERNELS: &[KernelSpec] = &[
    spec("embed", include_str!("../../../kernels/embed.wgsl"), 3, 1),
    spec(
        "layernorm",
        include_str!("../../../kernels/layernorm.wgsl"),
        3,
        3,
    ),
    spec("linear", include_str!("../../../kernels/linear.wgsl"), 3, 1),
    spec(
        "split_heads",
        include_str!("../../../kernels/split_heads.wgsl"),
        1,
        3,
    ),
    spec(
        "attn_scores",
        include_str!("../../../kernels/attn_scores.wgsl"),
        2,
        1,
    ),
    spec(
        "softmax",
        include_str!("../../../kernels/softmax.wgsl"),
        1,
        3,
    ),
    spec(
        "attn_mix",
        include_str!("../../../kernels/attn_mix.wgsl"),
        2,
        1,
    ),
    spec("gelu", include_str!("../../../kernels/gelu.wgsl"), 1, 1),
    spec("add", include_str!("../../../kernels/add.wgsl"), 2, 1),
    spec("logits", include_str!("../../../kernels/logits.wgsl"), 2, 1),
    spec(
        "peak_copy",
        include_str!("../../../kernels/peak_copy.wgsl"),
        1,
        1,
    ),
    spec("absmax", include_str!("../../../kernels/absmax.wgsl"), 1, 1),
    spec(
        "linear_naive",
        include_str!("../../../kernels/linear_naive.wgsl"),
        3,
        1,
    ),
    spec(
        "linear_tiled",
        include_str!("../../../kernels/linear_tiled.wgsl"),
        3,
        1,
    ),
    spec(
        "softmax_row",
        include_str!("../../../kernels/softmax_row.wgsl"),
        1,
        3,
    ),
    spec(
        "layernorm_row",
        include_str!("../../../kernels/layernorm_row.wgsl"),
        3,
        3,
    ),
    spec(
        "linear_matvec",
        include_str!("../../../kernels/linear_matvec.wgsl"),
        3,
        1,
    ),
    spec(
        "logits_matvec",
        include_str!("../../../kernels/logits_matvec.wgsl"),
        2,
        1,
    ),
    spec(
        "embed_at",
        include_str!("../../../kernels/embed_at.wgsl"),
        4,
        1,
    ),
    spec(
        "kv_append",
        include_str!("../../../kernels/kv_append.wgsl"),
        2,
        3,
    ),
    spec(
        "attn_scores_cached",
        include_str!("../../../kernels/attn_scores_cached.wgsl"),
        3,
        1,
    ),
    spec(
        "attn_mix_cached",
        include_str!("../../../kernels/attn_mix_cached.wgsl"),
        3,
        1,
    ),
    spec("sample", include_str!("../../../kernels/sample.wgsl"), 3, 1),
    subgroup_spec(
        "softmax_subgroup",
        include_str!("../../../kernels/softmax_subgroup.wgsl"),
        1,
        3,
    ),
    subgroup_spec(
        "logits_subgroup",
        include_str!("../../../kernels/logits_subgroup.wgsl"),
        2,
        1,
    ),
    subgroup_spec(
        "layernorm_subgroup",
        include_str!("../../../kernels/layernorm_subgroup.wgsl"),
        3,
        3,
    ),
    spec(
        "peak_fma",
        include_str!("../../../kernels/peak_fma.wgsl"),
        0,
        1,
    ),
];
