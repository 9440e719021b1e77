// Kernel: scale_histogram/default
// About: the robust colour scale, step 2 of 3: counts a tensor's |values| per quarter octave below its largest.
// Op: colour scale for drawing. After absmax, before scale_pick.
// Bindings: 0 params, 1 x [n] (one chunk of a tensor), 2 absmax [tensors] as f32 bits,
//           3 bins [tensors * 64] (atomic counts).
// Dispatch: (min(ceil(n / 256), 1024), 1, 1); each workgroup strides over the chunk.
// Formula:  bin(v) = clamp(floor(4 * log2(absmax / |v|)), 0, 63); zeros and values 16 octaves
//           or more below the largest share bin 63; infinities (masked scores) are not counted.

struct Params {
    n: u32,
    slot: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> absmax: array<u32>;
@group(0) @binding(3) var<storage, read_write> bins: array<atomic<u32>>;

const BINS: u32 = 64u;

var<workgroup> counts: array<atomic<u32>, 64>;

@compute @workgroup_size(256)
fn main(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    if (lid < BINS) {
        atomicStore(&counts[lid], 0u);
    }
    workgroupBarrier();
    let top = bitcast<f32>(absmax[p.slot]);
    for (var i = wg.x * 256u + lid; i < p.n; i = i + groups.x * 256u) {
        let v = abs(x[i]);
        if (v <= 3.4028234e38) {
            var bin = BINS - 1u;
            if (v > 0.0 && top > 0.0) {
                bin = u32(clamp(floor(4.0 * log2(top / v)), 0.0, f32(BINS - 1u)));
            }
            atomicAdd(&counts[bin], 1u);
        }
    }
    workgroupBarrier();
    if (lid < BINS) {
        let count = atomicLoad(&counts[lid]);
        if (count > 0u) {
            atomicAdd(&bins[p.slot * BINS + lid], count);
        }
    }
}
