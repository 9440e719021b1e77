// Kernel: linear/blocked
// About: 4 x 4 outputs per thread in registers, each weight load serving 4 rows
// Op: linear layer (matrix product plus bias) in GPT-2's Conv1D layout.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Dispatch: (ceil(n / 256), ceil(rows / 4), 1); workgroup 64: each thread computes a 4 x 4 block
//           (4 rows, 4 adjacent columns), so every weight it loads serves 4 rows.
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

fn store_row(row: u32, col0: u32, acc: vec4<f32>) {
    if (row >= p.rows) {
        return;
    }
    for (var j = 0u; j < 4u; j = j + 1u) {
        let col = col0 + j;
        if (col < p.n) {
            y[row * p.n + col] = acc[j] + b[col];
        }
    }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col0 = gid.x * 4u;
    let row0 = gid.y * 4u;
    if (col0 >= p.n || row0 >= p.rows) {
        return;
    }
    // Out-of-range rows and columns are clamped onto the last valid one: they compute a
    // duplicate that is never stored, which keeps the inner loop free of branches.
    let last_col = p.n - 1u;
    let c0 = min(col0, last_col);
    let c1 = min(col0 + 1u, last_col);
    let c2 = min(col0 + 2u, last_col);
    let c3 = min(col0 + 3u, last_col);
    let last_row = p.rows - 1u;
    let x0 = min(row0, last_row) * p.k;
    let x1 = min(row0 + 1u, last_row) * p.k;
    let x2 = min(row0 + 2u, last_row) * p.k;
    let x3 = min(row0 + 3u, last_row) * p.k;

    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var kk = 0u; kk < p.k; kk = kk + 1u) {
        let wrow = kk * p.n;
        let wv = vec4<f32>(w[wrow + c0], w[wrow + c1], w[wrow + c2], w[wrow + c3]);
        acc0 = fma(vec4<f32>(x[x0 + kk]), wv, acc0);
        acc1 = fma(vec4<f32>(x[x1 + kk]), wv, acc1);
        acc2 = fma(vec4<f32>(x[x2 + kk]), wv, acc2);
        acc3 = fma(vec4<f32>(x[x3 + kk]), wv, acc3);
    }
    store_row(row0, col0, acc0);
    store_row(row0 + 1u, col0, acc1);
    store_row(row0 + 2u, col0, acc2);
    store_row(row0 + 3u, col0, acc3);
}
