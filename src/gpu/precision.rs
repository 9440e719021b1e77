//! f16 storage: the graph's float tensors (weights and activations) held as 16-bit floats, half
//! the bytes to move, with every kernel still computing in f32. The f16 kernels are not written
//! twice: each is derived from its f32 source by `wgsl::f16_source`, which stores the f32 storage
//! arrays as f16, widens every load and narrows every store. Needs the adapter's SHADER_F16.

/// How the float tensors of a graph are stored on the device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    #[default]
    F32,
    F16,
}

impl Precision {
    /// Bytes per float element.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }

    /// The bound a tensor computed at this precision must stay within, as a share of
    /// max(1, max |reference|) ([`crate::values::compare::Difference::within`]): the project's
    /// tolerance for f32; for f16 storage, whose rounding alone is 2^-11 per value, a drift of 1%.
    pub fn tolerance(self) -> f32 {
        match self {
            Precision::F32 => crate::values::compare::TOLERANCE,
            Precision::F16 => crate::values::compare::F16_DRIFT,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }

    pub fn parse(text: &str) -> Result<Precision, String> {
        match text {
            "f32" => Ok(Precision::F32),
            "f16" => Ok(Precision::F16),
            other => Err(format!("--precision {other:?}: expected f32 or f16")),
        }
    }
}
