//! Hover explanations of the Llama family's ops: the token embedding without positions, RMSNorm,
//! the rotation of each query and key channel pair by its position, the value heads, and the
//! gated MLP's activation.

use super::hover::{flatten, highlight, operand, Explanation};
use crate::graph::{Graph, Op, OpKind, TensorId};

/// Fills `e` for element `index` of tensor `id`, written by `op` of kind `kind`; ops this does
/// not know keep the formula alone.
pub(super) fn explain(
    graph: &Graph,
    op: &Op,
    kind: OpKind,
    (id, index): (TensorId, &[usize]),
    ids: &[u32],
    e: &mut Explanation,
) {
    let ins = &op.inputs;
    match (kind, index) {
        (OpKind::EmbedTokens { c, .. }, &[t, ch]) => {
            let token = ids.get(t).copied().unwrap_or_default() as usize;
            e.detail = format!(
                "token {token} at position {t}: row {token} of embed_tokens (the position enters later, by rotating queries and keys)"
            );
            e.operands = vec![operand("embed_tokens", ins[1], token * c + ch)];
            e.equation = format!("embed_tokens[{token}, {ch}] = {{0}}");
            e.highlights = vec![highlight(ins[1], None, Some(token), None)];
        }
        (OpKind::RmsNorm { c, .. }, &[r, ch]) if op.outputs[0] == id => {
            e.detail = format!(
                "token {r}, channel {ch}: scaled by 1 / RMS of row {r} (not centred, no bias)"
            );
            e.equation = "{0} × {1} × {2} = {=}".into();
            e.operands = vec![
                operand("x", ins[0], r * c + ch),
                operand("1 / rms", op.outputs[1], r),
                operand("weight", ins[1], ch),
            ];
            e.highlights = vec![highlight(ins[0], None, Some(r), None)];
        }
        (OpKind::RmsNorm { .. }, &[r]) => {
            e.detail = format!("1 / sqrt(mean(x²) + eps) of row {r} of the input");
            e.highlights = vec![highlight(ins[0], None, Some(r), None)];
        }
        (OpKind::Rope { heads, d, rope, .. }, &[head, t, i]) => {
            let half = d / 2;
            let pair = i % half;
            let frequency = rope.inv_freq(d)[pair];
            let angle = t as f32 * frequency;
            let (first, second) = (head * d + pair, head * d + pair + half);
            let row = t * heads * d;
            e.detail = format!(
                "head {head}, position {t}: channels {pair} and {} turned together by {t} × {frequency:.5} = {angle:.4} rad",
                pair + half
            );
            e.operands = vec![
                operand("x[i]", ins[0], row + first),
                operand("x[i + D/2]", ins[0], row + second),
            ];
            e.equation = if i < half {
                format!("{{0}} × cos({angle:.4}) − {{1}} × sin({angle:.4}) = {{=}}")
            } else {
                format!("{{1}} × cos({angle:.4}) + {{0}} × sin({angle:.4}) = {{=}}")
            };
            e.highlights = vec![
                highlight(ins[0], None, Some(t), Some(first)),
                highlight(ins[0], None, Some(t), Some(second)),
            ];
        }
        (OpKind::Heads { h, d, .. }, &[head, t, ch]) => {
            let col = head * d + ch;
            e.detail = format!("value head {head}, channel {ch}: copied from v_proj[{t}, {col}]");
            e.operands = vec![operand("v_proj", ins[0], t * h * d + col)];
            e.equation = format!("v_proj[{t}, {col}] = {{0}}");
            e.highlights = vec![highlight(ins[0], None, Some(t), Some(col))];
        }
        (OpKind::SwiGlu { .. }, idx) => {
            let element = flatten(&graph.tensors[id].shape, idx);
            e.detail = "the gate's SiLU times the up projection: the neuron lets its value through as far as the gate opens".into();
            e.operands = vec![
                operand("gate", ins[0], element),
                operand("up", ins[1], element),
            ];
            e.equation = "silu({0}) × {1} = {=}".into();
        }
        _ => {}
    }
}
