//! The CPU reference of the Llama family's ops: the token embedding without positions, RMSNorm,
//! rotary position embeddings, cutting values into heads and the gated MLP's activation.

use crate::model::arch::Rope;

/// x[t] = embedding[ids[t]].
pub fn embed_tokens(x: &mut [f32], ids: &[u32], embedding: &[f32], c: usize) {
    for (row, &id) in x.chunks_exact_mut(c).zip(ids) {
        row.copy_from_slice(&embedding[id as usize * c..][..c]);
    }
}

/// y = x * rstd * weight per row, rstd = 1 / sqrt(mean(x^2) + eps), summed in f64.
pub fn rmsnorm(y: &mut [f32], rstd: &mut [f32], x: &[f32], weight: &[f32], c: usize, eps: f32) {
    for ((out, r), row) in y
        .chunks_exact_mut(c)
        .zip(rstd.iter_mut())
        .zip(x.chunks_exact(c))
    {
        let square = row
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            / c as f64;
        *r = (1.0 / (square + f64::from(eps)).sqrt()) as f32;
        for ((o, &v), &w) in out.iter_mut().zip(row).zip(weight) {
            *o = v * *r * w;
        }
    }
}

/// x [t, heads * d] -> y [heads, t, d], pairs (i, i + d/2) of every head turned by the angle
/// (first + t) * inv_freq[i] (transformers' `rotate_half` convention).
pub fn rope(y: &mut [f32], x: &[f32], t: usize, d: usize, rope: &Rope, first: usize) {
    let heads = y.len() / (t * d);
    let half = d / 2;
    let inv_freq = rope.inv_freq(d);
    for pos in 0..t {
        let (sin, cos): (Vec<f32>, Vec<f32>) = inv_freq
            .iter()
            .map(|f| ((first + pos) as f32 * f).sin_cos())
            .unzip();
        for head in 0..heads {
            let from = &x[pos * heads * d + head * d..][..d];
            let to = &mut y[(head * t + pos) * d..][..d];
            for i in 0..half {
                let (a, b) = (from[i], from[i + half]);
                to[i] = a * cos[i] - b * sin[i];
                to[i + half] = b * cos[i] + a * sin[i];
            }
        }
    }
}

/// x [t, h * d] -> y [h, t, d].
pub fn heads(y: &mut [f32], x: &[f32], t: usize, h: usize, d: usize) {
    for pos in 0..t {
        for head in 0..h {
            y[(head * t + pos) * d..][..d].copy_from_slice(&x[pos * h * d + head * d..][..d]);
        }
    }
}

/// y = silu(gate) * up, silu(x) = x / (1 + exp(-x)).
pub fn swiglu(y: &mut [f32], gate: &[f32], up: &[f32]) {
    for ((o, &g), &u) in y.iter_mut().zip(gate).zip(up) {
        *o = g / (1.0 + (-g).exp()) * u;
    }
}
