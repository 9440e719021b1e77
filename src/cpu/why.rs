//! CPU reference of the "why" tools' ops: ablation, top-k, head scores, direct logit
//! attribution and cosine similarity. Plain loops, accumulated in f64 where a sum is long, so
//! that they are the ground truth the kernels are checked against.

/// y = x with columns start..start+len of each row zeroed, or with `mean` set to their mean
/// over the rows.
pub fn ablate(y: &mut [f32], x: &[f32], cols: usize, columns: (usize, usize), mean: bool) {
    let (start, len) = columns;
    let rows = x.len() / cols;
    y.copy_from_slice(x);
    for col in start..start + len {
        let value = if mean {
            let sum: f64 = (0..rows).map(|r| f64::from(x[r * cols + col])).sum();
            (sum / rows as f64) as f32
        } else {
            0.0
        };
        for r in 0..rows {
            y[r * cols + col] = value;
        }
    }
}

/// The `k` largest values of each row and their columns, largest first, lower column first on
/// ties. Columns are written as floats (ids are exact in f32 up to 2^24).
pub fn top_k(value: &mut [f32], index: &mut [f32], x: &[f32], cols: usize, k: usize) {
    for (r, row) in x.chunks_exact(cols).enumerate() {
        let mut order: Vec<usize> = (0..cols).collect();
        // Stable: equal values keep ascending columns.
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        for (rank, &j) in order.iter().take(k).enumerate() {
            value[r * k + rank] = row[j];
            index[r * k + rank] = j as f32;
        }
    }
}

/// Per head of probabilities [h, t, t]: previous-token, first-token and diagonal scores (means
/// over queries i >= 1) and the induction score (over the queries whose token occurred before,
/// the mean of the attention paid to the tokens that followed its earlier occurrences).
pub fn head_scores(scores: &mut [f32], probs: &[f32], ids: &[u32], t: usize, h: usize) {
    let queries = t.max(2) as f64 - 1.0;
    for head in 0..h {
        let p = |i: usize, j: usize| f64::from(probs[(head * t + i) * t + j]);
        let (mut previous, mut first, mut diagonal, mut induction) = (0.0, 0.0, 0.0, 0.0);
        let mut repeated = 0usize;
        for i in 1..t {
            previous += p(i, i - 1);
            first += p(i, 0);
            diagonal += p(i, i);
            let earlier: Vec<usize> = (0..i).filter(|&j| ids[j] == ids[i]).collect();
            if !earlier.is_empty() {
                induction += earlier.iter().map(|&j| p(i, j + 1)).sum::<f64>();
                repeated += 1;
            }
        }
        let out = &mut scores[head * 4..][..4];
        out[0] = (previous / queries) as f32;
        out[1] = (first / queries) as f32;
        out[2] = (diagonal / queries) as f32;
        out[3] = (induction / repeated.max(1) as f64) as f32;
    }
}

/// The attribution direction of `token` (its unembedding times the final norm's gain, centred)
/// and the final norm bias's term, bias . wte[token].
pub fn attribute_direction(
    direction: &mut [f32],
    bias_term: &mut [f32],
    gain: &[f32],
    bias: &[f32],
    wte: &[f32],
    token: usize,
) {
    let c = gain.len();
    let w = &wte[token * c..][..c];
    let mean = gain
        .iter()
        .zip(w)
        .map(|(&g, &w)| f64::from(g * w))
        .sum::<f64>()
        / c as f64;
    for ((out, &g), &w) in direction.iter_mut().zip(gain).zip(w) {
        *out = (f64::from(g * w) - mean) as f32;
    }
    bias_term[0] = bias
        .iter()
        .zip(w)
        .map(|(&b, &w)| f64::from(b * w))
        .sum::<f64>() as f32;
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

/// rstd[position] * (x[position] . direction).
pub fn attribute_vector(
    out: &mut [f32],
    direction: &[f32],
    rstd: &[f32],
    x: &[f32],
    position: usize,
) {
    let c = direction.len();
    out[0] = (f64::from(rstd[position]) * dot(&x[position * c..][..c], direction)) as f32;
}

/// Each head's term, rstd * sum over its channels r of mix[position, r] (weight[r] . direction),
/// then the bias's, rstd * (bias . direction). `weight` is [c, c] in Conv1D's [in, out] layout.
pub fn attribute_heads(
    out: &mut [f32],
    [direction, rstd, mix, weight, bias]: [&[f32]; 5],
    (h, d, position): (usize, usize, usize),
) {
    let c = h * d;
    let scale = f64::from(rstd[position]);
    for (head, out) in out[..h].iter_mut().enumerate() {
        let sum: f64 = (head * d..(head + 1) * d)
            .map(|r| f64::from(mix[position * c + r]) * dot(&weight[r * c..][..c], direction))
            .sum();
        *out = (scale * sum) as f32;
    }
    out[h] = (scale * dot(bias, direction)) as f32;
}

/// cos[r, v] = q[r] . wte[v] / (|q[r]| |wte[v]|), 0 where a norm is 0.
pub fn cosine(out: &mut [f32], q: &[f32], wte: &[f32], c: usize) {
    let v = wte.len() / c;
    let norms: Vec<f64> = wte.chunks_exact(c).map(|w| dot(w, w).sqrt()).collect();
    for (r, query) in q.chunks_exact(c).enumerate() {
        let q_norm = dot(query, query).sqrt();
        for (token, w) in wte.chunks_exact(c).enumerate() {
            let norms = q_norm * norms[token];
            out[r * v + token] = if norms > 0.0 {
                (dot(query, w) / norms) as f32
            } else {
                0.0
            };
        }
    }
}

/// The principal components of `n` points of `c` dimensions, as the `pca` kernel finds them:
/// power iteration on the centred points' Gram matrix, each step made orthogonal to the
/// components found before (see its header), in f64.
/// Outputs: mean [c], components [k, c], variance [k], gram [n, n], basis [k, n].
pub fn pca(
    [mean, components, variance, gram, basis]: [&mut Vec<f32>; 5],
    points: &[f32],
    (n, c): (usize, usize),
    iterations: usize,
) {
    let k = variance.len();
    for (j, m) in mean.iter_mut().enumerate() {
        *m = ((0..n).map(|a| f64::from(points[a * c + j])).sum::<f64>() / n as f64) as f32;
    }
    let mean: &[f32] = mean;
    let centred = |a: usize, j: usize| f64::from(points[a * c + j]) - f64::from(mean[j]);
    let mut g = vec![0.0f64; n * n];
    for a in 0..n {
        for b in 0..n {
            g[a * n + b] = (0..c).map(|j| centred(a, j) * centred(b, j)).sum();
            gram[a * n + b] = g[a * n + b] as f32;
        }
    }
    let mut found: Vec<(f64, Vec<f64>)> = Vec::new();
    for q in 0..k {
        let mut u: Vec<f64> = (0..n).map(|a| 1.0 + (a % 3) as f64).collect();
        let mut lambda = 0.0;
        for _ in 0..iterations {
            let mut w: Vec<f64> = (0..n)
                .map(|a| (0..n).map(|b| g[a * n + b] * u[b]).sum())
                .collect();
            for (_, v) in &found {
                let along: f64 = v.iter().zip(&w).map(|(x, y)| x * y).sum();
                w.iter_mut().zip(v).for_each(|(w, v)| *w -= along * v);
            }
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            lambda = w.iter().zip(&u).map(|(x, y)| x * y).sum();
            if norm > 0.0 {
                u = w.iter().map(|x| x / norm).collect();
            }
        }
        let largest = (0..n).fold(
            0,
            |best, a| if u[a].abs() > u[best].abs() { a } else { best },
        );
        let sign = if u[largest] < 0.0 { -1.0 } else { 1.0 };
        u.iter_mut().for_each(|x| *x *= sign);
        let keep = match found.first() {
            None => lambda > 0.0,
            Some((first, _)) => lambda > 1e-6 * first,
        };
        let kept = if keep { lambda } else { 0.0 };
        for (a, &x) in u.iter().enumerate() {
            basis[q * n + a] = x as f32;
        }
        variance[q] = (kept / n as f64) as f32;
        let scale = if keep {
            1.0 / lambda.max(1e-30).sqrt()
        } else {
            0.0
        };
        for j in 0..c {
            let sum: f64 = (0..n).map(|a| centred(a, j) * u[a]).sum();
            components[q * c + j] = (sum * scale) as f32;
        }
        found.push((kept, u));
    }
}

/// coords[r, q] = (x[r] - mean) . components[q].
pub fn project(coords: &mut [f32], x: &[f32], mean: &[f32], components: &[f32], c: usize) {
    let k = components.len() / c;
    for (r, row) in x.chunks_exact(c).enumerate() {
        for q in 0..k {
            let sum: f64 = (0..c)
                .map(|j| {
                    (f64::from(row[j]) - f64::from(mean[j])) * f64::from(components[q * c + j])
                })
                .sum();
            coords[r * k + q] = sum as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_ranks_ties_by_lower_column() {
        let x = [0.1, 0.5, 0.5, 0.9, 0.5];
        let (mut value, mut index) = ([0.0; 4], [0.0; 4]);
        top_k(&mut value, &mut index, &x, 5, 4);
        assert_eq!(value, [0.9, 0.5, 0.5, 0.5]);
        assert_eq!(index, [3.0, 1.0, 2.0, 4.0]);
    }

    #[test]
    fn head_scores_of_known_patterns() {
        let t = 4;
        // Head 0 attends to the previous token (token 0 to itself); head 1 to the first token.
        let mut probs = vec![0.0; 2 * t * t];
        for i in 0..t {
            probs[i * t + i.saturating_sub(1)] = 1.0;
            probs[t * t + i * t] = 1.0;
        }
        // Ids 7 8 7 8: query 2 repeats 0 (followed by 1), query 3 repeats 1 (followed by 2); on
        // a period of two, attending to the previous token is also attending to what followed.
        let ids = [7, 8, 7, 8];
        let mut scores = [0.0; 8];
        head_scores(&mut scores, &probs, &ids, t, 2);
        assert_eq!(scores[..4], [1.0, 1.0 / 3.0, 0.0, 1.0]);
        assert_eq!(scores[4..], [1.0 / 3.0, 1.0, 0.0, 0.0]);
        // An induction head on 7 8 9 7 8: query 3 attends to 1, query 4 to 2, which is neither
        // the previous token nor the first.
        let t = 5;
        let mut induction = vec![0.0; t * t];
        for (i, j) in [(0, 0), (1, 0), (2, 0), (3, 1), (4, 2)] {
            induction[i * t + j] = 1.0;
        }
        let mut one = [0.0; 4];
        head_scores(&mut one, &induction, &[7, 8, 9, 7, 8], t, 1);
        assert_eq!(one, [0.25, 0.5, 0.0, 1.0]);
    }

    #[test]
    fn ablate_zeroes_or_averages_only_the_unit() {
        let x = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0];
        let mut y = [0.0; 6];
        ablate(&mut y, &x, 3, (1, 1), false);
        assert_eq!(y, [1.0, 0.0, 3.0, 5.0, 0.0, 7.0]);
        ablate(&mut y, &x, 3, (1, 2), true);
        assert_eq!(y, [1.0, 4.0, 5.0, 5.0, 4.0, 5.0]);
    }
}
