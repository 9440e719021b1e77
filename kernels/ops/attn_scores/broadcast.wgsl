// Kernel: attn_scores/broadcast
// About: 8 queries per thread, one key per lane, the queries broadcast through the subgroup (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: attention scores with the causal mask, made for CPU adapters as linear/broadcast is.
//     Lanes run along the keys, so the default kernel's one query value per lane becomes, on
//     lavapipe, an 8-wide gather per multiply; here each thread keeps 8 accumulators (8
//     queries, one key) and the queries arrive 8 values at a time through subgroupShuffle,
//     so each key value it loads serves 8 queries. A workgroup whose keys all come after its
//     queries only writes the mask. On lavapipe, GPT-2 small at 64 tokens: see the README's
//     Measured section.
// Bindings: 0 params, 1 q [H, T, D], 2 k [KV, T, D], 3 scores [H, T, T].
// Dispatch: (ceil(t / 64), ceil(t / 8), h); workgroup 64: one key per lane, 8 queries.
// Formula:  scores[h, i, j] = (q[h, i] . k[h / (H / KV), j]) * scale for j <= i,
//           scale = 1 / sqrt(D); -inf for j > i: a token never sees the tokens after it.

struct Params {
    t: u32,
    h: u32,
    d: u32,
    scale: f32,
    kv: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;

// A private variable, not a const: browsers fold a constant bitcast and then refuse -inf.
var<private> NEG_INF_BITS: u32 = 0xff800000u;

/// Stores query `i`'s score of key `j`, or the mask above the diagonal; skips what lies past
/// the end.
fn store(head: u32, i: u32, j: u32, dot: f32) {
    if (i < p.t && j < p.t) {
        scores[(head * p.t + i) * p.t + j] = select(bitcast<f32>(NEG_INF_BITS), dot * p.scale, j <= i);
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return before the shuffles: every lane takes part. Keys and queries past the
    // end are clamped onto the last one, computed and never stored.
    let head = wg.z;
    let j = wg.x * 64u + lid.x;
    let i0 = wg.y * 8u;
    let last = p.t - 1u;
    let kj = (head / (p.h / p.kv) * p.t + min(j, last)) * p.d;
    let q0 = (head * p.t + min(i0 + 0u, last)) * p.d;
    let q1 = (head * p.t + min(i0 + 1u, last)) * p.d;
    let q2 = (head * p.t + min(i0 + 2u, last)) * p.d;
    let q3 = (head * p.t + min(i0 + 3u, last)) * p.d;
    let q4 = (head * p.t + min(i0 + 4u, last)) * p.d;
    let q5 = (head * p.t + min(i0 + 5u, last)) * p.d;
    let q6 = (head * p.t + min(i0 + 6u, last)) * p.d;
    let q7 = (head * p.t + min(i0 + 7u, last)) * p.d;
    var a0 = 0.0;
    var a1 = 0.0;
    var a2 = 0.0;
    var a3 = 0.0;
    var a4 = 0.0;
    var a5 = 0.0;
    var a6 = 0.0;
    var a7 = 0.0;
    // Every key of the workgroup after its last query: only the mask is stored.
    let masked = wg.x * 64u > i0 + 7u;
    let l = lane % 8u;
    // Lanes 8g..8g+7 of a wider subgroup shuffle among themselves.
    let group = lane - l;
    // The steps of D done with shuffles; the plain loop does the rest.
    let shuffled = select(0u, p.d - p.d % 8u, lanes >= 8u && !masked);
    var e0 = 0u;
    for (; e0 < shuffled; e0 = e0 + 8u) {
        // Lane l holds element e0 + l of the 8 queries.
        let v0 = q[q0 + e0 + l];
        let v1 = q[q1 + e0 + l];
        let v2 = q[q2 + e0 + l];
        let v3 = q[q3 + e0 + l];
        let v4 = q[q4 + e0 + l];
        let v5 = q[q5 + e0 + l];
        let v6 = q[q6 + e0 + l];
        let v7 = q[q7 + e0 + l];
        for (var s = 0u; s < 8u; s = s + 1u) {
            let key = k[kj + e0 + s];
            a0 = fma(subgroupShuffle(v0, group + s), key, a0);
            a1 = fma(subgroupShuffle(v1, group + s), key, a1);
            a2 = fma(subgroupShuffle(v2, group + s), key, a2);
            a3 = fma(subgroupShuffle(v3, group + s), key, a3);
            a4 = fma(subgroupShuffle(v4, group + s), key, a4);
            a5 = fma(subgroupShuffle(v5, group + s), key, a5);
            a6 = fma(subgroupShuffle(v6, group + s), key, a6);
            a7 = fma(subgroupShuffle(v7, group + s), key, a7);
        }
    }
    let plain_end = select(p.d, 0u, masked);
    for (var e = e0; e < plain_end; e = e + 1u) {
        let key = k[kj + e];
        a0 = fma(q[q0 + e], key, a0);
        a1 = fma(q[q1 + e], key, a1);
        a2 = fma(q[q2 + e], key, a2);
        a3 = fma(q[q3 + e], key, a3);
        a4 = fma(q[q4 + e], key, a4);
        a5 = fma(q[q5 + e], key, a5);
        a6 = fma(q[q6 + e], key, a6);
        a7 = fma(q[q7 + e], key, a7);
    }
    store(head, i0 + 0u, j, a0);
    store(head, i0 + 1u, j, a1);
    store(head, i0 + 2u, j, a2);
    store(head, i0 + 3u, j, a3);
    store(head, i0 + 4u, j, a4);
    store(head, i0 + 5u, j, a5);
    store(head, i0 + 6u, j, a6);
    store(head, i0 + 7u, j, a7);
}
