// Kernel: logits/subgroup
// About: one subgroup per vocabulary row, summed with subgroupAdd: no barrier (decode; where the adapter has subgroups)
// Needs: subgroups
// Op: logits, the subgroup variant for decode: one subgroup per vocabulary row, its lanes
//     reading the row side by side (full cache lines) and summing with subgroupAdd, so no
//     workgroup memory and no barrier. Needs the adapter's subgroup feature.
// Bindings: 0 params, 1 x [T, C], 2 wte [vocab_rows, C] (one chunk of the vocabulary, starting
//           at row vocab_start), 3 logits [t_rows, V] (one chunk of token rows, from t_offset).
// Dispatch: (ceil(vocab_rows / 8), t_rows, 1)
//           workgroup 64: 8 vocabulary rows, shared among its subgroups.
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

const ROWS: u32 = 8u;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) size: u32,
    @builtin(subgroup_id) subgroup: u32,
    @builtin(num_subgroups) subgroups: u32,
) {
    let t = group.y;
    let xrow = (p.t_offset + t) * p.c;
    for (var r = subgroup; r < ROWS; r = r + subgroups) {
        let vr = group.x * ROWS + r;
        var acc = 0.0;
        if (vr < p.vocab_rows) {
            let wrow = vr * p.c;
            for (var c = lane; c < p.c; c = c + size) {
                acc = fma(x[xrow + c], wte[wrow + c], acc);
            }
        }
        let total = subgroupAdd(acc);
        if (lane == 0u && vr < p.vocab_rows) {
            logits[t * p.vocab + p.vocab_start + vr] = total;
        }
    }
}
