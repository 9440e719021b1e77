// Kernel: softmax/row
// About: one thread per row
// Op: numerically stable softmax, the one-thread-per-row variant (no workgroup memory, no
// barriers): simplest, and fine when there are many short rows.
// Bindings: 0 params, 1 x [rows, cols] (one chunk of rows), 2 probs [rows, cols] (same chunk),
//           3 row_max [total rows], 4 row_sum [total rows].
// Dispatch: (ceil(rows / 64), 1, 1)
// Formula:  m = max_j x[r, j]; s = sum_j exp(x[r, j] - m); probs[r, j] = exp(x[r, j] - m) / s.
//           With `causal`, row r only sees columns j <= (row_offset + r) mod cols.

struct Params {
    rows: u32,
    cols: u32,
    causal: u32,
    row_offset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_max: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_sum: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= p.rows) {
        return;
    }
    let global_row = p.row_offset + row;
    let base = row * p.cols;
    var visible = p.cols;
    if (p.causal != 0u) {
        visible = global_row % p.cols + 1u;
    }
    var m = x[base];
    for (var j = 1u; j < visible; j = j + 1u) {
        m = max(m, x[base + j]);
    }
    var s = 0.0;
    for (var j = 0u; j < visible; j = j + 1u) {
        s = s + exp(x[base + j] - m);
    }
    for (var j = 0u; j < p.cols; j = j + 1u) {
        var value = 0.0;
        if (j < visible) {
            value = exp(x[base + j] - m) / s;
        }
        probs[base + j] = value;
    }
    row_max[global_row] = m;
    row_sum[global_row] = s;
}
