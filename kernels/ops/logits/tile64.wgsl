// Kernel: logits/tile64
// About: 64 tokens x 64 vocabulary rows per workgroup, tiles in workgroup memory, 4 x 4 per thread (real GPUs)
// Include: shared/tile64.wgsl
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

@compute @workgroup_size(16, 16)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let t0 = wg.y * BLOCK;
    let v0 = wg.x * BLOCK;
    var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k0 = 0u; k0 < p.c; k0 = k0 + SLICE) {
        stage_x(tid, p.t_offset, t0, p.t_rows, k0, p.c);
        // 4 values of wte per thread, read along the channels and stored transposed: channel
        // kk of vocabulary row v goes to component v % 4 of quad v / 4. Past the chunk, zeros.
        for (var i = 0u; i < 4u; i = i + 1u) {
            let e = tid + 256u * i;
            let v = e / SLICE;
            let kk = e % SLICE;
            var wv = 0.0;
            if (v0 + v < p.vocab_rows && k0 + kk < p.c) {
                wv = wte[(v0 + v) * p.c + k0 + kk];
            }
            w_tile[kk * 16u + v / 4u][v % 4u] = wv;
        }
        workgroupBarrier();
        acc = multiply_slice(lid, acc);
        workgroupBarrier();
    }
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
