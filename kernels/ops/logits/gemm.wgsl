// Kernel: logits/gemm
// About: 128 vocabulary rows x BLOCK_ROWS tokens per workgroup, 8 x 4 * ROW_QUADS per thread, double-buffered (real GPUs)
// Include: shared/gemm.wgsl
// Tune: BLOCK_ROWS = 64, 128
// Op: logits, the register-tiled matmul for GPUs (linear/gemm's block product): a 16 x 16
//     workgroup computes BLOCK_ROWS tokens against 128 vocabulary rows, each thread
//     4 * ROW_QUADS x 8 logits in registers. wte is read along its channels, four neighbouring
//     channels a thread, and stored transposed in workgroup memory, as x is. Blocks wholly
//     inside the chunk, with C a multiple of 8, load without bounds checks.
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Dispatch: (ceil(vocab_rows / 128), ceil(t_rows / BLOCK_ROWS), 1); workgroup 16 x 16.
// Formula:  logits[t, v] = sum_c x[t, c] * wte[v, c]

struct Params {
    t_rows: u32,
    t_offset: u32,
    c: u32,
    vocab: u32,
    vocab_start: u32,
    vocab_rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read_write> logits: array<f32>;

const BLOCK_ROWS: u32 = 128u;
const ROW_QUADS: u32 = BLOCK_ROWS / 64u;

// Channels 4 * (tid % 2) .. + 3 of vocabulary row v0 + tid / 2, zeros past the chunk.
fn load_wte_quad(interior: bool, tid: u32, v0: u32, k0: u32) -> vec4<f32> {
    let v = v0 + tid / 2u;
    let kc = k0 + (tid % 2u) * 4u;
    let at = v * p.c + kc;
    if (interior) {
        return vec4<f32>(wte[at], wte[at + 1u], wte[at + 2u], wte[at + 3u]);
    }
    var q = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j = j + 1u) {
        if (v < p.vocab_rows && kc + j < p.c) {
            q[j] = wte[at + j];
        }
    }
    return q;
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let t0 = wg.y * gemm_rows();
    let v0 = wg.x * GEMM_COLS;
    let interior = t0 + gemm_rows() <= p.t_rows && v0 + GEMM_COLS <= p.vocab_rows
        && p.c % GEMM_DEPTH == 0u;
    let loads_x = tid < 2u * gemm_rows();
    let slices = (p.c + GEMM_DEPTH - 1u) / GEMM_DEPTH;
    var acc: array<vec4<f32>, 16>;
    var xq = vec4<f32>(0.0);
    if (loads_x) {
        xq = load_x_quad(interior, tid, p.t_offset, t0, p.t_rows, 0u, p.c);
        stage_a_rows(0u, tid, xq);
    }
    var wq = load_wte_quad(interior, tid, v0, 0u);
    stage_b_rows(0u, tid, wq);
    workgroupBarrier();
    for (var s = 0u; s < slices; s = s + 1u) {
        let buf = s % 2u;
        let next = (s + 1u) * GEMM_DEPTH;
        let more = s + 1u < slices;
        if (more) {
            if (loads_x) {
                xq = load_x_quad(interior, tid, p.t_offset, t0, p.t_rows, next, p.c);
            }
            wq = load_wte_quad(interior, tid, v0, next);
        }
        multiply_slice(buf, lid, &acc);
        if (more) {
            if (loads_x) {
                stage_a_rows(1u - buf, tid, xq);
            }
            stage_b_rows(1u - buf, tid, wq);
        }
        workgroupBarrier();
    }
    for (var slot = 0u; slot < 8u * ROW_QUADS; slot = slot + 1u) {
        let t = t0 + gemm_row(lid, slot);
        for (var j = 0u; j < 4u; j = j + 1u) {
            let v = v0 + gemm_col(lid, slot, j);
            if (t < p.t_rows && v < p.vocab_rows) {
                logits[t * p.vocab + p.vocab_start + v] = acc[slot][j];
            }
        }
    }
}
