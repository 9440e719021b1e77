// Kernel: softmax/subgroup
// About: one 64-thread workgroup per row, reductions with subgroupMax/subgroupAdd (where the adapter has subgroups)
// Needs: subgroups
// Include: shared/subgroup_reduce.wgsl
// Op: numerically stable softmax of each row, the subgroup variant: reductions in registers
//     across each subgroup (subgroupMax, subgroupAdd), then across the few subgroups of the
//     workgroup in workgroup memory. Needs the adapter's subgroup feature.
// Bindings: 0 params, 1 x [rows, cols] (one chunk of rows), 2 probs [rows, cols] (same chunk),
//           3 row_max [total rows], 4 row_sum [total rows].
// Dispatch: (rows, 1, 1)
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
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_size) subgroup_size: u32,
) {
    let subgroup = lid / subgroup_size;
    let subgroups = (WG + subgroup_size - 1u) / subgroup_size;
    let row = wg.x;
    let global_row = p.row_offset + row;
    let base = row * p.cols;
    var visible = p.cols;
    if (p.causal != 0u) {
        visible = global_row % p.cols + 1u;
    }

    var m = -3.4028234e38;
    for (var j = lid; j < visible; j = j + WG) {
        m = max(m, x[base + j]);
    }
    m = workgroup_max(subgroup, subgroups, m);

    var s = 0.0;
    for (var j = lid; j < visible; j = j + WG) {
        s = s + exp(x[base + j] - m);
    }
    s = workgroup_sum(subgroup, subgroups, s);

    for (var j = lid; j < p.cols; j = j + WG) {
        var value = 0.0;
        if (j < visible) {
            value = exp(x[base + j] - m) / s;
        }
        probs[base + j] = value;
    }
    if (lid == 0u) {
        row_max[global_row] = m;
        row_sum[global_row] = s;
    }
}
