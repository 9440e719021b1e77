// Kernel: logits/rows4
// About: one vocabulary row per thread, serving 4 tokens
// Op: logits, the final hidden states against every token embedding (lm_head tied to wte).
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Dispatch: (ceil(vocab_rows / 64), ceil(t_rows / 4), 1)
//           pair; each thread computes one vocabulary entry for 4 tokens, so each embedding row
//           it reads serves 4 tokens.
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

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let vr = gid.x;
    let t0 = gid.y * 4u;
    if (vr >= p.vocab_rows || t0 >= p.t_rows) {
        return;
    }
    // Rows past the chunk's end are clamped onto its last row and never stored.
    let last = p.t_rows - 1u;
    let x0 = (p.t_offset + min(t0, last)) * p.c;
    let x1 = (p.t_offset + min(t0 + 1u, last)) * p.c;
    let x2 = (p.t_offset + min(t0 + 2u, last)) * p.c;
    let x3 = (p.t_offset + min(t0 + 3u, last)) * p.c;
    let wrow = vr * p.c;
    var acc = vec4<f32>(0.0);
    for (var c = 0u; c < p.c; c = c + 1u) {
        let w = wte[wrow + c];
        acc = fma(vec4<f32>(x[x0 + c], x[x1 + c], x[x2 + c], x[x3 + c]), vec4<f32>(w), acc);
    }
    let col = p.vocab_start + vr;
    for (var j = 0u; j < 4u; j = j + 1u) {
        if (t0 + j < p.t_rows) {
            logits[(t0 + j) * p.vocab + col] = acc[j];
        }
    }
}
