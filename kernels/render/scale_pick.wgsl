// Kernel: scale_pick/default
// About: the robust colour scale, step 3 of 3: per tensor, the top of the quarter octave that holds its (1 - tail) quantile of |value|.
// Op: colour scale for drawing. A few outlier channels (GPT-2 has some) then saturate instead of
//     washing every other cell out to the colour of zero.
// Bindings: 0 params, 1 absmax [tensors] as f32 bits, 2 bins [tensors * 64] (scale_histogram's),
//           3 scales [tensors] as f32 bits.
// Dispatch: (ceil(tensors / 64), 1, 1); one thread per tensor.
// Formula:  scale = absmax * 2^(-b / 4) for the first bin b (from the top) at which more than
//           tail * count values have been passed; never below absmax * 2^-16.

struct Params {
    tensors: u32,
    tail: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> absmax: array<u32>;
@group(0) @binding(2) var<storage, read> bins: array<u32>;
@group(0) @binding(3) var<storage, read_write> scales: array<u32>;

const BINS: u32 = 64u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let slot = id.x;
    if (slot >= p.tensors) {
        return;
    }
    var total = 0u;
    for (var b = 0u; b < BINS; b = b + 1u) {
        total = total + bins[slot * BINS + b];
    }
    let allowed = u32(floor(f32(total) * p.tail));
    var seen = 0u;
    var bin = BINS - 1u;
    for (var b = 0u; b < BINS; b = b + 1u) {
        seen = seen + bins[slot * BINS + b];
        if (seen > allowed) {
            bin = b;
            break;
        }
    }
    let top = bitcast<f32>(absmax[slot]);
    scales[slot] = bitcast<u32>(top * exp2(-f32(min(bin, BINS - 1u)) / 4.0));
}
