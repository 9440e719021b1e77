// Shared helper: ggml's weight blocks read where they lie, from a storage array of u32 words
// `w` holding the GGUF file's bytes as they are (a Q8_0 block is 34 bytes, so blocks and their
// fields may start at any even byte). Types by ggml's ids: Q4_0 = 2, Q4_1 = 3, Q8_0 = 8 (blocks
// of 32 values); F32 = 0, F16 = 1, BF16 = 30 (one value a block), Q4_K = 12 and Q6_K = 14
// (super-blocks of 256). The including kernel declares `w`.

// The four bytes from byte `byte` on, little-endian (two words when they straddle one).
fn word_at(byte: u32) -> u32 {
    let i = byte >> 2u;
    let shift = (byte & 3u) * 8u;
    if (shift == 0u) {
        return w[i];
    }
    return (w[i] >> shift) | (w[i + 1u] << (32u - shift));
}

fn byte_at(byte: u32) -> u32 {
    return (w[byte >> 2u] >> ((byte & 3u) * 8u)) & 0xffu;
}

// The f16 at an even byte, widened by hand (unpack2x16float needs a capability WebGPU does
// not promise): subnormals, infinities and NaNs included.
fn half_at(byte: u32) -> f32 {
    let h = (w[byte >> 2u] >> ((byte & 2u) * 8u)) & 0xffffu;
    let sign = (h & 0x8000u) << 16u;
    let exponent = (h >> 10u) & 31u;
    let mantissa = h & 0x3ffu;
    if (exponent == 0u) {
        let magnitude = f32(mantissa) * 5.9604645e-8;
        return select(magnitude, -magnitude, sign != 0u);
    }
    if (exponent == 31u) {
        return bitcast<f32>(sign | 0x7f800000u | (mantissa << 13u));
    }
    return bitcast<f32>(sign | ((exponent + 112u) << 23u) | (mantissa << 13u));
}

// Values per block and bytes per block of a type.
fn block_values(format: u32) -> u32 {
    switch format {
        case 0u, 1u, 30u: { return 1u; }
        case 12u, 14u: { return 256u; }
        default: { return 32u; }
    }
}

fn block_bytes(format: u32) -> u32 {
    switch format {
        case 0u: { return 4u; }
        case 1u, 30u: { return 2u; }
        case 2u: { return 18u; }
        case 3u: { return 20u; }
        case 12u: { return 144u; }
        case 14u: { return 210u; }
        default: { return 34u; }
    }
}

// The four nibbles at bits 0..3 of each byte of `word`.
fn nibbles(word: u32) -> vec4<f32> {
    return vec4<f32>(f32(word & 15u), f32((word >> 8u) & 15u), f32((word >> 16u) & 15u), f32(word >> 24u));
}

// The four signed bytes of `word`.
fn signed_bytes(word: u32) -> vec4<f32> {
    let v = bitcast<vec4<i32>>(vec4<u32>(word << 24u, word << 16u, word << 8u, word)) >> vec4<u32>(24u);
    return vec4<f32>(v);
}

// The scale d and offset m of the 32-value block (Q4_0, Q4_1 or Q8_0) at byte `at`: value =
// d * q + m. Q4_0's q - 8 is d * q - 8d: d is an f16, so both products are exact in f32 and the
// values are bit for bit the CPU reference's.
fn block_scale(format: u32, at: u32) -> vec2<f32> {
    let d = half_at(at);
    switch format {
        case 3u: { return vec2<f32>(d, half_at(at + 2u)); }
        case 2u: { return vec2<f32>(d, -8.0 * d); }
        default: { return vec2<f32>(d, 0.0); }
    }
}

// Quants 4g .. 4g + 3 (g in 0..8) of that block. A 4-bit block keeps values j and j + 16 in the
// low and high nibbles of byte j.
fn block_quants(format: u32, at: u32, g: u32) -> vec4<f32> {
    switch format {
        case 3u: {
            return nibbles((word_at(at + 4u + 4u * (g % 4u)) >> (4u * (g / 4u))) & 0x0f0f0f0fu);
        }
        case 2u: {
            return nibbles((word_at(at + 2u + 4u * (g % 4u)) >> (4u * (g / 4u))) & 0x0f0f0f0fu);
        }
        default: {
            return signed_bytes(word_at(at + 2u + 4u * g));
        }
    }
}

// Values 4g .. 4g + 3 of that block.
fn block_group(format: u32, at: u32, g: u32) -> vec4<f32> {
    let scale = block_scale(format, at);
    return block_quants(format, at, g) * scale.x + scale.y;
}
