// Kernel: embed_tokens/default
// Op: token embedding without positions (the Llama family turns queries and keys instead).
// Bindings: 0 params, 1 ids [T] u32, 2 embed_tokens [vocab_rows, C] (one chunk of the
//           vocabulary, starting at row vocab_start), 3 out [T, C].
// Dispatch: (ceil(c / 64), t, 1); one launch per chunk, each writing the tokens whose id falls
//           in it, so every token is written exactly once.
// Formula:  out[t, c] = embed_tokens[ids[t], c]

struct Params {
    t: u32,
    c: u32,
    vocab_start: u32,
    vocab_rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

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
    out[t * p.c + c] = table[(id - p.vocab_start) * p.c + c];
}
