// Shared helper: one query row's attention over a range of keys, 64 keys at a time, with the
// online softmax (FlashAttention's running max and sum): no row of scores is ever stored
// whole. Thread `lid` of the 64-thread workgroup scores key `start + lid` of each chunk; after
// one barrier every thread knows the chunk's max, turns its own score into a probability, and
// after a second every thread mixes the chunk's values into the output channels it owns
// (`lid` and `lid + 64`: head dimensions up to 128). The including kernel declares `q`, `k`
// and `v` as storage arrays. Calls must be in uniform control flow (the barriers).

const CHUNK: u32 = 64u;
var<workgroup> chunk_scores: array<f32, 64>;
var<workgroup> chunk_probs: array<f32, 64>;
// A private variable, not a const: browsers fold a constant bitcast and then refuse -inf.
var<private> NEG_INF_BITS: u32 = 0xff800000u;

// The running state: the largest score so far, the sum of exp(score - m) and the two output
// channels' sums of exp(score - m) * value. An empty range keeps m = -inf and l = 0.
struct Running {
    m: f32,
    l: f32,
    acc0: f32,
    acc1: f32,
}

// Keys first..end - 1. The query row starts at q[q_at]; key and value row j at
// k[kv_at + j * d] and v[kv_at + j * d].
fn attend(lid: u32, q_at: u32, kv_at: u32, first: u32, end: u32, d: u32, scale: f32) -> Running {
    var run = Running(bitcast<f32>(NEG_INF_BITS), 0.0, 0.0, 0.0);
    for (var start = first; start < end; start = start + CHUNK) {
        let j = start + lid;
        var score = bitcast<f32>(NEG_INF_BITS);
        if (j < end) {
            var dot = 0.0;
            for (var e = 0u; e < d; e = e + 1u) {
                dot = fma(q[q_at + e], k[kv_at + j * d + e], dot);
            }
            score = dot * scale;
        }
        chunk_scores[lid] = score;
        workgroupBarrier();
        let count = min(CHUNK, end - start);
        var m = run.m;
        for (var i = 0u; i < count; i = i + 1u) {
            m = max(m, chunk_scores[i]);
        }
        // exp(-inf) is 0: keys past the end weigh nothing, and so does the empty state.
        chunk_probs[lid] = exp(score - m);
        workgroupBarrier();
        let rescale = exp(run.m - m);
        var l = run.l * rescale;
        var acc0 = run.acc0 * rescale;
        var acc1 = run.acc1 * rescale;
        for (var i = 0u; i < count; i = i + 1u) {
            let prob = chunk_probs[i];
            let row = kv_at + (start + i) * d;
            l = l + prob;
            if (lid < d) {
                acc0 = fma(prob, v[row + lid], acc0);
            }
            if (lid + CHUNK < d) {
                acc1 = fma(prob, v[row + lid + CHUNK], acc1);
            }
        }
        run = Running(m, l, acc0, acc1);
    }
    return run;
}
