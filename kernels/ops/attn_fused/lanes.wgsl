// Kernel: attn_fused/lanes
// About: 16 queries per workgroup, 4 lanes per query sharing its keys, merged through the subgroup (real GPUs; where the adapter has subgroups)
// Needs: subgroups
// Include: shared/attn_tiles.wgsl
// Op: causal attention in one pass, blocked as attn_fused/blocked is, with four times the
//     workgroups: a 64-thread workgroup takes 16 neighbouring queries of one head and gives each
//     four neighbouring lanes, which score and mix every fourth key of each staged chunk of 16,
//     each keeping its own running max, sum and 64 output channels in registers. At the end the
//     four states merge by two butterfly exchanges through the subgroup (the online softmax's
//     rescaling), and each lane writes 16 of the channels. A 1024-token GPT-2-small layer makes
//     768 workgroups where blocked makes 192. Heads wider than 64 channels take one sweep per
//     64 output channels, the score's channels past 64 read from memory.
// Bindings: 0 params, 1 q [H, T, D], 2 k [KV, T, D], 3 v [KV, T, D], 4 out [T, C] with C = H * D.
// Dispatch: (ceil(t / 16), h, 1); workgroup 64: query 16 * wg.x + lid / 4 of head wg.y, key
//           lane lid % 4 (neighbouring invocations of one subgroup).
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

const QUERIES: u32 = 16u;
const LANES: u32 = 4u;
const WORKGROUP: u32 = 64u;

// The weight of a state whose max is `m` in a merged state whose max is `merged`: none for a
// state that scored nothing (m = -inf), whatever the other.
fn merge_weight(m: f32, merged: f32) -> f32 {
    return select(exp(m - merged), 0.0, m == negative_infinity());
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let neg_inf = negative_infinity();
    let q0 = wg.x * QUERIES;
    let head = wg.y;
    let lane = lid % LANES;
    let i = q0 + lid / LANES;
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
            var scores: array<f32, 4>;
            var chunk_max = m;
            for (var s = 0u; s < KEYS / LANES; s = s + 1u) {
                let j = s * LANES + lane;
                let dot = score(&query, q_at, j);
                // Causal: key start + j counts for query i only when it is not after it.
                scores[s] = select(neg_inf, dot, start + j <= i);
                chunk_max = max(chunk_max, scores[s]);
            }
            // Nothing scored yet (m and chunk_max -inf): nothing to rescale, nothing to add.
            let rescale = select(exp(m - chunk_max), 1.0, chunk_max == neg_inf);
            l = l * rescale;
            for (var e = 0u; e < DIMS; e = e + 1u) {
                acc[e] = acc[e] * rescale;
            }
            for (var s = 0u; s < KEYS / LANES; s = s + 1u) {
                let j = s * LANES + lane;
                let weight = select(exp(scores[s] - chunk_max), 0.0, scores[s] == neg_inf);
                l = l + weight;
                for (var e = 0u; e < DIMS; e = e + 1u) {
                    acc[e] = fma(weight, v_tile[j * DIMS + e], acc[e]);
                }
            }
            m = chunk_max;
        }
        // Lanes 1 and 2 apart exchange states: after both steps every lane of the query holds
        // the state of all its keys.
        for (var apart = 1u; apart < LANES; apart = apart * 2u) {
            let m_other = subgroupShuffleXor(m, apart);
            let merged = max(m, m_other);
            let own = merge_weight(m, merged);
            let other = merge_weight(m_other, merged);
            l = l * own + subgroupShuffleXor(l, apart) * other;
            for (var e = 0u; e < DIMS; e = e + 1u) {
                acc[e] = acc[e] * own + subgroupShuffleXor(acc[e], apart) * other;
            }
            m = merged;
        }
        if (valid) {
            let row = i * p.h * p.d + head * p.d + d0;
            for (var e = lane * (DIMS / LANES); e < (lane + 1u) * (DIMS / LANES); e = e + 1u) {
                if (d0 + e < p.d) {
                    out[row + e] = acc[e] / l;
                }
            }
        }
    }
}
