// Kernel: linear/matvec
// About: 32 outputs x 8 slices of K per workgroup: each weight read once, in full lines (decode)
// Op: linear layer, the matrix-vector variant for decode (one row, or a few): memory-bound, so
//     the aim is to read each weight exactly once, in full cache lines.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Dispatch: (ceil(n / 32), rows, 1); workgroup 32 x 8: 32 neighbouring outputs (one 128-byte
//           line of each weight row) times 8 slices of K, summed in workgroup memory.
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

const COLS: u32 = 32u;
const SLICES: u32 = 8u;
var<workgroup> partial: array<array<f32, 32>, 8>;

@compute @workgroup_size(32, 8)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let n = group.x * COLS + lid.x;
    let r = group.y;
    var acc = 0.0;
    if (n < p.n) {
        for (var kk = lid.y; kk < p.k; kk = kk + SLICES) {
            acc = fma(x[r * p.k + kk], w[kk * p.n + n], acc);
        }
    }
    partial[lid.y][lid.x] = acc;
    workgroupBarrier();
    if (lid.y == 0u && n < p.n) {
        var sum = b[n];
        for (var s = 0u; s < SLICES; s = s + 1u) {
            sum = sum + partial[s][lid.x];
        }
        y[r * p.n + n] = sum;
    }
}
