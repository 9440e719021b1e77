// Shared helper: the staged keys and values of attn_fused/blocked and attn_fused/lanes. A
// workgroup of WORKGROUP threads stages KEYS keys (every channel, head dimensions up to 128)
// and the same keys' values in one sweep's DIMS output channels, zeros past the sequence; each
// thread keeps its query's first DIMS channels, scaled, in registers. The including kernel
// declares `p` (t, d, scale), `q`, `k` and `v`, and `const WORKGROUP: u32`.

const KEYS: u32 = 16u;
const DIMS: u32 = 64u;
// 12 KiB in all.
var<workgroup> k_tile: array<f32, 2048>;
var<workgroup> v_tile: array<f32, 1024>;
// A private variable, not a const: browsers fold a constant bitcast and then refuse -inf.
var<private> NEG_INF_BITS: u32 = 0xff800000u;

fn negative_infinity() -> f32 {
    return bitcast<f32>(NEG_INF_BITS);
}

// The query row at q[q_at]'s first DIMS channels times the scale; zeros past d, so that a score
// may read past its key's channels in k_tile and add nothing.
fn load_query(q_at: u32) -> array<f32, 64> {
    var query: array<f32, 64>;
    for (var e = 0u; e < DIMS; e = e + 1u) {
        query[e] = select(0.0, q[q_at + min(e, p.d - 1u)] * p.scale, e < p.d);
    }
    return query;
}

// Keys start .. start + KEYS - 1 of the key/value head at kv_at: every channel of the keys,
// channels d0 .. d0 + DIMS - 1 of the values. Indices are clamped into the head, so that no
// load leaves it whatever the sequence's length.
fn stage_chunk(lid: u32, kv_at: u32, start: u32, d0: u32) {
    for (var at = lid; at < KEYS * p.d; at = at + WORKGROUP) {
        let inside = start + at / p.d < p.t;
        k_tile[at] = select(0.0, k[kv_at + start * p.d + min(at, (p.t - start) * p.d - 1u)], inside);
    }
    for (var at = lid; at < KEYS * DIMS; at = at + WORKGROUP) {
        let j = at / DIMS;
        let e = d0 + at % DIMS;
        let inside = start + j < p.t && e < p.d;
        let value_at = kv_at + (start + j) * p.d + e;
        v_tile[at] = select(0.0, v[min(value_at, kv_at + p.t * p.d - 1u)], inside);
    }
}

// Key j of the chunk scored against `query` (channels past DIMS read from q[q_at + e]).
fn score(query: ptr<function, array<f32, 64>>, q_at: u32, j: u32) -> f32 {
    var dot = 0.0;
    for (var e = 0u; e < DIMS; e = e + 1u) {
        dot = fma((*query)[e], k_tile[j * p.d + e], dot);
    }
    for (var e = DIMS; e < p.d; e = e + 1u) {
        dot = fma(q[q_at + e] * p.scale, k_tile[j * p.d + e], dot);
    }
    return dot;
}
