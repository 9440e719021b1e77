// Kernel: layernorm/row
// About: one thread per row
// Op: layer norm, the one-thread-per-row variant (no workgroup memory, no barriers).
// Bindings: 0 params, 1 x [rows, C], 2 weight [C], 3 bias [C], 4 y [rows, C], 5 mean [rows],
//           6 rstd [rows].
// Dispatch: (ceil(rows / 64), 1, 1)
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
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.c;
    let n = f32(p.c);
    var s = 0.0;
    for (var i = 0u; i < p.c; i = i + 1u) {
        s = s + x[base + i];
    }
    let m = s / n;
    var v = 0.0;
    for (var i = 0u; i < p.c; i = i + 1u) {
        let d = x[base + i] - m;
        v = v + d * d;
    }
    let r = 1.0 / sqrt(v / n + p.eps);
    for (var i = 0u; i < p.c; i = i + 1u) {
        y[base + i] = (x[base + i] - m) * r * weight[i] + bias[i];
    }
    mean[row] = m;
    rstd[row] = r;
}
