// Kernel: attn_fused/blocked
// About: 64 queries per workgroup, one per thread, keys staged 16 at a time; q and the output in registers (real GPUs)
// Include: shared/attn_tiles.wgsl
// Op: causal attention in one pass (FlashAttention's blocking, for prefill on GPUs): a
//     64-thread workgroup takes 64 neighbouring queries of one head, a thread each. Keys and
//     values go through workgroup memory 16 at a time, read once per workgroup and by every
//     thread from there (one broadcast read per value); each thread scores its query against
//     them, updates its running max and sum (the online softmax) and mixes the values into
//     the 64 output channels it keeps in registers beside its query. Heads wider than 64
//     channels take one such sweep per 64 output channels, the score's channels past 64 read
//     from memory (slower, and still exact).
// Bindings: 0 params, 1 q [H, T, D], 2 k [KV, T, D], 3 v [KV, T, D], 4 out [T, C] with C = H * D.
// Dispatch: (ceil(t / 64), h, 1); workgroup 64: query 64 * wg.x + lid of head wg.y.
// Formula:  out[i, h * D + e] = sum_{j <= i} softmax_j(q[h, i] . k[g, j] * scale) v[g, j, e],
//           g = h / (H / KV), scale = 1 / sqrt(D).

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
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const QUERIES: u32 = 64u;
const WORKGROUP: u32 = 64u;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let neg_inf = negative_infinity();
    let q0 = wg.x * QUERIES;
    let head = wg.y;
    let i = q0 + lid;
    let valid = i < p.t;
    let kv_at = (head / (p.h / p.kv)) * p.t * p.d;
    let q_at = (head * p.t + min(i, p.t - 1u)) * p.d;
    var query = load_query(q_at);
    // Keys up to the block's last query.
    let end = min(q0 + QUERIES, p.t);
    for (var d0 = 0u; d0 < p.d; d0 = d0 + DIMS) {
        var m = neg_inf;
        var l = 0.0;
        var acc: array<f32, 64>;
        for (var start = 0u; start < end; start = start + KEYS) {
            workgroupBarrier();
            stage_chunk(lid, kv_at, start, d0);
            workgroupBarrier();
            var scores: array<f32, 16>;
            var chunk_max = m;
            for (var j = 0u; j < KEYS; j = j + 1u) {
                let dot = score(&query, q_at, j);
                // Causal: key start + j counts for query i only when it is not after it.
                scores[j] = select(neg_inf, dot, start + j <= i);
                chunk_max = max(chunk_max, scores[j]);
            }
            // Nothing scored yet (m and chunk_max -inf): nothing to rescale, nothing to add.
            let rescale = select(exp(m - chunk_max), 1.0, chunk_max == neg_inf);
            l = l * rescale;
            for (var e = 0u; e < DIMS; e = e + 1u) {
                acc[e] = acc[e] * rescale;
            }
            for (var j = 0u; j < KEYS; j = j + 1u) {
                let weight = select(exp(scores[j] - chunk_max), 0.0, scores[j] == neg_inf);
                l = l + weight;
                for (var e = 0u; e < DIMS; e = e + 1u) {
                    acc[e] = fma(weight, v_tile[j * DIMS + e], acc[e]);
                }
            }
            m = chunk_max;
        }
        if (valid) {
            let row = i * p.h * p.d + head * p.d;
            for (var e = 0u; e < DIMS; e = e + 1u) {
                if (d0 + e < p.d) {
                    out[row + d0 + e] = acc[e] / l;
                }
            }
        }
    }
}
