// Shared helper: one 32-value block of a weight row dotted with 32 channels of x, the quants'
// sum and x's sum kept apart: sum x (d q + m) = d (x . q) + m sum x, two multiplies a block
// instead of 32. The including kernel declares `x` (array<vec4<f32>>) and includes
// shared/blocks.wgsl; `x0` is the first of the 8 quads of x.

fn block_dot(format: u32, at: u32, x0: u32) -> f32 {
    let scale = block_scale(format, at);
    var xq = 0.0;
    var xsum = vec4<f32>(0.0);
    for (var g = 0u; g < 8u; g = g + 1u) {
        xq = xq + dot(block_quants(format, at, g), x[x0 + g]);
        xsum = xsum + x[x0 + g];
    }
    return scale.x * xq + scale.y * dot(xsum, vec4<f32>(1.0));
}
