// Kernel: split_heads/default
// Op: cut the fused qkv activation into per-head queries, keys and values.
// Bindings: 0 params, 1 qkv [T, 3C], 2 q [H, T, D], 3 k [H, T, D], 4 v [H, T, D].
// Dispatch: (ceil(3 * h * d / 64), t, 1); one thread per qkv element.
// Formula:  with col = which * C + head * D + e (which: 0 = q, 1 = k, 2 = v),
//           {q, k, v}[head, t, e] = qkv[t, col]

struct Params {
    t: u32,
    h: u32,
    d: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> q: array<f32>;
@group(0) @binding(3) var<storage, read_write> k: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = p.h * p.d;
    let col = gid.x;
    let t = gid.y;
    if (col >= 3u * c || t >= p.t) {
        return;
    }
    let which = col / c;
    let head = (col % c) / p.d;
    let e = col % p.d;
    let value = qkv[t * 3u * c + col];
    let dst = (head * p.t + t) * p.d + e;
    if (which == 0u) {
        q[dst] = value;
    } else if (which == 1u) {
        k[dst] = value;
    } else {
        v[dst] = value;
    }
}
