// Kernel: cosine/default
// Op: every token's cosine similarity to a vector (nearest neighbours in the embedding space).
// Bindings: 0 params, 1 q [rows, c], 2 wte [vocab_rows, c] (one chunk of rows), 3 cosine [rows, vocab].
// Dispatch: (ceil(vocab_rows / 64), rows, 1); one thread per (query row, token of the chunk).
// Formula:  cosine[r, v] = q[r] . wte[v] / (|q[r]| |wte[v]|), and 0 where either norm is 0.

struct Params {
    rows: u32,
    c: u32,
    vocab: u32,
    vocab_start: u32,
    vocab_rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read_write> cosine: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let local = gid.x;
    let row = gid.y;
    if (local >= p.vocab_rows || row >= p.rows) {
        return;
    }
    var qw = 0.0;
    var qq = 0.0;
    var ww = 0.0;
    for (var j = 0u; j < p.c; j = j + 1u) {
        let a = q[row * p.c + j];
        let b = wte[local * p.c + j];
        qw = qw + a * b;
        qq = qq + a * a;
        ww = ww + b * b;
    }
    let norms = sqrt(qq) * sqrt(ww);
    var similarity = 0.0;
    if (norms > 0.0) {
        similarity = qw / norms;
    }
    cosine[row * p.vocab + p.vocab_start + local] = similarity;
}
