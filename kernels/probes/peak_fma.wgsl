// Kernel: peak_fma/default
// Op: arithmetic probe for `glassbox bench`: independent chains of fused multiply-adds that
// never touch memory in the loop.
// Bindings: 0 params, 1 out [threads] (written once so the work cannot be optimised away).
// Dispatch: fold(ceil(threads / 64)); a 2D grid of 64-thread workgroups covering `threads`.
// Formula:  each thread runs `iterations` rounds of 8 vec4 FMAs: flops = threads * iterations * 64.

struct Params {
    threads: u32,
    iterations: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 64u;
    if (i >= p.threads) {
        return;
    }
    let seed = f32(i) * 1e-9;
    let m = vec4<f32>(0.999, 0.998, 0.997, 0.996);
    let a = vec4<f32>(1e-4);
    var r0 = vec4<f32>(seed);
    var r1 = r0 + 1.0;
    var r2 = r0 + 2.0;
    var r3 = r0 + 3.0;
    var r4 = r0 + 4.0;
    var r5 = r0 + 5.0;
    var r6 = r0 + 6.0;
    var r7 = r0 + 7.0;
    for (var it = 0u; it < p.iterations; it = it + 1u) {
        r0 = fma(r0, m, a);
        r1 = fma(r1, m, a);
        r2 = fma(r2, m, a);
        r3 = fma(r3, m, a);
        r4 = fma(r4, m, a);
        r5 = fma(r5, m, a);
        r6 = fma(r6, m, a);
        r7 = fma(r7, m, a);
    }
    let s = r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7;
    out[i] = s.x + s.y + s.z + s.w;
}
