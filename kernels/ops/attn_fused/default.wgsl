// Kernel: attn_fused/default
// About: one 64-thread workgroup per (query, head), one key per thread, two barriers per 64 keys
// Include: shared/online_softmax.wgsl
// Op: causal attention in one pass, the fast path's: scores, softmax and the mix of values
//     fused with the online softmax, so no [H, T, T] buffer exists (the picture's path keeps the
//     three ops, whose scores and probabilities it draws). kv key/value heads, each shared by
//     h / kv query heads; head dimensions up to 128.
// Bindings: 0 params, 1 q [H, T, D], 2 k [KV, T, D], 3 v [KV, T, D], 4 out [T, C] with C = H * D.
// Dispatch: (t, h, 1); one 64-thread workgroup per (query token, head).
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

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = wg.x;
    let head = wg.y;
    let group = head / (p.h / p.kv);
    let run = attend(lid, (head * p.t + i) * p.d, group * p.t * p.d, 0u, i + 1u, p.d, p.scale);
    let at = i * p.h * p.d + head * p.d + lid;
    if (lid < p.d) {
        out[at] = run.acc0 / run.l;
    }
    if (lid + CHUNK < p.d) {
        out[at + CHUNK] = run.acc1 / run.l;
    }
}
