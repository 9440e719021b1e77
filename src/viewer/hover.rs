//! Hovering a cell: which tensor and index it is, its value, and how it was computed: the op's
//! formula, the operands (highlighted in the picture) and the few operand values worth reading.

use crate::graph::{Graph, OpKind, TensorId};
use crate::render::{Highlight, TensorState};
use crate::viewer::Viewer;

/// A hovered cell as read from the GPU: where it is, its value, how it was computed and the
/// values of the operands worth reading (NaN where a readback failed).
#[derive(Clone, Debug)]
pub struct HoveredCell {
    pub tensor: TensorId,
    pub index: Vec<usize>,
    pub value: f32,
    pub explanation: Explanation,
    pub operand_values: Vec<f32>,
}

impl Viewer {
    /// The cell at (panel, row, column) of the layout, with its value and its operands' read
    /// back (the window and the page read a cell only when the pointer moves to another);
    /// `None` while its tensor has not been computed.
    pub async fn read_hovered(
        &self,
        (panel, row, col): (usize, usize, usize),
    ) -> Option<HoveredCell> {
        let panel = &self.layout().panels[panel];
        let tensor = panel.tensor;
        if self.states()[tensor] == TensorState::NotComputed {
            return None;
        }
        let gpu_tensor = self.gpu_graph().tensor(tensor);
        let chunk_start = panel.chunk * gpu_tensor.rows_per_chunk * gpu_tensor.row_len;
        let element = panel.element(row, col, chunk_start);
        let index = unflatten(&self.graph().tensors[tensor].shape, element);
        let explanation = explain(self.graph(), tensor, &index, self.ids());
        let read = |tensor, element| async move {
            self.read_elements(tensor, &[element])
                .await
                .map_or(f32::NAN, |v| v[0])
        };
        let value = read(tensor, element).await;
        let mut operand_values = Vec::with_capacity(explanation.operands.len());
        for operand in &explanation.operands {
            operand_values.push(read(operand.tensor, operand.element).await);
        }
        Some(HoveredCell {
            tensor,
            index,
            value,
            explanation,
            operand_values,
        })
    }
}

/// One value to read back and show: a label and the element of a tensor.
#[derive(Clone, Debug)]
pub struct Operand {
    pub label: String,
    pub tensor: TensorId,
    pub element: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Explanation {
    /// The op that wrote the tensor (none for weights and inputs).
    pub op: Option<String>,
    pub formula: String,
    /// Words on how this particular cell came about.
    pub detail: String,
    pub operands: Vec<Operand>,
    pub highlights: Vec<Highlight>,
    /// The computation with this cell's indices, `{k}` standing for operand k's value and `{=}`
    /// for the result: "{0} + dot(x[2], W[:, 7]) = {=}".
    pub equation: String,
}

impl Explanation {
    /// The equation with the operands' and the result's values filled in.
    pub fn equation_with(
        &self,
        operands: &[f32],
        result: f32,
        format: fn(f32) -> String,
    ) -> String {
        let mut text = self.equation.replace("{=}", &format(result));
        for (k, value) in operands.iter().enumerate() {
            text = text.replace(&format!("{{{k}}}"), &format(*value));
        }
        text
    }
}

/// The multi-dimensional index of a flat element of a tensor.
pub fn unflatten(shape: &[usize], mut element: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &n) in shape.iter().enumerate().rev() {
        index[i] = element % n;
        element /= n;
    }
    index
}

/// Element `element` of `tensor`, named `label` in the equation.
pub(super) fn operand(label: &str, tensor: TensorId, element: usize) -> Operand {
    Operand {
        label: label.to_string(),
        tensor,
        element,
    }
}

pub(super) fn highlight(
    tensor: TensorId,
    head: Option<usize>,
    row: Option<usize>,
    col: Option<usize>,
) -> Highlight {
    Highlight {
        tensor,
        head,
        row,
        col,
    }
}

/// How element `index` of tensor `id` was computed; `ids` are the token ids of the run.
pub fn explain(graph: &Graph, id: TensorId, index: &[usize], ids: &[u32]) -> Explanation {
    let Some(op) = graph.ops.iter().find(|o| o.outputs.contains(&id)) else {
        let role = graph.tensors[id].role;
        return Explanation {
            formula: format!("a {role:?} of the model, loaded from its weights file")
                .to_lowercase(),
            ..Default::default()
        };
    };
    let ins = &op.inputs;
    let mut e = Explanation {
        op: Some(op.name.clone()),
        formula: op.formula.to_string(),
        ..Default::default()
    };
    match (op.kind, index) {
        (OpKind::Embed { c, .. }, &[t, ch]) => {
            let token = ids[t] as usize;
            e.detail =
                format!("token {token} at position {t}: row {token} of wte plus row {t} of wpe");
            e.equation = format!("wte[{token}, {ch}] + wpe[{t}, {ch}] = {{0}} + {{1}} = {{=}}");
            e.operands = vec![
                operand("wte", ins[1], token * c + ch),
                operand("wpe", ins[2], t * c + ch),
            ];
            e.highlights = vec![
                highlight(ins[1], None, Some(token), None),
                highlight(ins[2], None, Some(t), None),
            ];
        }
        (OpKind::LayerNorm { c, .. }, &[r, ch]) if op.outputs[0] == id => {
            e.detail =
                format!("token {r}, channel {ch}: normalised with the mean and 1/std of row {r}");
            e.equation = "({0} − {1}) × {2} × {3} + {4} = {=}".into();
            e.operands = vec![
                operand("x", ins[0], r * c + ch),
                operand("mean", op.outputs[1], r),
                operand("rstd", op.outputs[2], r),
                operand("weight", ins[1], ch),
                operand("bias", ins[2], ch),
            ];
            e.highlights = vec![highlight(ins[0], None, Some(r), None)];
        }
        (OpKind::LayerNorm { .. }, &[r]) => {
            e.detail = format!("a statistic of row {r} of the input");
            e.highlights = vec![highlight(ins[0], None, Some(r), None)];
        }
        (OpKind::Linear { k, bias: true, .. }, &[r, n]) => {
            e.detail = format!("dot product of row {r} of the input and column {n} of the weights ({k} terms), plus bias {n}");
            e.operands = vec![operand("bias", ins[2], n)];
            e.equation = format!("{{0}} + dot(x[{r}], W[:, {n}]) = {{=}}");
            e.highlights = vec![
                highlight(ins[0], None, Some(r), None),
                highlight(ins[1], None, None, Some(n)),
                highlight(ins[2], None, None, Some(n)),
            ];
        }
        (OpKind::Linear { k, bias: false, .. }, &[r, n]) => {
            e.detail = format!(
                "dot product of row {r} of the input and column {n} of the weights ({k} terms)"
            );
            e.equation = format!("dot(x[{r}], W[:, {n}]) = {{=}}");
            e.highlights = vec![
                highlight(ins[0], None, Some(r), None),
                highlight(ins[1], None, None, Some(n)),
            ];
        }
        (OpKind::SplitHeads { h, d, .. }, &[head, t, ch]) => {
            let which = op.outputs.iter().position(|&o| o == id).unwrap_or(0);
            let col = which * h * d + head * d + ch;
            e.detail = format!(
                "copied from qkv[{t}, {col}]: head {head} of the {} part",
                ["query", "key", "value"][which]
            );
            e.operands = vec![operand("qkv", ins[0], t * 3 * h * d + col)];
            e.equation = format!("qkv[{t}, {col}] = {{0}}");
            e.highlights = vec![highlight(ins[0], None, Some(t), Some(col))];
        }
        (OpKind::AttnScores { h, kv, .. }, &[head, i, j]) => {
            // Grouped-query attention: h / kv query heads share each key head.
            let key_head = head / (h / kv);
            e.detail = match (j > i, key_head == head) {
                (true, _) => format!("masked: token {i} may not look at the later token {j}"),
                (false, true) => format!("head {head}: how well query {i} matches key {j}"),
                (false, false) => format!(
                    "head {head}: how well query {i} matches key {j} of key head {key_head}, shared by query heads {}..={}",
                    key_head * (h / kv),
                    (key_head + 1) * (h / kv) - 1
                ),
            };
            e.highlights = vec![
                highlight(ins[0], Some(head), Some(i), None),
                highlight(ins[1], Some(key_head), Some(j), None),
            ];
            e.equation = if j > i {
                "−∞ (masked)".into()
            } else {
                format!("dot(q[{head}, {i}], k[{key_head}, {j}]) / √D = {{=}}")
            };
        }
        (OpKind::Softmax { cols, .. }, idx) if op.outputs[0] == id => {
            let flat_row = flatten_row(&graph.tensors[id].shape, idx);
            e.detail = format!(
                "entry {} of a row of {cols}, made positive and normalised to sum to 1",
                idx[idx.len() - 1]
            );
            e.operands = vec![
                operand("input", ins[0], flat_row * cols + idx[idx.len() - 1]),
                operand("row max", op.outputs[1], flat_row),
                operand("row sum", op.outputs[2], flat_row),
            ];
            let head = (idx.len() == 3).then_some(idx[0]);
            e.equation = "exp({0} − {1}) / {2} = {=}".into();
            e.highlights = vec![highlight(ins[0], head, Some(idx[idx.len() - 2]), None)];
        }
        (OpKind::AttnMix { d, h, kv, .. }, &[i, col]) => {
            let (head, ch) = (col / d, col % d);
            let value_head = head / (h / kv);
            e.detail = format!(
                "head {head}: token {i}'s attention weights times channel {ch} of every value of value head {value_head}"
            );
            e.highlights = vec![
                highlight(ins[0], Some(head), Some(i), None),
                highlight(ins[1], Some(value_head), None, Some(ch)),
            ];
            e.equation = format!("Σj probs[{head}, {i}, j] × v[{value_head}, j, {ch}] = {{=}}");
        }
        (OpKind::Gelu { .. }, idx) => {
            let element = flatten(&graph.tensors[id].shape, idx);
            e.operands = vec![operand("x", ins[0], element)];
            e.equation = "gelu({0}) = {=}".into();
        }
        (OpKind::Add { .. }, idx) => {
            let element = flatten(&graph.tensors[id].shape, idx);
            e.operands = vec![operand("a", ins[0], element), operand("b", ins[1], element)];
            e.equation = "{0} + {1} = {=}".into();
        }
        (OpKind::Logits { .. }, &[t, v]) => {
            e.detail =
                format!("dot product of token {t}'s final vector with the embedding of token {v}");
            e.highlights = vec![
                highlight(ins[0], None, Some(t), None),
                highlight(ins[1], None, Some(v), None),
            ];
            e.equation = format!("dot(ln_f[{t}], wte[{v}]) = {{=}}");
        }
        (kind, index) => super::hover_llama::explain(graph, op, kind, (id, index), ids, &mut e),
    }
    e
}

pub(super) fn flatten(shape: &[usize], index: &[usize]) -> usize {
    shape.iter().zip(index).fold(0, |acc, (&n, &i)| acc * n + i)
}

/// The softmax row (all axes but the last) of an index.
fn flatten_row(shape: &[usize], index: &[usize]) -> usize {
    let k = shape.len() - 1;
    flatten(&shape[..k], &index[..k])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;
    use crate::scene::Scene;

    fn two_places(v: f32) -> String {
        format!("{v:.2}")
    }

    #[test]
    fn a_linear_cell_shows_its_bias_dot_product_and_result() {
        let config = Scene::embedded().model.config;
        let graph = Graph::forward(&config, 6);
        let out = graph.tensor_id("h.0.attn.qkv").unwrap();
        let e = explain(&graph, out, &[2, 7], &[0, 1, 2, 0, 1, 2]);
        assert_eq!(e.operands.len(), 1);
        assert_eq!(
            e.equation_with(&[0.25], 1.5, two_places),
            "0.25 + dot(x[2], W[:, 7]) = 1.50"
        );
    }

    #[test]
    fn a_masked_score_says_so() {
        let config = Scene::embedded().model.config;
        let graph = Graph::forward(&config, 6);
        let scores = graph.tensor_id("h.0.attn.scores").unwrap();
        let e = explain(&graph, scores, &[1, 2, 4], &[0; 6]);
        assert_eq!(
            e.equation_with(&[], f32::NEG_INFINITY, two_places),
            "−∞ (masked)"
        );
        let e = explain(&graph, scores, &[1, 4, 2], &[0; 6]);
        assert_eq!(
            e.equation_with(&[], 0.5, two_places),
            "dot(q[1, 4], k[1, 2]) / √D = 0.50"
        );
    }
}
