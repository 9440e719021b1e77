//! The GPU backend: device setup, kernels, one storage buffer per tensor, and the executor.

mod device;
mod executor;
mod health;
pub mod kernels;
pub mod launch;
#[cfg(not(target_arch = "wasm32"))]
pub mod pipeline_cache;
mod plan;
mod precision;
mod quantized;
pub mod stream;
mod tensor;
pub mod trace;
pub mod tuned;
pub mod variants;
#[cfg(not(target_arch = "wasm32"))]
pub mod watch;
pub mod wgsl;

pub use device::{Gpu, GpuOptions};
pub use executor::{GpuGraph, GpuModel, OpTiming};
pub use health::LiveObjects;
pub use kernels::{KernelError, KernelId, KernelRegistry};
pub use launch::Launch;
pub use precision::Precision;
pub use quantized::WeightStorage;
pub use tensor::GpuTensor;

use thiserror::Error;

use crate::model::LoadError;

#[derive(Debug, Error)]
pub enum GpuError {
    #[error("no GPU adapter found (for software rendering install Mesa's lavapipe, Debian package mesa-vulkan-drivers): {0}")]
    NoAdapter(String),
    #[error("the adapter refused to open a device: {0}")]
    RequestDevice(String),
    #[error("tensor `{tensor}`: one row is {bytes} bytes, above the {limit}-byte storage binding limit of this device")]
    TooLarge {
        tensor: String,
        bytes: u64,
        limit: u64,
    },
    #[error("tensor `{tensor}` is split into {chunks} buffers, but the op using it needs it whole: this device's binding limit is too small for this model")]
    CannotSplit { tensor: String, chunks: usize },
    #[error("op `{op}` needs {workgroups:?} workgroups, above this device's limit of {limit} per dimension")]
    Dispatch {
        op: String,
        workgroups: [u32; 3],
        limit: u32,
    },
    #[error("{what} needs {:.2} GB of GPU buffers and failed on this device ({message}): {has}", *bytes as f64 / 1e9)]
    Device {
        what: String,
        bytes: u64,
        message: String,
        /// What the device has, as far as it says.
        has: String,
    },
    #[error("op `{op}` reads `{tensor}`, which is kept quantized on the GPU, and only linear layers and the logits read quantized weights: upload the model with its weights dequantized (--dequantize)")]
    QuantizedInput { op: String, tensor: String },
    #[error("op `{op}`: kernel `{kernel}` is not built for this device and precision (subgroups need the adapter's feature; f16 graphs need KernelRegistry::enable_f16)")]
    Unsupported { op: String, kernel: String },
    #[error("reading back from the GPU failed: {0}")]
    Readback(String),
    /// Units to switch off that this model or mode cannot (a head it does not have, a mean
    /// ablation in a decode step).
    #[error("ablation: {0}")]
    Ablation(String),
    #[error("{0} needs the model's weights in memory, but they were streamed to the GPU and not kept (open the model with the native app, or a smaller one)")]
    WeightsNotKept(&'static str),
    /// A picture this device cannot draw or read back.
    #[error("--size: {0}")]
    ImageSize(String),
    #[error("the GPU did not finish within {seconds} s: a kernel loaded from a file may never end (a loop that does not stop); the device is given up")]
    Hung { seconds: f64 },
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// A `--kernel` choice the loaded kernels do not have.
    #[error("{0}")]
    Choice(String),
    /// The file of tuned choices cannot be read or written.
    #[error("{0}")]
    Tuned(String),
    #[error(transparent)]
    Load(#[from] LoadError),
}
