//! How two computations of the same tensor are compared: one rule, one tolerance, used by
//! `glassbox check`, by the tests against the CPU reference and by the tests against Hugging Face.

/// A tensor passes when max |actual - expected| <= TOLERANCE * max(1, max |expected|).
pub const TOLERANCE: f32 = 2e-4;

/// The same rule's bound for a graph stored in f16 (drift, not a correctness tolerance): f16
/// rounds every stored value by up to 2^-11, and the rounding compounds through the layers.
pub const F16_DRIFT: f32 = 1e-2;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// Largest |actual - expected|; infinite when one side is not finite where the other is.
    pub max_abs: f32,
    /// Largest |actual - expected| / max(|expected|, 1e-6) over finite values.
    pub max_rel: f32,
    /// The scale of the tolerance: max(1, largest finite |expected|).
    pub scale: f32,
}

impl Difference {
    pub fn passes(&self) -> bool {
        self.within(TOLERANCE)
    }

    /// Whether max |actual - expected| <= tolerance * max(1, max |expected|) (a non-finite
    /// difference never is).
    pub fn within(&self, tolerance: f32) -> bool {
        self.max_abs <= tolerance * self.scale
    }
}

/// Compares element by element. Equal infinities (the -inf of masked attention scores) count as
/// no difference; a NaN anywhere, or a length mismatch, is an infinite difference.
pub fn compare(actual: &[f32], expected: &[f32]) -> Difference {
    let mut diff = Difference {
        max_abs: if actual.len() == expected.len() {
            0.0
        } else {
            f32::INFINITY
        },
        max_rel: 0.0,
        scale: 1.0,
    };
    for (&a, &e) in actual.iter().zip(expected) {
        if e.is_finite() {
            diff.scale = diff.scale.max(e.abs());
        }
        if a == e {
            continue;
        }
        let abs = (a - e).abs();
        if !abs.is_finite() {
            diff.max_abs = f32::INFINITY;
            diff.max_rel = f32::INFINITY;
            continue;
        }
        diff.max_abs = diff.max_abs.max(abs);
        diff.max_rel = diff.max_rel.max(abs / e.abs().max(1e-6));
    }
    diff
}
