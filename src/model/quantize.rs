//! Any model's matrices in ggml's blocks, as llama.cpp would store them: what `bench` times the
//! quantized kernels on when the model was not read from a GGUF file.

use super::gguf::GgmlType;
use super::{Blocks, Model};
use crate::graph::{Graph, OpKind};

impl Model {
    /// This model with every matrix a linear layer or the logits read (and whose rows split into
    /// blocks of 32) stored as `ty`'s blocks, its f32 values replaced by what those blocks hold,
    /// so that the CPU reference computes with the same numbers; matrices not in memory are left
    /// as they are. None for a type without a quantizer (see [`GgmlType::quantize`]).
    pub fn quantized(&self, ty: GgmlType) -> Option<Model> {
        let graph = Graph::forward(&self.config, 1);
        let mut model = self.clone();
        for op in &graph.ops {
            let transposed = match op.kind {
                OpKind::Linear { .. } => true,
                OpKind::Logits { .. } => false,
                _ => continue,
            };
            let tensor = &graph.tensors[op.inputs[1]];
            let &[a, b] = tensor.shape.as_slice() else {
                continue;
            };
            // Stored rows are outputs: a linear layer's [in, out] is stored [out, in].
            let (rows, row_len) = if transposed { (b, a) } else { (a, b) };
            let values = match self.weights.get(&tensor.name) {
                // Already in blocks (a GGUF model), or not in memory (streamed to the GPU).
                Some(_) if model.weights.blocks(&tensor.name).is_some() => continue,
                Some(values) if row_len % 32 == 0 => values,
                _ => continue,
            };
            let stored = match transposed {
                true => super::transpose(values, a, b),
                false => values.to_vec(),
            };
            let bytes = ty.quantize(&stored)?;
            let held = ty.dequantize(&bytes);
            let held = match transposed {
                true => super::transpose(&held, rows, row_len),
                false => held,
            };
            model.weights.insert(&tensor.name, held);
            let blocks = Blocks {
                ty,
                rows,
                row_len,
                bytes,
                transposed,
            };
            model.weights.insert_blocks(&tensor.name, blocks);
        }
        Some(model)
    }
}
