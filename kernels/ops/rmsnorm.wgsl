// Kernel: rmsnorm/default
// Op: RMSNorm, one 64-thread workgroup per row: the squares summed in workgroup memory.
// Bindings: 0 params, 1 x [rows, C], 2 weight [C], 3 y [rows, C], 4 rstd [rows].
// Dispatch: (rows, 1, 1)
// Formula:  rstd = 1 / sqrt(sum(x^2) / C + eps); y = x * rstd * weight

struct Params {
    rows: u32,
    c: u32,
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
    let row = group.x;
    let lid = local.x;
    let base = row * p.c;
    var sum = 0.0;
    for (var i = lid; i < p.c; i = i + 64u) {
        let v = x[base + i];
        sum = fma(v, v, sum);
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial[lid] = partial[lid] + partial[lid + stride];
        }
        workgroupBarrier();
    }
    let r = 1.0 / sqrt(partial[0] / f32(p.c) + p.eps);
    for (var i = lid; i < p.c; i = i + 64u) {
        y[base + i] = x[base + i] * r * weight[i];
    }
    if (lid == 0u) {
        rstd[row] = r;
    }
}
