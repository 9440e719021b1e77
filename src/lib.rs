//! glassbox: a GPT-2 forward pass where every op is a hand-written WGSL kernel, checked against a
//! plain CPU reference, tensor by tensor, by name.

#[cfg(feature = "app")]
pub mod app;
#[cfg(not(target_arch = "wasm32"))]
pub mod bench;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod cpu;
#[cfg(not(target_arch = "wasm32"))]
pub mod fetch;
pub mod generate;
pub mod gpu;
pub mod graph;
pub mod model;
pub mod render;
pub mod scene;
pub mod values;
pub mod viewer;
pub mod why;
