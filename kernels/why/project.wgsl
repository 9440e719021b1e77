// Kernel: project/default
// Op: points placed in the principal components' space (the embedding space's 3D view).
// Bindings: 0 params, 1 x [rows, c], 2 mean [c], 3 components [k, c], 4 coords [rows, k].
// Dispatch: (ceil(rows * k / 64), 1, 1); one thread per coordinate.
// Formula:  coords[r, q] = (x[r] - mean) . components[q].

struct Params {
    rows: u32,
    c: u32,
    k: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> components: array<f32>;
@group(0) @binding(4) var<storage, read_write> coords: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.rows * p.k) {
        return;
    }
    let r = i / p.k;
    let q = i % p.k;
    var sum = 0.0;
    for (var j = 0u; j < p.c; j = j + 1u) {
        sum = sum + (x[r * p.c + j] - mean[j]) * components[q * p.c + j];
    }
    coords[i] = sum;
}
