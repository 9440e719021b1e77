// Kernel: attn_combine/default
// Op: joins the decode attention's splits: each split's sums are brought to the largest max
//     over the splits holding tokens, then the mixed values are divided by the total weight.
//     Heads are merged back into channels.
// Bindings: 0 params, 1 split_max [H, S], 2 split_sum [H, S], 3 split_mix [H, S, D],
//           4 position [1] u32, 5 out [1, C] with C = H * D.
// Dispatch: (ceil(h * d / 64), 1, 1); one thread per output channel.
// Formula:  M = max_s split_max[h, s]; w_s = exp(split_max[h, s] - M);
//           out[h * D + e] = sum_s w_s split_mix[h, s, e] / sum_s w_s split_sum[h, s],
//           over the splits s <= pos / span.

struct Params {
    h: u32,
    d: u32,
    splits: u32,
    span: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> split_max: array<f32>;
@group(0) @binding(2) var<storage, read> split_sum: array<f32>;
@group(0) @binding(3) var<storage, read> split_mix: array<f32>;
@group(0) @binding(4) var<storage, read> position: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    if (col >= p.h * p.d) {
        return;
    }
    let head = col / p.d;
    let e = col % p.d;
    let used = min(position[0] / p.span + 1u, p.splits);
    let row = head * p.splits;
    var m = split_max[row];
    for (var s = 1u; s < used; s = s + 1u) {
        m = max(m, split_max[row + s]);
    }
    var sum = 0.0;
    var acc = 0.0;
    for (var s = 0u; s < used; s = s + 1u) {
        let weight = exp(split_max[row + s] - m);
        sum = fma(weight, split_sum[row + s], sum);
        acc = fma(weight, split_mix[(row + s) * p.d + e], acc);
    }
    out[col] = acc / sum;
}
