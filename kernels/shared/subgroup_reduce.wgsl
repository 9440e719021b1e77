// Shared helper: reductions over a 64-thread workgroup with subgroup operations: each subgroup
// reduces in registers (subgroupMax / subgroupAdd), then one barrier joins the subgroups'
// results through workgroup memory. Every thread gets the result. `subgroup` is the thread's
// subgroup index, `subgroups` how many the workgroup has. Needs the adapter's subgroups.

const WG: u32 = 64u;
// One entry per subgroup: 64 covers subgroups as small as one invocation.
var<workgroup> partial: array<f32, 64>;

// The largest `value` over the workgroup.
fn workgroup_max(subgroup: u32, subgroups: u32, value: f32) -> f32 {
    partial[subgroup] = subgroupMax(value);
    workgroupBarrier();
    var total = partial[0];
    for (var i = 1u; i < subgroups; i = i + 1u) {
        total = max(total, partial[i]);
    }
    workgroupBarrier();
    return total;
}

// The sum of `value` over the workgroup.
fn workgroup_sum(subgroup: u32, subgroups: u32, value: f32) -> f32 {
    partial[subgroup] = subgroupAdd(value);
    workgroupBarrier();
    var total = 0.0;
    for (var i = 0u; i < subgroups; i = i + 1u) {
        total = total + partial[i];
    }
    workgroupBarrier();
    return total;
}
