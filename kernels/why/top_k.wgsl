// Kernel: top_k/default
// Op: the k largest values of each row and their columns, largest first; ties go to the lower
//     column, so the order is total and the CPU reference gives the same one.
// Bindings: 0 params, 1 x [rows, cols] (one chunk of rows), 2 value [total rows, k],
//           3 index [total rows, k].
// Dispatch: (rows, 1, 1); one 64-thread workgroup per row. Round r keeps the best element that
//           ranks below round r - 1's pick: each thread scans a strided part of the row, then
//           the workgroup reduces the 64 candidates in workgroup memory.
// Formula:  (value[r, 0], index[r, 0]) = the (x, j) with the largest x[r, j], lowest j on ties;
//           each next one the best of those ranked below the previous.

struct Params {
    rows: u32,
    cols: u32,
    k: u32,
    row_offset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> value: array<f32>;
@group(0) @binding(3) var<storage, read_write> index: array<u32>;

const NONE: u32 = 0xffffffffu;

var<workgroup> best_value: array<f32, 64>;
var<workgroup> best_index: array<u32, 64>;

// Whether (a, ia) ranks before (b, ib): larger value first, then lower column. NONE ranks last.
fn before(a: f32, ia: u32, b: f32, ib: u32) -> bool {
    if (ia == NONE) {
        return false;
    }
    if (ib == NONE) {
        return true;
    }
    return a > b || (a == b && ia < ib);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wid.x;
    let base = row * p.cols;
    let out = (p.row_offset + row) * p.k;
    var last_value = 0.0;
    var last_index = NONE;
    for (var round = 0u; round < p.k; round = round + 1u) {
        var v = 0.0;
        var j_best = NONE;
        for (var j = lid.x; j < p.cols; j = j + 64u) {
            let candidate = x[base + j];
            let below_last = last_index == NONE || before(last_value, last_index, candidate, j);
            if (below_last && before(candidate, j, v, j_best)) {
                v = candidate;
                j_best = j;
            }
        }
        best_value[lid.x] = v;
        best_index[lid.x] = j_best;
        workgroupBarrier();
        for (var stride = 32u; stride > 0u; stride = stride / 2u) {
            if (lid.x < stride) {
                let other = lid.x + stride;
                if (before(best_value[other], best_index[other], best_value[lid.x], best_index[lid.x])) {
                    best_value[lid.x] = best_value[other];
                    best_index[lid.x] = best_index[other];
                }
            }
            workgroupBarrier();
        }
        last_value = best_value[0];
        last_index = best_index[0];
        workgroupBarrier();
        if (lid.x == 0u) {
            value[out + round] = last_value;
            index[out + round] = last_index;
        }
    }
}
