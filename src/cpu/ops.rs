//! One plain function per op kind, in the style of llm.c: outputs first, then inputs, then sizes.
//! These are the reference every GPU kernel is checked against; matrix products go through
//! `matrixmultiply`'s sgemm so that checking a real GPT-2 stays quick.

/// out[t, c] = wte[ids[t], c] + wpe[t, c]
pub fn embed(out: &mut [f32], ids: &[u32], wte: &[f32], wpe: &[f32], c: usize) {
    for (t, &id) in ids.iter().enumerate() {
        let token = &wte[id as usize * c..][..c];
        let position = &wpe[t * c..][..c];
        for ((o, &a), &b) in out[t * c..][..c].iter_mut().zip(token).zip(position) {
            *o = a + b;
        }
    }
}

/// Per row of `c` values: out = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps).
/// The variance is the biased one (divided by c), as in PyTorch's layer norm.
#[allow(clippy::too_many_arguments)]
pub fn layernorm(
    out: &mut [f32],
    mean: &mut [f32],
    rstd: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: &[f32],
    c: usize,
    eps: f32,
) {
    for (r, x) in inp.chunks_exact(c).enumerate() {
        let m = x.iter().sum::<f32>() / c as f32;
        let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / c as f32;
        let s = 1.0 / (var + eps).sqrt();
        for (i, o) in out[r * c..][..c].iter_mut().enumerate() {
            *o = (x[i] - m) * s * weight[i] + bias[i];
        }
        mean[r] = m;
        rstd[r] = s;
    }
}

/// out[r, n] = bias[n] + sum_k inp[r, k] * weight[k, n]; weight is [k, n] (GPT-2's Conv1D).
pub fn linear(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    rows: usize,
    k: usize,
    n: usize,
) {
    // sgemm trusts its pointers: check the sizes here, where a mistake is a panic.
    assert!(
        inp.len() == rows * k
            && weight.len() == k * n
            && bias.is_none_or(|b| b.len() == n)
            && out.len() == rows * n
    );
    for row in out.chunks_exact_mut(n) {
        match bias {
            Some(bias) => row.copy_from_slice(bias),
            None => row.fill(0.0),
        }
    }
    // SAFETY: the slices hold rows*k, k*n and rows*n values, matching the sizes and row-major
    // strides given; sgemm reads and writes only inside them.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            k,
            n,
            1.0,
            inp.as_ptr(),
            k as isize,
            1,
            weight.as_ptr(),
            n as isize,
            1,
            1.0,
            out.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// qkv [t, 3 * h * d] -> q, k, v [h, t, d]: the three C-wide slices of each token, each cut into
/// h heads of d channels.
pub fn split_heads(
    q: &mut [f32],
    k: &mut [f32],
    v: &mut [f32],
    qkv: &[f32],
    t: usize,
    h: usize,
    d: usize,
) {
    let c = h * d;
    for (which, dst) in [q, k, v].into_iter().enumerate() {
        for head in 0..h {
            for pos in 0..t {
                let src = &qkv[pos * 3 * c + which * c + head * d..][..d];
                dst[(head * t + pos) * d..][..d].copy_from_slice(src);
            }
        }
    }
}

/// scores[h, i, j] = q[h, i] . k[h, j] / sqrt(d) for j <= i, and -inf for j > i: a token attends
/// only to itself and the tokens before it.
pub fn attn_scores(
    scores: &mut [f32],
    q: &[f32],
    k: &[f32],
    t: usize,
    (h, kv): (usize, usize),
    d: usize,
) {
    assert!(q.len() == h * t * d && k.len() == kv * t * d && scores.len() == h * t * t);
    let scale = 1.0 / (d as f32).sqrt();
    for head in 0..h {
        let qh = &q[head * t * d..][..t * d];
        let kh = &k[head / (h / kv) * t * d..][..t * d];
        let sh = &mut scores[head * t * t..][..t * t];
        // SAFETY: qh is [t, d], kh is read as its transpose [d, t] through swapped strides, and
        // sh is [t, t]; all within the slices.
        unsafe {
            matrixmultiply::sgemm(
                t,
                d,
                t,
                scale,
                qh.as_ptr(),
                d as isize,
                1,
                kh.as_ptr(),
                1,
                d as isize,
                0.0,
                sh.as_mut_ptr(),
                t as isize,
                1,
            );
        }
        for i in 0..t {
            sh[i * t + i + 1..(i + 1) * t].fill(f32::NEG_INFINITY);
        }
    }
}

/// Numerically stable softmax of each row of `cols` values: p = exp(x - max) / sum, keeping the
/// row max and the sum of exp(x - max). With `causal`, row r of each `cols` x `cols` block only
/// has columns 0..=(r mod cols): the rest (masked to -inf) become exactly 0.
pub fn softmax(
    out: &mut [f32],
    max: &mut [f32],
    sum: &mut [f32],
    inp: &[f32],
    cols: usize,
    causal: bool,
) {
    for (r, x) in inp.chunks_exact(cols).enumerate() {
        let visible = if causal { r % cols + 1 } else { cols };
        let m = x[..visible]
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        let p = &mut out[r * cols..][..cols];
        let mut s = 0.0;
        for (o, &v) in p[..visible].iter_mut().zip(x) {
            *o = (v - m).exp();
            s += *o;
        }
        for o in &mut p[..visible] {
            *o /= s;
        }
        p[visible..].fill(0.0);
        max[r] = m;
        sum[r] = s;
    }
}

/// out[i, h*d + e] = sum_j probs[h, i, j] * v[h, j, e]: each head's probability-weighted sum of
/// values, written back into the head's slice of the C channels.
pub fn attn_mix(
    out: &mut [f32],
    probs: &[f32],
    v: &[f32],
    t: usize,
    (h, kv): (usize, usize),
    d: usize,
) {
    let c = h * d;
    assert!(probs.len() == h * t * t && v.len() == kv * t * d && out.len() == t * c);
    for head in 0..h {
        // SAFETY: probs[head] is [t, t], v[head] is [t, d]; the output view starts at column
        // head*d of the [t, c] output with row stride c, so it stays inside `out`.
        unsafe {
            matrixmultiply::sgemm(
                t,
                t,
                d,
                1.0,
                probs[head * t * t..].as_ptr(),
                t as isize,
                1,
                v[head / (h / kv) * t * d..].as_ptr(),
                d as isize,
                1,
                0.0,
                out[head * d..].as_mut_ptr(),
                c as isize,
                1,
            );
        }
    }
}

/// The tanh approximation of GELU that GPT-2 uses. The tanh argument is clamped to +-10, where
/// tanh is already 1 in f32, so that GPU implementations built on exp cannot overflow.
pub fn gelu_scalar(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    let inner = (SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).clamp(-10.0, 10.0);
    0.5 * x * (1.0 + inner.tanh())
}

pub fn gelu(out: &mut [f32], inp: &[f32]) {
    for (o, &x) in out.iter_mut().zip(inp) {
        *o = gelu_scalar(x);
    }
}

/// out = a + b, element by element.
pub fn add(out: &mut [f32], a: &[f32], b: &[f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// logits[t, v] = inp[t] . wte[v]: the output head shares the token embedding matrix.
pub fn logits(out: &mut [f32], inp: &[f32], wte: &[f32], t: usize, c: usize, v: usize) {
    assert!(inp.len() == t * c && wte.len() == v * c && out.len() == t * v);
    // SAFETY: inp is [t, c], wte is [v, c] read as its transpose [c, v] through swapped strides,
    // out is [t, v].
    unsafe {
        matrixmultiply::sgemm(
            t,
            c,
            v,
            1.0,
            inp.as_ptr(),
            c as isize,
            1,
            wte.as_ptr(),
            1,
            c as isize,
            0.0,
            out.as_mut_ptr(),
            v as isize,
            1,
        );
    }
}
