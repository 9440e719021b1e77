// Shared helper: the register-tiled 64 x 64 block product of linear/tile64 and logits/tile64.
// A 16 x 16 workgroup walks the shared dimension in slices of 16: it stages the block's 64 rows
// of x (`stage_x`) and the slice of the other operand as 16 x 16 column quads in `w_tile` (each
// kernel loads its own layout), then every thread adds the slice to its 4 x 4 outputs
// (`multiply_slice`): rows 4 * lid.y .. + 3 and columns 4 * lid.x .. + 3 of the block. The
// including kernel declares `x` as a storage array of f32. Calls with barriers around them
// must be in uniform control flow.

const BLOCK: u32 = 64u;
const SLICE: u32 = 16u;
// x_tile[r * SLICE + kk]: row r of the block, channel kk of the slice.
var<workgroup> x_tile: array<f32, 1024>;
// w_tile[kk * 16 + q]: channel kk of the slice, columns 4q..4q+3 of the block.
var<workgroup> w_tile: array<vec4<f32>, 256>;

// Stages x[first + row0 + r, k0 .. k0 + 15] for the block's 64 rows r, 4 values per thread,
// zeros past `rows` rows and `k` channels (x's row length).
fn stage_x(tid: u32, first: u32, row0: u32, rows: u32, k0: u32, k: u32) {
    for (var i = 0u; i < 4u; i = i + 1u) {
        let e = tid + 256u * i;
        let r = row0 + e / SLICE;
        let kx = k0 + e % SLICE;
        var xv = 0.0;
        if (r < rows && kx < k) {
            xv = x[(first + r) * k + kx];
        }
        x_tile[e] = xv;
    }
}

// The thread's 4 x 4 outputs, one row of 4 columns per vec4, plus the staged slice's products.
fn multiply_slice(lid: vec3<u32>, acc: array<vec4<f32>, 4>) -> array<vec4<f32>, 4> {
    var out = acc;
    let xr = lid.y * 4u * SLICE;
    for (var kk = 0u; kk < SLICE; kk = kk + 1u) {
        let wq = w_tile[kk * 16u + lid.x];
        out[0] = fma(vec4<f32>(x_tile[xr + kk]), wq, out[0]);
        out[1] = fma(vec4<f32>(x_tile[xr + SLICE + kk]), wq, out[1]);
        out[2] = fma(vec4<f32>(x_tile[xr + 2u * SLICE + kk]), wq, out[2]);
        out[3] = fma(vec4<f32>(x_tile[xr + 3u * SLICE + kk]), wq, out[3]);
    }
    return out;
}
