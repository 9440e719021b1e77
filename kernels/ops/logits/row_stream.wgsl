// Kernel: logits/row_stream
// About: one token (a decode step): 4 vocabulary rows per group of 8 lanes, the lanes along C, summed once at the end (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: logits for one token on CPU adapters (lavapipe). The step streams all of wte once, so
//     what counts is how memory is walked: the 8 lanes of a group read 8 adjacent values of
//     one vocabulary row, 4 rows side by side, and walk along them, so a group streams 4
//     rows front to back (lavapipe runs a workgroup's groups one after another). Each lane
//     keeps a partial sum per row, and the 8 are added with 3 subgroupShuffleXor steps once,
//     at the end. x is read once per 4 rows. In a GPT-2-small decode step on lavapipe (steps
//     alternating) the head took 32 to 39 ms against 69 to 73 with 16 rows per workgroup
//     whose lanes each walked their own rows; with the weights still in cache (each op timed
//     alone) 35 against 37 ms. With fewer than 8 lanes per subgroup every lane of a group
//     sums its rows whole, and the first stores them.
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Dispatch: (ceil(vocab_rows / 32), t_rows, 1)
//           workgroup 64: 8 groups of 8 lanes, each group 4 adjacent vocabulary rows of one
//           token (tokens past the first, one per workgroup row: correct for any count, made
//           for one).
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

/// The first lane of a group stores token `t`'s logit of vocabulary row `vr` of the chunk,
/// skipping rows past the end.
fn store(t: u32, vr: u32, value: f32, first: bool) {
    if (first && vr < p.vocab_rows) {
        logits[t * p.vocab + p.vocab_start + vr] = value;
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return: every lane takes part in the shuffles. Rows past the end are clamped
    // onto the last valid one, computed and never stored.
    let v0 = wg.x * 32u + (lid.x / 8u) * 4u;
    let last = p.vocab_rows - 1u;
    let w0 = min(v0, last) * p.c;
    let w1 = min(v0 + 1u, last) * p.c;
    let w2 = min(v0 + 2u, last) * p.c;
    let w3 = min(v0 + 3u, last) * p.c;
    let xt = (p.t_offset + wg.y) * p.c;
    let l = lid.x % 8u;
    let shared_rows = lanes >= 8u;
    var a0 = 0.0;
    var a1 = 0.0;
    var a2 = 0.0;
    var a3 = 0.0;
    for (var k = select(0u, l, shared_rows); k < p.c; k = k + select(1u, 8u, shared_rows)) {
        let v = x[xt + k];
        a0 = fma(v, wte[w0 + k], a0);
        a1 = fma(v, wte[w1 + k], a1);
        a2 = fma(v, wte[w2 + k], a2);
        a3 = fma(v, wte[w3 + k], a3);
    }
    if (shared_rows) {
        // Lanes 8g..8g+7 of a subgroup: xor with 1, 2 and 4 stays inside the group.
        for (var d = 1u; d < 8u; d = d * 2u) {
            a0 = a0 + subgroupShuffleXor(a0, d);
            a1 = a1 + subgroupShuffleXor(a1, d);
            a2 = a2 + subgroupShuffleXor(a2, d);
            a3 = a3 + subgroupShuffleXor(a3, d);
        }
    }
    store(wg.y, v0, a0, l == 0u);
    store(wg.y, v0 + 1u, a1, l == 0u);
    store(wg.y, v0 + 2u, a2, l == 0u);
    store(wg.y, v0 + 3u, a3, l == 0u);
}
