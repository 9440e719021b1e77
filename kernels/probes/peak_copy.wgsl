// Kernel: peak_copy/default
// Op: bandwidth probe for `glassbox bench`: a plain copy, the fastest way to move bytes.
// Bindings: 0 params, 1 src [n] vec4, 2 dst [n] vec4.
// Dispatch: fold(ceil(n / 64)); a 2D grid of 64-thread workgroups covering n vec4 elements.
// Formula:  dst[i] = src[i]; bytes moved = 2 * 16 * n.

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 64u;
    if (i >= p.n) {
        return;
    }
    dst[i] = src[i];
}
