// Kernel: gelu/wrong
// About: a wrong GELU (the identity), to test that the window flags it
// Op: GELU, the tanh approximation GPT-2 uses.
// Bindings: 0 params, 1 x [n], 2 y [n].
// Dispatch: fold(ceil(n / 64)); a 2D grid of 64-thread workgroups covering n (x first, then y rows of x-width), so
//           that n may exceed 65535 workgroups in one dimension.
// Formula:  y = 0.5 x (1 + tanh(u)), u = sqrt(2 / pi) (x + 0.044715 x^3), u clamped to +-10 where
//           tanh is 1 in f32 anyway, because tanh built on exp overflows for large |u|.

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const SQRT_2_OVER_PI: f32 = 0.7978846;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 64u;
    if (i >= p.n) {
        return;
    }
    let v = x[i];
    let u = clamp(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v), -10.0, 10.0);
    y[i] = v + 0.0 * u;
}
