// Kernel: linear/broadcast
// About: 16 rows x 2 columns per thread, x broadcast through the subgroup, K in chunks (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: linear layer (matrix product plus bias) in GPT-2's Conv1D layout, made for CPU adapters
//     (lavapipe), where 8 adjacent invocations are one AVX vector and a load whose address
//     differs between them is a loop over the lanes: loads, not multiply-adds, bound the
//     kernel. Each thread keeps 32 accumulators (16 rows x 2 columns), so each weight it
//     loads serves 16 rows; x is read 8 values at a time, one per lane, and handed to every
//     lane by subgroupShuffle, a register shuffle instead of a load. With fewer than 8 lanes
//     per subgroup the plain loop does all the work.
//
//     A thread walks the workgroup's four blocks of 16 rows over one chunk of K before the
//     next chunk, keeping the sums between chunks in y, so the chunk's weight lines, read
//     again for every block, are still in the CPU's cache. Streamed whole, a column of w is
//     K lines one row stride apart; where that stride is a multiple of 4 KiB (c_fc's 3072
//     columns) or K is 3072 (mlp.c_proj) they fall into fewer L2 sets than hold them, and
//     every block read them from L3 again. Measured on lavapipe at 64 rows (GFLOP/s, one
//     run): c_attn 17.2, c_proj 17.1, c_fc 14.5, mlp.c_proj 14.8, against 14.7, 15.4, 9.7
//     and 9.5 for 12 rows x 2 columns in blocks spread over workgroups (72 rows computed
//     for 64) and 13.4 / 11.2 for 16 rows x 1 column.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Tune: CHUNK = 256, 384, 768
// Dispatch: (ceil(n / 128), ceil(rows / (16 * BLOCKS)), 1)
//           workgroup 64: 8 groups of 8 lanes, each group 16 adjacent columns (a lane owns
//           columns c and c + 8) of the workgroup's BLOCKS blocks of 16 rows.
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

// Steps of K per chunk (a multiple of 8): the tile parameter `glassbox tune` sweeps.
const CHUNK: u32 = 384u;
// Blocks of 16 rows a workgroup walks per chunk: a 64-token pass in one workgroup.
const BLOCKS: u32 = 4u;

/// The sum so far of row `row`, column `col`: none before the first chunk, else what the
/// chunk before left in y (zero past the end).
fn partial(row: u32, col: u32, chunk: u32) -> f32 {
    if (chunk == 0u || row >= p.rows || col >= p.n) {
        return 0.0;
    }
    return y[row * p.n + col];
}

/// Stores the sum of row `row`, column `col`, with the bias once K is `done`, skipping what
/// lies past the end.
fn store(row: u32, col: u32, value: f32, done: bool) {
    if (row < p.rows && col < p.n) {
        y[row * p.n + col] = value + select(0.0, b[col], done);
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return: every lane takes part in the shuffles. Rows and columns past the end
    // are clamped onto the last valid one, computed and never stored.
    let col = wg.x * 128u + (lid.x / 8u) * 16u + lid.x % 8u;
    let c0 = min(col, p.n - 1u);
    let c1 = min(col + 8u, p.n - 1u);
    let last = p.rows - 1u;
    let l = lane % 8u;
    // Lanes 8g..8g+7 of a wider subgroup shuffle among themselves.
    let group = lane - l;
    // The steps of K done with shuffles; the plain loop does the rest.
    let shuffled = select(0u, p.k - p.k % 8u, lanes >= 8u);
    // Blocks past the last row are skipped: a short prompt runs one block, not four.
    let first = wg.y * BLOCKS * 16u;
    let blocks = min(BLOCKS, (p.rows - first + 15u) / 16u);
    for (var chunk = 0u; chunk < p.k; chunk = chunk + CHUNK) {
        let end = min(chunk + CHUNK, p.k);
        let done = end == p.k;
        for (var block = 0u; block < blocks; block = block + 1u) {
            let row0 = first + block * 16u;
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
            let x12 = min(row0 + 12u, last) * p.k;
            let x13 = min(row0 + 13u, last) * p.k;
            let x14 = min(row0 + 14u, last) * p.k;
            let x15 = min(row0 + 15u, last) * p.k;
            var a0_0 = partial(row0 + 0u, col, chunk); var a0_1 = partial(row0 + 0u, col + 8u, chunk);
            var a1_0 = partial(row0 + 1u, col, chunk); var a1_1 = partial(row0 + 1u, col + 8u, chunk);
            var a2_0 = partial(row0 + 2u, col, chunk); var a2_1 = partial(row0 + 2u, col + 8u, chunk);
            var a3_0 = partial(row0 + 3u, col, chunk); var a3_1 = partial(row0 + 3u, col + 8u, chunk);
            var a4_0 = partial(row0 + 4u, col, chunk); var a4_1 = partial(row0 + 4u, col + 8u, chunk);
            var a5_0 = partial(row0 + 5u, col, chunk); var a5_1 = partial(row0 + 5u, col + 8u, chunk);
            var a6_0 = partial(row0 + 6u, col, chunk); var a6_1 = partial(row0 + 6u, col + 8u, chunk);
            var a7_0 = partial(row0 + 7u, col, chunk); var a7_1 = partial(row0 + 7u, col + 8u, chunk);
            var a8_0 = partial(row0 + 8u, col, chunk); var a8_1 = partial(row0 + 8u, col + 8u, chunk);
            var a9_0 = partial(row0 + 9u, col, chunk); var a9_1 = partial(row0 + 9u, col + 8u, chunk);
            var a10_0 = partial(row0 + 10u, col, chunk); var a10_1 = partial(row0 + 10u, col + 8u, chunk);
            var a11_0 = partial(row0 + 11u, col, chunk); var a11_1 = partial(row0 + 11u, col + 8u, chunk);
            var a12_0 = partial(row0 + 12u, col, chunk); var a12_1 = partial(row0 + 12u, col + 8u, chunk);
            var a13_0 = partial(row0 + 13u, col, chunk); var a13_1 = partial(row0 + 13u, col + 8u, chunk);
            var a14_0 = partial(row0 + 14u, col, chunk); var a14_1 = partial(row0 + 14u, col + 8u, chunk);
            var a15_0 = partial(row0 + 15u, col, chunk); var a15_1 = partial(row0 + 15u, col + 8u, chunk);
            var k0 = chunk;
            for (; k0 + 8u <= min(end, shuffled); k0 = k0 + 8u) {
                // Lane l holds x[r, k0 + l] of the 16 rows.
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
                let v12 = x[x12 + k0 + l];
                let v13 = x[x13 + k0 + l];
                let v14 = x[x14 + k0 + l];
                let v15 = x[x15 + k0 + l];
                for (var j = 0u; j < 8u; j = j + 1u) {
                    let wrow = (k0 + j) * p.n;
                    let m0 = w[wrow + c0];
                    let m1 = w[wrow + c1];
                    let s0 = subgroupShuffle(v0, group + j);
                    a0_0 = fma(s0, m0, a0_0);
                    a0_1 = fma(s0, m1, a0_1);
                    let s1 = subgroupShuffle(v1, group + j);
                    a1_0 = fma(s1, m0, a1_0);
                    a1_1 = fma(s1, m1, a1_1);
                    let s2 = subgroupShuffle(v2, group + j);
                    a2_0 = fma(s2, m0, a2_0);
                    a2_1 = fma(s2, m1, a2_1);
                    let s3 = subgroupShuffle(v3, group + j);
                    a3_0 = fma(s3, m0, a3_0);
                    a3_1 = fma(s3, m1, a3_1);
                    let s4 = subgroupShuffle(v4, group + j);
                    a4_0 = fma(s4, m0, a4_0);
                    a4_1 = fma(s4, m1, a4_1);
                    let s5 = subgroupShuffle(v5, group + j);
                    a5_0 = fma(s5, m0, a5_0);
                    a5_1 = fma(s5, m1, a5_1);
                    let s6 = subgroupShuffle(v6, group + j);
                    a6_0 = fma(s6, m0, a6_0);
                    a6_1 = fma(s6, m1, a6_1);
                    let s7 = subgroupShuffle(v7, group + j);
                    a7_0 = fma(s7, m0, a7_0);
                    a7_1 = fma(s7, m1, a7_1);
                    let s8 = subgroupShuffle(v8, group + j);
                    a8_0 = fma(s8, m0, a8_0);
                    a8_1 = fma(s8, m1, a8_1);
                    let s9 = subgroupShuffle(v9, group + j);
                    a9_0 = fma(s9, m0, a9_0);
                    a9_1 = fma(s9, m1, a9_1);
                    let s10 = subgroupShuffle(v10, group + j);
                    a10_0 = fma(s10, m0, a10_0);
                    a10_1 = fma(s10, m1, a10_1);
                    let s11 = subgroupShuffle(v11, group + j);
                    a11_0 = fma(s11, m0, a11_0);
                    a11_1 = fma(s11, m1, a11_1);
                    let s12 = subgroupShuffle(v12, group + j);
                    a12_0 = fma(s12, m0, a12_0);
                    a12_1 = fma(s12, m1, a12_1);
                    let s13 = subgroupShuffle(v13, group + j);
                    a13_0 = fma(s13, m0, a13_0);
                    a13_1 = fma(s13, m1, a13_1);
                    let s14 = subgroupShuffle(v14, group + j);
                    a14_0 = fma(s14, m0, a14_0);
                    a14_1 = fma(s14, m1, a14_1);
                    let s15 = subgroupShuffle(v15, group + j);
                    a15_0 = fma(s15, m0, a15_0);
                    a15_1 = fma(s15, m1, a15_1);
                }
            }
            // The last K % 8 steps (all of them with fewer than 8 lanes), x read directly.
            for (; k0 < end; k0 = k0 + 1u) {
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
                a12_0 = fma(x[x12 + k0], m0, a12_0);
                a12_1 = fma(x[x12 + k0], m1, a12_1);
                a13_0 = fma(x[x13 + k0], m0, a13_0);
                a13_1 = fma(x[x13 + k0], m1, a13_1);
                a14_0 = fma(x[x14 + k0], m0, a14_0);
                a14_1 = fma(x[x14 + k0], m1, a14_1);
                a15_0 = fma(x[x15 + k0], m0, a15_0);
                a15_1 = fma(x[x15 + k0], m1, a15_1);
            }
            store(row0 + 0u, col, a0_0, done);
            store(row0 + 0u, col + 8u, a0_1, done);
            store(row0 + 1u, col, a1_0, done);
            store(row0 + 1u, col + 8u, a1_1, done);
            store(row0 + 2u, col, a2_0, done);
            store(row0 + 2u, col + 8u, a2_1, done);
            store(row0 + 3u, col, a3_0, done);
            store(row0 + 3u, col + 8u, a3_1, done);
            store(row0 + 4u, col, a4_0, done);
            store(row0 + 4u, col + 8u, a4_1, done);
            store(row0 + 5u, col, a5_0, done);
            store(row0 + 5u, col + 8u, a5_1, done);
            store(row0 + 6u, col, a6_0, done);
            store(row0 + 6u, col + 8u, a6_1, done);
            store(row0 + 7u, col, a7_0, done);
            store(row0 + 7u, col + 8u, a7_1, done);
            store(row0 + 8u, col, a8_0, done);
            store(row0 + 8u, col + 8u, a8_1, done);
            store(row0 + 9u, col, a9_0, done);
            store(row0 + 9u, col + 8u, a9_1, done);
            store(row0 + 10u, col, a10_0, done);
            store(row0 + 10u, col + 8u, a10_1, done);
            store(row0 + 11u, col, a11_0, done);
            store(row0 + 11u, col + 8u, a11_1, done);
            store(row0 + 12u, col, a12_0, done);
            store(row0 + 12u, col + 8u, a12_1, done);
            store(row0 + 13u, col, a13_0, done);
            store(row0 + 13u, col + 8u, a13_1, done);
            store(row0 + 14u, col, a14_0, done);
            store(row0 + 14u, col + 8u, a14_1, done);
            store(row0 + 15u, col, a15_0, done);
            store(row0 + 15u, col + 8u, a15_1, done);
        }
    }
}
