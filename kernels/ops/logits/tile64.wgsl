// Kernel: logits/tile64
// About: 64 tokens x 64 vocabulary rows per workgroup, tiles in workgroup memory, 4 x 4 per thread (real GPUs)
// Op: logits, the register-tiled variant made for GPUs: a 16 x 16 workgroup computes 64 tokens
//     against 64 vocabulary rows. For each slice of 16 channels it stages the tokens' x and the
//     vocabulary rows of wte (read along their channels, neighbouring threads reading
//     neighbouring addresses, stored transposed) in workgroup memory; each thread keeps 4 x 4
//     logits in registers. On lavapipe `broadcast` is faster (barriers suspend the workgroup).
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Dispatch: (ceil(vocab_rows / 64), ceil(t_rows / 64), 1); workgroup 16 x 16.
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

const BLOCK: u32 = 64u;
const SLICE: u32 = 16u;
// x_tile[t * SLICE + kk]: token t of the block, channel kk of the slice.
var<workgroup> x_tile: array<f32, 1024>;
// w_tile[kk * BLOCK + v]: channel kk of the slice, vocabulary row v of the block.
var<workgroup> w_tile: array<f32, 1024>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let t0 = wg.y * BLOCK;
    let v0 = wg.x * BLOCK;
    // This thread's logits: tokens 4 * lid.y .. + 3, vocabulary rows 4 * lid.x .. + 3.
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < p.c; k0 = k0 + SLICE) {
        for (var i = 0u; i < 4u; i = i + 1u) {
            let e = tid + 256u * i;
            let kk = k0 + e % SLICE;
            let t = t0 + e / SLICE;
            var xv = 0.0;
            if (t < p.t_rows && kk < p.c) {
                xv = x[(p.t_offset + t) * p.c + kk];
            }
            x_tile[e] = xv;
            let v = v0 + e / SLICE;
            var wv = 0.0;
            if (v < p.vocab_rows && kk < p.c) {
                wv = wte[v * p.c + kk];
            }
            w_tile[(e % SLICE) * BLOCK + e / SLICE] = wv;
        }
        workgroupBarrier();
        let xr = lid.y * 4u * SLICE;
        let vq = lid.x * 4u;
        for (var kk = 0u; kk < SLICE; kk = kk + 1u) {
            let at = kk * BLOCK + vq;
            let wq = vec4<f32>(w_tile[at], w_tile[at + 1u], w_tile[at + 2u], w_tile[at + 3u]);
            acc0 = fma(vec4<f32>(x_tile[xr + kk]), wq, acc0);
            acc1 = fma(vec4<f32>(x_tile[xr + SLICE + kk]), wq, acc1);
            acc2 = fma(vec4<f32>(x_tile[xr + 2u * SLICE + kk]), wq, acc2);
            acc3 = fma(vec4<f32>(x_tile[xr + 3u * SLICE + kk]), wq, acc3);
        }
        workgroupBarrier();
    }
    let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i = i + 1u) {
        let t = t0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j = j + 1u) {
            let v = v0 + lid.x * 4u + j;
            if (t < p.t_rows && v < p.vocab_rows) {
                logits[t * p.vocab + p.vocab_start + v] = acc[i][j];
            }
        }
    }
}
