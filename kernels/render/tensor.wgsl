// Draw: one tensor slab, a rows x cols grid of cells coloured by the values in the storage buffer
// a compute kernel wrote (bound as-is: nothing is copied), on the front face of a box whose
// sides are lit and tinted by the tensor's role.
// Bindings: group 0: 0 camera (view-projection), 1 panel (dynamic offset), 2 absmax per tensor,
//           3 colour scale per tensor as f32 bits (the robust scale scale_pick chose),
//           4 per cell of the animated op's output, the rank of the workgroup that wrote it;
//           group 1: 0 values, the tensor's buffer (or one chunk of it); 1 the same cells as
//           the CPU reference computed them (for the difference view; else the buffer itself).
// Draw:     36 vertices (6 faces), one box per instance; the heads of a tensor are instances of
//           one draw, each shifted by instance_dx in x and instance_offset in the buffer. The
//           fragment shader finds the cell under each pixel, so the cost grows with pixels, not
//           with cells.
// Colour:   u = value / scale of the tensor, clamped to [-1, 1]. Signed values: a diverging map
//           after Crameri's "berlin" (perceptually uniform, colour-blind safe): light blue at
//           -1, near black at 0, light red at +1. Probabilities: viridis from 0 to the scale.
//           -inf (masked attention) is drawn hatched. Difference view:
//           e = |value - reference| / (tolerance * max(1, absmax)), the share of the tolerance;
//           dark at 0, yellow towards 1 on a log scale from 1e-4, red past it.

struct Camera {
    view_proj: mat4x4<f32>,
    viewport: vec2<f32>,
}

struct Panel {
    origin: vec3<f32>,
    // 0: not computed yet, 1: computed, 2: input of the current op, 3: output of the current op.
    state: u32,
    size: vec2<f32>,
    rows: u32,
    cols: u32,
    offset: u32,
    row_stride: u32,
    col_stride: u32,
    slot: u32,
    frame_color: vec4<f32>,
    highlight_row: u32,
    highlight_col: u32,
    // 0: colour by signed value; 1: probabilities (sequential map); 2: colour by
    // |value - reference| against the tolerance.
    mode: u32,
    instance_dx: f32,
    instance_offset: u32,
    // The instance (head) the highlighted row or column belongs to; 0xffffffff: every one.
    highlight_head: u32,
    // Non-zero for u32 tensors (token ids): the values are integers, coloured up to this.
    integer_scale: u32,
    // The difference view's tolerance: 2e-4 for f32 storage, 1e-2 (drift) for f16.
    tolerance: f32,
    // The slab's material: its side faces and the grid lines every 8 cells.
    side_color: vec4<f32>,
    // 0: drawn fully; towards 1: faded into the background (not part of the current op).
    ghost: f32,
    // Thickness of the slab, in world units (towards -z).
    depth: f32,
    // While the op writing this tensor is animated: cells written by workgroups that started
    // after this rank are drawn empty, and those of this rank lit; 0xffffffff: all shown.
    reveal: u32,
}

@group(0) @binding(0) var<uniform> camera: Camera;
@group(0) @binding(1) var<uniform> panel: Panel;
@group(0) @binding(2) var<storage, read> absmax: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<u32>;
@group(0) @binding(4) var<storage, read> ranks: array<u32>;
@group(1) @binding(0) var<storage, read> values: array<f32>;
@group(1) @binding(1) var<storage, read> reference: array<f32>;

const BACKGROUND = vec3<f32>(0.925, 0.93, 0.94);
const LIGHT = vec3<f32>(-0.35, 0.75, 0.56);

// The colour of an error that uses `share` of the tolerance.
fn error_color(share: f32) -> vec3<f32> {
    if (share > 1.0) {
        return vec3<f32>(1.0, 0.12, 0.1);
    }
    let t = clamp((log2(max(share, 1e-4)) + 13.29) / 13.29, 0.0, 1.0);
    return mix(vec3<f32>(0.1, 0.11, 0.13), vec3<f32>(1.0, 0.9, 0.2), t);
}

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(1) @interpolate(flat) instance: u32,
    @location(2) @interpolate(flat) face: u32,
}

// Where corner (a, b) of face `face` lies in the box, as (across, down, into) in 0..1.
fn box_corner(face: u32, a: f32, b: f32) -> vec3<f32> {
    switch face {
        case 0u: { return vec3<f32>(a, b, 0.0); }
        case 1u: { return vec3<f32>(1.0 - a, b, 1.0); }
        case 2u: { return vec3<f32>(a, 0.0, b); }
        case 3u: { return vec3<f32>(a, 1.0, b); }
        case 4u: { return vec3<f32>(0.0, b, a); }
        default: { return vec3<f32>(1.0, b, a); }
    }
}

fn face_normal(face: u32) -> vec3<f32> {
    var normals = array<vec3<f32>, 6>(
        vec3<f32>(0.0, 0.0, 1.0), vec3<f32>(0.0, 0.0, -1.0), vec3<f32>(0.0, 1.0, 0.0),
        vec3<f32>(0.0, -1.0, 0.0), vec3<f32>(-1.0, 0.0, 0.0), vec3<f32>(1.0, 0.0, 0.0),
    );
    return normals[face];
}

@vertex
fn vs_main(@builtin(vertex_index) index: u32, @builtin(instance_index) instance: u32) -> VertexOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    let face = index / 6u;
    let corner = corners[index % 6u];
    let p = box_corner(face, corner.x, corner.y);
    // Rows grow downwards (-y) from the panel's top-left corner; the slab goes back from z = 0.
    let shift = f32(instance) * panel.instance_dx;
    let world = panel.origin + vec3<f32>(shift + p.x * panel.size.x, -p.y * panel.size.y, -p.z * panel.depth);
    var out: VertexOut;
    out.position = camera.view_proj * vec4<f32>(world, 1.0);
    out.uv = p.xy;
    out.instance = instance;
    out.face = face;
    return out;
}

// After Crameri's "berlin": light blue, near black at zero, light red.
fn diverging(u: f32) -> vec3<f32> {
    var stops = array<vec3<f32>, 5>(
        vec3<f32>(0.62, 0.69, 0.99), vec3<f32>(0.20, 0.50, 0.70), vec3<f32>(0.07, 0.06, 0.05),
        vec3<f32>(0.58, 0.22, 0.10), vec3<f32>(1.0, 0.68, 0.66),
    );
    let x = (clamp(u, -1.0, 1.0) + 1.0) * 2.0;
    let i = min(u32(x), 3u);
    return mix(stops[i], stops[i + 1u], x - f32(i));
}

// viridis, as a polynomial fit (Matt Zucker's, public domain).
fn viridis(t: f32) -> vec3<f32> {
    let c0 = vec3<f32>(0.2777273272234177, 0.005407344544966578, 0.3340998053353061);
    let c1 = vec3<f32>(0.1050930431085774, 1.404613529898575, 1.384590162594685);
    let c2 = vec3<f32>(-0.3308618287255563, 0.214847559468213, 0.09509516302823659);
    let c3 = vec3<f32>(-4.634230498983486, -5.799100973351585, -19.33244095627987);
    let c4 = vec3<f32>(6.228269936347081, 14.17993336680509, 56.69055260068105);
    let c5 = vec3<f32>(4.776384997670288, -13.74514537774601, -65.35303263337234);
    let c6 = vec3<f32>(-5.435455855934631, 4.645852612178535, 26.3124352495832);
    let x = clamp(t, 0.0, 1.0);
    return clamp(c0 + x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * (c5 + x * c6))))), vec3<f32>(0.0), vec3<f32>(1.0));
}

// The colour of one cell's value.
fn cell_color(index: u32, pixel: vec2<f32>) -> vec3<f32> {
    let value = values[index];
    if (panel.mode == 2u) {
        let expected = reference[index];
        let scale = max(bitcast<f32>(absmax[panel.slot]), 1.0);
        var share = 0.0;
        if (value != expected) {
            // A NaN, or an infinity on one side only, is past any tolerance.
            share = abs(value - expected) / (panel.tolerance * scale);
            if (!(share <= 3.4028234e38)) {
                share = 2.0;
            }
        }
        return error_color(share);
    }
    if (panel.integer_scale != 0u) {
        let id = f32(bitcast<u32>(value));
        return mix(vec3<f32>(0.25, 0.26, 0.3), vec3<f32>(0.95, 0.95, 0.97), id / f32(panel.integer_scale));
    }
    if (value < -3.4028234e38) {
        let stripe = fract((pixel.x + pixel.y) / 8.0) < 0.5;
        return select(vec3<f32>(0.78, 0.79, 0.81), vec3<f32>(0.86, 0.87, 0.89), stripe);
    }
    let scale = max(bitcast<f32>(scales[panel.slot]), 1e-30);
    if (panel.mode == 1u) {
        return viridis(value / scale);
    }
    return diverging(value / scale);
}

fn front_color(in: VertexOut, pixel: vec2<f32>) -> vec3<f32> {
    let dims = vec2<f32>(f32(panel.cols), f32(panel.rows));
    let cell_f = in.uv * dims;
    let cell = min(vec2<u32>(cell_f), vec2<u32>(panel.cols - 1u, panel.rows - 1u));
    // `pixel` is a pixel's size in uv units: lines a set number of pixels wide whatever the zoom.
    let edge = min(min(in.uv.x, 1.0 - in.uv.x) / max(pixel.x, 1e-9), min(in.uv.y, 1.0 - in.uv.y) / max(pixel.y, 1e-9));
    var width = 1.5;
    if (panel.state >= 2u) {
        width = 4.0;
    }
    if (edge < width) {
        return panel.frame_color.rgb;
    }
    let empty = vec3<f32>(0.84, 0.85, 0.87);
    var color = empty;
    if (panel.state != 0u) {
        let base = panel.offset + in.instance * panel.instance_offset;
        let index = base + cell.y * panel.row_stride + cell.x * panel.col_stride;
        color = cell_color(index, in.position.xy);
        if (panel.reveal != 0xffffffffu) {
            let rank = ranks[min(index, arrayLength(&ranks) - 1u)];
            if (rank > panel.reveal) {
                color = empty;
            } else if (rank == panel.reveal) {
                color = mix(color, vec3<f32>(1.0, 0.85, 0.2), 0.55);
            }
        }
    }
    let head_matches = panel.highlight_head == 0xffffffffu || panel.highlight_head == in.instance;
    if (head_matches && (cell.y == panel.highlight_row || cell.x == panel.highlight_col)) {
        color = mix(color, vec3<f32>(1.0, 0.93, 0.35), 0.45);
    }
    // Grid lines: a fine one around each cell once cells are 5 pixels wide, a line in the
    // slab's material every 8 cells once 8 cells are 6 pixels wide.
    let cell_pixels = 1.0 / max(pixel * dims, vec2<f32>(1e-9));
    let inside = fract(cell_f);
    let fine = (inside.x * cell_pixels.x < 1.0 && cell_pixels.x > 5.0) || (inside.y * cell_pixels.y < 1.0 && cell_pixels.y > 5.0);
    let block = fract(cell_f / 8.0) * 8.0;
    let strong = (block.x * cell_pixels.x < 1.2 && cell_pixels.x * 8.0 > 6.0 && cell_f.x > 1.0)
        || (block.y * cell_pixels.y < 1.2 && cell_pixels.y * 8.0 > 6.0 && cell_f.y > 1.0);
    if (strong) {
        color = mix(color, panel.side_color.rgb * 0.8, 0.8);
    } else if (fine) {
        color = mix(color, vec3<f32>(0.5, 0.52, 0.56), 0.35);
    }
    return color;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    // Derivatives only in uniform control flow (WebGPU insists): before the branch on the face.
    let pixel = fwidth(in.uv);
    var color: vec3<f32>;
    if (in.face == 0u) {
        color = front_color(in, pixel);
    } else {
        let light = 0.55 + 0.45 * max(dot(face_normal(in.face), normalize(LIGHT)), 0.0);
        color = panel.side_color.rgb * light;
    }
    return vec4<f32>(mix(color, BACKGROUND, panel.ghost), 1.0);
}
