// Kernel: ablate/default
// Op: a unit switched off (a head, an MLP, a neuron): columns start..start+len of every row set
//     to zero, or with `mean` to the column's mean over the rows (positions); the rest copied.
// Bindings: 0 params, 1 x [rows, cols], 2 y [rows, cols].
// Dispatch: fold(ceil(rows * cols / 64)); one thread per element.
// Formula:  y[r, j] = x[r, j] outside the unit; 0, or (1 / rows) sum_r' x[r', j], inside it.

struct Params {
    rows: u32,
    cols: u32,
    start: u32,
    len: u32,
    mean: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 64u;
    if (i >= p.rows * p.cols) {
        return;
    }
    let col = i % p.cols;
    if (col < p.start || col >= p.start + p.len) {
        y[i] = x[i];
        return;
    }
    if (p.mean == 0u) {
        y[i] = 0.0;
        return;
    }
    var sum = 0.0;
    for (var r = 0u; r < p.rows; r = r + 1u) {
        sum = sum + x[r * p.cols + col];
    }
    y[i] = sum / f32(p.rows);
}
