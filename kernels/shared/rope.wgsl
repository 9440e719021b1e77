// Shared helper: the rotary angle of channel pair i at a position, as transformers computes it,
// returned as its cosine and sine. Included by kernels whose header says
// `// Include: shared/rope.wgsl`.

const ROPE_TAU: f32 = 6.2831855;

// theta^(-2i / D) in f32; with llama3 scaling (`scaled` = 1), divided by `factor` where the
// wavelength 2 pi / f is above context / low, kept where it is below context / high, and
// blended between.
fn rope_inv_freq(i: u32, d: u32, theta: f32, scaled: u32, factor: f32, low: f32, high: f32, context: f32) -> f32 {
    let base = 1.0 / pow(theta, f32(2u * i) / f32(d));
    if (scaled == 0u) {
        return base;
    }
    let wavelen = ROPE_TAU / base;
    if (wavelen < context / high) {
        return base;
    }
    if (wavelen > context / low) {
        return base / factor;
    }
    let blend = (context / wavelen - low) / (high - low);
    return (1.0 - blend) * base / factor + blend * base;
}

// (cos, sin) of position * inv_freq: the product is the f32 transformers computes; it is brought
// into [-pi, pi] first because WGSL only bounds the error of cos and sin there.
fn rope_cos_sin(position: u32, inv_freq: f32) -> vec2<f32> {
    let angle = f32(position) * inv_freq;
    let turned = angle - ROPE_TAU * round(angle / ROPE_TAU);
    return vec2<f32>(cos(turned), sin(turned));
}
