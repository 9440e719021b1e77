//! Where every tensor of the graph sits in the 3D scene. Computed once per graph (when the model
//! or the sequence length changes), never per frame.
//!
//! Data flows downwards: the token ids at the top, one row per op below (the op's outputs, its
//! aggregates to their right, the weights it reads to the left), the probabilities at the bottom.
//! Tensors with a head axis are drawn as one panel per head, side by side.

use glam::{Vec2, Vec3};

use super::flow::{Arrow, CORRIDOR};
use crate::graph::{Dim, Graph, Role, TensorId};

/// One drawn rectangle: a 2D view of (part of) a tensor's buffer.
#[derive(Clone, Debug)]
pub struct Panel {
    pub tensor: TensorId,
    /// Which buffer chunk of the tensor this panel reads.
    pub chunk: usize,
    /// Top-left corner in world units; rows grow towards -y, columns towards +x.
    pub origin: Vec3,
    pub size: Vec2,
    pub rows: usize,
    pub cols: usize,
    /// Element offset of cell (0, 0) in the chunk, and the strides of rows and columns.
    pub offset: usize,
    pub row_stride: usize,
    pub col_stride: usize,
    /// The head this panel shows, for tensors with a head axis.
    pub head: Option<usize>,
    /// What the rows and columns count, for labels.
    pub row_dim: Option<Dim>,
    pub col_dim: Dim,
}

impl Panel {
    /// The world-space centre of the panel.
    pub fn center(&self) -> Vec3 {
        self.origin + Vec3::new(self.size.x / 2.0, -self.size.y / 2.0, 0.0)
    }

    /// The cell under a point of the panel's plane, if inside.
    pub fn cell_at(&self, point: Vec3) -> Option<(usize, usize)> {
        let u = (point.x - self.origin.x) / self.size.x;
        let v = (self.origin.y - point.y) / self.size.y;
        if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
            return None;
        }
        let col = ((u * self.cols as f32) as usize).min(self.cols - 1);
        let row = ((v * self.rows as f32) as usize).min(self.rows - 1);
        Some((row, col))
    }

    /// The element index in the whole tensor (not the chunk) of a cell.
    pub fn element(&self, row: usize, col: usize, chunk_start_element: usize) -> usize {
        chunk_start_element + self.offset + row * self.row_stride + col * self.col_stride
    }
}

/// A named region of the scene (a transformer block, the embedding, the output head), for the
/// outline and for flying the camera there.
#[derive(Clone, Debug)]
pub struct Region {
    pub name: String,
    pub min: Vec2,
    pub max: Vec2,
    /// Its ops (rows of panels): `first_op..first_op + ops`.
    pub first_op: usize,
    pub ops: usize,
}

#[derive(Clone, Debug)]
pub struct Layout {
    pub panels: Vec<Panel>,
    /// Per op: the vertical band its row occupies (top y, bottom y).
    pub op_rows: Vec<(f32, f32)>,
    pub regions: Vec<Region>,
    pub min: Vec2,
    pub max: Vec2,
    /// How thick every slab is, in world units (from z = 0 back to -slab_depth).
    pub slab_depth: f32,
    /// Per op: the column its row is in.
    pub op_columns: Vec<usize>,
    /// The columns, one per block (the embedding joins the first, the output head the last).
    pub columns: Vec<Column>,
    /// The width of a column's slot in the grid, gap included.
    pub slot_width: f32,
    /// The data-flow arrows, routed around the panels.
    pub arrows: Vec<Arrow>,
    /// Bounds of each tensor's panels, by tensor id (None for tensors not drawn).
    bounds: Vec<Option<(Vec2, Vec2)>>,
}

/// Space between panels, in world units.
pub const GAP: f32 = 6.0;
/// Space between the columns of the grid, and between its lines.
pub const COLUMN_GAP: f32 = 8.0 * GAP;
const LINE_GAP: f32 = 10.0 * GAP;

/// One column of the grid: a block's rows, their weights left of the corridor, activations right.
#[derive(Clone, Debug)]
pub struct Column {
    /// Left and right edges of its panels.
    pub left: f32,
    pub right: f32,
    /// Where its corridor starts (x); the corridor is CORRIDOR wide.
    pub corridor: f32,
    /// The y its first row (or the token ids) starts below.
    pub top: f32,
    /// Which line of the grid it is on (0: the top line).
    pub line: usize,
}

/// The column each op's row goes in: its block's; ops before the first block join it, ops
/// after the last join that.
fn op_columns(graph: &Graph) -> Vec<usize> {
    let blocks: Vec<Option<usize>> = graph
        .ops
        .iter()
        .map(|op| {
            op.name
                .strip_prefix("h.")
                .and_then(|rest| rest.split('.').next())
                .and_then(|n| n.parse().ok())
        })
        .collect();
    let mut column = 0;
    blocks
        .iter()
        .map(|b| {
            if let Some(b) = b {
                column = *b;
            }
            column
        })
        .collect()
}

/// How long each axis of a tensor is drawn, in world units. Token axes get square cells scaled
/// up so that a short prompt is not a sliver beside the weights; other long axes (a weight's
/// input channels, the vocabulary) are squeezed so that no panel dwarfs the activations. Labels
/// always give the true sizes.
struct Extents {
    token: f32,
    max_rows: f32,
    max_cols: f32,
}

impl Extents {
    fn new(graph: &Graph) -> Extents {
        let (t, c) = (graph.seq_len as f32, graph.config.n_embd as f32);
        let token = (c / (2.0 * t)).clamp(1.0, 16.0);
        Extents {
            token,
            max_rows: (1.5 * t * token).max(24.0),
            max_cols: (4.0 * c).max(64.0),
        }
    }

    fn rows(&self, dim: Dim, n: usize) -> f32 {
        match dim {
            Dim::Token | Dim::KeyToken => n as f32 * self.token,
            _ => (n as f32).min(self.max_rows),
        }
    }

    fn cols(&self, dim: Dim, n: usize) -> f32 {
        match dim {
            Dim::Token | Dim::KeyToken => n as f32 * self.token,
            _ => (n as f32).min(self.max_cols),
        }
    }
}

/// Panels of one tensor, laid out from `left` at `top`; returns them and their total width.
fn tensor_panels(
    graph: &Graph,
    id: TensorId,
    rows_per_chunk: &dyn Fn(TensorId) -> usize,
    left: f32,
    top: f32,
) -> (Vec<Panel>, f32) {
    let tensor = &graph.tensors[id];
    let ext = Extents::new(graph);
    let mut panels = Vec::new();
    match tensor.shape.as_slice() {
        [h, t, d] if tensor.dims[0] == Dim::Head => {
            let mut x = left;
            let (w, hgt) = (ext.cols(tensor.dims[2], *d), ext.rows(tensor.dims[1], *t));
            for head in 0..*h {
                panels.push(Panel {
                    tensor: id,
                    chunk: 0,
                    origin: Vec3::new(x, top, 0.0),
                    size: Vec2::new(w, hgt),
                    rows: *t,
                    cols: *d,
                    offset: head * t * d,
                    row_stride: *d,
                    col_stride: 1,
                    head: Some(head),
                    row_dim: Some(tensor.dims[1]),
                    col_dim: tensor.dims[2],
                });
                x += w + GAP / 2.0;
            }
            (panels, x - left - GAP / 2.0)
        }
        [h, t] if tensor.dims[0] == Dim::Head => {
            // Per-head aggregates: one column of T values per head, side by side.
            let size = Vec2::new(*h as f32 * ext.token, ext.rows(Dim::Token, *t));
            panels.push(Panel {
                tensor: id,
                chunk: 0,
                origin: Vec3::new(left, top, 0.0),
                size,
                rows: *t,
                cols: *h,
                offset: 0,
                row_stride: 1,
                col_stride: *t,
                head: None,
                row_dim: Some(Dim::Token),
                col_dim: Dim::Head,
            });
            (panels, size.x)
        }
        [n] => {
            // Per-token vectors (ids, aggregates) stand as a column; biases and gains as a row.
            let (rows, cols, row_dim, size) = if tensor.dims[0] == Dim::Token {
                (
                    *n,
                    1,
                    Some(Dim::Token),
                    Vec2::new(ext.token, ext.rows(Dim::Token, *n)),
                )
            } else {
                (
                    1,
                    *n,
                    None,
                    Vec2::new(ext.cols(tensor.dims[0], *n), ext.token.min(4.0)),
                )
            };
            panels.push(Panel {
                tensor: id,
                chunk: 0,
                origin: Vec3::new(left, top, 0.0),
                size,
                rows,
                cols,
                offset: 0,
                row_stride: cols,
                col_stride: 1,
                head: None,
                row_dim,
                col_dim: tensor.dims[0],
            });
            (panels, size.x)
        }
        [rows, cols] => {
            // Split tensors (vocabulary-sized) get one panel per chunk, stacked as the rows run.
            let per_chunk = rows_per_chunk(id).max(1);
            let total_h = ext.rows(tensor.dims[0], *rows);
            let w = ext.cols(tensor.dims[1], *cols);
            let mut start = 0;
            let mut chunk = 0;
            while start < *rows {
                let count = per_chunk.min(rows - start);
                let y0 = top - total_h * start as f32 / *rows as f32;
                panels.push(Panel {
                    tensor: id,
                    chunk,
                    origin: Vec3::new(left, y0, 0.0),
                    size: Vec2::new(w, total_h * count as f32 / *rows as f32),
                    rows: count,
                    cols: *cols,
                    offset: 0,
                    row_stride: *cols,
                    col_stride: 1,
                    head: None,
                    row_dim: Some(tensor.dims[0]),
                    col_dim: tensor.dims[1],
                });
                start += count;
                chunk += 1;
            }
            (panels, w)
        }
        shape => unreachable!("tensor {} has shape {shape:?}", tensor.name),
    }
}

impl Layout {
    /// Lays out `graph`; `rows_per_chunk` says how the GPU split each tensor (so that each panel
    /// binds one buffer).
    pub fn new(graph: &Graph, rows_per_chunk: &dyn Fn(TensorId) -> usize) -> Layout {
        let mut panels = Vec::new();
        let mut placed = vec![false; graph.tensors.len()];
        let mut op_rows = Vec::new();
        let op_columns = op_columns(graph);
        let column_count = op_columns.iter().max().map_or(1, |c| c + 1);
        // Every column is first laid out on its own, its corridor at x = 0..CORRIDOR and its
        // first row at `first_top`; the token ids stand above column 0.
        let input = graph.tensor_id("input_ids").expect("graph has input_ids");
        let (ids, _) = tensor_panels(graph, input, rows_per_chunk, CORRIDOR, 0.0);
        let first_top = -(ids[0].size.y + GAP * 2.0);
        let mut column_of_panel = vec![0; ids.len()];
        panels.extend(ids);
        placed[input] = true;

        let mut y = first_top;
        for (op, &column) in graph.ops.iter().zip(&op_columns) {
            if !op_rows.is_empty() && op_columns[op_rows.len() - 1] != column {
                y = first_top;
            }
            let top = y;
            let mut height = 0.0f32;
            let mut x = CORRIDOR;
            for &out in &op.outputs {
                let (ps, w) = tensor_panels(graph, out, rows_per_chunk, x, top);
                height = ps
                    .iter()
                    .fold(height, |h, p| h.max(top - p.origin.y + p.size.y));
                x += w + GAP;
                panels.extend(ps);
                placed[out] = true;
            }
            let mut right = 0.0;
            for &input in &op.inputs {
                if graph.tensors[input].role != Role::Weight || placed[input] {
                    continue;
                }
                let (ps, w) = tensor_panels(graph, input, rows_per_chunk, 0.0, top);
                let shift = right - w;
                for mut p in ps {
                    p.origin.x += shift;
                    height = height.max(top - p.origin.y + p.size.y);
                    panels.push(p);
                }
                right = shift - GAP;
                placed[input] = true;
            }
            column_of_panel.resize(panels.len(), column);
            op_rows.push((top, top - height));
            // Room for the next row's labels.
            y = top - height - GAP * 3.0;
        }

        // Then the columns go into a grid of equal slots, as many per line as brings the whole
        // closest to a 16:9 picture, so that the model fills a window instead of standing in it
        // as a sliver. Equal slots keep the gaps between columns lined up from line to line: the
        // arrows that leave a column run down them.
        let mut extents = vec![(f32::MAX, f32::MIN, f32::MAX); column_count];
        for (p, &c) in panels.iter().zip(&column_of_panel) {
            let e = &mut extents[c];
            e.0 = e.0.min(p.origin.x);
            e.1 = e.1.max(p.origin.x + p.size.x);
            e.2 = e.2.min(p.origin.y - p.size.y);
        }
        let slot_width = extents.iter().map(|e| e.1 - e.0).fold(0.0, f32::max) + COLUMN_GAP;
        let column_height = -extents.iter().map(|e| e.2).fold(0.0, f32::min) + LINE_GAP;
        let per_line = ((column_count as f32 * column_height * 16.0 / (9.0 * slot_width))
            .sqrt()
            .round() as usize)
            .clamp(1, column_count);
        let shift = |c: usize| {
            Vec2::new(
                (c % per_line) as f32 * slot_width - extents[c].0,
                -((c / per_line) as f32) * column_height,
            )
        };
        for (p, &c) in panels.iter_mut().zip(&column_of_panel) {
            p.origin += shift(c).extend(0.0);
        }
        for (row, &c) in op_rows.iter_mut().zip(&op_columns) {
            row.0 += shift(c).y;
            row.1 += shift(c).y;
        }
        let columns: Vec<Column> = (0..column_count)
            .map(|c| Column {
                left: (c % per_line) as f32 * slot_width,
                right: (c % per_line) as f32 * slot_width + extents[c].1 - extents[c].0,
                corridor: shift(c).x,
                top: shift(c).y,
                line: c / per_line,
            })
            .collect();
        let slots = (slot_width, per_line);

        let (mut min, mut max) = (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN));
        for p in &panels {
            min = min.min(Vec2::new(p.origin.x, p.origin.y - p.size.y));
            max = max.max(Vec2::new(p.origin.x + p.size.x, p.origin.y));
        }
        let regions = regions(graph, &op_rows, &op_columns, &columns);
        let mut bounds: Vec<Option<(Vec2, Vec2)>> = vec![None; graph.tensors.len()];
        for p in &panels {
            let lo = Vec2::new(p.origin.x, p.origin.y - p.size.y);
            let hi = Vec2::new(p.origin.x + p.size.x, p.origin.y);
            let b = &mut bounds[p.tensor];
            *b = Some(b.map_or((lo, hi), |(a, c)| (a.min(lo), c.max(hi))));
        }
        let mut layout = Layout {
            panels,
            op_rows,
            regions,
            min,
            max,
            // Three quarters of a token row: thick enough to read as a slab at an angle.
            slab_depth: Extents::new(graph).token * 0.75,
            bounds,
            op_columns,
            columns,
            slot_width: slots.0,
            arrows: Vec::new(),
        };
        layout.arrows = super::flow::route(graph, &layout);
        layout
    }

    /// The panel under a world point of the z = 0 plane, and the cell in it.
    pub fn pick(&self, point: Vec3) -> Option<(usize, usize, usize)> {
        self.panels
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.cell_at(point).map(|(r, c)| (i, r, c)))
    }

    /// The world position of the centre of element `element` of `tensor` (counted over the
    /// whole tensor), given where each chunk starts, in elements.
    pub fn element_center(
        &self,
        tensor: TensorId,
        element: usize,
        chunk_start: &dyn Fn(usize) -> usize,
    ) -> Option<Vec3> {
        self.panels
            .iter()
            .filter(|p| p.tensor == tensor)
            .find_map(|p| {
                let local = element.checked_sub(chunk_start(p.chunk) + p.offset)?;
                // The larger stride counts the outer axis.
                let (row, col) = if p.row_stride >= p.col_stride {
                    (local / p.row_stride, local % p.row_stride / p.col_stride)
                } else {
                    (local % p.col_stride / p.row_stride, local / p.col_stride)
                };
                let exact = row * p.row_stride + col * p.col_stride == local;
                (exact && row < p.rows && col < p.cols).then(|| {
                    p.origin
                        + Vec3::new(
                            (col as f32 + 0.5) / p.cols as f32 * p.size.x,
                            -(row as f32 + 0.5) / p.rows as f32 * p.size.y,
                            0.0,
                        )
                })
            })
    }

    /// Bounds (min, max) of every panel of a tensor.
    pub fn tensor_bounds(&self, tensor: TensorId) -> Option<(Vec2, Vec2)> {
        self.bounds.get(tensor).copied().flatten()
    }
}

/// Regions for the outline: the embedding, each block, and the output head, each as wide as
/// its column.
fn regions(
    graph: &Graph,
    op_rows: &[(f32, f32)],
    op_columns: &[usize],
    columns: &[Column],
) -> Vec<Region> {
    let mut regions: Vec<Region> = Vec::new();
    for (index, (op, &(top, bottom))) in graph.ops.iter().zip(op_rows).enumerate() {
        let name = match op.name.strip_prefix("h.") {
            Some(rest) => format!("block {}", rest.split('.').next().unwrap_or_default()),
            None if op.name == "embed" => "embedding".to_string(),
            None => "output".to_string(),
        };
        let column = &columns[op_columns[index]];
        match regions.last_mut() {
            Some(last) if last.name == name => {
                last.min.y = bottom;
                last.ops += 1;
            }
            _ => regions.push(Region {
                name,
                min: Vec2::new(column.left, bottom),
                max: Vec2::new(column.right, top),
                first_op: index,
                ops: 1,
            }),
        }
    }
    regions
}
