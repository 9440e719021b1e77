// Kernel: head_scores/default
// Op: what each head's attention pattern does, as four numbers per head.
// Bindings: 0 params, 1 probs [h, t, t], 2 ids [t], 3 scores [h, 4].
// Dispatch: (h, 1, 1); one 64-thread workgroup per head, each thread a strided set of query
//           rows, then a reduction in workgroup memory.
// Formula:  over the queries i >= 1: previous token = mean p[i, i-1], first token = mean p[i, 0],
//           diagonal = mean p[i, i]; induction = mean, over the queries i whose token occurred
//           before, of sum_{j < i, id[j] = id[i]} p[i, j + 1] (attention to what followed the
//           earlier occurrence); 0 when no token repeats, and all four 0 when t = 1.

struct Params {
    t: u32,
    h: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;

var<workgroup> sums: array<vec4<f32>, 64>;
var<workgroup> repeats: array<u32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let head = wid.x;
    let t = p.t;
    var acc = vec4<f32>(0.0);
    var repeated = 0u;
    for (var i = 1u + lid.x; i < t; i = i + 64u) {
        let row = (head * t + i) * t;
        acc.x = acc.x + probs[row + i - 1u];
        acc.y = acc.y + probs[row];
        acc.z = acc.z + probs[row + i];
        var induction = 0.0;
        var seen = false;
        for (var j = 0u; j < i; j = j + 1u) {
            if (ids[j] == ids[i]) {
                induction = induction + probs[row + j + 1u];
                seen = true;
            }
        }
        if (seen) {
            acc.w = acc.w + induction;
            repeated = repeated + 1u;
        }
    }
    sums[lid.x] = acc;
    repeats[lid.x] = repeated;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            sums[lid.x] = sums[lid.x] + sums[lid.x + stride];
            repeats[lid.x] = repeats[lid.x] + repeats[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        let queries = f32(max(t, 2u) - 1u);
        let total = sums[0];
        scores[head * 4u] = total.x / queries;
        scores[head * 4u + 1u] = total.y / queries;
        scores[head * 4u + 2u] = total.z / queries;
        scores[head * 4u + 3u] = total.w / f32(max(repeats[0], 1u));
    }
}
