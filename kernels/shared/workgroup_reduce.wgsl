// Shared helper: reductions over a 64-thread workgroup through workgroup memory, a tree of
// halving strides with a barrier at each level. Every thread gets the result. Included by
// kernels whose header says `// Include: shared/workgroup_reduce.wgsl`.

const WG: u32 = 64u;
var<workgroup> partial: array<f32, 64>;

// The largest `value` over the workgroup.
fn workgroup_max(lid: u32, value: f32) -> f32 {
    partial[lid] = value;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial[lid] = max(partial[lid], partial[lid + stride]);
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

// The sum of `value` over the workgroup.
fn workgroup_sum(lid: u32, value: f32) -> f32 {
    partial[lid] = value;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial[lid] = partial[lid] + partial[lid + stride];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}
