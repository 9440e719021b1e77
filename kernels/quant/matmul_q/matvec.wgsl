// Kernel: matmul_q/matvec
// About: 32 outputs x 8 lanes per workgroup, each lane dotting whole blocks of a weight row (decode)
// Op: a linear layer or the logits with quantized weights (Q4_0, Q4_1, Q8_0), for one token or
//     a few: memory-bound, so each weight block is read once, as the file stores it, and its
//     values made in registers. Eight neighbouring lanes take neighbouring blocks of one row.
// Bindings: 0 params, 1 x [.., k] as quads (rows from x_row_offset), 2 w: n rows of k / 32 blocks (the
//           file's bytes), 3 b [n], 4 y [rows, n].
// Dispatch: (ceil(n / 32), rows, 1); workgroup 256: output lid / 8, lane lid % 8.
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

const LANES: u32 = 8u;
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let lane = lid % LANES;
    let j = group.x * (256u / LANES) + lid / LANES;
    let r = group.y;
    let blocks = p.k / 32u;
    let size = block_bytes(p.format);
    var acc = 0.0;
    if (j < p.n) {
        let xrow = (p.x_row_offset + r) * p.k / 4u;
        for (var blk = lane; blk < blocks; blk = blk + LANES) {
            acc = acc + block_dot(p.format, (j * blocks + blk) * size, xrow + 8u * blk);
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var half = LANES / 2u; half > 0u; half = half / 2u) {
        if (lane < half) {
            partial[lid] = partial[lid] + partial[lid + half];
        }
        workgroupBarrier();
    }
    if (lane == 0u && j < p.n) {
        y[r * p.n + j] = partial[lid] + b[j];
    }
}
