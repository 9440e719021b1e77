// Kernel: attn_scores_cached/default
// Op: the decode step's attention scores against every cached key; kv key heads, each shared by
//     h / kv query heads (kv = h for GPT-2).
// Bindings: 0 params, 1 q [H, 1, D], 2 k_cache [KV, capacity, D], 3 position [1] u32,
//           4 scores [H, 1, capacity].
// Dispatch: (ceil(capacity / 64), 1, h); one thread per (cache slot j, head).
// Formula:  scores[h, j] = (q[h] . k_cache[h / (H / KV), j]) * scale for j <= pos, scale = 1 / sqrt(D);
//           -inf for the slots after pos, which hold no token yet.

struct Params {
    h: u32,
    d: u32,
    capacity: u32,
    scale: f32,
    kv: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k_cache: array<f32>;
@group(0) @binding(3) var<storage, read> position: array<u32>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;

// A private variable, not a const: browsers fold a constant bitcast and then refuse -inf.
var<private> NEG_INF_BITS: u32 = 0xff800000u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let head = gid.z;
    if (j >= p.capacity || head >= p.h) {
        return;
    }
    let out = head * p.capacity + j;
    if (j > position[0]) {
        scores[out] = bitcast<f32>(NEG_INF_BITS);
        return;
    }
    let qi = head * p.d;
    let kj = (head / (p.h / p.kv) * p.capacity + j) * p.d;
    var dot = 0.0;
    for (var e = 0u; e < p.d; e = e + 1u) {
        dot = fma(q[qi + e], k_cache[kj + e], dot);
    }
    scores[out] = dot * p.scale;
}
