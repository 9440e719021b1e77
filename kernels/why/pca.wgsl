// Kernel: pca/default
// Op: the principal components of n points in c dimensions (the embedding space's 3D view),
//     by power iteration on the n x n Gram matrix of the centred points, deflated after each
//     component: n is small (the chosen tokens), c may be large (768), so the Gram matrix is the
//     cheap side.
// Bindings: 0 params, 1 points [n, c], 2 mean [c], 3 components [k, c], 4 variance [k],
//           5 gram [n, n] (scratch), 6 basis [k, n] (the Gram matrix's eigenvectors).
// Dispatch: (1, 1, 1); launched once per component q = `component` (0 first, which also
//           computes the mean and the Gram matrix): each launch reads what the earlier ones
//           wrote. One 64-thread workgroup: the mean, the Gram matrix, each step's G u and the
//           component spread over its threads; each step's O(n q) scalars worked out by every
//           thread alike.
// Formula:  X = points - mean; G = X X^T; u_q = the q-th eigenvector of G (start vector
//           u[a] = 1 + a mod 3, `iterations` steps of w = G u made orthogonal to u_0 .. u_{q-1}
//           in turn (w -= (u_p . w) u_p), u = w / |w|),
//           signed so that its largest entry is positive; l_q = u_q^T G u_q; variance[q] = l_q / n;
//           components[q] = X^T u_q / sqrt(l_q), or 0 where l_q <= 1e-6 l_0 (no spread left).

struct Params {
    n: u32,
    c: u32,
    k: u32,
    iterations: u32,
    component: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> points: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> components: array<f32>;
@group(0) @binding(4) var<storage, read_write> variance: array<f32>;
@group(0) @binding(5) var<storage, read_write> gram: array<f32>;
@group(0) @binding(6) var<storage, read_write> basis: array<f32>;

const MAX_POINTS: u32 = 512u;

var<workgroup> u: array<f32, 512>;
var<workgroup> w: array<f32, 512>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) local: vec3<u32>) {
    let lid = local.x;
    let n = min(p.n, MAX_POINTS);
    let q = p.component;
    if (q == 0u) {
        for (var j = lid; j < p.c; j = j + 64u) {
            var sum = 0.0;
            for (var a = 0u; a < n; a = a + 1u) {
                sum = sum + points[a * p.c + j];
            }
            mean[j] = sum / f32(n);
        }
        storageBarrier();
        workgroupBarrier();
        for (var pair = lid; pair < n * n; pair = pair + 64u) {
            let a = pair / n;
            let b = pair % n;
            var sum = 0.0;
            for (var j = 0u; j < p.c; j = j + 1u) {
                sum = sum + (points[a * p.c + j] - mean[j]) * (points[b * p.c + j] - mean[j]);
            }
            gram[pair] = sum;
        }
        storageBarrier();
    }
    for (var a = lid; a < n; a = a + 64u) {
        u[a] = 1.0 + f32(a % 3u);
    }
    workgroupBarrier();
    var lambda = 0.0;
    for (var iteration = 0u; iteration < p.iterations; iteration = iteration + 1u) {
        // w = G u, rows split over the threads.
        for (var a = lid; a < n; a = a + 64u) {
            var sum = 0.0;
            for (var b = 0u; b < n; b = b + 1u) {
                sum = sum + gram[a * n + b] * u[b];
            }
            w[a] = sum;
        }
        workgroupBarrier();
        // w made orthogonal to the earlier components one at a time (modified Gram-Schmidt):
        // every thread works out the same dot product, then updates its own rows. Kept free of
        // function-local arrays, which lavapipe indexed wrongly here for the third component.
        for (var prev = 0u; prev < q; prev = prev + 1u) {
            var along = 0.0;
            for (var a = 0u; a < n; a = a + 1u) {
                along = along + basis[prev * n + a] * w[a];
            }
            workgroupBarrier();
            for (var a = lid; a < n; a = a + 64u) {
                w[a] = w[a] - along * basis[prev * n + a];
            }
            workgroupBarrier();
        }
        // The norm and the Rayleigh quotient of what is left, again by every thread alike.
        var square = 0.0;
        var rayleigh = 0.0;
        for (var a = 0u; a < n; a = a + 1u) {
            square = square + w[a] * w[a];
            rayleigh = rayleigh + w[a] * u[a];
        }
        lambda = rayleigh;
        let norm = sqrt(square);
        workgroupBarrier();
        if (norm > 0.0) {
            for (var a = lid; a < n; a = a + 64u) {
                u[a] = w[a] / norm;
            }
        }
        workgroupBarrier();
    }
    // The sign: the largest entry (the first of equals) positive.
    var largest = 0u;
    for (var a = 1u; a < n; a = a + 1u) {
        if (abs(u[a]) > abs(u[largest])) {
            largest = a;
        }
    }
    let sign = select(1.0, -1.0, u[largest] < 0.0);
    // Variance of the first component, read back from the first launch's output.
    let first = variance[0] * f32(n);
    let keep = lambda > 0.0 && (q == 0u || lambda > 1e-6 * first);
    let kept = select(0.0, lambda, keep);
    workgroupBarrier();
    for (var a = lid; a < n; a = a + 64u) {
        u[a] = sign * u[a];
        basis[q * n + a] = u[a];
    }
    if (lid == 0u) {
        variance[q] = kept / f32(n);
    }
    workgroupBarrier();
    let scale = select(0.0, 1.0 / sqrt(kept), keep);
    for (var j = lid; j < p.c; j = j + 64u) {
        var sum = 0.0;
        for (var a = 0u; a < n; a = a + 1u) {
            sum = sum + (points[a * p.c + j] - mean[j]) * u[a];
        }
        components[q * p.c + j] = sum * scale;
    }
}
