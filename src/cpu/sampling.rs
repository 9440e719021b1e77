//! Picking the next token from logits: greedy, or a seeded draw with temperature, top-k and
//! top-p. This is the CPU reference of `kernels/sample.wgsl`, with the same rules: the random
//! number comes from hashing the seed with the position, so a run is reproducible and the CPU
//! and GPU draw the same token from the same logits.

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Divides the logits before the softmax: below 1 sharpens, above 1 flattens. 0 is greedy.
    pub temperature: f32,
    /// Keep only the k largest logits (and any tied with the k-th).
    pub top_k: Option<usize>,
    /// Then keep the fewest largest whose probabilities add up to p.
    pub top_p: Option<f32>,
    pub seed: u64,
}

impl Sampling {
    pub const GREEDY: Sampling = Sampling {
        temperature: 0.0,
        top_k: None,
        top_p: None,
        seed: 0,
    };

    /// The settings as the sample kernel reads them: temperature and top_p as f32 bits, top_k
    /// (0 for none) and the seed's two halves.
    pub fn to_words(&self) -> [u32; 5] {
        [
            self.temperature.to_bits(),
            self.top_k.map_or(0, |k| k.min(u32::MAX as usize) as u32),
            self.top_p.unwrap_or(1.0).to_bits(),
            self.seed as u32,
            (self.seed >> 32) as u32,
        ]
    }
}

/// PCG's output permutation, as a 32-bit hash.
fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// The uniform number in [0, 1) of a draw at `position`: 24 random bits, exact in f32.
pub fn uniform(seed: u64, position: u32) -> f32 {
    let bits = pcg((seed >> 32) as u32 ^ pcg(seed as u32 ^ pcg(position)));
    (bits >> 8) as f32 / 16_777_216.0
}

/// Maps f32 to u32 so that the order of the floats is the order of the integers.
fn order_key(x: f32) -> u32 {
    let bits = x.to_bits();
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// The first index of the largest logit.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &x) in logits.iter().enumerate() {
        if x > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// The token drawn from `logits` for the token at `position`.
pub fn sample(logits: &[f32], sampling: &Sampling, position: u32) -> u32 {
    let best = argmax(logits);
    // NaN counts as 0, as in the kernel: greedy.
    if sampling.temperature.is_nan() || sampling.temperature <= 0.0 {
        return best;
    }
    let max = logits[best as usize];
    let t = sampling.temperature;
    let top_k = sampling.top_k.filter(|&k| k > 0 && k < logits.len());
    let top_p = sampling.top_p.filter(|&p| p > 0.0 && p < 1.0);
    // The logits' keys largest first, sorted only when a cut needs the order.
    let mut keys: Vec<u32> = Vec::new();
    if top_k.is_some() || top_p.is_some() {
        keys = logits.iter().map(|&x| order_key(x)).collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
    }
    let mut threshold = top_k.map_or(0, |k| keys[k - 1]);
    let weight = |x: f32, threshold: u32| {
        if order_key(x) < threshold {
            0.0
        } else {
            ((x - max) / t).exp()
        }
    };
    let mass = |threshold: u32| logits.iter().map(|&x| weight(x, threshold)).sum::<f32>();
    let mut total = mass(threshold);
    if let Some(p) = top_p {
        // The largest key, walking down from the top, at which the kept mass reaches p.
        let wanted = p * total;
        let mut kept = 0.0;
        for (i, &key) in keys.iter().enumerate() {
            if key < threshold {
                break;
            }
            kept += weight(from_key(key), 0);
            let group_ends = keys.get(i + 1).is_none_or(|&next| next != key);
            if group_ends && kept >= wanted {
                threshold = key;
                break;
            }
        }
        total = mass(threshold);
    }
    let target = uniform(sampling.seed, position) * total;
    let mut running = 0.0;
    for (i, &x) in logits.iter().enumerate() {
        running += weight(x, threshold);
        if running > target {
            return i as u32;
        }
    }
    // Rounding left the draw past the end: the last token that can be drawn at all.
    logits
        .iter()
        .rposition(|&x| weight(x, threshold) > 0.0)
        .map_or(best, |i| i as u32)
}

/// The float whose key is `key` (the inverse of [`order_key`]).
fn from_key(key: u32) -> f32 {
    if key & 0x8000_0000 != 0 {
        f32::from_bits(key & 0x7fff_ffff)
    } else {
        f32::from_bits(!key)
    }
}
