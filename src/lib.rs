//! glassbox: a GPT-2 forward pass where every op is a hand-written WGSL kernel, checked against a
//! plain CPU reference, tensor by tensor, by name.

#[cfg(feature = "app")]
pub mod app;
#[cfg(not(target_arch = "wasm32"))]
pub mod bench;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod compare;
pub mod cpu;
pub mod dump;
#[cfg(not(target_arch = "wasm32"))]
pub mod fetch;
pub mod generate;
pub mod gpu;
pub mod graph;
pub mod model;
#[cfg(not(target_arch = "wasm32"))]
pub mod progress;
pub mod render;
pub mod sampling;
pub mod scene;
pub mod values;
pub mod viewer;
#[cfg(not(target_arch = "wasm32"))]
pub mod walkthrough_player;
