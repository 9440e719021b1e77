//! The page's status: what the model shows, as JSON for `#status`'s `data-state` (tests and
//! scripts read it) from which the page also writes one sentence for screen readers.

use serde_json::json;

use crate::state::State;

pub fn status(state: &State) -> serde_json::Value {
    let viewer = &state.viewer;
    let scene = viewer.scene();
    let graph = viewer.graph();
    let tokens: Vec<String> = viewer
        .ids()
        .iter()
        .map(|&id| scene.tokenizer.decode_one(id))
        .collect();
    let current = viewer
        .current()
        .filter(|_| viewer.op_count() < graph.ops.len());
    let gpu = viewer.gpu();
    json!({
        "model": scene.name,
        "prompt": state.prompt,
        "tokens": tokens,
        "ops_run": viewer.op_count(),
        "ops_total": graph.ops.len(),
        "current_op": current.map(|op| graph.ops[op].name.clone()),
        "current_formula": current.map(|op| graph.ops[op].formula),
        "prediction": state.prediction.map(|(id, _)| scene.tokenizer.decode_one(id)),
        "prediction_id": state.prediction.map(|(id, _)| id),
        "probability": state.prediction.map(|(_, p)| p),
        "top": state
            .top
            .iter()
            .map(|&(id, p)| json!([scene.tokenizer.decode_one(id), p]))
            .collect::<Vec<_>>(),
        "n_layer": scene.model.config.n_layer,
        "n_head": scene.model.config.n_head,
        "attention": state.attention,
        "fill": state.fill_slow,
        "filling": state.filling.map(|(workgroups, _)| workgroups),
        "backend": "webgpu",
        "adapter": gpu.describe(),
        "timestamps": gpu.timestamps,
        "readbacks_per_frame": state.readbacks_per_frame,
        "readbacks": gpu.readback_count(),
        "cameras": state.camera_names(),
        "kernel_choices": gpu
            .kernels
            .choices()
            .map(|id| format!("{}:{}", id.family, id.variant))
            .collect::<Vec<_>>(),
        "kv_cache": viewer.decoding(),
        "cache_fill": viewer.cache_fill(),
        "narrative": state.narrative(),
        "differences": state.differences(),
    })
}
