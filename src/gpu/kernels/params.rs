//! The parameters of every kernel family, as typed `#[repr(C)]` structs: the planner fills them
//! by field name, and every kernel of the family (built in or dropped in) is checked through
//! naga to declare `struct Params` with the same fields, types, offsets and size.

use bytemuck::{Pod, Zeroable};

/// A WGSL scalar a `Params` field may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    U32,
    F32,
}

impl Scalar {
    pub fn wgsl(self) -> &'static str {
        match self {
            Scalar::U32 => "u32",
            Scalar::F32 => "f32",
        }
    }
}

/// Rust field types that are WGSL scalars.
pub trait ScalarType {
    const SCALAR: Scalar;
}

impl ScalarType for u32 {
    const SCALAR: Scalar = Scalar::U32;
}

impl ScalarType for f32 {
    const SCALAR: Scalar = Scalar::F32;
}

/// One field of a family's `Params`, at byte offset 4 x its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub scalar: Scalar,
}

/// An op family: the kernels that compute it share its `Params` and its bindings.
#[derive(Clone, Copy, Debug)]
pub struct Family {
    pub name: &'static str,
    pub fields: &'static [Field],
    /// `size_of` the Rust struct, which the WGSL struct must match.
    pub size: usize,
}

impl Family {
    /// The WGSL declaration kernels of this family must have.
    pub fn wgsl(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.name, f.scalar.wgsl()))
            .collect();
        format!("struct Params {{ {} }}", fields.join(", "))
    }
}

/// A family's typed parameters.
pub trait KernelParams: Pod {
    const FAMILY: &'static str;
}

macro_rules! families {
    ($($(#[$doc:meta])* $family:literal => $name:ident { $($field:ident: $ty:ident),* $(,)? })*) => {
        $(
            $(#[$doc])*
            #[repr(C)]
            #[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
            pub struct $name {
                $(pub $field: $ty),*
            }

            impl KernelParams for $name {
                const FAMILY: &'static str = $family;
            }
        )*

        /// Every kernel family, in the order lists show them.
        pub const FAMILIES: &[Family] = &[$(Family {
            name: $family,
            fields: &[$(Field { name: stringify!($field), scalar: <$ty as ScalarType>::SCALAR }),*],
            size: std::mem::size_of::<$name>(),
        }),*];
    };
}

families! {
    /// x[t] = wte[id[t]] + wpe[t], for the ids inside one chunk of wte's rows.
    "embed" => EmbedParams { t: u32, c: u32, vocab_start: u32, vocab_rows: u32 }
    /// Layer norm of `rows` rows of `c` channels.
    "layernorm" => LayerNormParams { rows: u32, c: u32, eps: f32 }
    /// y [rows, n] = x [rows, k] w [k, n] + b.
    "linear" => LinearParams { rows: u32, k: u32, n: u32 }
    "split_heads" => SplitHeadsParams { t: u32, h: u32, d: u32 }
    /// `kv` key heads, each shared by h / kv query heads.
    "attn_scores" => AttnScoresParams { t: u32, h: u32, d: u32, scale: f32, kv: u32 }
    /// `rows` rows of one chunk, the first being row `row_offset` of the tensor.
    "softmax" => SoftmaxParams { rows: u32, cols: u32, causal: u32, row_offset: u32 }
    "attn_mix" => AttnMixParams { t: u32, h: u32, d: u32, kv: u32 }
    "gelu" => GeluParams { n: u32 }
    "add" => AddParams { n: u32 }
    /// One (token chunk, vocabulary chunk) pair of the logits.
    "logits" => LogitsParams { t_rows: u32, t_offset: u32, c: u32, vocab: u32, vocab_start: u32, vocab_rows: u32 }
    /// y [rows, n] = x [x_row_offset.., k] . w[n, k] + b, w in ggml blocks of type `format` (a
    /// ggml type id): a linear layer or the logits (one chunk of token rows), quantized.
    "matmul_q" => MatmulQParams { rows: u32, k: u32, n: u32, x_row_offset: u32, format: u32 }
    /// A weight's `rows` rows of `row_len` values in ggml blocks of type `format`, as f32.
    "dequant" => DequantParams { rows: u32, row_len: u32, format: u32, transposed: u32 }
    /// x[t] = embed_tokens[id[t]], for the ids inside one chunk of the table's rows.
    "embed_tokens" => EmbedTokensParams { t: u32, c: u32, vocab_start: u32, vocab_rows: u32 }
    "rmsnorm" => RmsNormParams { rows: u32, c: u32, eps: f32 }
    /// Rotary positions from `first`; llama3 scaling when `scaled` is 1.
    "rope" => RopeParams { t: u32, heads: u32, d: u32, first: u32, theta: f32, scaled: u32, factor: f32, low_freq_factor: f32, high_freq_factor: f32, context: f32 }
    "heads" => HeadsParams { t: u32, h: u32, d: u32 }
    "swiglu" => SwiGluParams { n: u32 }
    "embed_at" => EmbedAtParams { c: u32, vocab_start: u32, vocab_rows: u32 }
    "kv_append" => KvAppendParams { h: u32, d: u32, capacity: u32 }
    /// The Llama family's KvAppend: the query and key turned by the position held in a buffer.
    "rope_append" => RopeAppendParams { h: u32, kv: u32, d: u32, capacity: u32, theta: f32, scaled: u32, factor: f32, low_freq_factor: f32, high_freq_factor: f32, context: f32 }
    "attn_scores_cached" => AttnScoresCachedParams { h: u32, d: u32, capacity: u32, scale: f32, kv: u32 }
    "attn_mix_cached" => AttnMixCachedParams { h: u32, d: u32, capacity: u32, kv: u32 }
    "attn_fused" => AttnFusedParams { t: u32, h: u32, d: u32, scale: f32, kv: u32 }
    /// One workgroup per `span` cache slots of a head.
    "attn_split" => AttnSplitParams { h: u32, d: u32, capacity: u32, scale: f32, kv: u32, span: u32 }
    "attn_combine" => AttnCombineParams { h: u32, d: u32, splits: u32, span: u32 }
    "sample" => SampleParams { v: u32 }
    /// Columns start..start+len of [rows, cols] zeroed, or (mean != 0) set to their mean.
    "ablate" => AblateParams { rows: u32, cols: u32, start: u32, len: u32, mean: u32 }
    /// The k best of `rows` rows of one chunk, the first being row `row_offset` of the tensor.
    "top_k" => TopKParams { rows: u32, cols: u32, k: u32, row_offset: u32 }
    "head_scores" => HeadScoresParams { t: u32, h: u32 }
    /// The attribution direction of `token`, written by the launch of the wte chunk holding it.
    "attribute_direction" => AttributeDirectionParams { c: u32, token: u32, vocab_start: u32, vocab_rows: u32 }
    "attribute_vector" => AttributeVectorParams { t: u32, c: u32, position: u32 }
    "attribute_heads" => AttributeHeadsParams { t: u32, h: u32, d: u32, position: u32 }
    /// Cosine of `rows` vectors with one chunk of wte's rows.
    "cosine" => CosineParams { rows: u32, c: u32, vocab: u32, vocab_start: u32, vocab_rows: u32 }
    /// Component `component` of the k principal components of n points of c dimensions.
    "pca" => PcaParams { n: u32, c: u32, k: u32, iterations: u32, component: u32 }
    "project" => ProjectParams { rows: u32, c: u32, k: u32 }
    /// The bandwidth probe: copies `n` vec4s.
    "peak_copy" => PeakCopyParams { n: u32 }
    /// The arithmetic probe.
    "peak_fma" => PeakFmaParams { threads: u32, iterations: u32 }
    /// The renderer's colour scale: the largest |x| of `n` values into slot `slot`.
    "absmax" => AbsmaxParams { n: u32, slot: u32 }
    /// The renderer's robust colour scale: counts of `n` values' |x| per quarter octave.
    "scale_histogram" => ScaleHistogramParams { n: u32, slot: u32 }
    /// The renderer's robust colour scale: each of `tensors` tensors' (1 - tail) quantile.
    "scale_pick" => ScalePickParams { tensors: u32, tail: f32 }
}

/// The family named `name`.
pub fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// One member of a WGSL struct: its name, its type where it is a scalar `Params` may hold, and
/// its byte offset.
type Member = (String, Option<Scalar>, u32);

/// The WGSL struct a module declares for its uniform at binding 0, its members and its size; an
/// error says what is there instead.
fn wgsl_params(module: &naga::Module) -> Result<(Vec<Member>, u32), String> {
    let uniform = module
        .global_variables
        .iter()
        .find(|(_, v)| {
            v.space == naga::AddressSpace::Uniform
                && v.binding
                    .as_ref()
                    .is_some_and(|b| b.group == 0 && b.binding == 0)
        })
        .map(|(_, v)| v)
        .ok_or("no `@group(0) @binding(0) var<uniform> p: Params;`")?;
    let naga::TypeInner::Struct { members, span } = &module.types[uniform.ty].inner else {
        return Err("the uniform at binding 0 is not a struct".to_string());
    };
    let members = members
        .iter()
        .map(|m| {
            let scalar = match module.types[m.ty].inner {
                naga::TypeInner::Scalar(naga::Scalar::U32) => Some(Scalar::U32),
                naga::TypeInner::Scalar(naga::Scalar::F32) => Some(Scalar::F32),
                _ => None,
            };
            (m.name.clone().unwrap_or_default(), scalar, m.offset)
        })
        .collect();
    Ok((members, *span))
}

/// Checks that the module's `Params` is the family's, field by field.
pub fn check_params(module: &naga::Module, family: &Family) -> Result<(), String> {
    let expected = || format!("family `{}` expects {}", family.name, family.wgsl());
    let (members, span) = wgsl_params(module).map_err(|e| format!("{e}: {}", expected()))?;
    let matches = members.len() == family.fields.len()
        && members.iter().zip(family.fields).enumerate().all(
            |(i, ((name, scalar, offset), field))| {
                name == field.name && *scalar == Some(field.scalar) && *offset as usize == 4 * i
            },
        );
    if !matches || span as usize != family.size {
        let found: Vec<String> = members
            .iter()
            .map(|(name, scalar, _)| {
                format!(
                    "{name}: {}",
                    scalar.map_or("(not u32 or f32)", Scalar::wgsl)
                )
            })
            .collect();
        return Err(format!(
            "Params is {{ {} }} ({span} bytes); {} ({} bytes)",
            found.join(", "),
            expected(),
            family.size
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(source: &str) -> naga::Module {
        naga::front::wgsl::parse_str(source).unwrap()
    }

    const TAIL: &str = "@group(0) @binding(0) var<uniform> p: Params;\n\
                        @compute @workgroup_size(1) fn main() { _ = p; }";

    #[test]
    fn every_family_struct_is_its_fields() {
        for family in FAMILIES {
            assert_eq!(family.size, 4 * family.fields.len(), "{}", family.name);
        }
        assert_eq!(std::mem::size_of::<LogitsParams>(), 24);
        assert_eq!(
            family("linear").unwrap().wgsl(),
            "struct Params { rows: u32, k: u32, n: u32 }"
        );
    }

    #[test]
    fn params_are_checked_by_name_type_and_order() {
        let linear = family("linear").unwrap();
        let good = module(&format!(
            "struct Params {{ rows: u32, k: u32, n: u32 }}\n{TAIL}"
        ));
        assert_eq!(check_params(&good, linear), Ok(()));
        for bad in [
            "struct Params { rows: u32, n: u32, k: u32 }",
            "struct Params { rows: u32, k: u32, n: f32 }",
            "struct Params { rows: u32, k: u32 }",
            "struct Params { rows: u32, k: u32, n: u32, extra: u32 }",
            "struct Params { rows: u32, k: u32, n: vec2<u32> }",
        ] {
            let error = check_params(&module(&format!("{bad}\n{TAIL}")), linear).unwrap_err();
            assert!(
                error.contains(
                    "family `linear` expects struct Params { rows: u32, k: u32, n: u32 }"
                ),
                "{error}"
            );
        }
        let missing = module("@compute @workgroup_size(1) fn main() {}");
        assert!(check_params(&missing, linear)
            .unwrap_err()
            .contains("no `@group(0) @binding(0)"));
    }
}
