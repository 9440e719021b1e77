// Kernel: linear/broadcast
// About: 12 rows x 2 columns per thread, x broadcast through the subgroup (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: linear layer (matrix product plus bias) in GPT-2's Conv1D layout, made for CPU adapters
//     (lavapipe), where 8 adjacent invocations are one AVX vector and a load whose address
//     differs between them is a loop over the lanes. Each thread keeps 24 accumulators (12
//     rows x 2 columns), so each weight it loads serves 12 rows; x is read 8 values at a time,
//     one per lane, and handed to every lane by subgroupShuffle, a register shuffle instead of
//     a load. With fewer than 8 lanes per subgroup the plain loop at the end does all the work.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Dispatch: (ceil(rows / 12), ceil(n / 128), 1)
//           workgroup 64: 8 groups of 8 lanes, each group 16 adjacent columns (a lane owns
//           columns c and c + 8) of 12 rows. Row blocks run along x, which lavapipe walks
//           first: consecutive workgroups read the same 128 columns of w while they are still
//           in the CPU's cache, and w streams from memory once rather than once per row block.
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

/// Stores row `row` of columns `col` and `col + 8`, skipping what lies past the end.
fn store(row: u32, col: u32, first: f32, second: f32) {
    if (row >= p.rows) {
        return;
    }
    if (col < p.n) {
        y[row * p.n + col] = first + b[col];
    }
    if (col + 8u < p.n) {
        y[row * p.n + col + 8u] = second + b[col + 8u];
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return: every lane takes part in the shuffles, and a load inside a branch that
    // may have disabled lanes is no longer one broadcast on lavapipe. Rows and columns past
    // the end are clamped onto the last valid one, computed and never stored.
    let col = wg.y * 128u + (lid.x / 8u) * 16u + lid.x % 8u;
    let c0 = min(col, p.n - 1u);
    let c1 = min(col + 8u, p.n - 1u);
    let row0 = wg.x * 12u;
    let last = p.rows - 1u;
    let x0 = min(row0 + 0u, last) * p.k;
    let x1 = min(row0 + 1u, last) * p.k;
    let x2 = min(row0 + 2u, last) * p.k;
    let x3 = min(row0 + 3u, last) * p.k;
    let x4 = min(row0 + 4u, last) * p.k;
    let x5 = min(row0 + 5u, last) * p.k;
    let x6 = min(row0 + 6u, last) * p.k;
    let x7 = min(row0 + 7u, last) * p.k;
    let x8 = min(row0 + 8u, last) * p.k;
    let x9 = min(row0 + 9u, last) * p.k;
    let x10 = min(row0 + 10u, last) * p.k;
    let x11 = min(row0 + 11u, last) * p.k;
    var a0_0 = 0.0; var a1_0 = 0.0; var a2_0 = 0.0; var a3_0 = 0.0; var a4_0 = 0.0; var a5_0 = 0.0;
    var a6_0 = 0.0; var a7_0 = 0.0; var a8_0 = 0.0; var a9_0 = 0.0; var a10_0 = 0.0; var a11_0 = 0.0;
    var a0_1 = 0.0; var a1_1 = 0.0; var a2_1 = 0.0; var a3_1 = 0.0; var a4_1 = 0.0; var a5_1 = 0.0;
    var a6_1 = 0.0; var a7_1 = 0.0; var a8_1 = 0.0; var a9_1 = 0.0; var a10_1 = 0.0; var a11_1 = 0.0;
    var k0 = 0u;
    if (lanes >= 8u) {
        let l = lane % 8u;
        for (; k0 + 8u <= p.k; k0 = k0 + 8u) {
            // Lane l holds x[r, k0 + l] of the 12 rows.
            let v0 = x[x0 + k0 + l];
            let v1 = x[x1 + k0 + l];
            let v2 = x[x2 + k0 + l];
            let v3 = x[x3 + k0 + l];
            let v4 = x[x4 + k0 + l];
            let v5 = x[x5 + k0 + l];
            let v6 = x[x6 + k0 + l];
            let v7 = x[x7 + k0 + l];
            let v8 = x[x8 + k0 + l];
            let v9 = x[x9 + k0 + l];
            let v10 = x[x10 + k0 + l];
            let v11 = x[x11 + k0 + l];
            for (var j = 0u; j < 8u; j = j + 1u) {
                let wrow = (k0 + j) * p.n;
                let m0 = w[wrow + c0];
                let m1 = w[wrow + c1];
                let s0 = subgroupShuffle(v0, j);
                a0_0 = fma(s0, m0, a0_0);
                a0_1 = fma(s0, m1, a0_1);
                let s1 = subgroupShuffle(v1, j);
                a1_0 = fma(s1, m0, a1_0);
                a1_1 = fma(s1, m1, a1_1);
                let s2 = subgroupShuffle(v2, j);
                a2_0 = fma(s2, m0, a2_0);
                a2_1 = fma(s2, m1, a2_1);
                let s3 = subgroupShuffle(v3, j);
                a3_0 = fma(s3, m0, a3_0);
                a3_1 = fma(s3, m1, a3_1);
                let s4 = subgroupShuffle(v4, j);
                a4_0 = fma(s4, m0, a4_0);
                a4_1 = fma(s4, m1, a4_1);
                let s5 = subgroupShuffle(v5, j);
                a5_0 = fma(s5, m0, a5_0);
                a5_1 = fma(s5, m1, a5_1);
                let s6 = subgroupShuffle(v6, j);
                a6_0 = fma(s6, m0, a6_0);
                a6_1 = fma(s6, m1, a6_1);
                let s7 = subgroupShuffle(v7, j);
                a7_0 = fma(s7, m0, a7_0);
                a7_1 = fma(s7, m1, a7_1);
                let s8 = subgroupShuffle(v8, j);
                a8_0 = fma(s8, m0, a8_0);
                a8_1 = fma(s8, m1, a8_1);
                let s9 = subgroupShuffle(v9, j);
                a9_0 = fma(s9, m0, a9_0);
                a9_1 = fma(s9, m1, a9_1);
                let s10 = subgroupShuffle(v10, j);
                a10_0 = fma(s10, m0, a10_0);
                a10_1 = fma(s10, m1, a10_1);
                let s11 = subgroupShuffle(v11, j);
                a11_0 = fma(s11, m0, a11_0);
                a11_1 = fma(s11, m1, a11_1);
            }
        }
    }
    // The last K % 8 steps (all of them with fewer than 8 lanes), x read directly.
    for (; k0 < p.k; k0 = k0 + 1u) {
        let m0 = w[k0 * p.n + c0];
        let m1 = w[k0 * p.n + c1];
        a0_0 = fma(x[x0 + k0], m0, a0_0);
        a0_1 = fma(x[x0 + k0], m1, a0_1);
        a1_0 = fma(x[x1 + k0], m0, a1_0);
        a1_1 = fma(x[x1 + k0], m1, a1_1);
        a2_0 = fma(x[x2 + k0], m0, a2_0);
        a2_1 = fma(x[x2 + k0], m1, a2_1);
        a3_0 = fma(x[x3 + k0], m0, a3_0);
        a3_1 = fma(x[x3 + k0], m1, a3_1);
        a4_0 = fma(x[x4 + k0], m0, a4_0);
        a4_1 = fma(x[x4 + k0], m1, a4_1);
        a5_0 = fma(x[x5 + k0], m0, a5_0);
        a5_1 = fma(x[x5 + k0], m1, a5_1);
        a6_0 = fma(x[x6 + k0], m0, a6_0);
        a6_1 = fma(x[x6 + k0], m1, a6_1);
        a7_0 = fma(x[x7 + k0], m0, a7_0);
        a7_1 = fma(x[x7 + k0], m1, a7_1);
        a8_0 = fma(x[x8 + k0], m0, a8_0);
        a8_1 = fma(x[x8 + k0], m1, a8_1);
        a9_0 = fma(x[x9 + k0], m0, a9_0);
        a9_1 = fma(x[x9 + k0], m1, a9_1);
        a10_0 = fma(x[x10 + k0], m0, a10_0);
        a10_1 = fma(x[x10 + k0], m1, a10_1);
        a11_0 = fma(x[x11 + k0], m0, a11_0);
        a11_1 = fma(x[x11 + k0], m1, a11_1);
    }
    store(row0 + 0u, col, a0_0, a0_1);
    store(row0 + 1u, col, a1_0, a1_1);
    store(row0 + 2u, col, a2_0, a2_1);
    store(row0 + 3u, col, a3_0, a3_1);
    store(row0 + 4u, col, a4_0, a4_1);
    store(row0 + 5u, col, a5_0, a5_1);
    store(row0 + 6u, col, a6_0, a6_1);
    store(row0 + 7u, col, a7_0, a7_1);
    store(row0 + 8u, col, a8_0, a8_1);
    store(row0 + 9u, col, a9_0, a9_1);
    store(row0 + 10u, col, a10_0, a10_1);
    store(row0 + 11u, col, a11_0, a11_1);
}
