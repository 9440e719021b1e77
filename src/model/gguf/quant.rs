//! ggml's weight types and their dequantization to f32, from the same bytes the file holds:
//! F32, F16, BF16, and the block formats Q8_0, Q4_0, Q4_1 (blocks of 32 values sharing a scale,
//! and for Q4_1 a minimum) and the k-quants Q4_K and Q6_K (super-blocks of 256 values in 8 or 16
//! sub-blocks, whose scales are themselves quantized). Layouts as ggml's `block_*` structs.

use half::{bf16, f16};

/// A ggml tensor type the loader knows by id; only some can be dequantized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    Bf16,
    Q4_0,
    Q4_1,
    Q8_0,
    Q4K,
    Q6K,
    /// A type ggml has that glassbox does not read yet: its id and name.
    Unsupported(u32, &'static str),
}

/// ggml's type ids and names (ggml.h, `enum ggml_type`).
const NAMES: [(u32, &str); 31] = [
    (0, "F32"),
    (1, "F16"),
    (2, "Q4_0"),
    (3, "Q4_1"),
    (6, "Q5_0"),
    (7, "Q5_1"),
    (8, "Q8_0"),
    (9, "Q8_1"),
    (10, "Q2_K"),
    (11, "Q3_K"),
    (12, "Q4_K"),
    (13, "Q5_K"),
    (14, "Q6_K"),
    (15, "Q8_K"),
    (16, "IQ2_XXS"),
    (17, "IQ2_XS"),
    (18, "IQ3_XXS"),
    (19, "IQ1_S"),
    (20, "IQ4_NL"),
    (21, "IQ3_S"),
    (22, "IQ2_S"),
    (23, "IQ4_XS"),
    (24, "I8"),
    (25, "I16"),
    (26, "I32"),
    (27, "I64"),
    (28, "F64"),
    (29, "IQ1_M"),
    (30, "BF16"),
    (34, "TQ1_0"),
    (35, "TQ2_0"),
];

impl GgmlType {
    pub fn from_id(id: u32) -> Result<GgmlType, String> {
        Ok(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            30 => GgmlType::Bf16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            12 => GgmlType::Q4K,
            14 => GgmlType::Q6K,
            other => match NAMES.iter().find(|(i, _)| *i == other) {
                Some(&(id, name)) => GgmlType::Unsupported(id, name),
                None => return Err(format!("unknown ggml type {other}")),
            },
        })
    }

    /// ggml's id for the type, which the GPU kernels switch on.
    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q8_0 => 8,
            GgmlType::Q4K => 12,
            GgmlType::Q6K => 14,
            GgmlType::Bf16 => 30,
            GgmlType::Unsupported(id, _) => id,
        }
    }

    /// Whether the GPU's quantized matmul kernels (`matmul_q`) read this type's blocks; the
    /// others are made into f32 on the GPU (`dequant`) when a model is uploaded.
    pub fn has_gpu_matmul(self) -> bool {
        matches!(self, GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0)
    }

    pub fn name(self) -> &'static str {
        match self {
            GgmlType::F32 => "F32",
            GgmlType::F16 => "F16",
            GgmlType::Bf16 => "BF16",
            GgmlType::Q4_0 => "Q4_0",
            GgmlType::Q4_1 => "Q4_1",
            GgmlType::Q8_0 => "Q8_0",
            GgmlType::Q4K => "Q4_K",
            GgmlType::Q6K => "Q6_K",
            GgmlType::Unsupported(_, name) => name,
        }
    }

    /// Values per block and bytes per block; None for types glassbox cannot read.
    fn block(self) -> Option<(u64, u64)> {
        Some(match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 | GgmlType::Bf16 => (1, 2),
            GgmlType::Q4_0 => (32, 18),
            GgmlType::Q4_1 => (32, 20),
            GgmlType::Q8_0 => (32, 34),
            GgmlType::Q4K => (256, 144),
            GgmlType::Q6K => (256, 210),
            GgmlType::Unsupported(..) => return None,
        })
    }

    /// The bytes of a tensor of `dims` (ggml order: dims[0] is the row) in this type: rows are
    /// whole blocks. For a type glassbox cannot read, its size is not known and the error says
    /// which type it is.
    pub fn bytes_for(self, dims: &[u64]) -> Result<u64, String> {
        let Some((per_block, block_bytes)) = self.block() else {
            return Err(format!(
                "type {} is not supported (glassbox reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K \
                 and Q6_K)",
                self.name()
            ));
        };
        let row = dims[0];
        if !row.is_multiple_of(per_block) {
            return Err(format!(
                "rows of {row} values do not split into {}'s blocks of {per_block}",
                self.name()
            ));
        }
        dims.iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .and_then(|n| (n / per_block).checked_mul(block_bytes))
            .ok_or_else(|| format!("dimensions {dims:?} overflow"))
    }

    /// The values of `bytes` (a whole number of blocks) as f32.
    pub fn dequantize(self, bytes: &[u8]) -> Vec<f32> {
        let (per_block, block_bytes) = self.block().expect("a readable type");
        let mut out = Vec::with_capacity(bytes.len() / block_bytes as usize * per_block as usize);
        for block in bytes.chunks_exact(block_bytes as usize) {
            match self {
                GgmlType::F32 => out.push(f32::from_le_bytes(block.try_into().expect("4 bytes"))),
                GgmlType::F16 => out.push(half_at(block, 0)),
                GgmlType::Bf16 => out.push(bf16::from_le_bytes([block[0], block[1]]).to_f32()),
                GgmlType::Q4_0 => q4_0(block, &mut out),
                GgmlType::Q4_1 => q4_1(block, &mut out),
                GgmlType::Q8_0 => q8_0(block, &mut out),
                GgmlType::Q4K => q4_k(block, &mut out),
                GgmlType::Q6K => q6_k(block, &mut out),
                GgmlType::Unsupported(..) => unreachable!("block() refused it"),
            }
        }
        out
    }
}

impl GgmlType {
    /// `values` (a whole number of blocks) in this type's blocks, as llama.cpp's reference
    /// quantizers make them (`quantize_row_*_ref`); None for a type without one here (only
    /// the 32-value blocks Q8_0, Q4_0 and Q4_1 have).
    pub fn quantize(self, values: &[f32]) -> Option<Vec<u8>> {
        let (per_block, block_bytes) = self.block()?;
        if !matches!(self, GgmlType::Q8_0 | GgmlType::Q4_0 | GgmlType::Q4_1) {
            return None;
        }
        let mut out = Vec::with_capacity(values.len() / per_block as usize * block_bytes as usize);
        for block in values.chunks_exact(per_block as usize) {
            let inverse = |d: f32| if d == 0.0 { 0.0 } else { 1.0 / d };
            match self {
                GgmlType::Q8_0 => {
                    let d = block.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
                    out.extend(f16::from_f32(d).to_le_bytes());
                    out.extend(block.iter().map(|v| (v * inverse(d)).round() as i8 as u8));
                }
                GgmlType::Q4_0 => {
                    // The value of largest magnitude, with its sign, maps to -8.
                    let max = block
                        .iter()
                        .fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
                    let d = max / -8.0;
                    out.extend(f16::from_f32(d).to_le_bytes());
                    let q = |v: f32| ((v * inverse(d) + 8.5) as u8).min(15);
                    out.extend((0..16).map(|j| q(block[j]) | (q(block[j + 16]) << 4)));
                }
                _ => {
                    let min = block.iter().copied().fold(f32::INFINITY, f32::min);
                    let max = block.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let d = (max - min) / 15.0;
                    out.extend(f16::from_f32(d).to_le_bytes());
                    out.extend(f16::from_f32(min).to_le_bytes());
                    let q = |v: f32| (((v - min) * inverse(d) + 0.5) as u8).min(15);
                    out.extend((0..16).map(|j| q(block[j]) | (q(block[j + 16]) << 4)));
                }
            }
        }
        Some(out)
    }
}

fn half_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// d (f16), then 16 bytes: value j is (low nibble of byte j) - 8, value j + 16 the high nibble.
fn q4_0(block: &[u8], out: &mut Vec<f32>) {
    let d = half_at(block, 0);
    let qs = &block[2..18];
    out.extend(qs.iter().map(|q| ((q & 0xF) as i32 - 8) as f32 * d));
    out.extend(qs.iter().map(|q| ((q >> 4) as i32 - 8) as f32 * d));
}

/// d and m (f16), then nibbles as Q4_0's, unsigned: value = d * q + m.
fn q4_1(block: &[u8], out: &mut Vec<f32>) {
    let (d, m) = (half_at(block, 0), half_at(block, 2));
    let qs = &block[4..20];
    out.extend(qs.iter().map(|q| (q & 0xF) as f32 * d + m));
    out.extend(qs.iter().map(|q| (q >> 4) as f32 * d + m));
}

/// d (f16), then 32 signed bytes: value = d * q.
fn q8_0(block: &[u8], out: &mut Vec<f32>) {
    let d = half_at(block, 0);
    out.extend(block[2..34].iter().map(|&q| q as i8 as f32 * d));
}

/// Sub-block j's 6-bit scale and minimum from Q4_K's 12 packed bytes (ggml's
/// `get_scale_min_k4`).
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// d and dmin (f16), 12 bytes of packed scales and minimums, 128 bytes of nibbles: 8
/// sub-blocks of 32 values, value = d * scale * q - dmin * min. Each 32 bytes of nibbles hold
/// two sub-blocks, the low nibbles the first.
fn q4_k(block: &[u8], out: &mut Vec<f32>) {
    let (d, dmin) = (half_at(block, 0), half_at(block, 2));
    let scales = &block[4..16];
    for (pair, qs) in block[16..144].chunks_exact(32).enumerate() {
        let (sc, m) = scale_min_k4(2 * pair, scales);
        let (d1, m1) = (d * sc as f32, dmin * m as f32);
        out.extend(qs.iter().map(|q| d1 * (q & 0xF) as f32 - m1));
        let (sc, m) = scale_min_k4(2 * pair + 1, scales);
        let (d2, m2) = (d * sc as f32, dmin * m as f32);
        out.extend(qs.iter().map(|q| d2 * (q >> 4) as f32 - m2));
    }
}

/// 128 bytes of low nibbles (ql), 64 of high 2-bit pairs (qh), 16 signed sub-block scales, d
/// (f16): 16 sub-blocks of 16 values, value = d * scale * (6-bit q - 32). Each half of the
/// super-block (128 values) takes 64 bytes of ql and 32 of qh.
fn q6_k(block: &[u8], out: &mut Vec<f32>) {
    let d = half_at(block, 208);
    let scales = &block[192..208];
    for half in 0..2 {
        let ql = &block[64 * half..64 * half + 64];
        let qh = &block[128 + 32 * half..128 + 32 * half + 32];
        let sc = &scales[8 * half..8 * half + 8];
        let mut values = [0f32; 128];
        for l in 0..32 {
            let is = l / 16;
            let quant =
                |low: u8, shift: u32| ((low as i32) | ((((qh[l] >> shift) & 3) as i32) << 4)) - 32;
            let q1 = quant(ql[l] & 0xF, 0);
            let q2 = quant(ql[l + 32] & 0xF, 2);
            let q3 = quant(ql[l] >> 4, 4);
            let q4 = quant(ql[l + 32] >> 4, 6);
            values[l] = d * (sc[is] as i8) as f32 * q1 as f32;
            values[l + 32] = d * (sc[is + 2] as i8) as f32 * q2 as f32;
            values[l + 64] = d * (sc[is + 4] as i8) as f32 * q3 as f32;
            values[l + 96] = d * (sc[is + 6] as i8) as f32 * q4 as f32;
        }
        out.extend(values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f16_bytes(v: f32) -> [u8; 2] {
        f16::from_f32(v).to_le_bytes()
    }

    #[test]
    fn q4_1_is_scale_times_nibble_plus_minimum() {
        let mut block = Vec::new();
        block.extend(f16_bytes(0.5));
        block.extend(f16_bytes(-1.0));
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let values = GgmlType::Q4_1.dequantize(&block);
        assert_eq!(values.len(), 32);
        assert_eq!(values[0], -1.0);
        assert_eq!(values[3], 0.5);
        assert_eq!(values[16], 6.5);
        assert_eq!(values[31], -1.0);
    }

    #[test]
    fn q4_0_and_q8_0_are_signed() {
        let mut q4 = f16_bytes(2.0).to_vec();
        q4.extend([0x0Fu8; 16]);
        let values = GgmlType::Q4_0.dequantize(&q4);
        assert_eq!((values[0], values[16]), (14.0, -16.0));
        let mut q8 = f16_bytes(0.25).to_vec();
        q8.extend((0..32).map(|j| (j as i8 - 16) as u8));
        let values = GgmlType::Q8_0.dequantize(&q8);
        assert_eq!((values[0], values[31]), (-4.0, 3.75));
    }

    #[test]
    fn q4_k_unpacks_six_bit_scales() {
        let mut block = Vec::new();
        block.extend(f16_bytes(1.0));
        block.extend(f16_bytes(0.5));
        // Sub-block 0: scale 3, min 2; sub-block 5: scale 1 + 16 * 1 = 17, min 4 + 16 * 2 = 36.
        let mut scales = [0u8; 12];
        scales[0] = 3;
        scales[4] = 2;
        scales[1] = 1 << 6;
        scales[5] = 2 << 6;
        scales[9] = 1 | (4 << 4);
        block.extend(scales);
        block.extend([0x21u8; 128]);
        let values = GgmlType::Q4K.dequantize(&block);
        assert_eq!(values.len(), 256);
        // Sub-block 0 holds the low nibbles (1) of bytes 0..32: 1 * 3 * 1 - 0.5 * 2.
        assert_eq!(values[0], 2.0);
        // Sub-block 5 holds the high nibbles (2) of bytes 64..96: 1 * 17 * 2 - 0.5 * 36.
        assert_eq!(values[5 * 32], 16.0);
    }

    #[test]
    fn q6_k_combines_low_and_high_bits() {
        let mut block = vec![0u8; 210];
        // Value 0: low nibble 5, high bits 2 -> 37 - 32 = 5; value 96 (q4): high nibble of
        // ql[32] and bits 6..7 of qh[0].
        block[0] = 5;
        block[32] = 0x70;
        block[128] = 2 | (3 << 6);
        block[192] = 2;
        block[198] = -1i8 as u8;
        block[208..210].copy_from_slice(&f16_bytes(0.5));
        let values = GgmlType::Q6K.dequantize(&block);
        assert_eq!(values.len(), 256);
        assert_eq!(values[0], 0.5 * 2.0 * 5.0);
        // (7 | 3 << 4) - 32 = 23, scale sc[6] = -1.
        assert_eq!(values[96], 0.5 * -23.0);
    }

    #[test]
    fn quantizing_then_dequantizing_stays_within_a_step() {
        let values: Vec<f32> = (0..64)
            .map(|i| ((i * 37 % 64) as f32 - 30.0) / 40.0)
            .collect();
        for (ty, steps) in [
            (GgmlType::Q8_0, 127.0),
            (GgmlType::Q4_0, 8.0),
            (GgmlType::Q4_1, 15.0),
        ] {
            let back = ty.dequantize(&ty.quantize(&values).unwrap());
            let range = 0.75 + 0.85;
            for (v, b) in values.iter().zip(&back) {
                assert!(
                    (v - b).abs() <= range / steps,
                    "{ty:?}: {v} came back as {b}"
                );
            }
        }
        assert_eq!(GgmlType::Q6K.quantize(&[0.0; 256]), None);
    }

    #[test]
    fn unsupported_types_are_named() {
        let q5 = GgmlType::from_id(13).unwrap();
        let error = q5.bytes_for(&[256, 2]).unwrap_err();
        assert!(error.contains("Q5_K is not supported"), "{error}");
        assert!(GgmlType::from_id(99)
            .unwrap_err()
            .contains("unknown ggml type 99"));
        assert!(GgmlType::Q4_1
            .bytes_for(&[30, 2])
            .unwrap_err()
            .contains("blocks of 32"));
    }
}
