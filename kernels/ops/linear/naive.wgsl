// Kernel: linear/naive
// About: one thread per output, every operand from memory
// Op: linear layer, the naive variant: one thread per output element, everything from memory.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Dispatch: (ceil(n / 64), rows, 1); workgroup 64.
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
    var acc = 0.0;
    for (var kk = 0u; kk < p.k; kk = kk + 1u) {
        acc = fma(x[r * p.k + kk], w[kk * p.n + n], acc);
    }
    y[r * p.n + n] = acc + b[n];
}
