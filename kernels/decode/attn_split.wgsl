// Kernel: attn_split/default
// Include: shared/online_softmax.wgsl
// Op: the fast path's decode attention, split over the cache (flash decoding): each workgroup
//     takes `span` cache slots of one head and keeps, with the online softmax, their largest
//     score, their sum of exp(score - max) and their values mixed by those weights; the
//     attn_combine op joins the splits. Splits past the position hold no token and stay empty
//     (max -inf, sum 0). kv key/value heads, each shared by h / kv query heads; head
//     dimensions up to 128.
// Bindings: 0 params, 1 q [H, 1, D], 2 k_cache [KV, capacity, D], 3 v_cache [KV, capacity, D],
//           4 position [1] u32, 5 split_max [H, S], 6 split_sum [H, S], 7 split_mix [H, S, D]
//           with S = ceil(capacity / span).
// Dispatch: (ceil(capacity / span), h, 1); one 64-thread workgroup per (split, head).
// Formula:  for slots j in split s with j <= pos, x_j = q[h] . k_cache[g, j] * scale:
//           split_max[h, s] = max_j x_j; split_sum[h, s] = sum_j exp(x_j - max);
//           split_mix[h, s, e] = sum_j exp(x_j - max) v_cache[g, j, e]; g = h / (H / KV).

struct Params {
    h: u32,
    d: u32,
    capacity: u32,
    scale: f32,
    kv: u32,
    span: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> position: array<u32>;
@group(0) @binding(5) var<storage, read_write> split_max: array<f32>;
@group(0) @binding(6) var<storage, read_write> split_sum: array<f32>;
@group(0) @binding(7) var<storage, read_write> split_mix: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let split = wg.x;
    let head = wg.y;
    let splits = (p.capacity + p.span - 1u) / p.span;
    let group = head / (p.h / p.kv);
    let first = split * p.span;
    let end = min(min(first + p.span, position[0] + 1u), p.capacity);
    let run = attend(lid, head * p.d, group * p.capacity * p.d, first, end, p.d, p.scale);
    let at = head * splits + split;
    if (lid == 0u) {
        split_max[at] = run.m;
        split_sum[at] = run.l;
    }
    if (lid < p.d) {
        split_mix[at * p.d + lid] = run.acc0;
    }
    if (lid + CHUNK < p.d) {
        split_mix[at * p.d + lid + CHUNK] = run.acc1;
    }
}
