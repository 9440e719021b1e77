// Kernel: embed_at/default
// Op: token + position embedding of the one token of a decode step.
// Bindings: 0 params, 1 ids [1] u32, 2 position [1] u32, 3 wte [vocab_rows, C] (one chunk of the
//           vocabulary, starting at row vocab_start), 4 wpe [n_positions, C], 5 out [1, C].
// Dispatch: (ceil(c / 64), 1, 1); only the chunk holding the id writes.
// Formula:  out[c] = wte[id, c] + wpe[pos, c]

struct Params {
    c: u32,
    vocab_start: u32,
    vocab_rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> position: array<u32>;
@group(0) @binding(3) var<storage, read> wte: array<f32>;
@group(0) @binding(4) var<storage, read> wpe: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let id = ids[0];
    if (c >= p.c || id < p.vocab_start || id >= p.vocab_start + p.vocab_rows) {
        return;
    }
    out[c] = wte[(id - p.vocab_start) * p.c + c] + wpe[position[0] * p.c + c];
}
