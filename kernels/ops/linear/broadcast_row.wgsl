// Kernel: linear/broadcast_row
// About: one row (a decode step): 8 columns per lane, x broadcast through the subgroup (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: linear layer (matrix product plus bias) in GPT-2's Conv1D layout, for one row of x (the
//     decode step) on CPU adapters (lavapipe): a lane owns 8 columns 8 apart, so each group of
//     8 lanes reads 64 adjacent weights of a row of w at a time, and x arrives 8 values per
//     load, handed to every lane by subgroupShuffle rather than loaded by each. Rows past the
//     first are computed the same way, one after another (correct for any row count, made for
//     one). With fewer than 8 lanes per subgroup the plain loop at the end does all the work.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Tune: GROUPS = 1, 2, 4, 8
// Dispatch: (ceil(n / (64 * GROUPS)), rows, 1)
//           workgroup 8 x GROUPS: GROUPS groups of 8 lanes, each group 64 adjacent columns of
//           one row. Fewer groups give a narrow layer (768 columns) more workgroups to spread
//           over the CPU's threads; more give each workgroup longer runs of w.
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

// Groups of 8 lanes per workgroup: the tile parameter `glassbox tune` sweeps. One group is
// what tune kept for three of GPT-2 small's four one-row shapes on lavapipe (c_proj 0.48 ms
// against 0.68 with four groups: 12 workgroups for two CPU threads rather than 3).
const GROUPS: u32 = 1u;
const WIDTH: u32 = 8u * GROUPS;

/// Loads w[k, c0 + 8j] for j = 0..7 (columns past the end clamped onto the last).
fn weights(k: u32, c0: u32) -> array<f32, 8> {
    let row = k * p.n;
    let last = p.n - 1u;
    return array<f32, 8>(
        w[row + min(c0, last)],
        w[row + min(c0 + 8u, last)],
        w[row + min(c0 + 16u, last)],
        w[row + min(c0 + 24u, last)],
        w[row + min(c0 + 32u, last)],
        w[row + min(c0 + 40u, last)],
        w[row + min(c0 + 48u, last)],
        w[row + min(c0 + 56u, last)],
    );
}

@compute @workgroup_size(WIDTH)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return: every lane takes part in the shuffles.
    let c0 = wg.x * 64u * GROUPS + (lid.x / 8u) * 64u + lid.x % 8u;
    let xrow = wg.y * p.k;
    var acc = array<f32, 8>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    var k0 = 0u;
    if (lanes >= 8u) {
        let l = lane % 8u;
        for (; k0 + 8u <= p.k; k0 = k0 + 8u) {
            // Lane l holds x[r, k0 + l].
            let v = x[xrow + k0 + l];
            for (var j = 0u; j < 8u; j = j + 1u) {
                let s = subgroupShuffle(v, j);
                let m = weights(k0 + j, c0);
                for (var i = 0u; i < 8u; i = i + 1u) {
                    acc[i] = fma(s, m[i], acc[i]);
                }
            }
        }
    }
    // The last K % 8 steps (all of them with fewer than 8 lanes), x read directly.
    for (; k0 < p.k; k0 = k0 + 1u) {
        let s = x[xrow + k0];
        let m = weights(k0, c0);
        for (var i = 0u; i < 8u; i = i + 1u) {
            acc[i] = fma(s, m[i], acc[i]);
        }
    }
    for (var i = 0u; i < 8u; i = i + 1u) {
        let col = c0 + 8u * i;
        if (col < p.n) {
            y[wg.y * p.n + col] = acc[i] + b[col];
        }
    }
}
