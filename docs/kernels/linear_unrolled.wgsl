// Kernel: linear/unrolled
// About: one thread per output, K unrolled by 4 into independent sums (an example drop-in variant)
// Dispatch: (ceil(n / 64), rows, 1); one thread per output column of one row.
// Op: linear layer, an example of a variant added without touching Rust: four partial sums
//     over interleaved k break the chain of dependent FMAs of the naive kernel.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Formula:  y[r, n] = b[n] + sum_k x[r, k] * w[k, n]

struct Params {
    rows: u32,
    k: u32,
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n = gid.x;
    let r = gid.y;
    if (n >= p.n || r >= p.rows) {
        return;
    }
    let row = r * p.k;
    var sums = vec4<f32>(0.0);
    var kk = 0u;
    for (; kk + 4u <= p.k; kk = kk + 4u) {
        let xs = vec4<f32>(x[row + kk], x[row + kk + 1u], x[row + kk + 2u], x[row + kk + 3u]);
        let ws = vec4<f32>(
            w[kk * p.n + n],
            w[(kk + 1u) * p.n + n],
            w[(kk + 2u) * p.n + n],
            w[(kk + 3u) * p.n + n],
        );
        sums = fma(xs, ws, sums);
    }
    var acc = sums.x + sums.y + sums.z + sums.w;
    for (; kk < p.k; kk = kk + 1u) {
        acc = fma(x[row + kk], w[kk * p.n + n], acc);
    }
    y[r * p.n + n] = acc + b[n];
}
