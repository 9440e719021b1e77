// Kernel: linear/tile64
// About: 64 x 64 block tiles in workgroup memory, 4 x 4 outputs per thread in registers (real GPUs)
// Include: shared/tile64.wgsl
// Op: linear layer, the register-tiled variant made for GPUs: a 16 x 16 workgroup computes a
//     64 x 64 block of y. For each slice of 16 channels it stages the block's 64 rows of x and
//     the slice's 16 rows of w (64 columns) in workgroup memory, each value loaded once by one
//     thread with neighbouring threads reading neighbouring addresses; every thread then keeps
//     4 x 4 outputs in registers, so each value read from workgroup memory serves 4 outputs and
//     each column quad of w arrives as one vec4. On lavapipe a barrier suspends and resumes the
//     whole workgroup and workgroup memory is plain memory: there `broadcast` is faster.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Dispatch: (ceil(n / 64), ceil(rows / 64), 1); workgroup 16 x 16.
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

@compute @workgroup_size(16, 16)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let row0 = wg.y * BLOCK;
    let col0 = wg.x * BLOCK;
    var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k0 = 0u; k0 < p.k; k0 = k0 + SLICE) {
        stage_x(tid, 0u, row0, p.rows, k0, p.k);
        // Slot tid holds channel tid / 16 and column quad tid % 16 of the slice; past the
        // matrix, zeros.
        let kw = k0 + tid / 16u;
        let c = col0 + (tid % 16u) * 4u;
        var wv = vec4<f32>(0.0);
        if (kw < p.k) {
            let at = kw * p.n + c;
            for (var j = 0u; j < 4u; j = j + 1u) {
                if (c + j < p.n) {
                    wv[j] = w[at + j];
                }
            }
        }
        w_tile[tid] = wv;
        workgroupBarrier();
        acc = multiply_slice(lid, acc);
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i = i + 1u) {
        let r = row0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j = j + 1u) {
            let c = col0 + lid.x * 4u + j;
            if (r < p.rows && c < p.n) {
                y[r * p.n + c] = acc[i][j] + b[c];
            }
        }
    }
}
