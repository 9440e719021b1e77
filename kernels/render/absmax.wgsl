// Kernel: absmax/default
// Op: colour scale for drawing: the largest |value| of one tensor (chunk), kept per tensor.
// Bindings: 0 params, 1 x [n] (one chunk of a tensor), 2 absmax [tensors] as f32 bits
//           (atomic u32: for non-negative floats the bit patterns order like the values).
// Dispatch: (min(ceil(n / 256), 1024), 1, 1); each workgroup strides over the chunk.
// Formula:  absmax[slot] = max(absmax[slot], max_i |x[i]|), infinities (masked scores) skipped.

struct Params {
    n: u32,
    slot: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> absmax: array<atomic<u32>>;

var<workgroup> best: atomic<u32>;

@compute @workgroup_size(256)
fn main(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    if (lid == 0u) {
        atomicStore(&best, 0u);
    }
    workgroupBarrier();
    var m = 0.0;
    for (var i = wg.x * 256u + lid; i < p.n; i = i + groups.x * 256u) {
        let v = abs(x[i]);
        if (v <= 3.4028234e38) {
            m = max(m, v);
        }
    }
    atomicMax(&best, bitcast<u32>(m));
    workgroupBarrier();
    if (lid == 0u) {
        atomicMax(&absmax[p.slot], atomicLoad(&best));
    }
}
