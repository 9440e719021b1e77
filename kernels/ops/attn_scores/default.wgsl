// Kernel: attn_scores/default
// Op: attention scores with the causal mask; kv key heads, each shared by h / kv query heads
//     (grouped-query attention; kv = h for GPT-2).
// Bindings: 0 params, 1 q [H, T, D], 2 k [KV, T, D], 3 scores [H, T, T].
// Dispatch: (ceil(t / 64), t, h); one thread per (key j, query i, head).
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

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let i = gid.y;
    let head = gid.z;
    if (j >= p.t || i >= p.t) {
        return;
    }
    let out = (head * p.t + i) * p.t + j;
    if (j > i) {
        scores[out] = bitcast<f32>(NEG_INF_BITS);
        return;
    }
    let qi = (head * p.t + i) * p.d;
    let kj = (head / (p.h / p.kv) * p.t + j) * p.d;
    var dot = 0.0;
    for (var e = 0u; e < p.d; e = e + 1u) {
        dot = fma(q[qi + e], k[kj + e], dot);
    }
    scores[out] = dot * p.scale;
}
