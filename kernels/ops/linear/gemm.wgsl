// Kernel: linear/gemm
// About: 128-column blocks, 8 columns x 4 * ROW_QUADS rows per thread, slices double-buffered (real GPUs)
// Include: shared/gemm.wgsl
// Tune: BLOCK_ROWS = 64, 128
// Op: linear layer, the register-tiled matmul for GPUs: a 16 x 16 workgroup computes a block
//     of BLOCK_ROWS rows by 128 columns of y, each thread 4 * ROW_QUADS x 8 of them in
//     registers, so each value read from workgroup memory serves 8 sums. The shared dimension
//     goes through workgroup memory in slices of 8 channels, two buffers deep: the next slice's
//     loads are issued before the current one is multiplied. Blocks wholly inside y, with K a
//     multiple of 8, load without bounds checks; edge blocks check every load. On lavapipe a
//     barrier suspends the whole workgroup: `broadcast` is faster there.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Dispatch: (ceil(n / 128), ceil(rows / BLOCK_ROWS), 1); workgroup 16 x 16.
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

const BLOCK_ROWS: u32 = 128u;
const ROW_QUADS: u32 = BLOCK_ROWS / 64u;

// Columns 4 * (tid % 32) .. + 3 of slice channel tid / 32: one 512-byte line of w per warp.
fn load_w_quad(interior: bool, tid: u32, col0: u32, k0: u32) -> vec4<f32> {
    let kw = k0 + tid / 32u;
    let c = col0 + (tid % 32u) * 4u;
    let at = kw * p.n + c;
    if (interior) {
        return vec4<f32>(w[at], w[at + 1u], w[at + 2u], w[at + 3u]);
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j = j + 1u) {
        if (kw < p.k && c + j < p.n) {
            v[j] = w[at + j];
        }
    }
    return v;
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let row0 = wg.y * gemm_rows();
    let col0 = wg.x * GEMM_COLS;
    let interior = row0 + gemm_rows() <= p.rows && col0 + GEMM_COLS <= p.n
        && p.k % GEMM_DEPTH == 0u;
    let loads_x = tid < 2u * gemm_rows();
    let slices = (p.k + GEMM_DEPTH - 1u) / GEMM_DEPTH;
    var acc: array<vec4<f32>, 16>;
    var xq = vec4<f32>(0.0);
    if (loads_x) {
        xq = load_x_quad(interior, tid, 0u, row0, p.rows, 0u, p.k);
        stage_a_rows(0u, tid, xq);
    }
    var wq = load_w_quad(interior, tid, col0, 0u);
    b_tile[tid] = wq;
    workgroupBarrier();
    for (var s = 0u; s < slices; s = s + 1u) {
        let buf = s % 2u;
        let next = (s + 1u) * GEMM_DEPTH;
        let more = s + 1u < slices;
        if (more) {
            if (loads_x) {
                xq = load_x_quad(interior, tid, 0u, row0, p.rows, next, p.k);
            }
            wq = load_w_quad(interior, tid, col0, next);
        }
        multiply_slice(buf, lid, &acc);
        if (more) {
            if (loads_x) {
                stage_a_rows(1u - buf, tid, xq);
            }
            b_tile[(1u - buf) * SLICE_QUADS + tid] = wq;
        }
        workgroupBarrier();
    }
    for (var slot = 0u; slot < 8u * ROW_QUADS; slot = slot + 1u) {
        let r = row0 + gemm_row(lid, slot);
        for (var j = 0u; j < 4u; j = j + 1u) {
            let c = col0 + gemm_col(lid, slot, j);
            if (r < p.rows && c < p.n) {
                y[r * p.n + c] = acc[slot][j] + b[c];
            }
        }
    }
}
