// Op: linear layer, the execution-trace variant of the blocked kernel: the same work, and each
//     workgroup, once all its threads are done, takes the next number from an atomic counter and
//     records it, so the picture can show which workgroup computed which 4 x 256 tile of the
//     output and in what order the GPU ran them.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N],
//           5 trace [1 + workgroups] u32: trace[0] the counter, trace[1 + wg.y * groups.x + wg.x]
//           the workgroup's finishing rank, from 1.
// Dispatch: (ceil(N / 256), ceil(rows / 4), 1); workgroup 64, each thread a 4 x 4 block.
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
@group(0) @binding(5) var<storage, read_write> trace: array<atomic<u32>>;

fn store_row(row: u32, col0: u32, acc: vec4<f32>) {
    if (row >= p.rows) {
        return;
    }
    for (var j = 0u; j < 4u; j = j + 1u) {
        let col = col0 + j;
        if (col < p.n) {
            y[row * p.n + col] = acc[j] + b[col];
        }
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let col0 = gid.x * 4u;
    let row0 = gid.y * 4u;
    // No early return: every thread must reach the barrier below.
    if (col0 < p.n && row0 < p.rows) {
        let last_col = p.n - 1u;
        let c0 = min(col0, last_col);
        let c1 = min(col0 + 1u, last_col);
        let c2 = min(col0 + 2u, last_col);
        let c3 = min(col0 + 3u, last_col);
        let last_row = p.rows - 1u;
        let x0 = min(row0, last_row) * p.k;
        let x1 = min(row0 + 1u, last_row) * p.k;
        let x2 = min(row0 + 2u, last_row) * p.k;
        let x3 = min(row0 + 3u, last_row) * p.k;
        var acc0 = vec4<f32>(0.0);
        var acc1 = vec4<f32>(0.0);
        var acc2 = vec4<f32>(0.0);
        var acc3 = vec4<f32>(0.0);
        for (var kk = 0u; kk < p.k; kk = kk + 1u) {
            let wrow = kk * p.n;
            let wv = vec4<f32>(w[wrow + c0], w[wrow + c1], w[wrow + c2], w[wrow + c3]);
            acc0 = fma(vec4<f32>(x[x0 + kk]), wv, acc0);
            acc1 = fma(vec4<f32>(x[x1 + kk]), wv, acc1);
            acc2 = fma(vec4<f32>(x[x2 + kk]), wv, acc2);
            acc3 = fma(vec4<f32>(x[x3 + kk]), wv, acc3);
        }
        store_row(row0, col0, acc0);
        store_row(row0 + 1u, col0, acc1);
        store_row(row0 + 2u, col0, acc2);
        store_row(row0 + 3u, col0, acc3);
    }
    workgroupBarrier();
    if (lid == 0u) {
        let rank = atomicAdd(&trace[0], 1u) + 1u;
        atomicStore(&trace[1u + wg.y * groups.x + wg.x], rank);
    }
}
