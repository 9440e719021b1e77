// Kernel: attribute_direction/default
// Op: the direction in the residual stream that raises one token's logit through the final
//     layer norm, with the norm's scale frozen (direct logit attribution): the token's
//     unembedding times the norm's gain, centred, because the norm subtracts the mean first.
// Bindings: 0 params, 1 gain [c], 2 bias [c], 3 wte [vocab_rows, c] (one chunk of rows),
//           4 direction [c], 5 bias_term [1].
// Dispatch: (1, 1, 1); one 64-thread workgroup, launched once per chunk of wte; only the chunk
//           holding the token writes.
// Formula:  u = gain * wte[token]; direction = u - mean(u); bias_term = bias . wte[token].

struct Params {
    c: u32,
    token: u32,
    vocab_start: u32,
    vocab_rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gain: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> wte: array<f32>;
@group(0) @binding(4) var<storage, read_write> direction: array<f32>;
@group(0) @binding(5) var<storage, read_write> bias_term: array<f32>;

var<workgroup> sums: array<vec2<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
    if (p.token < p.vocab_start || p.token >= p.vocab_start + p.vocab_rows) {
        return;
    }
    let row = (p.token - p.vocab_start) * p.c;
    var acc = vec2<f32>(0.0);
    for (var j = lid.x; j < p.c; j = j + 64u) {
        let w = wte[row + j];
        acc = acc + vec2<f32>(gain[j] * w, bias[j] * w);
    }
    sums[lid.x] = acc;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            sums[lid.x] = sums[lid.x] + sums[lid.x + stride];
        }
        workgroupBarrier();
    }
    let mean = sums[0].x / f32(p.c);
    for (var j = lid.x; j < p.c; j = j + 64u) {
        direction[j] = gain[j] * wte[row + j] - mean;
    }
    if (lid.x == 0u) {
        bias_term[0] = sums[0].y;
    }
}
