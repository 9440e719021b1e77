//! glassbox in the browser: the library's kernels, CPU reference and renderer on the user's GPU
//! through WebGPU, driven by the page (`web/static/main.js`). The page owns the controls and the
//! URL; this crate owns the model, the GPU and the picture.
//!
//! A browser never lets a program wait for the GPU: every call that reads data back returns a
//! promise. While one runs, the state is taken out of its slot, so a frame requested meanwhile is
//! skipped instead of seeing a half-updated model.
#![cfg(target_arch = "wasm32")]

mod attention;
mod playground;
mod state;
mod status;
mod tour;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use state::State;

/// The model on the page: one per canvas.
#[wasm_bindgen]
pub struct Page {
    slot: Rc<RefCell<Option<State>>>,
}

/// Opens the GPU for `canvas`, uploads the built-in sorting model and runs `prompt` through it
/// (the scene's own prompt when it is empty or the model cannot read it).
#[wasm_bindgen]
pub async fn start(canvas: web_sys::HtmlCanvasElement, prompt: String) -> Result<Page, JsValue> {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&JsValue::from_str(&info.to_string()))
    }));
    let state = State::open(canvas, &prompt).await.map_err(js_error)?;
    Ok(Page {
        slot: Rc::new(RefCell::new(Some(state))),
    })
}

#[wasm_bindgen]
impl Page {
    /// Runs the whole graph on `text`; resolves to the status (JSON).
    pub fn run_prompt(&self, text: String) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.run_prompt(&text).await;
            (state, result)
        })
    }

    /// Starts loading another GPT-2 model: the bytes of its `config.json` and the length of its
    /// `model.safetensors`, whose bytes follow through [`Page::push_weights`], in order.
    pub fn begin_weights(
        &self,
        name: String,
        config: Vec<u8>,
        total: usize,
    ) -> Result<(), JsValue> {
        self.with(|state| state.begin_weights(&name, &config, total))
            .ok_or_else(|| js_error("busy: the model is still running"))?
            .map_err(js_error)
    }

    /// The next piece of `model.safetensors`: it goes straight into GPU buffers (the file is
    /// never held whole in memory).
    pub fn push_weights(&self, bytes: &[u8]) -> Result<(), JsValue> {
        self.with(|state| state.push_weights(bytes))
            .ok_or_else(|| js_error("busy: the model is still running"))?
            .map_err(js_error)
    }

    /// Shows the model once its weights have all arrived, running `prompt` (its default when
    /// empty); resolves to the status.
    pub fn finish_weights(&self, prompt: String) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.finish_weights(&prompt).await;
            (state, result)
        })
    }

    /// Runs the reference file's tokens and compares every tensor it holds with ours (the
    /// oracle's pass mark); resolves to the report (JSON).
    pub fn check(&self, file: String, expected: Vec<u8>) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.check(&file, &expected).await;
            (state, result)
        })
    }

    /// Shows the graph run up to op `op` (0: nothing run), that op current; resolves to the
    /// status.
    pub fn step(&self, op: usize) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.step(op).await;
            (state, result)
        })
    }

    /// The value under canvas pixel (x, y) and how it was computed (JSON), or null off the
    /// tensors. Reads back only when the cell under the pointer changes.
    pub fn hover(&self, x: f32, y: f32) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.hover(glam::Vec2::new(x, y)).await;
            (state, result)
        })
    }

    /// Shows `layer` and `head` in the attention panel (the status's `attention`: tokens and
    /// [query][key] probabilities, null before that layer's softmax has run).
    pub fn set_attention(&self, layer: usize, head: usize) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.set_attention(layer, head).await;
            (state, result)
        })
    }

    /// Draws a frame at the canvas's size in pixels at page time `now` (milliseconds): 0 when
    /// the model is busy (no frame), 1 drawn, 2 drawn with the camera still flying.
    pub fn frame(&self, width: u32, height: u32, now: f64) -> u8 {
        match self.with(|state| state.frame(width, height, now)) {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        }
    }

    /// The walkthrough's chapters (JSON list: name, title, paragraphs).
    pub fn outline(&self) -> String {
        self.with(|state| state.outline().to_string())
            .unwrap_or_default()
    }

    /// Shows a paragraph of the walkthrough; resolves to the status, narrative included.
    pub fn show_paragraph(&self, chapter: usize, paragraph: usize) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.show_paragraph(chapter, paragraph).await;
            (state, result)
        })
    }

    /// Leaves the walkthrough for the prompt; resolves to the status.
    pub fn leave_walkthrough(&self) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.leave_walkthrough().await;
            (state, result)
        })
    }

    /// Lights up what a word of the narrative names (out of range: nothing).
    pub fn highlight_word(&self, paragraph: usize, word: usize) {
        self.with(|state| state.highlight_word(paragraph, word));
    }

    /// Op families, their variants and sources, and which runs (JSON).
    pub fn kernels(&self) -> String {
        self.with(|state| state.kernels().to_string())
            .unwrap_or_default()
    }

    /// Runs `family` with `variant`; resolves to the status.
    pub fn set_kernel(&self, family: String, variant: String) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.set_kernel(&family, &variant).await;
            (state, result)
        })
    }

    /// Loads edited kernel text; resolves to the status, or to `{"error": ...}` with the line
    /// and column naga gave (the last good kernel keeps running).
    pub fn edit_kernel(&self, file: String, text: String) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.edit_kernel(&file, &text).await;
            (state, result)
        })
    }

    /// Every op's GPU time from timestamps (JSON list of {op, nanos}).
    pub fn measure(&self) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.measure().await;
            (state, result)
        })
    }

    /// The difference view against the CPU reference, on or off; resolves to the status.
    pub fn set_difference(&self, on: bool) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.set_difference(on).await;
            (state, result)
        })
    }

    /// Generation through the KV cache, on or off; resolves to the status.
    pub fn set_kv_cache(&self, on: bool) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.set_kv_cache(on).await;
            (state, result)
        })
    }

    /// Appends the next token (temperature 0: greedy); resolves to the status.
    pub fn append_token(&self, temperature: f32) -> Promise {
        self.spawn(move |mut state| async move {
            let result = state.append_token(temperature).await;
            (state, result)
        })
    }

    /// The status now (JSON), or null while the model is busy.
    pub fn status(&self) -> Option<String> {
        self.with(|state| state.status().to_string())
    }

    /// Whether each step fills the op's output in the order the GPU ran it, slowed to 2 s.
    pub fn set_fill(&self, on: bool) {
        self.with(|state| state.fill_slow = on);
    }

    /// Orbits by a drag of (dx, dy) pixels.
    pub fn orbit(&self, dx: f32, dy: f32) {
        self.with(|state| state.orbit(glam::Vec2::new(dx, dy)));
    }

    /// Pans by a drag of (dx, dy) pixels.
    pub fn pan(&self, dx: f32, dy: f32) {
        self.with(|state| state.pan(glam::Vec2::new(dx, dy)));
    }

    /// Zooms by `steps` (positive: closer) towards canvas pixel (x, y).
    pub fn zoom(&self, steps: f32, x: f32, y: f32) {
        self.with(|state| state.zoom(steps, glam::Vec2::new(x, y)));
    }

    /// Frames a named camera of the scene, a region or a tensor; false if there is none.
    pub fn set_camera(&self, name: String) -> bool {
        self.with(|state| state.set_camera(&name)).unwrap_or(false)
    }

    /// The camera as `yaw,pitch,distance,x,y,z` (for the link); empty while busy.
    pub fn camera(&self) -> String {
        self.with(|state| state::camera_to_text(&state.camera))
            .unwrap_or_default()
    }

    /// Restores a camera written by [`Page::camera`]; false if the text is not one.
    pub fn restore_camera(&self, text: String) -> bool {
        self.with(|state| state.restore_camera(&text))
            .unwrap_or(false)
    }

    /// The names [`Page::set_camera`] takes that are worth a button (JSON list).
    pub fn camera_names(&self) -> String {
        self.with(|state| serde_json::to_string(&state.camera_names()).unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Page {
    /// Runs `work` on the state, taken out of the slot until it gives it back.
    fn spawn<F, Fut>(&self, work: F) -> Promise
    where
        F: FnOnce(State) -> Fut + 'static,
        Fut: Future<Output = (State, Result<String, String>)> + 'static,
    {
        let slot = self.slot.clone();
        future_to_promise(async move {
            let state = slot
                .borrow_mut()
                .take()
                .ok_or_else(|| JsValue::from_str("busy: the model is still running"))?;
            let (state, result) = work(state).await;
            slot.replace(Some(state));
            result
                .map(|text| JsValue::from_str(&text))
                .map_err(js_error)
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> Option<R> {
        self.slot.borrow_mut().as_mut().map(f)
    }
}

fn js_error(message: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&message.to_string()).into()
}
