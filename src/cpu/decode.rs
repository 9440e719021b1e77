//! The decode step's ops on the CPU: one token at position `pos`, attending to a KV cache of
//! `capacity` rows per head. Same conventions as [`super::ops`].

use crate::model::arch::Rope;

/// out[c] = wte[id, c] + wpe[pos, c]
pub fn embed_at(out: &mut [f32], id: usize, pos: usize, wte: &[f32], wpe: &[f32], c: usize) {
    let token = &wte[id * c..][..c];
    let position = &wpe[pos * c..][..c];
    for ((o, &a), &b) in out.iter_mut().zip(token).zip(position) {
        *o = a + b;
    }
}

/// q = the query part of qkv; the key and value parts go to row `pos` of each head's cache.
pub fn kv_append(
    q: &mut [f32],
    k_cache: &mut [f32],
    v_cache: &mut [f32],
    qkv: &[f32],
    pos: usize,
    (h, d, capacity): (usize, usize, usize),
) {
    let c = h * d;
    q.copy_from_slice(&qkv[..c]);
    for head in 0..h {
        let slot = (head * capacity + pos) * d;
        k_cache[slot..][..d].copy_from_slice(&qkv[c + head * d..][..d]);
        v_cache[slot..][..d].copy_from_slice(&qkv[2 * c + head * d..][..d]);
    }
}

/// The cache shape of a decode step's attention: `h` query heads over `kv` key/value heads of `d`
/// channels, `capacity` rows per head.
#[derive(Clone, Copy)]
pub struct CacheShape {
    pub h: usize,
    pub kv: usize,
    pub d: usize,
    pub capacity: usize,
}

impl CacheShape {
    /// Where key/value head `g`'s row `j` starts in a cache.
    fn row(&self, g: usize, j: usize) -> usize {
        (g * self.capacity + j) * self.d
    }

    /// The key/value head query head `head` reads.
    fn kv_head(&self, head: usize) -> usize {
        head / (self.h / self.kv)
    }
}

/// The Llama family's append: q = q_proj turned by `pos`; k_proj turned and v_proj as it is go
/// to row `pos` of each key/value head's cache.
pub fn rope_append(
    [q, k_cache, v_cache]: [&mut [f32]; 3],
    [q_proj, k_proj, v_proj]: [&[f32]; 3],
    pos: usize,
    shape: CacheShape,
    rope: &Rope,
) {
    let d = shape.d;
    super::llama::rope(q, q_proj, 1, d, rope, pos);
    let mut k = vec![0.0; shape.kv * d];
    super::llama::rope(&mut k, k_proj, 1, d, rope, pos);
    for g in 0..shape.kv {
        let slot = shape.row(g, pos);
        k_cache[slot..][..d].copy_from_slice(&k[g * d..][..d]);
        v_cache[slot..][..d].copy_from_slice(&v_proj[g * d..][..d]);
    }
}

/// scores[h, j] = q[h] . k_cache[h / (H/KV), j] / sqrt(d) for j <= pos, -inf for the empty
/// slots.
pub fn attn_scores_cached(
    scores: &mut [f32],
    q: &[f32],
    k_cache: &[f32],
    pos: usize,
    shape: CacheShape,
) {
    let CacheShape { h, d, capacity, .. } = shape;
    let scale = 1.0 / (d as f32).sqrt();
    for head in 0..h {
        let qh = &q[head * d..][..d];
        for j in 0..capacity {
            scores[head * capacity + j] = if j <= pos {
                let kj = &k_cache[shape.row(shape.kv_head(head), j)..][..d];
                qh.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() * scale
            } else {
                f32::NEG_INFINITY
            };
        }
    }
}

/// out[h*d + e] = sum_{j <= pos} probs[h, j] v_cache[h / (H/KV), j, e]
pub fn attn_mix_cached(
    out: &mut [f32],
    probs: &[f32],
    v_cache: &[f32],
    pos: usize,
    shape: CacheShape,
) {
    let CacheShape { h, d, capacity, .. } = shape;
    for head in 0..h {
        let acc = &mut out[head * d..][..d];
        acc.fill(0.0);
        for j in 0..=pos.min(capacity - 1) {
            let p = probs[head * capacity + j];
            for (a, &v) in acc
                .iter_mut()
                .zip(&v_cache[shape.row(shape.kv_head(head), j)..][..d])
            {
                *a += p * v;
            }
        }
    }
}

/// The fast path's decode attention over the cache split into `span` slots: per (head, split),
/// the largest score over the slots j <= pos, the sum of exp(score - max) and the values mixed
/// by those weights. Splits past `pos` stay empty: max -inf, sums 0.
pub fn attn_split(
    [split_max, split_sum, split_mix]: [&mut [f32]; 3],
    q: &[f32],
    [k_cache, v_cache]: [&[f32]; 2],
    pos: usize,
    shape: CacheShape,
    span: usize,
) {
    let CacheShape { h, d, capacity, .. } = shape;
    let splits = capacity.div_ceil(span);
    let scale = 1.0 / (d as f32).sqrt();
    for head in 0..h {
        let g = shape.kv_head(head);
        let qh = &q[head * d..][..d];
        for split in 0..splits {
            let at = head * splits + split;
            let slots = split * span..((split + 1) * span).min(pos + 1).min(capacity);
            let scores: Vec<f32> = slots
                .clone()
                .map(|j| {
                    let kj = &k_cache[shape.row(g, j)..][..d];
                    qh.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() * scale
                })
                .collect();
            let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mix = &mut split_mix[at * d..][..d];
            mix.fill(0.0);
            let mut sum = 0.0;
            for (j, score) in slots.zip(scores) {
                let weight = (score - max).exp();
                sum += weight;
                for (m, &v) in mix.iter_mut().zip(&v_cache[shape.row(g, j)..][..d]) {
                    *m += weight * v;
                }
            }
            split_max[at] = max;
            split_sum[at] = sum;
        }
    }
}

/// Joins [`attn_split`]'s splits holding tokens (s <= pos / span): each split's sums scaled by
/// exp(its max - the largest max), the mixed values divided by the total weight.
pub fn attn_combine(
    out: &mut [f32],
    [split_max, split_sum, split_mix]: [&[f32]; 3],
    pos: usize,
    (h, d, splits, span): (usize, usize, usize, usize),
) {
    let used = (pos / span + 1).min(splits);
    for head in 0..h {
        let row = head * splits;
        let maxes = &split_max[row..][..used];
        let top = maxes.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let acc = &mut out[head * d..][..d];
        acc.fill(0.0);
        let mut total = 0.0;
        for (s, &m) in maxes.iter().enumerate() {
            let weight = (m - top).exp();
            total += weight * split_sum[row + s];
            for (a, &x) in acc.iter_mut().zip(&split_mix[(row + s) * d..][..d]) {
                *a += weight * x;
            }
        }
        acc.iter_mut().for_each(|a| *a /= total);
    }
}
