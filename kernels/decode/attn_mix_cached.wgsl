// Kernel: attn_mix_cached/default
// Op: the decode step's attention-weighted sum of cached values, heads merged into channels;
//     kv value heads, each shared by h / kv query heads (kv = h for GPT-2).
// Bindings: 0 params, 1 probs [H, 1, capacity], 2 v_cache [KV, capacity, D], 3 position [1] u32,
//           4 out [1, C] with C = H * D.
// Dispatch: (ceil(h * d / 64), 1, 1); one thread per output channel.
// Formula:  out[h * D + e] = sum_{j <= pos} probs[h, j] * v_cache[h / (H / KV), j, e]

struct Params {
    h: u32,
    d: u32,
    capacity: u32,
    kv: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> v_cache: array<f32>;
@group(0) @binding(3) var<storage, read> position: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    if (col >= p.h * p.d) {
        return;
    }
    let head = col / p.d;
    let e = col % p.d;
    let prow = head * p.capacity;
    let vbase = head / (p.h / p.kv) * p.capacity * p.d + e;
    let last = min(position[0], p.capacity - 1u);
    var acc = 0.0;
    for (var j = 0u; j <= last; j = j + 1u) {
        acc = fma(probs[prow + j], v_cache[vbase + j * p.d], acc);
    }
    out[col] = acc;
}
