// Kernel: attn_mix/default
// Op: attention-weighted sum of values, heads merged back into channels.
// Bindings: 0 params, 1 probs [H, T, T], 2 v [KV, T, D] (each value head shared by H / KV
//           query heads), 3 out [T, C] with C = H * D.
// Dispatch: (ceil(h * d / 64), t, 1); one thread per output element.
// Formula:  out[i, h * D + e] = sum_{j <= i} probs[h, i, j] * v[h / (H / KV), j, e]
//           (probs is 0 for j > i, so those terms are skipped).

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

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    let i = gid.y;
    let c = p.h * p.d;
    if (col >= c || i >= p.t) {
        return;
    }
    let head = col / p.d;
    let e = col % p.d;
    let prow = (head * p.t + i) * p.t;
    let vbase = head / (p.h / p.kv) * p.t * p.d + e;
    var acc = 0.0;
    for (var j = 0u; j <= i; j = j + 1u) {
        acc = fma(probs[prow + j], v[vbase + j * p.d], acc);
    }
    out[i * c + col] = acc;
}
