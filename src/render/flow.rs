//! Where the data-flow arrows run: routed once per layout, in world space, around the tensors
//! and never across one. The layout leaves four kinds of empty space, and arrows use only them:
//! - the band between two rows of a column: arrows run sideways in it;
//! - the corridor between a column's weights (left) and activations (right): arrows run down
//!   its lanes, the residual stream in a lane of its own, so that its arrows join into one pipe
//!   beside the block, with the layer norms branching out of it and the additions coming back;
//! - the gaps between the columns of the grid, lined up from line to line: arrows that leave a
//!   column run up or down them;
//! - the channel above each line of the grid: arrows cross over columns in it.
//!
//! The weight next to the corridor points straight across it at the op's output; the others go
//! down into the band, along it to the corridor, and up to the output.

use glam::Vec2;

use super::layout::{COLUMN_GAP, GAP};
use super::Layout;
use crate::graph::{Graph, OpKind, Role, TensorId};

/// Width of the corridor between weights and activations, in world units.
pub const CORRIDOR: f32 = 18.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// A weight read by an op.
    Weight,
    /// An activation read by an op.
    Activation,
    /// The residual stream carried past a block's branch to its addition.
    Residual,
}

/// One arrow: a polyline of axis-parallel segments in the z = 0 plane, ending at its target.
#[derive(Clone, Debug)]
pub struct Arrow {
    pub from: TensorId,
    pub to: TensorId,
    pub kind: FlowKind,
    pub points: Vec<Vec2>,
}

/// The row each drawn tensor sits in: op outputs in their op's row, weights in the row of the
/// first op reading them, the token ids above row 0 (as row -1).
fn tensor_rows(graph: &Graph) -> Vec<Option<isize>> {
    let mut rows = vec![None; graph.tensors.len()];
    for (i, op) in graph.ops.iter().enumerate() {
        for &out in &op.outputs {
            rows[out].get_or_insert(i as isize);
        }
        for &input in &op.inputs {
            let tensor = &graph.tensors[input];
            if tensor.role == Role::Weight {
                rows[input].get_or_insert(i as isize);
            } else if tensor.role == Role::Input {
                rows[input].get_or_insert(-1);
            }
        }
    }
    rows
}

/// Lanes for long arrows by the rows they span: the first lane whose arrows end before this
/// one starts (rows touching at an end share a lane).
fn assign_lanes(spans: &[(isize, isize)]) -> Vec<usize> {
    let mut lane_ends: Vec<isize> = Vec::new();
    spans
        .iter()
        .map(
            |&(start, end)| match lane_ends.iter().position(|&e| e <= start) {
                Some(l) => {
                    lane_ends[l] = end;
                    l
                }
                None => {
                    lane_ends.push(end);
                    lane_ends.len() - 1
                }
            },
        )
        .collect()
}

/// The free places of a layout, by row and column.
struct Space<'a> {
    layout: &'a Layout,
}

impl Space<'_> {
    fn column(&self, row: isize) -> usize {
        if row < 0 {
            0
        } else {
            self.layout.op_columns[row as usize]
        }
    }

    fn first_in_column(&self, row: isize) -> bool {
        row <= 0 || self.column(row - 1) != self.column(row)
    }

    fn last_in_column(&self, row: isize) -> bool {
        row >= 0
            && (row as usize + 1 == self.layout.op_rows.len()
                || self.column(row + 1) != self.column(row))
    }

    /// Above every column of a grid line, below the line before.
    fn channel(&self, column: usize) -> f32 {
        self.layout.columns[column].top + 1.5 * GAP
    }

    /// Where arrows run sideways below row `row` (-1: below the token ids): a third of the way
    /// down the gap, leaving room for the next row's labels.
    fn band_below(&self, row: isize) -> f32 {
        let rows = &self.layout.op_rows;
        if row < 0 {
            let top = rows[0].0;
            return top + 2.0 * GAP - 2.0 * GAP / 3.0;
        }
        let bottom = rows[row as usize].1;
        if self.last_in_column(row) {
            return bottom - 1.5 * GAP;
        }
        bottom - (bottom - rows[row as usize + 1].0) / 3.0
    }

    /// Where arrows run sideways above row `row`.
    fn band_above(&self, row: isize) -> f32 {
        if row > 0 && self.first_in_column(row) {
            self.channel(self.column(row))
        } else {
            self.band_below(row - 1)
        }
    }

    /// The gap left of a column's slot in the grid.
    fn gap_left(&self, column: usize) -> f32 {
        self.layout.columns[column].left - COLUMN_GAP / 2.0
    }

    fn gap_right(&self, column: usize) -> f32 {
        self.gap_left(column) + self.layout.slot_width
    }

    /// A lane of a column's corridor, `share` of the way across it.
    fn lane(&self, column: usize, share: f32) -> f32 {
        self.layout.columns[column].corridor + CORRIDOR * share
    }
}

/// An arrow still to be routed through the corridor and the gaps.
struct Pending {
    from: TensorId,
    to: TensorId,
    kind: FlowKind,
    from_row: isize,
    to_row: isize,
    entry_x: f32,
}

/// Routes every arrow of `graph` through `layout`.
pub fn route(graph: &Graph, layout: &Layout) -> Vec<Arrow> {
    let space = Space { layout };
    let rows = tensor_rows(graph);
    let mut arrows = Vec::new();
    let mut pending = Vec::new();
    for (i, op) in graph.ops.iter().enumerate() {
        let to = op.outputs[0];
        let Some((out_lo, out_hi)) = layout.tensor_bounds(to) else {
            continue;
        };
        let to_row = i as isize;
        let activations: Vec<TensorId> = op
            .inputs
            .iter()
            .copied()
            .filter(|&t| graph.tensors[t].role != Role::Weight)
            .collect();
        let mut weights_seen = 0;
        for &from in &op.inputs {
            let (Some(from_row), Some((lo, hi))) = (rows[from], layout.tensor_bounds(from)) else {
                continue;
            };
            if graph.tensors[from].role == Role::Weight {
                let points = if from_row != to_row {
                    far_weight(&space, (lo, hi), from_row, (out_lo, out_hi), to_row)
                } else {
                    weights_seen += 1;
                    row_weight(
                        &space,
                        (lo, hi),
                        weights_seen == 1,
                        (out_lo, out_hi),
                        to_row,
                    )
                };
                arrows.push(Arrow {
                    from,
                    to,
                    kind: FlowKind::Weight,
                    points,
                });
                continue;
            }
            if from_row >= to_row {
                continue;
            }
            let slot = activations.iter().position(|&t| t == from).unwrap_or(0);
            let share = (slot + 1) as f32 / (activations.len() + 1) as f32;
            let residual = matches!(op.kind, OpKind::Add { .. }) && slot == 0;
            pending.push(Pending {
                from,
                to,
                kind: if residual {
                    FlowKind::Residual
                } else {
                    FlowKind::Activation
                },
                from_row,
                to_row,
                entry_x: out_lo.x + (out_hi.x - out_lo.x) * share,
            });
        }
    }

    // The residual pipe has its lane; other long arrows within a column share lanes where
    // their rows allow.
    let long: Vec<usize> = (0..pending.len())
        .filter(|&i| {
            let p = &pending[i];
            p.kind == FlowKind::Activation
                && p.to_row > p.from_row + 1
                && space.column(p.from_row) == space.column(p.to_row)
        })
        .collect();
    let spans: Vec<(isize, isize)> = long
        .iter()
        .map(|&i| (pending[i].from_row, pending[i].to_row))
        .collect();
    let lanes = assign_lanes(&spans);
    let lane_count = lanes.iter().max().map_or(0, |m| m + 1);
    let lane_share = |lane: Option<usize>| match lane {
        None => 0.4,
        Some(l) => 0.55 + 0.35 * (l + 1) as f32 / (lane_count + 1) as f32,
    };
    for (i, p) in pending.iter().enumerate() {
        let lane = match p.kind {
            FlowKind::Residual => None,
            _ => long
                .iter()
                .position(|&j| j == i)
                .map(|k| lanes[k])
                .or(Some(0)),
        };
        arrows.push(Arrow {
            from: p.from,
            to: p.to,
            kind: p.kind,
            points: activation_path(&space, p, lane_share(lane)),
        });
    }
    arrows
}

/// A weight in the op's own row: straight across the corridor from the nearest one, at the
/// middle of the heights both cover; from the others down into the band, along it, and up the
/// corridor's weight lane.
fn row_weight(
    space: &Space,
    (lo, hi): (Vec2, Vec2),
    nearest: bool,
    (out_lo, out_hi): (Vec2, Vec2),
    row: isize,
) -> Vec<Vec2> {
    if nearest {
        let y = out_hi.y.min(hi.y) - (out_hi.y - out_lo.y).min(hi.y - lo.y) / 2.0;
        return vec![Vec2::new(hi.x, y), Vec2::new(out_lo.x, y)];
    }
    let x = (lo.x + hi.x) / 2.0;
    let band = space.band_below(row);
    let lane = space.lane(space.column(row), 0.15);
    let entry_y = out_hi.y - (out_hi.y - out_lo.y) * 0.7;
    vec![
        Vec2::new(x, lo.y),
        Vec2::new(x, band),
        Vec2::new(lane, band),
        Vec2::new(lane, entry_y),
        Vec2::new(out_lo.x, entry_y),
    ]
}

/// A weight placed with an earlier op (GPT-2's tied token embeddings, read again by the
/// logits): up into the channel above its column, along it, down the gap left of the op's
/// column, along that column's channel, down its weight lane and into the output's top.
fn far_weight(
    space: &Space,
    (lo, hi): (Vec2, Vec2),
    from_row: isize,
    (out_lo, out_hi): (Vec2, Vec2),
    to_row: isize,
) -> Vec<Vec2> {
    let (a, b) = (space.column(from_row), space.column(to_row));
    let x = (lo.x + hi.x) / 2.0;
    let lane = space.lane(b, 0.15);
    let above = space.band_above(to_row);
    let entry_x = (out_lo.x + out_hi.x) / 2.0;
    let gap = space.gap_left(b);
    vec![
        Vec2::new(x, hi.y),
        Vec2::new(x, space.channel(a)),
        Vec2::new(gap, space.channel(a)),
        Vec2::new(gap, space.channel(b)),
        Vec2::new(lane, space.channel(b)),
        Vec2::new(lane, above),
        Vec2::new(entry_x, above),
        Vec2::new(entry_x, out_hi.y),
    ]
}

/// An activation's path: down into the band below its row; then, within a column, straight on
/// to the next row or down a corridor lane to a later one; into another column, along the band
/// to the gap on the column's right, up or down it to the target column's channel, and down
/// that column's corridor lane.
fn activation_path(space: &Space, p: &Pending, lane_share: f32) -> Vec<Vec2> {
    let layout = space.layout;
    let (lo, hi) = layout
        .tensor_bounds(p.from)
        .expect("routed tensors are drawn");
    let (_, out_hi) = layout
        .tensor_bounds(p.to)
        .expect("routed tensors are drawn");
    let exit_x = (lo.x + hi.x) / 2.0;
    let below = space.band_below(p.from_row);
    let above = space.band_above(p.to_row);
    let (a, b) = (space.column(p.from_row), space.column(p.to_row));
    let mut points = vec![Vec2::new(exit_x, lo.y), Vec2::new(exit_x, below)];
    if a != b {
        let gap = space.gap_right(a);
        let channel = space.channel(b);
        points.push(Vec2::new(gap, below));
        points.push(Vec2::new(gap, channel));
        if !space.first_in_column(p.to_row) {
            let lane = space.lane(b, lane_share);
            points.push(Vec2::new(lane, channel));
            points.push(Vec2::new(lane, above));
        }
    } else if p.kind == FlowKind::Residual || p.to_row > p.from_row + 1 {
        let lane = space.lane(a, lane_share);
        points.push(Vec2::new(lane, below));
        points.push(Vec2::new(lane, above));
    }
    points.push(Vec2::new(p.entry_x, above));
    points.push(Vec2::new(p.entry_x, out_hi.y));
    points.dedup();
    points
}

/// Whether the open segment from `a` to `b` (axis-parallel) passes through the inside of the
/// rectangle `lo..hi`.
pub fn segment_crosses(a: Vec2, b: Vec2, lo: Vec2, hi: Vec2) -> bool {
    let (min, max) = (a.min(b), a.max(b));
    min.x < hi.x && max.x > lo.x && min.y < hi.y && max.y > lo.y
}
