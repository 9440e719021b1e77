// Kernel: layernorm/workgroup
// About: one 64-thread workgroup per row, reductions in workgroup memory
// Include: shared/workgroup_reduce.wgsl
// Op: layer norm over the channels of each row, keeping the row's mean and 1/std.
// Bindings: 0 params, 1 x [rows, C], 2 weight [C], 3 bias [C], 4 y [rows, C], 5 mean [rows],
//           6 rstd [rows].
// Dispatch: (rows, 1, 1)
// Formula:  mean = sum(x) / C; var = sum((x - mean)^2) / C; rstd = 1 / sqrt(var + eps);
//           y = (x - mean) * rstd * weight + bias

struct Params {
    rows: u32,
    c: u32,
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = wg.x;
    let base = row * p.c;
    let n = f32(p.c);

    var s = 0.0;
    for (var i = lid; i < p.c; i = i + WG) {
        s = s + x[base + i];
    }
    let m = workgroup_sum(lid, s) / n;

    var v = 0.0;
    for (var i = lid; i < p.c; i = i + WG) {
        let d = x[base + i] - m;
        v = v + d * d;
    }
    let r = 1.0 / sqrt(workgroup_sum(lid, v) / n + p.eps);

    for (var i = lid; i < p.c; i = i + WG) {
        y[base + i] = (x[base + i] - m) * r * weight[i] + bias[i];
    }
    if (lid == 0u) {
        mean[row] = m;
        rstd[row] = r;
    }
}
