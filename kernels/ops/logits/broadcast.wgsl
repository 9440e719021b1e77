// Kernel: logits/broadcast
// About: 16 tokens x 2 vocabulary rows per thread, x broadcast through the subgroup, C in chunks (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: logits, the final hidden states against every token embedding (lm_head tied to wte), made
//     for CPU adapters as linear/broadcast is: each thread keeps 32 accumulators (16 tokens x
//     2 vocabulary rows), so each embedding value it loads serves 16 tokens, and x arrives 8
//     values at a time through subgroupShuffle instead of one load per value. A thread walks
//     the workgroup's four blocks of 16 tokens over one chunk of C before the next chunk,
//     keeping the sums between chunks in the logits: the chunk's embedding rows are read from
//     memory once for all 64 tokens and from the CPU's cache by the other blocks, where blocks
//     in separate workgroups each streamed all of wte (154 MB for GPT-2) from memory. On
//     lavapipe at 64 tokens (one run): 266 ms, 18.6 GFLOP/s, against 333 ms for 12 tokens x 2
//     rows per thread with the token blocks in separate workgroups.
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Tune: CHUNK = 256, 384, 768
// Dispatch: (ceil(vocab_rows / 128), ceil(t_rows / (16 * BLOCKS)), 1)
//           workgroup 64: 8 groups of 8 lanes, each group 16 adjacent vocabulary rows (a lane
//           owns rows v and v + 8) for the workgroup's BLOCKS blocks of 16 tokens.
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

// Steps of C per chunk (a multiple of 8): the tile parameter `glassbox tune` sweeps.
const CHUNK: u32 = 768u;
// Blocks of 16 tokens a workgroup walks per chunk: a 64-token pass in one workgroup.
const BLOCKS: u32 = 4u;

/// The sum so far of token `t`, vocabulary row `vr` of the chunk: none before the first chunk
/// of C, else what the chunk before left in the logits (zero past the end).
fn partial(t: u32, vr: u32, chunk: u32) -> f32 {
    if (chunk == 0u || t >= p.t_rows || vr >= p.vocab_rows) {
        return 0.0;
    }
    return logits[t * p.vocab + p.vocab_start + vr];
}

/// Stores token `t`'s logit of vocabulary row `vr` of the chunk, skipping what lies past the
/// end.
fn store(t: u32, vr: u32, value: f32) {
    if (t < p.t_rows && vr < p.vocab_rows) {
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
    // No early return: every lane takes part in the shuffles. Tokens and vocabulary rows past
    // the end are clamped onto the last valid one, computed and never stored.
    let vr = wg.x * 128u + (lid.x / 8u) * 16u + lid.x % 8u;
    let w0 = min(vr, p.vocab_rows - 1u) * p.c;
    let w1 = min(vr + 8u, p.vocab_rows - 1u) * p.c;
    let last = p.t_rows - 1u;
    let l = lane % 8u;
    // Lanes 8g..8g+7 of a wider subgroup shuffle among themselves.
    let group = lane - l;
    // The steps of C done with shuffles; the plain loop does the rest.
    let shuffled = select(0u, p.c - p.c % 8u, lanes >= 8u);
    // Blocks past the last token are skipped: a short prompt runs one block, not four.
    let first = wg.y * BLOCKS * 16u;
    let blocks = min(BLOCKS, (p.t_rows - first + 15u) / 16u);
    for (var chunk = 0u; chunk < p.c; chunk = chunk + CHUNK) {
        let end = min(chunk + CHUNK, p.c);
        for (var block = 0u; block < blocks; block = block + 1u) {
            let t0 = first + block * 16u;
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
            let x12 = (p.t_offset + min(t0 + 12u, last)) * p.c;
            let x13 = (p.t_offset + min(t0 + 13u, last)) * p.c;
            let x14 = (p.t_offset + min(t0 + 14u, last)) * p.c;
            let x15 = (p.t_offset + min(t0 + 15u, last)) * p.c;
            var a0_0 = partial(t0 + 0u, vr, chunk); var a0_1 = partial(t0 + 0u, vr + 8u, chunk);
            var a1_0 = partial(t0 + 1u, vr, chunk); var a1_1 = partial(t0 + 1u, vr + 8u, chunk);
            var a2_0 = partial(t0 + 2u, vr, chunk); var a2_1 = partial(t0 + 2u, vr + 8u, chunk);
            var a3_0 = partial(t0 + 3u, vr, chunk); var a3_1 = partial(t0 + 3u, vr + 8u, chunk);
            var a4_0 = partial(t0 + 4u, vr, chunk); var a4_1 = partial(t0 + 4u, vr + 8u, chunk);
            var a5_0 = partial(t0 + 5u, vr, chunk); var a5_1 = partial(t0 + 5u, vr + 8u, chunk);
            var a6_0 = partial(t0 + 6u, vr, chunk); var a6_1 = partial(t0 + 6u, vr + 8u, chunk);
            var a7_0 = partial(t0 + 7u, vr, chunk); var a7_1 = partial(t0 + 7u, vr + 8u, chunk);
            var a8_0 = partial(t0 + 8u, vr, chunk); var a8_1 = partial(t0 + 8u, vr + 8u, chunk);
            var a9_0 = partial(t0 + 9u, vr, chunk); var a9_1 = partial(t0 + 9u, vr + 8u, chunk);
            var a10_0 = partial(t0 + 10u, vr, chunk); var a10_1 = partial(t0 + 10u, vr + 8u, chunk);
            var a11_0 = partial(t0 + 11u, vr, chunk); var a11_1 = partial(t0 + 11u, vr + 8u, chunk);
            var a12_0 = partial(t0 + 12u, vr, chunk); var a12_1 = partial(t0 + 12u, vr + 8u, chunk);
            var a13_0 = partial(t0 + 13u, vr, chunk); var a13_1 = partial(t0 + 13u, vr + 8u, chunk);
            var a14_0 = partial(t0 + 14u, vr, chunk); var a14_1 = partial(t0 + 14u, vr + 8u, chunk);
            var a15_0 = partial(t0 + 15u, vr, chunk); var a15_1 = partial(t0 + 15u, vr + 8u, chunk);
            var k0 = chunk;
            for (; k0 + 8u <= min(end, shuffled); k0 = k0 + 8u) {
                // Lane l holds x[t, k0 + l] of the 16 tokens.
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
                let v12 = x[x12 + k0 + l];
                let v13 = x[x13 + k0 + l];
                let v14 = x[x14 + k0 + l];
                let v15 = x[x15 + k0 + l];
                for (var j = 0u; j < 8u; j = j + 1u) {
                    let m0 = wte[w0 + k0 + j];
                    let m1 = wte[w1 + k0 + j];
                    let s0 = subgroupShuffle(v0, group + j);
                    a0_0 = fma(s0, m0, a0_0);
                    a0_1 = fma(s0, m1, a0_1);
                    let s1 = subgroupShuffle(v1, group + j);
                    a1_0 = fma(s1, m0, a1_0);
                    a1_1 = fma(s1, m1, a1_1);
                    let s2 = subgroupShuffle(v2, group + j);
                    a2_0 = fma(s2, m0, a2_0);
                    a2_1 = fma(s2, m1, a2_1);
                    let s3 = subgroupShuffle(v3, group + j);
                    a3_0 = fma(s3, m0, a3_0);
                    a3_1 = fma(s3, m1, a3_1);
                    let s4 = subgroupShuffle(v4, group + j);
                    a4_0 = fma(s4, m0, a4_0);
                    a4_1 = fma(s4, m1, a4_1);
                    let s5 = subgroupShuffle(v5, group + j);
                    a5_0 = fma(s5, m0, a5_0);
                    a5_1 = fma(s5, m1, a5_1);
                    let s6 = subgroupShuffle(v6, group + j);
                    a6_0 = fma(s6, m0, a6_0);
                    a6_1 = fma(s6, m1, a6_1);
                    let s7 = subgroupShuffle(v7, group + j);
                    a7_0 = fma(s7, m0, a7_0);
                    a7_1 = fma(s7, m1, a7_1);
                    let s8 = subgroupShuffle(v8, group + j);
                    a8_0 = fma(s8, m0, a8_0);
                    a8_1 = fma(s8, m1, a8_1);
                    let s9 = subgroupShuffle(v9, group + j);
                    a9_0 = fma(s9, m0, a9_0);
                    a9_1 = fma(s9, m1, a9_1);
                    let s10 = subgroupShuffle(v10, group + j);
                    a10_0 = fma(s10, m0, a10_0);
                    a10_1 = fma(s10, m1, a10_1);
                    let s11 = subgroupShuffle(v11, group + j);
                    a11_0 = fma(s11, m0, a11_0);
                    a11_1 = fma(s11, m1, a11_1);
                    let s12 = subgroupShuffle(v12, group + j);
                    a12_0 = fma(s12, m0, a12_0);
                    a12_1 = fma(s12, m1, a12_1);
                    let s13 = subgroupShuffle(v13, group + j);
                    a13_0 = fma(s13, m0, a13_0);
                    a13_1 = fma(s13, m1, a13_1);
                    let s14 = subgroupShuffle(v14, group + j);
                    a14_0 = fma(s14, m0, a14_0);
                    a14_1 = fma(s14, m1, a14_1);
                    let s15 = subgroupShuffle(v15, group + j);
                    a15_0 = fma(s15, m0, a15_0);
                    a15_1 = fma(s15, m1, a15_1);
                }
            }
            // The last C % 8 steps (all of them with fewer than 8 lanes), x read directly.
            for (; k0 < end; k0 = k0 + 1u) {
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
                a12_0 = fma(x[x12 + k0], m0, a12_0);
                a12_1 = fma(x[x12 + k0], m1, a12_1);
                a13_0 = fma(x[x13 + k0], m0, a13_0);
                a13_1 = fma(x[x13 + k0], m1, a13_1);
                a14_0 = fma(x[x14 + k0], m0, a14_0);
                a14_1 = fma(x[x14 + k0], m1, a14_1);
                a15_0 = fma(x[x15 + k0], m0, a15_0);
                a15_1 = fma(x[x15 + k0], m1, a15_1);
            }
            store(t0 + 0u, vr, a0_0);
            store(t0 + 0u, vr + 8u, a0_1);
            store(t0 + 1u, vr, a1_0);
            store(t0 + 1u, vr + 8u, a1_1);
            store(t0 + 2u, vr, a2_0);
            store(t0 + 2u, vr + 8u, a2_1);
            store(t0 + 3u, vr, a3_0);
            store(t0 + 3u, vr + 8u, a3_1);
            store(t0 + 4u, vr, a4_0);
            store(t0 + 4u, vr + 8u, a4_1);
            store(t0 + 5u, vr, a5_0);
            store(t0 + 5u, vr + 8u, a5_1);
            store(t0 + 6u, vr, a6_0);
            store(t0 + 6u, vr + 8u, a6_1);
            store(t0 + 7u, vr, a7_0);
            store(t0 + 7u, vr + 8u, a7_1);
            store(t0 + 8u, vr, a8_0);
            store(t0 + 8u, vr + 8u, a8_1);
            store(t0 + 9u, vr, a9_0);
            store(t0 + 9u, vr + 8u, a9_1);
            store(t0 + 10u, vr, a10_0);
            store(t0 + 10u, vr + 8u, a10_1);
            store(t0 + 11u, vr, a11_0);
            store(t0 + 11u, vr + 8u, a11_1);
            store(t0 + 12u, vr, a12_0);
            store(t0 + 12u, vr + 8u, a12_1);
            store(t0 + 13u, vr, a13_0);
            store(t0 + 13u, vr + 8u, a13_1);
            store(t0 + 14u, vr, a14_0);
            store(t0 + 14u, vr + 8u, a14_1);
            store(t0 + 15u, vr, a15_0);
            store(t0 + 15u, vr + 8u, a15_1);
        }
    }
}
