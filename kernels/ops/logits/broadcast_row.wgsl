// Kernel: logits/broadcast_row
// About: one token (a decode step): 2 vocabulary rows per thread, x broadcast through the subgroup (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: logits, the final hidden states against every token embedding (lm_head tied to wte), for
//     one token on CPU adapters (lavapipe): the step streams all of wte once, so what counts
//     is how few instructions each embedding value costs. A thread owns 2 vocabulary rows and
//     does one multiply-add per value it loads; x arrives 8 values per load, handed to every
//     lane by subgroupShuffle. logits=broadcast computes 16 tokens per thread and at one token
//     repeats the other 15: 78 ms for GPT-2's head on lavapipe against 33 ms here (one run),
//     and 2 or 4 tokens per thread took 35 and 39 ms. Tokens past the first are computed the
//     same way, one per workgroup row (correct for any count, made for one). With fewer than
//     8 lanes per subgroup the plain loop at the end does all the work.
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Dispatch: (ceil(vocab_rows / 128), t_rows, 1)
//           workgroup 64: 8 groups of 8 lanes, each group 16 adjacent vocabulary rows (a lane
//           owns rows v and v + 8) of one token.
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

/// Stores token `t`'s logit of vocabulary row `vr` of the chunk, skipping rows past the end.
fn store(t: u32, vr: u32, value: f32) {
    if (vr < p.vocab_rows) {
        logits[t * p.vocab + p.vocab_start + vr] = value;
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return: every lane takes part in the shuffles. Vocabulary rows past the end are
    // clamped onto the last valid one, computed and never stored.
    let vr = wg.x * 128u + (lid.x / 8u) * 16u + lid.x % 8u;
    let w0 = min(vr, p.vocab_rows - 1u) * p.c;
    let w1 = min(vr + 8u, p.vocab_rows - 1u) * p.c;
    let t = wg.y;
    let xt = (p.t_offset + t) * p.c;
    var a0 = 0.0;
    var a1 = 0.0;
    var k0 = 0u;
    if (lanes >= 8u) {
        let l = lane % 8u;
        // Lanes 8g..8g+7 of a wider subgroup shuffle among themselves.
        let group = lane - l;
        for (; k0 + 8u <= p.c; k0 = k0 + 8u) {
            // Lane l holds x[t, k0 + l].
            let v = x[xt + k0 + l];
            for (var j = 0u; j < 8u; j = j + 1u) {
                let s = subgroupShuffle(v, group + j);
                a0 = fma(s, wte[w0 + k0 + j], a0);
                a1 = fma(s, wte[w1 + k0 + j], a1);
            }
        }
    }
    // The last C % 8 steps (all of them with fewer than 8 lanes), x read directly.
    for (; k0 < p.c; k0 = k0 + 1u) {
        a0 = fma(x[xt + k0], wte[w0 + k0], a0);
        a1 = fma(x[xt + k0], wte[w1 + k0], a1);
    }
    store(t, vr, a0);
    store(t, vr + 8u, a1);
}
