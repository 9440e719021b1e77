//! The kernels built into the binary, one line each: everything else about a kernel (family,
//! variant, features, grid, parameters, bindings) comes from its file's header and its WGSL.
//! The first kernel of a family is the family's default.

/// A WGSL file shipped in the binary, by its path under `kernels/`.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinFile {
    pub path: &'static str,
    pub source: &'static str,
}

macro_rules! builtin {
    ($path:literal) => {
        BuiltinFile {
            path: $path,
            source: include_str!(concat!("../../../kernels/", $path)),
        }
    };
}

/// Every built-in compute kernel: the ops' kernels by family and variant (GPT-2's, then the
/// Llama family's), the quantized weights' (matmuls reading ggml blocks, and dequantization),
/// the decode step's, the
/// "why" tools' (ablation, lens, head scores, attribution, neighbours), the benchmark probes and
/// the renderer's.
pub const BUILTIN_KERNELS: &[BuiltinFile] = &[
    builtin!("ops/embed.wgsl"),
    builtin!("ops/layernorm/workgroup.wgsl"),
    builtin!("ops/layernorm/row.wgsl"),
    builtin!("ops/layernorm/subgroup.wgsl"),
    builtin!("ops/linear/blocked.wgsl"),
    builtin!("ops/linear/naive.wgsl"),
    builtin!("ops/linear/tiled.wgsl"),
    builtin!("ops/linear/matvec.wgsl"),
    builtin!("ops/linear/broadcast.wgsl"),
    builtin!("ops/linear/broadcast_row.wgsl"),
    builtin!("ops/linear/row_stream.wgsl"),
    builtin!("ops/linear/tile64.wgsl"),
    builtin!("ops/linear/gemm.wgsl"),
    builtin!("ops/split_heads.wgsl"),
    builtin!("ops/attn_scores/default.wgsl"),
    builtin!("ops/attn_scores/broadcast.wgsl"),
    builtin!("ops/softmax/workgroup.wgsl"),
    builtin!("ops/softmax/row.wgsl"),
    builtin!("ops/softmax/subgroup.wgsl"),
    builtin!("ops/attn_mix/default.wgsl"),
    builtin!("ops/attn_mix/broadcast.wgsl"),
    builtin!("ops/attn_fused/default.wgsl"),
    builtin!("ops/attn_fused/blocked.wgsl"),
    builtin!("ops/attn_fused/lanes.wgsl"),
    builtin!("ops/gelu.wgsl"),
    builtin!("ops/add.wgsl"),
    builtin!("ops/logits/rows4.wgsl"),
    builtin!("ops/logits/matvec.wgsl"),
    builtin!("ops/logits/subgroup.wgsl"),
    builtin!("ops/logits/broadcast.wgsl"),
    builtin!("ops/logits/row_stream.wgsl"),
    builtin!("ops/logits/tile64.wgsl"),
    builtin!("ops/logits/gemm.wgsl"),
    builtin!("quant/matmul_q/matvec.wgsl"),
    builtin!("quant/matmul_q/tiled.wgsl"),
    builtin!("quant/matmul_q/rows.wgsl"),
    builtin!("quant/dequant.wgsl"),
    builtin!("ops/embed_tokens.wgsl"),
    builtin!("ops/rmsnorm.wgsl"),
    builtin!("ops/rope.wgsl"),
    builtin!("ops/heads.wgsl"),
    builtin!("ops/swiglu.wgsl"),
    builtin!("decode/embed_at.wgsl"),
    builtin!("decode/kv_append.wgsl"),
    builtin!("decode/rope_append.wgsl"),
    builtin!("decode/attn_scores_cached.wgsl"),
    builtin!("decode/attn_mix_cached.wgsl"),
    builtin!("decode/attn_split.wgsl"),
    builtin!("decode/attn_combine.wgsl"),
    builtin!("decode/sample.wgsl"),
    builtin!("why/ablate.wgsl"),
    builtin!("why/top_k.wgsl"),
    builtin!("why/head_scores.wgsl"),
    builtin!("why/attribute_direction.wgsl"),
    builtin!("why/attribute_vector.wgsl"),
    builtin!("why/attribute_heads.wgsl"),
    builtin!("why/cosine.wgsl"),
    builtin!("why/pca.wgsl"),
    builtin!("why/project.wgsl"),
    builtin!("probes/peak_copy.wgsl"),
    builtin!("probes/peak_fma.wgsl"),
    builtin!("render/absmax.wgsl"),
    builtin!("render/scale_histogram.wgsl"),
    builtin!("render/scale_pick.wgsl"),
];

/// WGSL helpers kernels name in `// Include:` lines.
pub const SHARED_HELPERS: &[BuiltinFile] = &[
    builtin!("shared/workgroup_reduce.wgsl"),
    builtin!("shared/subgroup_reduce.wgsl"),
    builtin!("shared/rope.wgsl"),
    builtin!("shared/online_softmax.wgsl"),
    builtin!("shared/tile64.wgsl"),
    builtin!("shared/gemm.wgsl"),
    builtin!("shared/attn_tiles.wgsl"),
    builtin!("shared/blocks.wgsl"),
    builtin!("shared/block_dot.wgsl"),
];

/// A shared helper by its `// Include:` name.
pub fn shared_helper(name: &str) -> Option<&'static str> {
    SHARED_HELPERS
        .iter()
        .find(|f| f.path == name)
        .map(|f| f.source)
}
