// Draw: one tensor panel, a rows x cols grid of cells coloured by the values in the storage
// buffer a compute kernel wrote (bound as-is: nothing is copied).
// Bindings: group 0: 0 camera (view-projection), 1 panel (dynamic offset), 2 absmax per tensor;
//           group 1: 0 values, the tensor's buffer (or one chunk of it); 1 the same cells as
//           the CPU reference computed them (for the difference view; else the buffer itself).
// Draw:     6 vertices, one quad per instance; the heads of a tensor are instances of one draw,
//           each shifted by instance_dx in x and instance_offset in the buffer. The fragment
//           shader finds the cell under each pixel, so the cost grows with pixels, not with cells.
// Colour:   u = value / absmax of the tensor; negative blue, positive orange, zero dark grey, with
//           sqrt(|u|) so that small values stay visible; -inf (masked attention) is drawn hatched.
//           Difference view: e = |value - reference| / (tolerance * max(1, absmax)), the share
//           of the tolerance (2e-4, what `glassbox check` allows; 1e-2 for f16 storage); dark
//           at 0, yellow towards 1 on a log scale from 1e-4, red past it.

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
    // 0: colour by value; 1: colour by |value| / absmax on a single-hue scale; 2: colour by
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
}

@group(0) @binding(0) var<uniform> camera: Camera;
@group(0) @binding(1) var<uniform> panel: Panel;
@group(0) @binding(2) var<storage, read> absmax: array<u32>;
@group(1) @binding(0) var<storage, read> values: array<f32>;
@group(1) @binding(1) var<storage, read> reference: array<f32>;

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
}

@vertex
fn vs_main(@builtin(vertex_index) index: u32, @builtin(instance_index) instance: u32) -> VertexOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    let uv = corners[index];
    // Rows grow downwards (-y) from the panel's top-left corner.
    let shift = f32(instance) * panel.instance_dx;
    let world = panel.origin + vec3<f32>(shift + uv.x * panel.size.x, -uv.y * panel.size.y, 0.0);
    var out: VertexOut;
    out.position = camera.view_proj * vec4<f32>(world, 1.0);
    out.uv = uv;
    out.instance = instance;
    return out;
}

fn diverging(u: f32) -> vec3<f32> {
    let zero = vec3<f32>(0.13, 0.14, 0.16);
    let negative = vec3<f32>(0.25, 0.55, 1.0);
    let positive = vec3<f32>(1.0, 0.55, 0.15);
    let t = sqrt(min(abs(u), 1.0));
    return mix(zero, select(positive, negative, u < 0.0), t);
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let dims = vec2<f32>(f32(panel.cols), f32(panel.rows));
    let cell_f = in.uv * dims;
    let cell = min(vec2<u32>(cell_f), vec2<u32>(panel.cols - 1u, panel.rows - 1u));
    // Pixel size in uv units, for borders one pixel wide whatever the zoom.
    let pixel = fwidth(in.uv);
    let edge = min(min(in.uv.x, 1.0 - in.uv.x) / max(pixel.x, 1e-9), min(in.uv.y, 1.0 - in.uv.y) / max(pixel.y, 1e-9));
    var width = 1.0;
    if (panel.state >= 2u) {
        width = 3.0;
    }
    if (edge < width) {
        return panel.frame_color;
    }
    if (panel.state == 0u) {
        return vec4<f32>(0.07, 0.075, 0.085, 1.0);
    }

    let base = panel.offset + in.instance * panel.instance_offset;
    let index = base + cell.y * panel.row_stride + cell.x * panel.col_stride;
    var value = values[index];
    var color: vec3<f32>;
    if (panel.mode == 2u) {
        let expected = reference[index];
        let scale = max(bitcast<f32>(absmax[panel.slot]), 1.0);
        var share = 0.0;
        if (value != expected) {
            // A NaN, or an infinity on one side only, is past any tolerance.
            share = abs(value - expected) / (panel.tolerance * scale);
            if (!(share <= 3.4028235e38)) {
                share = 2.0;
            }
        }
        color = error_color(share);
    } else if (panel.integer_scale != 0u) {
        let id = f32(bitcast<u32>(value));
        color = mix(vec3<f32>(0.2, 0.2, 0.22), vec3<f32>(0.95, 0.95, 0.95), id / f32(panel.integer_scale));
    } else if (value < -3.4028235e38) {
        let stripe = fract((in.position.x + in.position.y) / 8.0) < 0.5;
        color = select(vec3<f32>(0.05), vec3<f32>(0.1), stripe);
    } else {
        let scale = max(bitcast<f32>(absmax[panel.slot]), 1e-12);
        if (panel.mode == 1u) {
            color = mix(vec3<f32>(0.13, 0.14, 0.16), vec3<f32>(0.35, 1.0, 0.55), sqrt(min(abs(value) / scale, 1.0)));
        } else {
            color = diverging(value / scale);
        }
    }
    let head_matches = panel.highlight_head == 0xffffffffu || panel.highlight_head == in.instance;
    if (head_matches && (cell.y == panel.highlight_row || cell.x == panel.highlight_col)) {
        color = mix(color, vec3<f32>(1.0, 1.0, 0.6), 0.35);
    }
    // Cell borders once cells are at least 6 pixels wide.
    let cell_pixels = 1.0 / max(pixel * dims, vec2<f32>(1e-9));
    let inside = fract(cell_f);
    let border = (inside.x * cell_pixels.x < 1.0 && cell_pixels.x > 6.0) || (inside.y * cell_pixels.y < 1.0 && cell_pixels.y > 6.0);
    if (border) {
        color = color * 0.55;
    }
    return vec4<f32>(color, 1.0);
}
