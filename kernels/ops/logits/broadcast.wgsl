// Kernel: logits/broadcast
// About: 32 tokens x 4 vocabulary rows per thread, x broadcast through the subgroup, C in chunks (CPU adapters; where the adapter has subgroups)
// Needs: subgroups
// Op: logits, the final hidden states against every token embedding (lm_head tied to wte), made
//     for CPU adapters as linear/broadcast is: each thread keeps 128 accumulators (32 tokens x
//     4 vocabulary rows, a vec4 per token), so each embedding value it loads serves 32 tokens
//     and each x value 4 rows, and x arrives 8 values at a time through subgroupShuffle instead
//     of one load per value. A thread walks the workgroup's two blocks of 32 tokens over one
//     chunk of C before the next chunk, keeping the sums between chunks in the logits: the
//     chunk's embedding rows are read from memory once for all 64 tokens and from the CPU's
//     cache by the other block, where blocks in separate workgroups each streamed all of wte
//     (154 MB for GPT-2) from memory. On lavapipe at 64 tokens (ms, one run alternating the
//     kernels): 219 and 222 against 258 and 262 for 32 tokens x 3 rows in workgroups of 64,
//     which took 233 and 237 against 260 and 253 for the 16 x 2 of the round before.
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Tune: CHUNK = 256, 384, 768
// Dispatch: (ceil(vocab_rows / 128), ceil(t_rows / (32 * BLOCKS)), 1)
//           workgroup 32: 4 groups of 8 lanes, each group 32 adjacent vocabulary rows (a lane
//           owns rows v, v + 8, v + 16 and v + 24) for the workgroup's BLOCKS blocks of 32
//           tokens.
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
// Blocks of 32 tokens a workgroup walks per chunk: a 64-token pass in one workgroup.
const BLOCKS: u32 = 2u;

/// The sum so far of token `t`, vocabulary row `vr` of the chunk: none before the first chunk
/// of C, else what the chunk before left in the logits (zero past the end).
fn partial1(t: u32, vr: u32, chunk: u32) -> f32 {
    if (chunk == 0u || t >= p.t_rows || vr >= p.vocab_rows) {
        return 0.0;
    }
    return logits[t * p.vocab + p.vocab_start + vr];
}

/// The sums so far of token `t`, vocabulary rows vr, vr + 8, vr + 16 and vr + 24.
fn partial(t: u32, vr: u32, chunk: u32) -> vec4<f32> {
    return vec4<f32>(
        partial1(t, vr, chunk),
        partial1(t, vr + 8u, chunk),
        partial1(t, vr + 16u, chunk),
        partial1(t, vr + 24u, chunk),
    );
}

/// Stores token `t`'s logit of vocabulary row `vr` of the chunk, skipping what lies past the
/// end.
fn store1(t: u32, vr: u32, value: f32) {
    if (t < p.t_rows && vr < p.vocab_rows) {
        logits[t * p.vocab + p.vocab_start + vr] = value;
    }
}

/// Stores token `t`'s logits of vocabulary rows vr, vr + 8, vr + 16 and vr + 24.
fn store(t: u32, vr: u32, sums: vec4<f32>) {
    store1(t, vr, sums.x);
    store1(t, vr + 8u, sums.y);
    store1(t, vr + 16u, sums.z);
    store1(t, vr + 24u, sums.w);
}

@compute @workgroup_size(32)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    // No early return: every lane takes part in the shuffles. Tokens and vocabulary rows past
    // the end are clamped onto the last valid one, computed and never stored.
    let vr = wg.x * 128u + (lid.x / 8u) * 32u + lid.x % 8u;
    let w0 = min(vr, p.vocab_rows - 1u) * p.c;
    let w1 = min(vr + 8u, p.vocab_rows - 1u) * p.c;
    let w2 = min(vr + 16u, p.vocab_rows - 1u) * p.c;
    let w3 = min(vr + 24u, p.vocab_rows - 1u) * p.c;
    let last = p.t_rows - 1u;
    let l = lane % 8u;
    // Lanes 8g..8g+7 of a wider subgroup shuffle among themselves.
    let group = lane - l;
    // The steps of C done with shuffles; the plain loop does the rest.
    let shuffled = select(0u, p.c - p.c % 8u, lanes >= 8u);
    // Blocks past the last token are skipped: a short prompt runs one block, not two.
    let first = wg.y * BLOCKS * 32u;
    let blocks = min(BLOCKS, (p.t_rows - first + 31u) / 32u);
    for (var chunk = 0u; chunk < p.c; chunk = chunk + CHUNK) {
        let end = min(chunk + CHUNK, p.c);
        for (var block = 0u; block < blocks; block = block + 1u) {
            let t0 = first + block * 32u;
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
            let x16 = (p.t_offset + min(t0 + 16u, last)) * p.c;
            let x17 = (p.t_offset + min(t0 + 17u, last)) * p.c;
            let x18 = (p.t_offset + min(t0 + 18u, last)) * p.c;
            let x19 = (p.t_offset + min(t0 + 19u, last)) * p.c;
            let x20 = (p.t_offset + min(t0 + 20u, last)) * p.c;
            let x21 = (p.t_offset + min(t0 + 21u, last)) * p.c;
            let x22 = (p.t_offset + min(t0 + 22u, last)) * p.c;
            let x23 = (p.t_offset + min(t0 + 23u, last)) * p.c;
            let x24 = (p.t_offset + min(t0 + 24u, last)) * p.c;
            let x25 = (p.t_offset + min(t0 + 25u, last)) * p.c;
            let x26 = (p.t_offset + min(t0 + 26u, last)) * p.c;
            let x27 = (p.t_offset + min(t0 + 27u, last)) * p.c;
            let x28 = (p.t_offset + min(t0 + 28u, last)) * p.c;
            let x29 = (p.t_offset + min(t0 + 29u, last)) * p.c;
            let x30 = (p.t_offset + min(t0 + 30u, last)) * p.c;
            let x31 = (p.t_offset + min(t0 + 31u, last)) * p.c;
            var a0 = partial(t0 + 0u, vr, chunk);
            var a1 = partial(t0 + 1u, vr, chunk);
            var a2 = partial(t0 + 2u, vr, chunk);
            var a3 = partial(t0 + 3u, vr, chunk);
            var a4 = partial(t0 + 4u, vr, chunk);
            var a5 = partial(t0 + 5u, vr, chunk);
            var a6 = partial(t0 + 6u, vr, chunk);
            var a7 = partial(t0 + 7u, vr, chunk);
            var a8 = partial(t0 + 8u, vr, chunk);
            var a9 = partial(t0 + 9u, vr, chunk);
            var a10 = partial(t0 + 10u, vr, chunk);
            var a11 = partial(t0 + 11u, vr, chunk);
            var a12 = partial(t0 + 12u, vr, chunk);
            var a13 = partial(t0 + 13u, vr, chunk);
            var a14 = partial(t0 + 14u, vr, chunk);
            var a15 = partial(t0 + 15u, vr, chunk);
            var a16 = partial(t0 + 16u, vr, chunk);
            var a17 = partial(t0 + 17u, vr, chunk);
            var a18 = partial(t0 + 18u, vr, chunk);
            var a19 = partial(t0 + 19u, vr, chunk);
            var a20 = partial(t0 + 20u, vr, chunk);
            var a21 = partial(t0 + 21u, vr, chunk);
            var a22 = partial(t0 + 22u, vr, chunk);
            var a23 = partial(t0 + 23u, vr, chunk);
            var a24 = partial(t0 + 24u, vr, chunk);
            var a25 = partial(t0 + 25u, vr, chunk);
            var a26 = partial(t0 + 26u, vr, chunk);
            var a27 = partial(t0 + 27u, vr, chunk);
            var a28 = partial(t0 + 28u, vr, chunk);
            var a29 = partial(t0 + 29u, vr, chunk);
            var a30 = partial(t0 + 30u, vr, chunk);
            var a31 = partial(t0 + 31u, vr, chunk);
            var k0 = chunk;
            for (; k0 + 8u <= min(end, shuffled); k0 = k0 + 8u) {
                // Lane l holds x[t, k0 + l] of the 32 tokens.
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
                let v16 = x[x16 + k0 + l];
                let v17 = x[x17 + k0 + l];
                let v18 = x[x18 + k0 + l];
                let v19 = x[x19 + k0 + l];
                let v20 = x[x20 + k0 + l];
                let v21 = x[x21 + k0 + l];
                let v22 = x[x22 + k0 + l];
                let v23 = x[x23 + k0 + l];
                let v24 = x[x24 + k0 + l];
                let v25 = x[x25 + k0 + l];
                let v26 = x[x26 + k0 + l];
                let v27 = x[x27 + k0 + l];
                let v28 = x[x28 + k0 + l];
                let v29 = x[x29 + k0 + l];
                let v30 = x[x30 + k0 + l];
                let v31 = x[x31 + k0 + l];
                for (var j = 0u; j < 8u; j = j + 1u) {
                    let m = vec4<f32>(wte[w0 + k0 + j], wte[w1 + k0 + j], wte[w2 + k0 + j], wte[w3 + k0 + j]);
                    a0 = fma(vec4<f32>(subgroupShuffle(v0, group + j)), m, a0);
                    a1 = fma(vec4<f32>(subgroupShuffle(v1, group + j)), m, a1);
                    a2 = fma(vec4<f32>(subgroupShuffle(v2, group + j)), m, a2);
                    a3 = fma(vec4<f32>(subgroupShuffle(v3, group + j)), m, a3);
                    a4 = fma(vec4<f32>(subgroupShuffle(v4, group + j)), m, a4);
                    a5 = fma(vec4<f32>(subgroupShuffle(v5, group + j)), m, a5);
                    a6 = fma(vec4<f32>(subgroupShuffle(v6, group + j)), m, a6);
                    a7 = fma(vec4<f32>(subgroupShuffle(v7, group + j)), m, a7);
                    a8 = fma(vec4<f32>(subgroupShuffle(v8, group + j)), m, a8);
                    a9 = fma(vec4<f32>(subgroupShuffle(v9, group + j)), m, a9);
                    a10 = fma(vec4<f32>(subgroupShuffle(v10, group + j)), m, a10);
                    a11 = fma(vec4<f32>(subgroupShuffle(v11, group + j)), m, a11);
                    a12 = fma(vec4<f32>(subgroupShuffle(v12, group + j)), m, a12);
                    a13 = fma(vec4<f32>(subgroupShuffle(v13, group + j)), m, a13);
                    a14 = fma(vec4<f32>(subgroupShuffle(v14, group + j)), m, a14);
                    a15 = fma(vec4<f32>(subgroupShuffle(v15, group + j)), m, a15);
                    a16 = fma(vec4<f32>(subgroupShuffle(v16, group + j)), m, a16);
                    a17 = fma(vec4<f32>(subgroupShuffle(v17, group + j)), m, a17);
                    a18 = fma(vec4<f32>(subgroupShuffle(v18, group + j)), m, a18);
                    a19 = fma(vec4<f32>(subgroupShuffle(v19, group + j)), m, a19);
                    a20 = fma(vec4<f32>(subgroupShuffle(v20, group + j)), m, a20);
                    a21 = fma(vec4<f32>(subgroupShuffle(v21, group + j)), m, a21);
                    a22 = fma(vec4<f32>(subgroupShuffle(v22, group + j)), m, a22);
                    a23 = fma(vec4<f32>(subgroupShuffle(v23, group + j)), m, a23);
                    a24 = fma(vec4<f32>(subgroupShuffle(v24, group + j)), m, a24);
                    a25 = fma(vec4<f32>(subgroupShuffle(v25, group + j)), m, a25);
                    a26 = fma(vec4<f32>(subgroupShuffle(v26, group + j)), m, a26);
                    a27 = fma(vec4<f32>(subgroupShuffle(v27, group + j)), m, a27);
                    a28 = fma(vec4<f32>(subgroupShuffle(v28, group + j)), m, a28);
                    a29 = fma(vec4<f32>(subgroupShuffle(v29, group + j)), m, a29);
                    a30 = fma(vec4<f32>(subgroupShuffle(v30, group + j)), m, a30);
                    a31 = fma(vec4<f32>(subgroupShuffle(v31, group + j)), m, a31);
                }
            }
            // The last C % 8 steps (all of them with fewer than 8 lanes), x read directly.
            for (; k0 < end; k0 = k0 + 1u) {
                let m = vec4<f32>(wte[w0 + k0], wte[w1 + k0], wte[w2 + k0], wte[w3 + k0]);
                a0 = fma(vec4<f32>(x[x0 + k0]), m, a0);
                a1 = fma(vec4<f32>(x[x1 + k0]), m, a1);
                a2 = fma(vec4<f32>(x[x2 + k0]), m, a2);
                a3 = fma(vec4<f32>(x[x3 + k0]), m, a3);
                a4 = fma(vec4<f32>(x[x4 + k0]), m, a4);
                a5 = fma(vec4<f32>(x[x5 + k0]), m, a5);
                a6 = fma(vec4<f32>(x[x6 + k0]), m, a6);
                a7 = fma(vec4<f32>(x[x7 + k0]), m, a7);
                a8 = fma(vec4<f32>(x[x8 + k0]), m, a8);
                a9 = fma(vec4<f32>(x[x9 + k0]), m, a9);
                a10 = fma(vec4<f32>(x[x10 + k0]), m, a10);
                a11 = fma(vec4<f32>(x[x11 + k0]), m, a11);
                a12 = fma(vec4<f32>(x[x12 + k0]), m, a12);
                a13 = fma(vec4<f32>(x[x13 + k0]), m, a13);
                a14 = fma(vec4<f32>(x[x14 + k0]), m, a14);
                a15 = fma(vec4<f32>(x[x15 + k0]), m, a15);
                a16 = fma(vec4<f32>(x[x16 + k0]), m, a16);
                a17 = fma(vec4<f32>(x[x17 + k0]), m, a17);
                a18 = fma(vec4<f32>(x[x18 + k0]), m, a18);
                a19 = fma(vec4<f32>(x[x19 + k0]), m, a19);
                a20 = fma(vec4<f32>(x[x20 + k0]), m, a20);
                a21 = fma(vec4<f32>(x[x21 + k0]), m, a21);
                a22 = fma(vec4<f32>(x[x22 + k0]), m, a22);
                a23 = fma(vec4<f32>(x[x23 + k0]), m, a23);
                a24 = fma(vec4<f32>(x[x24 + k0]), m, a24);
                a25 = fma(vec4<f32>(x[x25 + k0]), m, a25);
                a26 = fma(vec4<f32>(x[x26 + k0]), m, a26);
                a27 = fma(vec4<f32>(x[x27 + k0]), m, a27);
                a28 = fma(vec4<f32>(x[x28 + k0]), m, a28);
                a29 = fma(vec4<f32>(x[x29 + k0]), m, a29);
                a30 = fma(vec4<f32>(x[x30 + k0]), m, a30);
                a31 = fma(vec4<f32>(x[x31 + k0]), m, a31);
            }
            store(t0 + 0u, vr, a0);
            store(t0 + 1u, vr, a1);
            store(t0 + 2u, vr, a2);
            store(t0 + 3u, vr, a3);
            store(t0 + 4u, vr, a4);
            store(t0 + 5u, vr, a5);
            store(t0 + 6u, vr, a6);
            store(t0 + 7u, vr, a7);
            store(t0 + 8u, vr, a8);
            store(t0 + 9u, vr, a9);
            store(t0 + 10u, vr, a10);
            store(t0 + 11u, vr, a11);
            store(t0 + 12u, vr, a12);
            store(t0 + 13u, vr, a13);
            store(t0 + 14u, vr, a14);
            store(t0 + 15u, vr, a15);
            store(t0 + 16u, vr, a16);
            store(t0 + 17u, vr, a17);
            store(t0 + 18u, vr, a18);
            store(t0 + 19u, vr, a19);
            store(t0 + 20u, vr, a20);
            store(t0 + 21u, vr, a21);
            store(t0 + 22u, vr, a22);
            store(t0 + 23u, vr, a23);
            store(t0 + 24u, vr, a24);
            store(t0 + 25u, vr, a25);
            store(t0 + 26u, vr, a26);
            store(t0 + 27u, vr, a27);
            store(t0 + 28u, vr, a28);
            store(t0 + 29u, vr, a29);
            store(t0 + 30u, vr, a30);
            store(t0 + 31u, vr, a31);
        }
    }
}
