// Kernel: rope/default
// Op: rotary position embeddings: queries or keys cut into heads, each head's channel pairs
//     (i, i + D/2) turned by an angle that grows with the position, faster for low i.
// Bindings: 0 params, 1 x [T, heads * D], 2 y [heads, T, D].
// Dispatch: (ceil(d / 2 / 64), t, heads); one thread per (pair, position, head).
// Include: shared/rope.wgsl
// Formula:  f_i = theta^(-2i / D) (with llama3 scaling: f_i / factor where the wavelength
//           2 pi / f_i is above context / low, f_i below context / high, blended between);
//           a = (first + t) f_i; y[h, t, i] = x[t, hD + i] cos a - x[t, hD + i + D/2] sin a;
//           y[h, t, i + D/2] = x[t, hD + i + D/2] cos a + x[t, hD + i] sin a

struct Params {
    t: u32,
    heads: u32,
    d: u32,
    first: u32,
    theta: f32,
    scaled: u32,
    factor: f32,
    low_freq_factor: f32,
    high_freq_factor: f32,
    context: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let t = gid.y;
    let head = gid.z;
    let half = p.d / 2u;
    if (i >= half || t >= p.t || head >= p.heads) {
        return;
    }
    let f = rope_inv_freq(i, p.d, p.theta, p.scaled, p.factor, p.low_freq_factor, p.high_freq_factor, p.context);
    let turn = rope_cos_sin(p.first + t, f);
    let c = turn.x;
    let s = turn.y;
    let src_at = t * p.heads * p.d + head * p.d;
    let a = x[src_at + i];
    let b = x[src_at + i + half];
    let dst_at = (head * p.t + t) * p.d;
    y[dst_at + i] = a * c - b * s;
    y[dst_at + i + half] = b * c + a * s;
}
