// Kernel: dequant/default
// Op: a weight's blocks (the GGUF file's bytes) made into f32 values, four a thread, for any
//     type glassbox reads: F32, F16, BF16, Q4_0, Q4_1, Q8_0 (blocks of 32), Q4_K and Q6_K
//     (super-blocks of 256 whose sub-block scales are quantized too). The same formulas, in
//     the same order, as the CPU reference's `GgmlType::dequantize`.
// Bindings: 0 params, 1 w: rows of row_len values in blocks, 2 y [rows, row_len], or
//           [row_len, rows] when transposed (a projection, which the graph holds as [in, out]).
// Dispatch: fold(ceil(rows * row_len / 256)); a 2D grid of 64-thread workgroups, four values a thread.
// Formula:  y = d * q + m, per block type
// Include: shared/blocks.wgsl

struct Params {
    rows: u32,
    row_len: u32,
    format: u32,
    transposed: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// Sub-block j's 6-bit scale and minimum from Q4_K's 12 packed bytes at `at` (ggml's
// get_scale_min_k4).
fn scale_min_k4(j: u32, at: u32) -> vec2<f32> {
    if (j < 4u) {
        return vec2<f32>(f32(byte_at(at + j) & 63u), f32(byte_at(at + j + 4u) & 63u));
    }
    let sc = (byte_at(at + j + 4u) & 15u) | ((byte_at(at + j - 4u) >> 6u) << 4u);
    let m = (byte_at(at + j + 4u) >> 4u) | ((byte_at(at + j) >> 6u) << 4u);
    return vec2<f32>(f32(sc), f32(m));
}

// Value i (0..256) of the Q4_K super-block at `at`: d * scale * q - dmin * min; each 32 bytes of
// nibbles hold two sub-blocks, the low nibbles the first.
fn q4_k(at: u32, i: u32) -> f32 {
    let pair = i / 64u;
    let high = (i % 64u) / 32u;
    let sm = scale_min_k4(2u * pair + high, at + 4u);
    let q = (byte_at(at + 16u + 32u * pair + i % 32u) >> (4u * high)) & 15u;
    let scale = half_at(at) * sm.x;
    let minimum = half_at(at + 2u) * sm.y;
    return scale * f32(q) - minimum;
}

// Value i (0..256) of the Q6_K super-block at `at`: d * scale * (6-bit q - 32). Each half (128
// values) takes 64 bytes of low nibbles (ql), 32 of high bit pairs (qh) and 8 signed scales.
fn q6_k(at: u32, i: u32) -> f32 {
    let half = i / 128u;
    let quarter = (i % 128u) / 32u;
    let l = i % 32u;
    let low_byte = byte_at(at + 64u * half + l + 32u * (quarter % 2u));
    let low = (low_byte >> (4u * (quarter / 2u))) & 15u;
    let high = (byte_at(at + 128u + 32u * half + l) >> (2u * quarter)) & 3u;
    let q = i32(low | (high << 4u)) - 32;
    let scale = f32((i32(byte_at(at + 192u + 8u * half + l / 16u + 2u * quarter)) << 24u) >> 24u);
    return half_at(at + 208u) * scale * f32(q);
}

// Value `col` of row `row`.
fn value(row: u32, col: u32) -> f32 {
    let per = block_values(p.format);
    let at = (row * (p.row_len / per) + col / per) * block_bytes(p.format);
    let i = col % per;
    switch p.format {
        case 0u: { return bitcast<f32>(w[at / 4u]); }
        case 1u: { return half_at(at); }
        case 30u: { return bitcast<f32>(((w[at >> 2u] >> ((at & 2u) * 8u)) & 0xffffu) << 16u); }
        case 12u: { return q4_k(at, i); }
        case 14u: { return q6_k(at, i); }
        default: { return block_group(p.format, at, i / 4u)[i % 4u]; }
    }
}

fn store(e: u32, v: f32) {
    var to = e;
    if (p.transposed != 0u) {
        to = (e % p.row_len) * p.rows + e / p.row_len;
    }
    y[to] = v;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let first = 4u * (gid.x + gid.y * groups.x * 64u);
    // The 32-value blocks four values at once (a group never straddles two blocks or rows).
    if ((p.format == 2u || p.format == 3u || p.format == 8u) && first < p.rows * p.row_len) {
        let at = (first / 32u) * block_bytes(p.format);
        let values = block_group(p.format, at, (first % 32u) / 4u);
        for (var i = 0u; i < 4u; i = i + 1u) {
            store(first + i, values[i]);
        }
        return;
    }
    for (var e = first; e < min(first + 4u, p.rows * p.row_len); e = e + 1u) {
        store(e, value(e / p.row_len, e % p.row_len));
    }
}
