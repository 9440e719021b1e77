// Kernel: attribute_heads/default
// Op: each head's direct effect on a logit: its slice of the merged attention output through its
//     rows of c_proj, onto the attribution direction; then the projection bias's.
// Bindings: 0 params, 1 direction [c], 2 rstd [t], 3 merged [t, c], 4 weight [c, c] (Conv1D,
//           [in, out]), 5 bias [c], 6 out [h + 1].
// Dispatch: (h + 1, 1, 1); workgroup g < h is head g, workgroup h the bias; 64 threads split
//           the output channels and reduce in workgroup memory.
// Formula:  out[g] = rstd[position] * sum_{r in g's D channels} merged[position, r] (weight[r] . direction);
//           out[h] = rstd[position] * (bias . direction).

struct Params {
    t: u32,
    h: u32,
    d: u32,
    position: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> direction: array<f32>;
@group(0) @binding(2) var<storage, read> rstd: array<f32>;
@group(0) @binding(3) var<storage, read> merged: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

var<workgroup> sums: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = p.h * p.d;
    let head = wid.x;
    var acc = 0.0;
    if (head == p.h) {
        for (var j = lid.x; j < c; j = j + 64u) {
            acc = acc + bias[j] * direction[j];
        }
    } else {
        for (var r = head * p.d; r < (head + 1u) * p.d; r = r + 1u) {
            let m = merged[p.position * c + r];
            var along = 0.0;
            for (var j = lid.x; j < c; j = j + 64u) {
                along = along + weight[r * c + j] * direction[j];
            }
            acc = acc + m * along;
        }
    }
    sums[lid.x] = acc;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            sums[lid.x] = sums[lid.x] + sums[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        out[head] = rstd[p.position] * sums[0];
    }
}
