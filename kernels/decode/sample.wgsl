// Kernel: sample/default
// Op: the next token from one row of logits, on the device: greedy, or a seeded draw from the
//     softmax at a temperature, cut to the top k tokens and then to the top p of the mass.
// Bindings: 0 params, 1 logits [V], 2 sampling [5] u32 (temperature as f32 bits, top_k or 0,
//           top_p as f32 bits, seed low, seed high), 3 position [1] u32, 4 next [1] u32.
// Dispatch: (1, 1, 1)
// Formula:  temperature <= 0: next = argmax (the first on ties). Otherwise w_i =
//           exp((x_i - max) / T) for the tokens kept: x_i at least the k-th largest logit
//           (ties kept), then the fewest largest whose w adds up to p of the total (found by
//           bisection on the logits' bit patterns). u = hash(seed, position) in [0, 1);
//           next = the first i, in vocabulary order, whose running sum of w passes u * sum w.

struct Params {
    v: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> sampling: array<u32>;
@group(0) @binding(3) var<storage, read> position: array<u32>;
@group(0) @binding(4) var<storage, read_write> next: array<u32>;

const WG: u32 = 256u;
// A private variable, not a const: browsers fold a constant bitcast and then refuse -inf.
var<private> NEG_INF_BITS: u32 = 0xff800000u;
var<workgroup> partial_f: array<f32, 256>;
var<workgroup> partial_u: array<u32, 256>;

// Maps f32 to u32 so that the order of the floats is the order of the integers.
fn order_key(x: f32) -> u32 {
    let bits = bitcast<u32>(x);
    if ((bits & 0x80000000u) != 0u) {
        return ~bits;
    }
    return bits | 0x80000000u;
}

fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn sum_f32(lid: u32, value: f32) -> f32 {
    partial_f[lid] = value;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial_f[lid] = partial_f[lid] + partial_f[lid + stride];
        }
        workgroupBarrier();
    }
    let total = workgroupUniformLoad(&partial_f[0]);
    return total;
}

fn sum_u32(lid: u32, value: u32) -> u32 {
    partial_u[lid] = value;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial_u[lid] = partial_u[lid] + partial_u[lid + stride];
        }
        workgroupBarrier();
    }
    let total = workgroupUniformLoad(&partial_u[0]);
    return total;
}

// How many logits have a key of at least `threshold`.
fn count_at_least(lid: u32, threshold: u32) -> u32 {
    var count = 0u;
    for (var i = lid; i < p.v; i = i + WG) {
        if (order_key(logits[i]) >= threshold) {
            count = count + 1u;
        }
    }
    return sum_u32(lid, count);
}

// The unnormalised probability of token i when tokens below `threshold` are cut.
fn weight(i: u32, threshold: u32, max_logit: f32, temperature: f32) -> f32 {
    let x = logits[i];
    if (order_key(x) < threshold) {
        return 0.0;
    }
    return exp((x - max_logit) / temperature);
}

fn mass_at_least(lid: u32, threshold: u32, max_logit: f32, temperature: f32) -> f32 {
    var mass = 0.0;
    for (var i = lid; i < p.v; i = i + WG) {
        mass = mass + weight(i, threshold, max_logit, temperature);
    }
    return sum_f32(lid, mass);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) local: vec3<u32>) {
    let lid = local.x;
    let temperature = bitcast<f32>(sampling[0]);
    let top_k = sampling[1];
    let top_p = bitcast<f32>(sampling[2]);

    // The largest logit and its first index.
    var best = bitcast<f32>(NEG_INF_BITS);
    var best_index = 0xffffffffu;
    for (var i = lid; i < p.v; i = i + WG) {
        if (logits[i] > best) {
            best = logits[i];
            best_index = i;
        }
    }
    partial_f[lid] = best;
    partial_u[lid] = best_index;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            let other = partial_f[lid + stride];
            let other_index = partial_u[lid + stride];
            if (other > partial_f[lid] || (other == partial_f[lid] && other_index < partial_u[lid])) {
                partial_f[lid] = other;
                partial_u[lid] = other_index;
            }
        }
        workgroupBarrier();
    }
    let max_logit = workgroupUniformLoad(&partial_f[0]);
    let argmax = workgroupUniformLoad(&partial_u[0]);
    if (!(temperature > 0.0)) {
        if (lid == 0u) {
            next[0] = argmax;
        }
        return;
    }

    // Top-k: the largest key that at least k logits reach is the k-th largest.
    var threshold = 0u;
    if (top_k > 0u && top_k < p.v) {
        var lo = 0u;
        var hi = 0xffffffffu;
        loop {
            if (lo >= hi) {
                break;
            }
            let mid = lo + (hi - lo) / 2u + 1u;
            if (count_at_least(lid, mid) >= top_k) {
                lo = mid;
            } else {
                hi = mid - 1u;
            }
        }
        threshold = lo;
    }

    // Top-p: the largest key whose tokens still hold p of the mass.
    var total = mass_at_least(lid, threshold, max_logit, temperature);
    if (top_p > 0.0 && top_p < 1.0) {
        let wanted = top_p * total;
        var lo = threshold;
        var hi = 0xffffffffu;
        loop {
            if (lo >= hi) {
                break;
            }
            let mid = lo + (hi - lo) / 2u + 1u;
            if (mass_at_least(lid, mid, max_logit, temperature) >= wanted) {
                lo = mid;
            } else {
                hi = mid - 1u;
            }
        }
        threshold = lo;
        total = mass_at_least(lid, threshold, max_logit, temperature);
    }

    // The draw: each thread sums one contiguous block; thread 0 walks the blocks in order.
    let block = (p.v + WG - 1u) / WG;
    let start = min(lid * block, p.v);
    let end = min(start + block, p.v);
    var mass = 0.0;
    for (var i = start; i < end; i = i + 1u) {
        mass = mass + weight(i, threshold, max_logit, temperature);
    }
    partial_f[lid] = mass;
    workgroupBarrier();
    if (lid != 0u) {
        return;
    }
    let u = f32(pcg(sampling[4] ^ pcg(sampling[3] ^ pcg(position[0]))) >> 8u) / 16777216.0;
    let target_mass = u * total;
    var running = 0.0;
    var chosen = argmax;
    for (var b = 0u; b < WG; b = b + 1u) {
        if (running + partial_f[b] <= target_mass) {
            running = running + partial_f[b];
            continue;
        }
        // The draw lands in block b; if rounding makes it miss, the block's last kept token.
        let block_end = min(b * block + block, p.v);
        for (var i = b * block; i < block_end; i = i + 1u) {
            let w = weight(i, threshold, max_logit, temperature);
            if (w > 0.0) {
                chosen = i;
                running = running + w;
                if (running > target_mass) {
                    break;
                }
            }
        }
        break;
    }
    next[0] = chosen;
}
