// Kernel: embed/default
// Op: token + position embedding.
// Bindings: 0 params, 1 ids [T] u32, 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 wpe [n_positions, C], 4 out [T, C].
// Dispatch: (ceil(c / 64), t, 1)
//           whose id falls in its chunk, so every token is written exactly once.
// Formula:  out[t, c] = wte[ids[t], c] + wpe[t, c]

struct Params {
    t: u32,
    c: u32,
    vocab_start: u32,
    vocab_rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let t = gid.y;
    if (c >= p.c || t >= p.t) {
        return;
    }
    let id = ids[t];
    if (id < p.vocab_start || id >= p.vocab_start + p.vocab_rows) {
        return;
    }
    out[t * p.c + c] = wte[(id - p.vocab_start) * p.c + c] + wpe[t * p.c + c];
}
