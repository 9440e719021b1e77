// Kernel: linear/broadcast
// About: 32 rows x 4 columns per thread, x broadcast through the subgroup, K in chunks (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: linear layer (matrix product plus bias) in GPT-2's Conv1D layout, made for CPU adapters
//     (lavapipe), where 8 adjacent invocations are one AVX vector and a storage load whose
//     address differs between them, or lies in a loop, is a loop over the lanes with a branch
//     per lane: those loads, not multiply-adds, bound the kernel. Each thread keeps 128
//     accumulators (32 rows x 4 columns, a vec4 per row: columns c, c + 8, c + 16 and c + 24),
//     so each weight it loads serves 32 rows and each x value 4 columns; x is read 8 values at
//     a time, one per lane, and handed to every lane by subgroupShuffle, a register shuffle
//     instead of a load. The accumulators spill from the 32 vector registers, but a spill is a
//     store and a load the CPU's first-level cache serves, far cheaper than a per-lane load.
//     With fewer than 8 lanes per subgroup the plain loop does all the work.
//
//     A thread walks the workgroup's two blocks of 32 rows over one chunk of K before the next
//     chunk, keeping the sums between chunks in y, so the chunk's weight lines, read again for
//     the second block, are still in the CPU's cache. A workgroup is one group of 8 lanes over
//     32 columns, so that every shape splits into many workgroups for lavapipe's threads:
//     with 128 columns per workgroup SmolLM2's 576 were four and a half, and one thread idled
//     for part of the op (q_proj 2.43 against 3.0 ms, the attention's output 2.26 against
//     2.97, GPT-2's shapes the same within 3%). Measured on lavapipe at 64 rows (ms, one run
//     alternating the kernels): c_attn 11.0-11.2, attn.c_proj 3.8, c_fc 16.2-16.5, mlp.c_proj
//     16.5-16.8 in workgroups of 32 over 128 columns, against 11.7-11.9, 4.0, 18.0-18.7 and
//     18.1 for 32 rows x 3 columns in workgroups of 64 over 192, which beat the 16 x 2 of the
//     round before by 5 to 10%; in workgroups of 64 over 256 columns attn.c_proj and
//     mlp.c_proj, three workgroups for two threads, took 4.9-5.2 and 21.6-22.2 ms. The
//     accumulators are written out one by one: kept in an array indexed by loops they are not
//     unrolled, and the kernel runs 8 times slower.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Tune: CHUNK = 256, 384, 768
// Dispatch: (ceil(n / 32), ceil(rows / (32 * BLOCKS)), 1)
//           workgroup 8: one group of 8 lanes, 32 adjacent columns (a lane owns columns c,
//           c + 8, c + 16 and c + 24) of the workgroup's BLOCKS blocks of 32 rows.
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
// Blocks of 32 rows a workgroup walks per chunk: a 64-token pass in one workgroup.
const BLOCKS: u32 = 2u;

/// The sum so far of row `row`, column `col`: none before the first chunk, else what the
/// chunk before left in y (zero past the end).
fn partial1(row: u32, col: u32, chunk: u32) -> f32 {
    if (chunk == 0u || row >= p.rows || col >= p.n) {
        return 0.0;
    }
    return y[row * p.n + col];
}

/// The sums so far of row `row`, columns col, col + 8, col + 16 and col + 24.
fn partial(row: u32, col: u32, chunk: u32) -> vec4<f32> {
    return vec4<f32>(
        partial1(row, col, chunk),
        partial1(row, col + 8u, chunk),
        partial1(row, col + 16u, chunk),
        partial1(row, col + 24u, chunk),
    );
}

/// Stores the sum of row `row`, column `col`, with the bias once K is `done`, skipping what
/// lies past the end.
fn store1(row: u32, col: u32, value: f32, done: bool) {
    if (row < p.rows && col < p.n) {
        y[row * p.n + col] = value + select(0.0, b[col], done);
    }
}

/// Stores row `row`'s sums of columns col, col + 8, col + 16 and col + 24.
fn store(row: u32, col: u32, sums: vec4<f32>, done: bool) {
    store1(row, col, sums.x, done);
    store1(row, col + 8u, sums.y, done);
    store1(row, col + 16u, sums.z, done);
    store1(row, col + 24u, sums.w, done);
}

@compute @workgroup_size(8)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return: every lane takes part in the shuffles. Rows and columns past the end
    // are clamped onto the last valid one, computed and never stored.
    let col = wg.x * 32u + lid.x;
    let c0 = min(col, p.n - 1u);
    let c1 = min(col + 8u, p.n - 1u);
    let c2 = min(col + 16u, p.n - 1u);
    let c3 = min(col + 24u, p.n - 1u);
    let last = p.rows - 1u;
    let l = lane % 8u;
    // Lanes 8g..8g+7 of a wider subgroup shuffle among themselves.
    let group = lane - l;
    // The steps of K done with shuffles; the plain loop does the rest.
    let shuffled = select(0u, p.k - p.k % 8u, lanes >= 8u);
    // Blocks past the last row are skipped: a short prompt runs one block, not two.
    let first = wg.y * BLOCKS * 32u;
    let blocks = min(BLOCKS, (p.rows - first + 31u) / 32u);
    for (var chunk = 0u; chunk < p.k; chunk = chunk + CHUNK) {
        let end = min(chunk + CHUNK, p.k);
        let done = end == p.k;
        for (var block = 0u; block < blocks; block = block + 1u) {
            let row0 = first + block * 32u;
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
            let x16 = min(row0 + 16u, last) * p.k;
            let x17 = min(row0 + 17u, last) * p.k;
            let x18 = min(row0 + 18u, last) * p.k;
            let x19 = min(row0 + 19u, last) * p.k;
            let x20 = min(row0 + 20u, last) * p.k;
            let x21 = min(row0 + 21u, last) * p.k;
            let x22 = min(row0 + 22u, last) * p.k;
            let x23 = min(row0 + 23u, last) * p.k;
            let x24 = min(row0 + 24u, last) * p.k;
            let x25 = min(row0 + 25u, last) * p.k;
            let x26 = min(row0 + 26u, last) * p.k;
            let x27 = min(row0 + 27u, last) * p.k;
            let x28 = min(row0 + 28u, last) * p.k;
            let x29 = min(row0 + 29u, last) * p.k;
            let x30 = min(row0 + 30u, last) * p.k;
            let x31 = min(row0 + 31u, last) * p.k;
            var a0 = partial(row0 + 0u, col, chunk);
            var a1 = partial(row0 + 1u, col, chunk);
            var a2 = partial(row0 + 2u, col, chunk);
            var a3 = partial(row0 + 3u, col, chunk);
            var a4 = partial(row0 + 4u, col, chunk);
            var a5 = partial(row0 + 5u, col, chunk);
            var a6 = partial(row0 + 6u, col, chunk);
            var a7 = partial(row0 + 7u, col, chunk);
            var a8 = partial(row0 + 8u, col, chunk);
            var a9 = partial(row0 + 9u, col, chunk);
            var a10 = partial(row0 + 10u, col, chunk);
            var a11 = partial(row0 + 11u, col, chunk);
            var a12 = partial(row0 + 12u, col, chunk);
            var a13 = partial(row0 + 13u, col, chunk);
            var a14 = partial(row0 + 14u, col, chunk);
            var a15 = partial(row0 + 15u, col, chunk);
            var a16 = partial(row0 + 16u, col, chunk);
            var a17 = partial(row0 + 17u, col, chunk);
            var a18 = partial(row0 + 18u, col, chunk);
            var a19 = partial(row0 + 19u, col, chunk);
            var a20 = partial(row0 + 20u, col, chunk);
            var a21 = partial(row0 + 21u, col, chunk);
            var a22 = partial(row0 + 22u, col, chunk);
            var a23 = partial(row0 + 23u, col, chunk);
            var a24 = partial(row0 + 24u, col, chunk);
            var a25 = partial(row0 + 25u, col, chunk);
            var a26 = partial(row0 + 26u, col, chunk);
            var a27 = partial(row0 + 27u, col, chunk);
            var a28 = partial(row0 + 28u, col, chunk);
            var a29 = partial(row0 + 29u, col, chunk);
            var a30 = partial(row0 + 30u, col, chunk);
            var a31 = partial(row0 + 31u, col, chunk);
            var k0 = chunk;
            for (; k0 + 8u <= min(end, shuffled); k0 = k0 + 8u) {
                // Lane l holds x[r, k0 + l] of the 32 rows.
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
                let v16 = x[x16 + k0 + l];
                let v17 = x[x17 + k0 + l];
                let v18 = x[x18 + k0 + l];
                let v19 = x[x19 + k0 + l];
                let v20 = x[x20 + k0 + l];
                let v21 = x[x21 + k0 + l];
                let v22 = x[x22 + k0 + l];
                let v23 = x[x23 + k0 + l];
                let v24 = x[x24 + k0 + l];
                let v25 = x[x25 + k0 + l];
                let v26 = x[x26 + k0 + l];
                let v27 = x[x27 + k0 + l];
                let v28 = x[x28 + k0 + l];
                let v29 = x[x29 + k0 + l];
                let v30 = x[x30 + k0 + l];
                let v31 = x[x31 + k0 + l];
                for (var j = 0u; j < 8u; j = j + 1u) {
                    let wrow = (k0 + j) * p.n;
                    let m = vec4<f32>(w[wrow + c0], w[wrow + c1], w[wrow + c2], w[wrow + c3]);
                    a0 = fma(vec4<f32>(subgroupShuffle(v0, group + j)), m, a0);
                    a1 = fma(vec4<f32>(subgroupShuffle(v1, group + j)), m, a1);
                    a2 = fma(vec4<f32>(subgroupShuffle(v2, group + j)), m, a2);
                    a3 = fma(vec4<f32>(subgroupShuffle(v3, group + j)), m, a3);
                    a4 = fma(vec4<f32>(subgroupShuffle(v4, group + j)), m, a4);
                    a5 = fma(vec4<f32>(subgroupShuffle(v5, group + j)), m, a5);
                    a6 = fma(vec4<f32>(subgroupShuffle(v6, group + j)), m, a6);
                    a7 = fma(vec4<f32>(subgroupShuffle(v7, group + j)), m, a7);
                    a8 = fma(vec4<f32>(subgroupShuffle(v8, group + j)), m, a8);
                    a9 = fma(vec4<f32>(subgroupShuffle(v9, group + j)), m, a9);
                    a10 = fma(vec4<f32>(subgroupShuffle(v10, group + j)), m, a10);
                    a11 = fma(vec4<f32>(subgroupShuffle(v11, group + j)), m, a11);
                    a12 = fma(vec4<f32>(subgroupShuffle(v12, group + j)), m, a12);
                    a13 = fma(vec4<f32>(subgroupShuffle(v13, group + j)), m, a13);
                    a14 = fma(vec4<f32>(subgroupShuffle(v14, group + j)), m, a14);
                    a15 = fma(vec4<f32>(subgroupShuffle(v15, group + j)), m, a15);
                    a16 = fma(vec4<f32>(subgroupShuffle(v16, group + j)), m, a16);
                    a17 = fma(vec4<f32>(subgroupShuffle(v17, group + j)), m, a17);
                    a18 = fma(vec4<f32>(subgroupShuffle(v18, group + j)), m, a18);
                    a19 = fma(vec4<f32>(subgroupShuffle(v19, group + j)), m, a19);
                    a20 = fma(vec4<f32>(subgroupShuffle(v20, group + j)), m, a20);
                    a21 = fma(vec4<f32>(subgroupShuffle(v21, group + j)), m, a21);
                    a22 = fma(vec4<f32>(subgroupShuffle(v22, group + j)), m, a22);
                    a23 = fma(vec4<f32>(subgroupShuffle(v23, group + j)), m, a23);
                    a24 = fma(vec4<f32>(subgroupShuffle(v24, group + j)), m, a24);
                    a25 = fma(vec4<f32>(subgroupShuffle(v25, group + j)), m, a25);
                    a26 = fma(vec4<f32>(subgroupShuffle(v26, group + j)), m, a26);
                    a27 = fma(vec4<f32>(subgroupShuffle(v27, group + j)), m, a27);
                    a28 = fma(vec4<f32>(subgroupShuffle(v28, group + j)), m, a28);
                    a29 = fma(vec4<f32>(subgroupShuffle(v29, group + j)), m, a29);
                    a30 = fma(vec4<f32>(subgroupShuffle(v30, group + j)), m, a30);
                    a31 = fma(vec4<f32>(subgroupShuffle(v31, group + j)), m, a31);
                }
            }
            // The last K % 8 steps (all of them with fewer than 8 lanes), x read directly.
            for (; k0 < end; k0 = k0 + 1u) {
                let m = vec4<f32>(w[k0 * p.n + c0], w[k0 * p.n + c1], w[k0 * p.n + c2], w[k0 * p.n + c3]);
                a0 = fma(vec4<f32>(x[x0 + k0]), m, a0);
                a1 = fma(vec4<f32>(x[x1 + k0]), m, a1);
                a2 = fma(vec4<f32>(x[x2 + k0]), m, a2);
                a3 = fma(vec4<f32>(x[x3 + k0]), m, a3);
                a4 = fma(vec4<f32>(x[x4 + k0]), m, a4);
                a5 = fma(vec4<f32>(x[x5 + k0]), m, a5);
                a6 = fma(vec4<f32>(x[x6 + k0]), m, a6);
                a7 = fma(vec4<f32>(x[x7 + k0]), m, a7);
                a8 = fma(vec4<f32>(x[x8 + k0]), m, a8);
                a9 = fma(vec4<f32>(x[x9 + k0]), m, a9);
                a10 = fma(vec4<f32>(x[x10 + k0]), m, a10);
                a11 = fma(vec4<f32>(x[x11 + k0]), m, a11);
                a12 = fma(vec4<f32>(x[x12 + k0]), m, a12);
                a13 = fma(vec4<f32>(x[x13 + k0]), m, a13);
                a14 = fma(vec4<f32>(x[x14 + k0]), m, a14);
                a15 = fma(vec4<f32>(x[x15 + k0]), m, a15);
                a16 = fma(vec4<f32>(x[x16 + k0]), m, a16);
                a17 = fma(vec4<f32>(x[x17 + k0]), m, a17);
                a18 = fma(vec4<f32>(x[x18 + k0]), m, a18);
                a19 = fma(vec4<f32>(x[x19 + k0]), m, a19);
                a20 = fma(vec4<f32>(x[x20 + k0]), m, a20);
                a21 = fma(vec4<f32>(x[x21 + k0]), m, a21);
                a22 = fma(vec4<f32>(x[x22 + k0]), m, a22);
                a23 = fma(vec4<f32>(x[x23 + k0]), m, a23);
                a24 = fma(vec4<f32>(x[x24 + k0]), m, a24);
                a25 = fma(vec4<f32>(x[x25 + k0]), m, a25);
                a26 = fma(vec4<f32>(x[x26 + k0]), m, a26);
                a27 = fma(vec4<f32>(x[x27 + k0]), m, a27);
                a28 = fma(vec4<f32>(x[x28 + k0]), m, a28);
                a29 = fma(vec4<f32>(x[x29 + k0]), m, a29);
                a30 = fma(vec4<f32>(x[x30 + k0]), m, a30);
                a31 = fma(vec4<f32>(x[x31 + k0]), m, a31);
            }
            store(row0 + 0u, col, a0, done);
            store(row0 + 1u, col, a1, done);
            store(row0 + 2u, col, a2, done);
            store(row0 + 3u, col, a3, done);
            store(row0 + 4u, col, a4, done);
            store(row0 + 5u, col, a5, done);
            store(row0 + 6u, col, a6, done);
            store(row0 + 7u, col, a7, done);
            store(row0 + 8u, col, a8, done);
            store(row0 + 9u, col, a9, done);
            store(row0 + 10u, col, a10, done);
            store(row0 + 11u, col, a11, done);
            store(row0 + 12u, col, a12, done);
            store(row0 + 13u, col, a13, done);
            store(row0 + 14u, col, a14, done);
            store(row0 + 15u, col, a15, done);
            store(row0 + 16u, col, a16, done);
            store(row0 + 17u, col, a17, done);
            store(row0 + 18u, col, a18, done);
            store(row0 + 19u, col, a19, done);
            store(row0 + 20u, col, a20, done);
            store(row0 + 21u, col, a21, done);
            store(row0 + 22u, col, a22, done);
            store(row0 + 23u, col, a23, done);
            store(row0 + 24u, col, a24, done);
            store(row0 + 25u, col, a25, done);
            store(row0 + 26u, col, a26, done);
            store(row0 + 27u, col, a27, done);
            store(row0 + 28u, col, a28, done);
            store(row0 + 29u, col, a29, done);
            store(row0 + 30u, col, a30, done);
            store(row0 + 31u, col, a31, done);
        }
    }
}
