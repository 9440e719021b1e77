//! The decode step's ops on the CPU: one token at position `pos`, attending to a KV cache of
//! `capacity` rows per head. Same conventions as [`super::ops`].

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

/// scores[h, j] = q[h] . k_cache[h, j] / sqrt(d) for j <= pos, -inf for the empty slots.
pub fn attn_scores_cached(
    scores: &mut [f32],
    q: &[f32],
    k_cache: &[f32],
    pos: usize,
    (h, d, capacity): (usize, usize, usize),
) {
    let scale = 1.0 / (d as f32).sqrt();
    for head in 0..h {
        let qh = &q[head * d..][..d];
        for j in 0..capacity {
            scores[head * capacity + j] = if j <= pos {
                let kj = &k_cache[(head * capacity + j) * d..][..d];
                qh.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() * scale
            } else {
                f32::NEG_INFINITY
            };
        }
    }
}

/// out[h*d + e] = sum_{j <= pos} probs[h, j] v_cache[h, j, e]
pub fn attn_mix_cached(
    out: &mut [f32],
    probs: &[f32],
    v_cache: &[f32],
    pos: usize,
    (h, d, capacity): (usize, usize, usize),
) {
    for head in 0..h {
        let acc = &mut out[head * d..][..d];
        acc.fill(0.0);
        for j in 0..=pos.min(capacity - 1) {
            let p = probs[head * capacity + j];
            for (a, &v) in acc
                .iter_mut()
                .zip(&v_cache[(head * capacity + j) * d..][..d])
            {
                *a += p * v;
            }
        }
    }
}
