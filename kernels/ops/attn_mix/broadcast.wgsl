// Kernel: attn_mix/broadcast
// About: 8 queries per thread, one value channel per lane, the probabilities broadcast through the subgroup (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: attention-weighted sum of values, heads merged back into channels, made for CPU adapters
//     as linear/broadcast is: lanes run along a head's value channels, so the 8 lanes of a
//     group read adjacent values (one vector load on lavapipe, where the default kernel's
//     lanes each walk their own query's probabilities); each thread keeps 8 accumulators (8
//     queries) and the probabilities arrive 8 at a time through subgroupShuffle. The keys a
//     workgroup walks stop after its last query, and a query's keys after it count as 0.
// Bindings: 0 params, 1 probs [H, T, T], 2 v [KV, T, D] (each value head shared by H / KV
//           query heads), 3 out [T, C] with C = H * D.
// Dispatch: (ceil(d / 64), ceil(t / 8), h); workgroup 64: one channel of one head per lane,
//           8 queries.
// Formula:  out[i, h * D + e] = sum_{j <= i} probs[h, i, j] * v[h / (H / KV), j, e]
//           (the terms j > i are left out).

struct Params {
    t: u32,
    h: u32,
    d: u32,
    kv: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

/// The probability of key `j` in row `row` of query `i`: 0 after the query, as the softmax
/// leaves it, whatever the buffer holds there.
fn prob(row: u32, i: u32, j: u32) -> f32 {
    return select(0.0, probs[row + min(j, i)], j <= i);
}

/// Stores query `i`'s mixed value of channel `e`, skipping what lies past the end.
fn store(head: u32, i: u32, e: u32, value: f32) {
    if (i < p.t && e < p.d) {
        out[i * p.h * p.d + head * p.d + e] = value;
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return before the shuffles: every lane takes part. Channels and queries past
    // the end are clamped onto the last one, computed and never stored.
    let head = wg.z;
    let e = wg.x * 64u + lid.x;
    let first = wg.y * 8u;
    let last = p.t - 1u;
    let vbase = head / (p.h / p.kv) * p.t * p.d + min(e, p.d - 1u);
    let q0 = min(first + 0u, last);
    let r0 = (head * p.t + q0) * p.t;
    let q1 = min(first + 1u, last);
    let r1 = (head * p.t + q1) * p.t;
    let q2 = min(first + 2u, last);
    let r2 = (head * p.t + q2) * p.t;
    let q3 = min(first + 3u, last);
    let r3 = (head * p.t + q3) * p.t;
    let q4 = min(first + 4u, last);
    let r4 = (head * p.t + q4) * p.t;
    let q5 = min(first + 5u, last);
    let r5 = (head * p.t + q5) * p.t;
    let q6 = min(first + 6u, last);
    let r6 = (head * p.t + q6) * p.t;
    let q7 = min(first + 7u, last);
    let r7 = (head * p.t + q7) * p.t;
    var a0 = 0.0;
    var a1 = 0.0;
    var a2 = 0.0;
    var a3 = 0.0;
    var a4 = 0.0;
    var a5 = 0.0;
    var a6 = 0.0;
    var a7 = 0.0;
    // The keys any of the 8 queries sees.
    let keys = min(first + 8u, p.t);
    let l = lane % 8u;
    // Lanes 8g..8g+7 of a wider subgroup shuffle among themselves.
    let group = lane - l;
    // The keys done with shuffles (8 at a time, the last 8 partly past the end); the plain
    // loop does the rest.
    let shuffled = select(0u, keys, lanes >= 8u);
    var j0 = 0u;
    for (; j0 < shuffled; j0 = j0 + 8u) {
        // Lane l holds the probability of key j0 + l for the 8 queries.
        let p0 = prob(r0, q0, j0 + l);
        let p1 = prob(r1, q1, j0 + l);
        let p2 = prob(r2, q2, j0 + l);
        let p3 = prob(r3, q3, j0 + l);
        let p4 = prob(r4, q4, j0 + l);
        let p5 = prob(r5, q5, j0 + l);
        let p6 = prob(r6, q6, j0 + l);
        let p7 = prob(r7, q7, j0 + l);
        for (var s = 0u; s < 8u; s = s + 1u) {
            let value = v[vbase + min(j0 + s, last) * p.d];
            a0 = fma(subgroupShuffle(p0, group + s), value, a0);
            a1 = fma(subgroupShuffle(p1, group + s), value, a1);
            a2 = fma(subgroupShuffle(p2, group + s), value, a2);
            a3 = fma(subgroupShuffle(p3, group + s), value, a3);
            a4 = fma(subgroupShuffle(p4, group + s), value, a4);
            a5 = fma(subgroupShuffle(p5, group + s), value, a5);
            a6 = fma(subgroupShuffle(p6, group + s), value, a6);
            a7 = fma(subgroupShuffle(p7, group + s), value, a7);
        }
    }
    for (var j = j0; j < keys; j = j + 1u) {
        let value = v[vbase + j * p.d];
        a0 = fma(prob(r0, q0, j), value, a0);
        a1 = fma(prob(r1, q1, j), value, a1);
        a2 = fma(prob(r2, q2, j), value, a2);
        a3 = fma(prob(r3, q3, j), value, a3);
        a4 = fma(prob(r4, q4, j), value, a4);
        a5 = fma(prob(r5, q5, j), value, a5);
        a6 = fma(prob(r6, q6, j), value, a6);
        a7 = fma(prob(r7, q7, j), value, a7);
    }
    store(head, first + 0u, e, a0);
    store(head, first + 1u, e, a1);
    store(head, first + 2u, e, a2);
    store(head, first + 3u, e, a3);
    store(head, first + 4u, e, a4);
    store(head, first + 5u, e, a5);
    store(head, first + 6u, e, a6);
    store(head, first + 7u, e, a7);
}
