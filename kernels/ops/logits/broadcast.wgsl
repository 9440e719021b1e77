// Kernel: logits/broadcast
// About: 12 tokens x 2 vocabulary rows per thread, x broadcast through the subgroup (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: logits, the final hidden states against every token embedding (lm_head tied to wte), made
//     for CPU adapters as linear/broadcast is: each thread keeps 24 accumulators (12 tokens x
//     2 vocabulary rows), so each embedding value it loads serves 12 tokens, and x arrives 8
//     values at a time through subgroupShuffle instead of one load per value.
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Dispatch: (ceil(vocab_rows / 128), ceil(t_rows / 12), 1)
//           workgroup 64: 8 groups of 8 lanes, each group 16 adjacent vocabulary rows (a lane
//           owns rows v and v + 8) for 12 tokens.
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

/// Stores token `t`'s logits of vocabulary rows `vr` and `vr + 8` of the chunk, skipping what
/// lies past the end.
fn store(t: u32, vr: u32, first: f32, second: f32) {
    if (t >= p.t_rows) {
        return;
    }
    if (vr < p.vocab_rows) {
        logits[t * p.vocab + p.vocab_start + vr] = first;
    }
    if (vr + 8u < p.vocab_rows) {
        logits[t * p.vocab + p.vocab_start + vr + 8u] = second;
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return: every lane takes part in the shuffles. Tokens and vocabulary rows past
    // the end are clamped onto the last valid one, computed and never stored.
    let vr = wg.x * 128u + (lid.x / 8u) * 16u + lid.x % 8u;
    let w0 = min(vr, p.vocab_rows - 1u) * p.c;
    let w1 = min(vr + 8u, p.vocab_rows - 1u) * p.c;
    let t0 = wg.y * 12u;
    let last = p.t_rows - 1u;
    let x0 = (p.t_offset + min(t0 + 0u, last)) * p.c;
    let x1 = (p.t_offset + min(t0 + 1u, last)) * p.c;
    let x2 = (p.t_offset + min(t0 + 2u, last)) * p.c;
    let x3 = (p.t_offset + min(t0 + 3u, last)) * p.c;
    let x4 = (p.t_offset + min(t0 + 4u, last)) * p.c;
    let x5 = (p.t_offset + min(t0 + 5u, last)) * p.c;
    let x6 = (p.t_offset + min(t0 + 6u, last)) * p.c;
    let x7 = (p.t_offset + min(t0 + 7u, last)) * p.c;
    let x8 = (p.t_offset + min(t0 + 8u, last)) * p.c;
    let x9 = (p.t_offset + min(t0 + 9u, last)) * p.c;
    let x10 = (p.t_offset + min(t0 + 10u, last)) * p.c;
    let x11 = (p.t_offset + min(t0 + 11u, last)) * p.c;
    var a0_0 = 0.0; var a1_0 = 0.0; var a2_0 = 0.0; var a3_0 = 0.0; var a4_0 = 0.0; var a5_0 = 0.0;
    var a6_0 = 0.0; var a7_0 = 0.0; var a8_0 = 0.0; var a9_0 = 0.0; var a10_0 = 0.0; var a11_0 = 0.0;
    var a0_1 = 0.0; var a1_1 = 0.0; var a2_1 = 0.0; var a3_1 = 0.0; var a4_1 = 0.0; var a5_1 = 0.0;
    var a6_1 = 0.0; var a7_1 = 0.0; var a8_1 = 0.0; var a9_1 = 0.0; var a10_1 = 0.0; var a11_1 = 0.0;
    var k0 = 0u;
    if (lanes >= 8u) {
        let l = lane % 8u;
        for (; k0 + 8u <= p.c; k0 = k0 + 8u) {
            // Lane l holds x[r, k0 + l] of the 12 rows.
            let v0 = x[x0 + k0 + l];
            let v1 = x[x1 + k0 + l];
            let v2 = x[x2 + k0 + l];
            let v3 = x[x3 + k0 + l];
            let v4 = x[x4 + k0 + l];
            let v5 = x[x5 + k0 + l];
            let v6 = x[x6 + k0 + l];
            let v7 = x[x7 + k0 + l];
            let v8 = x[x8 + k0 + l];
            let v9 = x[x9 + k0 + l];
            let v10 = x[x10 + k0 + l];
            let v11 = x[x11 + k0 + l];
            for (var j = 0u; j < 8u; j = j + 1u) {
                let m0 = wte[w0 + k0 + j];
                let m1 = wte[w1 + k0 + j];
                let s0 = subgroupShuffle(v0, j);
                a0_0 = fma(s0, m0, a0_0);
                a0_1 = fma(s0, m1, a0_1);
                let s1 = subgroupShuffle(v1, j);
                a1_0 = fma(s1, m0, a1_0);
                a1_1 = fma(s1, m1, a1_1);
                let s2 = subgroupShuffle(v2, j);
                a2_0 = fma(s2, m0, a2_0);
                a2_1 = fma(s2, m1, a2_1);
                let s3 = subgroupShuffle(v3, j);
                a3_0 = fma(s3, m0, a3_0);
                a3_1 = fma(s3, m1, a3_1);
                let s4 = subgroupShuffle(v4, j);
                a4_0 = fma(s4, m0, a4_0);
                a4_1 = fma(s4, m1, a4_1);
                let s5 = subgroupShuffle(v5, j);
                a5_0 = fma(s5, m0, a5_0);
                a5_1 = fma(s5, m1, a5_1);
                let s6 = subgroupShuffle(v6, j);
                a6_0 = fma(s6, m0, a6_0);
                a6_1 = fma(s6, m1, a6_1);
                let s7 = subgroupShuffle(v7, j);
                a7_0 = fma(s7, m0, a7_0);
                a7_1 = fma(s7, m1, a7_1);
                let s8 = subgroupShuffle(v8, j);
                a8_0 = fma(s8, m0, a8_0);
                a8_1 = fma(s8, m1, a8_1);
                let s9 = subgroupShuffle(v9, j);
                a9_0 = fma(s9, m0, a9_0);
                a9_1 = fma(s9, m1, a9_1);
                let s10 = subgroupShuffle(v10, j);
                a10_0 = fma(s10, m0, a10_0);
                a10_1 = fma(s10, m1, a10_1);
                let s11 = subgroupShuffle(v11, j);
                a11_0 = fma(s11, m0, a11_0);
                a11_1 = fma(s11, m1, a11_1);
            }
        }
    }
    // The last C % 8 steps (all of them with fewer than 8 lanes), x read directly.
    for (; k0 < p.c; k0 = k0 + 1u) {
        let m0 = wte[w0 + k0];
        let m1 = wte[w1 + k0];
        a0_0 = fma(x[x0 + k0], m0, a0_0);
        a0_1 = fma(x[x0 + k0], m1, a0_1);
        a1_0 = fma(x[x1 + k0], m0, a1_0);
        a1_1 = fma(x[x1 + k0], m1, a1_1);
        a2_0 = fma(x[x2 + k0], m0, a2_0);
        a2_1 = fma(x[x2 + k0], m1, a2_1);
        a3_0 = fma(x[x3 + k0], m0, a3_0);
        a3_1 = fma(x[x3 + k0], m1, a3_1);
        a4_0 = fma(x[x4 + k0], m0, a4_0);
        a4_1 = fma(x[x4 + k0], m1, a4_1);
        a5_0 = fma(x[x5 + k0], m0, a5_0);
        a5_1 = fma(x[x5 + k0], m1, a5_1);
        a6_0 = fma(x[x6 + k0], m0, a6_0);
        a6_1 = fma(x[x6 + k0], m1, a6_1);
        a7_0 = fma(x[x7 + k0], m0, a7_0);
        a7_1 = fma(x[x7 + k0], m1, a7_1);
        a8_0 = fma(x[x8 + k0], m0, a8_0);
        a8_1 = fma(x[x8 + k0], m1, a8_1);
        a9_0 = fma(x[x9 + k0], m0, a9_0);
        a9_1 = fma(x[x9 + k0], m1, a9_1);
        a10_0 = fma(x[x10 + k0], m0, a10_0);
        a10_1 = fma(x[x10 + k0], m1, a10_1);
        a11_0 = fma(x[x11 + k0], m0, a11_0);
        a11_1 = fma(x[x11 + k0], m1, a11_1);
    }
    store(t0 + 0u, vr, a0_0, a0_1);
    store(t0 + 1u, vr, a1_0, a1_1);
    store(t0 + 2u, vr, a2_0, a2_1);
    store(t0 + 3u, vr, a3_0, a3_1);
    store(t0 + 4u, vr, a4_0, a4_1);
    store(t0 + 5u, vr, a5_0, a5_1);
    store(t0 + 6u, vr, a6_0, a6_1);
    store(t0 + 7u, vr, a7_0, a7_1);
    store(t0 + 8u, vr, a8_0, a8_1);
    store(t0 + 9u, vr, a9_0, a9_1);
    store(t0 + 10u, vr, a10_0, a10_1);
    store(t0 + 11u, vr, a11_0, a11_1);
}
