// Kernel: logits/matvec
// About: 64 threads share each vocabulary row, reading it in full lines (decode)
// Op: logits, the matrix-vector variant for decode: wte is [V, C], so one output is a dot
//     product along a contiguous row; 64 threads share each row to read it in full cache lines.
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Dispatch: (ceil(vocab_rows / 4), t_rows, 1)
//           workgroup 64 x 4: four vocabulary rows, 64 threads each.
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

const LANES: u32 = 64u;
var<workgroup> partial: array<array<f32, 64>, 4>;

@compute @workgroup_size(64, 4)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let vr = group.x * 4u + lid.y;
    let t = group.y;
    var acc = 0.0;
    if (vr < p.vocab_rows) {
        let xrow = (p.t_offset + t) * p.c;
        let wrow = vr * p.c;
        for (var c = lid.x; c < p.c; c = c + LANES) {
            acc = fma(x[xrow + c], wte[wrow + c], acc);
        }
    }
    partial[lid.y][lid.x] = acc;
    workgroupBarrier();
    for (var stride = LANES / 2u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.y][lid.x] = partial[lid.y][lid.x] + partial[lid.y][lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u && vr < p.vocab_rows) {
        logits[t * p.vocab + p.vocab_start + vr] = partial[lid.y][0];
    }
}
