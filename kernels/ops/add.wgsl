// Kernel: add/default
// Op: residual add.
// Bindings: 0 params, 1 a [n], 2 b [n], 3 y [n].
// Dispatch: fold(ceil(n / 64)); a 2D grid of 64-thread workgroups covering n (x first, then y rows of x-width).
// Formula:  y = a + b

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 64u;
    if (i >= p.n) {
        return;
    }
    y[i] = a[i] + b[i];
}
