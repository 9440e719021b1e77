// Kernel: linear/row_stream
// About: one row (a decode step): each group of 8 lanes streams 16 rows of w side by side across a wide block of columns, the sums in workgroup memory (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: linear layer (matrix product plus bias) in GPT-2's Conv1D layout, for one row of x (the
//     decode step) on CPU adapters (lavapipe), where the step streams every weight from memory
//     once and what counts is how w is walked. A workgroup is one group of 8 lanes owning
//     WIDTH adjacent columns; it takes 16 rows of w at a time and walks all its columns along
//     them, so memory sees 16 streams each WIDTH x 4 bytes long, where broadcast_row's groups
//     read 256 bytes of a row and jump a row stride (which the CPU's prefetchers do not
//     follow). The sums of WIDTH columns do not fit in registers: each lane keeps its own in
//     workgroup memory (plain memory on lavapipe, in the CPU's L1), as f32 whatever the
//     storage precision, read and written once per 16 rows; no lane reads another's, so no
//     barrier. x arrives 8 values per load, handed to every lane by subgroupShuffle. In a
//     GPT-2-small decode step on lavapipe (steps alternating) the linear ops took 78 ms with
//     16 rows at a time, 87 to 94 with 8, 79 with 32, and 137 to 156 with broadcast_row.
//     Rows of x past the first are computed one per workgroup row (correct for any count, made
//     for one).
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Tune: WIDTH = 128, 256, 512
// Dispatch: (ceil(n / WIDTH), rows, 1)
//           workgroup 8: one group of 8 lanes, WIDTH adjacent columns of one row of y, lane l
//           the columns l, l + 8, l + 16, ...
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

// Columns per workgroup: the tile parameter `glassbox tune` sweeps. Wider blocks give longer
// runs of each row of w; narrower ones give a narrow layer more workgroups to spread over the
// CPU's threads.
const WIDTH: u32 = 512u;

var<workgroup> sums: array<f32, WIDTH>;

@compute @workgroup_size(8)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_size) lanes: u32,
) {
    let l = lid.x;
    let first = wg.x * WIDTH;
    let columns = min(WIDTH, p.n - min(first, p.n));
    let xrow = wg.y * p.k;
    for (var c = l; c < columns; c = c + 8u) {
        sums[c] = b[first + c];
    }
    // The steps of K done 16 rows at a time with shuffles; the plain loop does the rest (all of
    // them with fewer than 8 lanes per subgroup).
    let shuffled = select(0u, p.k - p.k % 16u, lanes >= 8u);
    var k0 = 0u;
    for (; k0 < shuffled; k0 = k0 + 16u) {
        // Lanes l hold x[r, k0 + l] and x[r, k0 + 8 + l].
        let v = x[xrow + k0 + l];
        let u = x[xrow + k0 + 8u + l];
        let s0 = subgroupShuffle(v, 0u);
        let s1 = subgroupShuffle(v, 1u);
        let s2 = subgroupShuffle(v, 2u);
        let s3 = subgroupShuffle(v, 3u);
        let s4 = subgroupShuffle(v, 4u);
        let s5 = subgroupShuffle(v, 5u);
        let s6 = subgroupShuffle(v, 6u);
        let s7 = subgroupShuffle(v, 7u);
        let s8 = subgroupShuffle(u, 0u);
        let s9 = subgroupShuffle(u, 1u);
        let s10 = subgroupShuffle(u, 2u);
        let s11 = subgroupShuffle(u, 3u);
        let s12 = subgroupShuffle(u, 4u);
        let s13 = subgroupShuffle(u, 5u);
        let s14 = subgroupShuffle(u, 6u);
        let s15 = subgroupShuffle(u, 7u);
        let w0 = k0 * p.n + first;
        for (var c = l; c < columns; c = c + 8u) {
            var acc = sums[c];
            acc = fma(s0, w[w0 + 0u * p.n + c], acc);
            acc = fma(s1, w[w0 + 1u * p.n + c], acc);
            acc = fma(s2, w[w0 + 2u * p.n + c], acc);
            acc = fma(s3, w[w0 + 3u * p.n + c], acc);
            acc = fma(s4, w[w0 + 4u * p.n + c], acc);
            acc = fma(s5, w[w0 + 5u * p.n + c], acc);
            acc = fma(s6, w[w0 + 6u * p.n + c], acc);
            acc = fma(s7, w[w0 + 7u * p.n + c], acc);
            acc = fma(s8, w[w0 + 8u * p.n + c], acc);
            acc = fma(s9, w[w0 + 9u * p.n + c], acc);
            acc = fma(s10, w[w0 + 10u * p.n + c], acc);
            acc = fma(s11, w[w0 + 11u * p.n + c], acc);
            acc = fma(s12, w[w0 + 12u * p.n + c], acc);
            acc = fma(s13, w[w0 + 13u * p.n + c], acc);
            acc = fma(s14, w[w0 + 14u * p.n + c], acc);
            acc = fma(s15, w[w0 + 15u * p.n + c], acc);
            sums[c] = acc;
        }
    }
    for (; k0 < p.k; k0 = k0 + 1u) {
        let s = x[xrow + k0];
        let row = k0 * p.n + first;
        for (var c = l; c < columns; c = c + 8u) {
            sums[c] = fma(s, w[row + c], sums[c]);
        }
    }
    for (var c = l; c < columns; c = c + 8u) {
        y[wg.y * p.n + first + c] = sums[c];
    }
}
