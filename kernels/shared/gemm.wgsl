// Shared helper: the register-tiled block product of linear/gemm and logits/gemm, made for
// GPUs. A 16 x 16 workgroup computes a block of BLOCK_ROWS rows by 128 columns; each thread
// keeps 4 * ROW_QUADS rows by 8 columns of sums in registers (`acc`: slot 2 * row + half).
// The shared dimension goes in slices of 8 channels through two buffers of workgroup memory:
// while the threads multiply one slice, the next one's loads from global memory are in
// flight, and one barrier per slice separates them. A row of the block lives in quad
// row / 4 of a slice, component row % 4 (`a_tile`); columns as quads (`b_tile`). A thread's
// rows are rq * 64 + 4 * lid.y .. + 3 and its columns 4 * lid.x .. + 3 and 64 + 4 * lid.x .. + 3,
// so that a warp's reads of workgroup memory are 16 neighbouring quads or one broadcast quad.
// The including kernel declares `x` (a storage array of f32) and `const ROW_QUADS: u32`
// (BLOCK_ROWS / 64).

const GEMM_COLS: u32 = 128u;
const GEMM_DEPTH: u32 = 8u;
// One slice is GEMM_DEPTH channels x 32 quads; two slices, double-buffered: 16 KiB in all, the
// smallest workgroup memory WebGPU promises.
const SLICE_QUADS: u32 = 256u;
var<workgroup> a_tile: array<vec4<f32>, 512>;
var<workgroup> b_tile: array<vec4<f32>, 512>;

fn gemm_rows() -> u32 {
    return BLOCK_ROWS;
}

// Channels 4 * (tid % 2) .. + 3 of slice row tid / 2 of the block: x[(first + r) * k + ...],
// zeros past `rows` rows and `k` channels. Without bounds checks when `interior`.
fn load_x_quad(interior: bool, tid: u32, first: u32, row0: u32, rows: u32, k0: u32, k: u32) -> vec4<f32> {
    let r = row0 + tid / 2u;
    let kx = k0 + (tid % 2u) * 4u;
    let at = (first + r) * k + kx;
    if (interior) {
        return vec4<f32>(x[at], x[at + 1u], x[at + 2u], x[at + 3u]);
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j = j + 1u) {
        if (r < rows && kx + j < k) {
            v[j] = x[at + j];
        }
    }
    return v;
}

// Where thread `tid`'s quad of 4 channels of one block row (as `load_x_quad` reads it) goes in
// slice `buf`, transposed: channel j of the quad is quad `slot + 32 * j`, component `lane`.
struct RowsQuadPlace {
    slot: u32,
    lane: u32,
}

fn rows_quad_place(buf: u32, tid: u32) -> RowsQuadPlace {
    let r = tid / 2u;
    return RowsQuadPlace(buf * SLICE_QUADS + (tid % 2u) * 4u * 32u + r / 4u, r % 4u);
}

fn stage_a_rows(buf: u32, tid: u32, v: vec4<f32>) {
    let at = rows_quad_place(buf, tid);
    a_tile[at.slot][at.lane] = v.x;
    a_tile[at.slot + 32u][at.lane] = v.y;
    a_tile[at.slot + 64u][at.lane] = v.z;
    a_tile[at.slot + 96u][at.lane] = v.w;
}

// The same for an operand stored row by row along the shared dimension (wte in logits).
fn stage_b_rows(buf: u32, tid: u32, v: vec4<f32>) {
    let at = rows_quad_place(buf, tid);
    b_tile[at.slot][at.lane] = v.x;
    b_tile[at.slot + 32u][at.lane] = v.y;
    b_tile[at.slot + 64u][at.lane] = v.z;
    b_tile[at.slot + 96u][at.lane] = v.w;
}

// The thread's sums plus slice `buf`'s products.
fn multiply_slice(buf: u32, lid: vec3<u32>, acc: ptr<function, array<vec4<f32>, 16>>) {
    for (var kk = 0u; kk < GEMM_DEPTH; kk = kk + 1u) {
        let at = buf * SLICE_QUADS + kk * 32u;
        let b0 = b_tile[at + lid.x];
        let b1 = b_tile[at + 16u + lid.x];
        for (var rq = 0u; rq < ROW_QUADS; rq = rq + 1u) {
            let a = a_tile[at + rq * 16u + lid.y];
            for (var i = 0u; i < 4u; i = i + 1u) {
                let slot = (rq * 4u + i) * 2u;
                (*acc)[slot] = fma(vec4<f32>(a[i]), b0, (*acc)[slot]);
                (*acc)[slot + 1u] = fma(vec4<f32>(a[i]), b1, (*acc)[slot + 1u]);
            }
        }
    }
}

// Block row and column of the thread's sum in `slot`, component j.
fn gemm_row(lid: vec3<u32>, slot: u32) -> u32 {
    return (slot / 8u) * 64u + lid.y * 4u + (slot / 2u) % 4u;
}

fn gemm_col(lid: vec3<u32>, slot: u32, j: u32) -> u32 {
    return (slot % 2u) * 64u + lid.x * 4u + j;
}
