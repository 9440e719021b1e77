// Kernel: matmul_q/tiled
// About: 64 x 64 output tiles; each weight block made into values once per tile, in workgroup memory (prefill)
// Op: a linear layer or the logits with quantized weights (Q4_0, Q4_1, Q8_0), for many tokens:
//     a 16 x 16 workgroup computes 64 rows by 64 outputs, 4 x 4 sums a thread. The shared
//     dimension goes one block (32 channels) at a time: the workgroup stages 64 rows of x and
//     the 64 weight blocks, turned into values once, then every thread multiplies from there.
// Bindings: 0 params, 1 x [.., k] as quads (rows from x_row_offset), 2 w: n rows of k / 32 blocks (the
//           file's bytes), 3 b [n], 4 y [rows, n].
// Dispatch: (ceil(n / 64), ceil(rows / 64), 1); workgroup 16 x 16.
// Formula:  y[r, j] = b[j] + sum_k x[x_row_offset + r, k] * (d * q + m)[j, k]
// Include: shared/blocks.wgsl

struct Params {
    rows: u32,
    k: u32,
    n: u32,
    x_row_offset: u32,
    format: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

// 64 rows (or outputs) x 32 channels each, as 8 quads a row: 16 KiB together.
var<workgroup> x_tile: array<vec4<f32>, 512>;
var<workgroup> w_tile: array<vec4<f32>, 512>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
    let row0 = group.y * 64u;
    let col0 = group.x * 64u;
    let blocks = p.k / 32u;
    let size = block_bytes(p.format);
    var acc: array<vec4<f32>, 4>;
    for (var blk = 0u; blk < blocks; blk = blk + 1u) {
        // Each thread stages two of the 512 quads of x and of w: slot s (tid, tid + 256) is
        // quad s % 8 of row (output) s / 8.
        for (var half = 0u; half < 2u; half = half + 1u) {
            let slot = tid + 256u * half;
            let e = slot / 8u;
            let g = slot % 8u;
            var xq = vec4<f32>(0.0);
            let r = row0 + e;
            if (r < p.rows) {
                xq = x[((p.x_row_offset + r) * p.k + 32u * blk) / 4u + g];
            }
            x_tile[slot] = xq;
            var wq = vec4<f32>(0.0);
            let j = col0 + e;
            if (j < p.n) {
                wq = block_group(p.format, (j * blocks + blk) * size, g);
            }
            w_tile[slot] = wq;
        }
        workgroupBarrier();
        for (var g = 0u; g < 8u; g = g + 1u) {
            var ws: array<vec4<f32>, 4>;
            for (var c = 0u; c < 4u; c = c + 1u) {
                ws[c] = w_tile[(lid.x + 16u * c) * 8u + g];
            }
            for (var i = 0u; i < 4u; i = i + 1u) {
                let xq = x_tile[(lid.y + 16u * i) * 8u + g];
                acc[i] = acc[i] + vec4<f32>(dot(xq, ws[0]), dot(xq, ws[1]), dot(xq, ws[2]), dot(xq, ws[3]));
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i = i + 1u) {
        let r = row0 + lid.y + 16u * i;
        if (r >= p.rows) {
            continue;
        }
        for (var c = 0u; c < 4u; c = c + 1u) {
            let j = col0 + lid.x + 16u * c;
            if (j < p.n) {
                y[r * p.n + j] = acc[i][c] + b[j];
            }
        }
    }
}
