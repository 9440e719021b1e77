// Kernel: matmul_q/rows
// About: one output a thread over its whole weight row: no workgroup memory, no barrier (CPU adapters)
// Op: a linear layer or the logits with quantized weights (Q4_0, Q4_1, Q8_0), for one token or
//     a few, on CPU adapters (lavapipe), where a workgroup runs as a loop on one core and a
//     barrier costs more than it buys: each thread walks one weight row, block by block.
// Bindings: 0 params, 1 x [.., k] as quads (rows from x_row_offset), 2 w: n rows of k / 32
//           blocks (the file's bytes), 3 b [n], 4 y [rows, n].
// Dispatch: (ceil(n / 64), rows, 1); workgroup 64.
// Formula:  y[r, j] = b[j] + sum_k x[x_row_offset + r, k] * (d * q + m)[j, k]
// Include: shared/blocks.wgsl
// Include: shared/block_dot.wgsl

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

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let r = gid.y;
    if (j >= p.n) {
        return;
    }
    let blocks = p.k / 32u;
    let size = block_bytes(p.format);
    let xrow = (p.x_row_offset + r) * p.k / 4u;
    var acc = 0.0;
    for (var blk = 0u; blk < blocks; blk = blk + 1u) {
        acc = acc + block_dot(p.format, (j * blocks + blk) * size, xrow + 8u * blk);
    }
    y[r * p.n + j] = acc + b[j];
}
