// Kernel: kv_append/default
// Op: the decode step's query, and its key and value appended to the KV cache.
// Bindings: 0 params, 1 qkv [1, 3C], 2 position [1] u32, 3 q [H, 1, D],
//           4 k_cache [H, capacity, D], 5 v_cache [H, capacity, D]; C = H * D.
// Dispatch: (ceil(3 * h * d / 64), 1, 1); one thread per element of qkv.
// Formula:  q[h, e] = qkv[h*D + e]; k_cache[h, pos, e] = qkv[C + h*D + e];
//           v_cache[h, pos, e] = qkv[2C + h*D + e]. Rows other than pos are left as they are.

struct Params {
    h: u32,
    d: u32,
    capacity: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> position: array<u32>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(5) var<storage, read_write> v_cache: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = p.h * p.d;
    let col = gid.x;
    if (col >= 3u * c) {
        return;
    }
    let part = col / c;
    let within = col % c;
    let head = within / p.d;
    let e = within % p.d;
    let slot = (head * p.capacity + position[0]) * p.d + e;
    let value = qkv[col];
    if (part == 0u) {
        q[within] = value;
    } else if (part == 1u) {
        k_cache[slot] = value;
    } else {
        v_cache[slot] = value;
    }
}
