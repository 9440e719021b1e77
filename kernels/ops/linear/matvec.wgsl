// Kernel: linear/matvec
// About: COLS outputs x 256 / COLS slices of K per workgroup: each weight read once, in whole sectors (decode)
// Tune: COLS = 8, 16, 32
// Op: linear layer, the matrix-vector variant for decode (one row, or a few): memory-bound, so
//     the aim is to read each weight exactly once, in whole 32-byte sectors, with enough
//     workgroups in flight to fill a large GPU: a workgroup owns COLS neighbouring outputs and
//     splits K into 256 / COLS slices, summed in workgroup memory. With 8 columns, GPT-2
//     small's 768-column rows make 96 workgroups where 32 columns made 24.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Dispatch: (ceil(n / COLS), rows, 1); workgroup 256: output lid % COLS, slice lid / COLS.
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

const COLS: u32 = 8u;
const SLICES: u32 = 256u / COLS;
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let col = lid % COLS;
    let slice = lid / COLS;
    let n = group.x * COLS + col;
    let r = group.y;
    var acc = 0.0;
    if (n < p.n) {
        for (var kk = slice; kk < p.k; kk = kk + SLICES) {
            acc = fma(x[r * p.k + kk], w[kk * p.n + n], acc);
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var half = SLICES / 2u; half > 0u; half = half / 2u) {
        if (slice < half) {
            partial[lid] = partial[lid] + partial[lid + half * COLS];
        }
        workgroupBarrier();
    }
    if (slice == 0u && n < p.n) {
        y[r * p.n + n] = partial[col] + b[n];
    }
}
