//! The attention pattern of one layer and head, for the page's attention panel: which earlier
//! tokens each token's query weighs, read back when asked (when the run changes), never per
//! frame.

use serde_json::{json, Value};

use crate::state::State;

impl State {
    /// Shows layer `layer`, head `head` in the attention panel from now on; the status.
    pub async fn set_attention(&mut self, layer: usize, head: usize) -> Result<String, String> {
        let config = &self.viewer.scene().model.config;
        if layer >= config.n_layer || head >= config.n_head {
            return Err(format!(
                "layer {layer}, head {head}: the model has {} layers of {} heads",
                config.n_layer, config.n_head
            ));
        }
        self.attention_pick = (layer, head);
        self.attention = self.read_attention().await?;
        Ok(self.status().to_string())
    }

    /// The picked layer and head: the tokens and the [query][key] probabilities, or null when
    /// that layer's softmax has not run yet or the graph is the decode step (one query; the
    /// cache holds the keys). One readback, made after a run.
    pub(crate) async fn read_attention(&self) -> Result<Value, String> {
        let (layer, head) = self.attention_pick;
        let viewer = &self.viewer;
        if head >= viewer.scene().model.config.n_head {
            return Ok(Value::Null);
        }
        let graph = viewer.graph();
        let name = format!("h.{layer}.attn.probs");
        let (Some(id), false) = (graph.tensor_id(&name), viewer.decoding()) else {
            return Ok(Value::Null);
        };
        let ran = graph.ops[..viewer.op_count()]
            .iter()
            .any(|op| op.outputs.contains(&id));
        if !ran {
            return Ok(Value::Null);
        }
        let t = viewer.ids().len();
        let row = viewer
            .gpu_graph()
            .tensor(id)
            .read_row(viewer.gpu(), head)
            .await
            .map_err(|e| e.to_string())?;
        let rows: Vec<Value> = row.chunks(t).map(|r| json!(r)).collect();
        let tokenizer = &viewer.scene().tokenizer;
        let tokens: Vec<String> = viewer
            .ids()
            .iter()
            .map(|&id| tokenizer.decode_one(id))
            .collect();
        Ok(json!({"layer": layer, "head": head, "tokens": tokens, "probs": rows}))
    }
}
