// Kernel: rope_append/default
// Op: the decode step's query turned by its position, and its key (turned) and value appended to
//     the KV cache of the kv key/value heads (the Llama family's KvAppend).
// Bindings: 0 params, 1 q_proj [1, H * D], 2 k_proj [1, KV * D], 3 v_proj [1, KV * D],
//           4 position [1] u32, 5 q [H, 1, D], 6 k_cache [KV, capacity, D],
//           7 v_cache [KV, capacity, D].
// Dispatch: (ceil(((h + kv) * d / 2 + kv * d) / 64), 1, 1); one thread per query or key pair,
//           then one per value element.
// Include: shared/rope.wgsl
// Formula:  a = pos f_i with f_i as in rope; q[h, i] = q_proj[hD + i] cos a - q_proj[hD + i + D/2] sin a,
//           q[h, i + D/2] = q_proj[hD + i + D/2] cos a + q_proj[hD + i] sin a; k_cache[g, pos] = k_proj
//           row g turned the same way; v_cache[g, pos, e] = v_proj[gD + e]. Other rows are kept.

struct Params {
    h: u32,
    kv: u32,
    d: u32,
    capacity: u32,
    theta: f32,
    scaled: u32,
    factor: f32,
    low_freq_factor: f32,
    high_freq_factor: f32,
    context: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q_proj: array<f32>;
@group(0) @binding(2) var<storage, read> k_proj: array<f32>;
@group(0) @binding(3) var<storage, read> v_proj: array<f32>;
@group(0) @binding(4) var<storage, read> position: array<u32>;
@group(0) @binding(5) var<storage, read_write> q: array<f32>;
@group(0) @binding(6) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(7) var<storage, read_write> v_cache: array<f32>;

// Pair (i, i + D/2) of the head starting at `at`, turned by the position's angle.
fn turned(a: f32, b: f32, i: u32) -> vec2<f32> {
    let f = rope_inv_freq(i, p.d, p.theta, p.scaled, p.factor, p.low_freq_factor, p.high_freq_factor, p.context);
    let turn = rope_cos_sin(position[0], f);
    return vec2<f32>(a * turn.x - b * turn.y, b * turn.x + a * turn.y);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let half = p.d / 2u;
    let q_pairs = p.h * half;
    let k_pairs = p.kv * half;
    let col = gid.x;
    let pos = position[0];
    if (col < q_pairs) {
        let head = col / half;
        let i = col % half;
        let at = head * p.d;
        let y = turned(q_proj[at + i], q_proj[at + i + half], i);
        q[at + i] = y.x;
        q[at + i + half] = y.y;
    } else if (col < q_pairs + k_pairs) {
        let head = (col - q_pairs) / half;
        let i = (col - q_pairs) % half;
        let at = head * p.d;
        let slot = (head * p.capacity + pos) * p.d;
        let y = turned(k_proj[at + i], k_proj[at + i + half], i);
        k_cache[slot + i] = y.x;
        k_cache[slot + i + half] = y.y;
    } else if (col < q_pairs + k_pairs + p.kv * p.d) {
        let within = col - q_pairs - k_pairs;
        let head = within / p.d;
        let e = within % p.d;
        v_cache[(head * p.capacity + pos) * p.d + e] = v_proj[within];
    }
}
