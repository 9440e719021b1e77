// Kernel: heads/default
// Op: channels cut into heads (the Llama family's values, which rotary positions leave alone).
// Bindings: 0 params, 1 x [T, H * D], 2 y [H, T, D].
// Dispatch: (ceil(h * d / 64), t, 1); one thread per element.
// Formula:  y[h, t, e] = x[t, h * D + e]

struct Params {
    t: u32,
    h: u32,
    d: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    let t = gid.y;
    let c = p.h * p.d;
    if (col >= c || t >= p.t) {
        return;
    }
    let head = col / p.d;
    let e = col % p.d;
    y[(head * p.t + t) * p.d + e] = x[t * c + col];
}
