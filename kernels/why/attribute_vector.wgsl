// Kernel: attribute_vector/default
// Op: one residual-stream term's direct effect on a logit (the embedding, an MLP's output).
// Bindings: 0 params, 1 direction [c], 2 rstd [t], 3 x [t, c], 4 out [1].
// Dispatch: (1, 1, 1); one 64-thread workgroup reducing the dot product in workgroup memory.
// Formula:  out = rstd[position] * (x[position] . direction).

struct Params {
    t: u32,
    c: u32,
    position: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> direction: array<f32>;
@group(0) @binding(2) var<storage, read> rstd: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> sums: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
    let row = p.position * p.c;
    var acc = 0.0;
    for (var j = lid.x; j < p.c; j = j + 64u) {
        acc = acc + x[row + j] * direction[j];
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
        out[0] = rstd[p.position] * sums[0];
    }
}
