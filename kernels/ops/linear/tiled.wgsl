// Kernel: linear/tiled
// About: 16 x 16 tiles staged in workgroup memory
// Op: linear layer, the workgroup-tiled variant: a 16 x 16 workgroup stages a 16 x 16 tile of the
// input and of the weights in workgroup memory, so each value read from memory serves 16 threads.
// Bindings: 0 params, 1 x [rows, K], 2 w [K, N], 3 b [N], 4 y [rows, N].
// Dispatch: (ceil(n / 16), ceil(rows / 16), 1); workgroup 16 x 16.
// Formula:  y[r, n] = b[n] + sum_k x[r, k] * w[k, n]

struct Params {
    rows: u32,
    k: u32,
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TILE: u32 = 16u;
// x_tile[i * TILE + kk]: row i of the block, channel kk of the current tile.
var<workgroup> x_tile: array<f32, 256>;
// w_tile[kk * TILE + j]: channel kk of the current tile, column j of the block.
var<workgroup> w_tile: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let col = wid.x * TILE + lid.x;
    let row = wid.y * TILE + lid.y;
    var acc = 0.0;
    let tiles = (p.k + TILE - 1u) / TILE;
    for (var t = 0u; t < tiles; t = t + 1u) {
        // Outside the matrices the tiles hold zeros, which add nothing.
        let kx = t * TILE + lid.x;
        var xv = 0.0;
        if (row < p.rows && kx < p.k) {
            xv = x[row * p.k + kx];
        }
        x_tile[lid.y * TILE + lid.x] = xv;
        let kw = t * TILE + lid.y;
        var wv = 0.0;
        if (kw < p.k && col < p.n) {
            wv = w[kw * p.n + col];
        }
        w_tile[lid.y * TILE + lid.x] = wv;
        workgroupBarrier();
        for (var i = 0u; i < TILE; i = i + 1u) {
            acc = fma(x_tile[lid.y * TILE + i], w_tile[i * TILE + lid.x], acc);
        }
        workgroupBarrier();
    }
    if (row < p.rows && col < p.n) {
        y[row * p.n + col] = acc + b[col];
    }
}
