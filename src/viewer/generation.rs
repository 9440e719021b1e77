//! Generating in the viewer, one token at a time: with the full forward pass (every token run
//! again, the CPU reference sampler picking from the last row of logits) or with the decode
//! step, where each token runs once through the graph, its key and value land in the KV cache
//! drawn beside the attention, and the sample op picks the next token on the GPU.

use super::Viewer;
use crate::cpu::sampling::sample;
use crate::gpu::GpuError;
use crate::model::Config;

/// The KV cache the viewer builds for `tokens` tokens: room for at least one more, in powers of
/// two (so it grows rarely), at least 16 and at most the model's positions.
pub fn cache_capacity(config: &Config, tokens: usize) -> usize {
    (tokens + 1)
        .max(16)
        .next_power_of_two()
        .min(config.n_positions)
}

impl Viewer {
    /// Whether the graph shown is the decode step with its KV cache.
    pub fn decoding(&self) -> bool {
        self.decoding
    }

    /// The row of the logits and probabilities that predicts the next token.
    pub fn last_row(&self) -> usize {
        if self.decoding {
            0
        } else {
            self.ids.len() - 1
        }
    }

    /// The KV cache's (filled, capacity) positions, when decoding.
    pub fn cache_fill(&self) -> Option<(usize, usize)> {
        let capacity = self.graph.graph().decode_capacity?;
        Some((self.ids.len(), capacity))
    }

    /// Switches between the full forward pass and the decode step, keeping the tokens.
    pub async fn set_decoding(&mut self, on: bool) -> Result<(), GpuError> {
        if on == self.decoding {
            return Ok(());
        }
        if on && self.ablations.mean {
            return Err(GpuError::Ablation(
                "a mean over positions needs every position at once; the decode step has one (zero the units instead, or leave the KV cache off)".to_string(),
            ));
        }
        self.decoding = on;
        self.op_count = usize::MAX;
        self.current = None;
        self.rerun().await
    }

    /// Runs `ids` through the decode graph one by one from an empty cache (a larger cache if
    /// they do not fit), ending with the last token's step shown up to `op_count`.
    pub(super) async fn decode_all(&mut self, ids: &[u32]) -> Result<(), GpuError> {
        let fits = self.graph.graph().decode_capacity.is_some_and(|capacity| {
            capacity > ids.len().min(self.scene.model.config.n_positions - 1)
        });
        if !fits {
            self.rebuild(ids.len()).await?;
        }
        self.graph.set_sampling(&self.gpu, &self.sampling);
        for (position, &id) in ids.iter().enumerate() {
            self.graph.set_token(&self.gpu, id, position)?;
            self.graph.run(&self.gpu, &self.registry);
        }
        self.ids = ids.to_vec();
        self.run_to(self.op_count);
        Ok(())
    }

    /// Appends the next token, picked with `self.sampling`, and runs it: decoding, the graph's
    /// sample op picks it and the new token takes one decode step; otherwise the CPU reference
    /// sampler picks it from the last logits and the whole sequence runs again. Returns the
    /// token, or `None` when the model has no position left for it.
    pub async fn append_token(&mut self) -> Result<Option<u32>, GpuError> {
        let config = &self.scene.model.config;
        if self.ids.len() >= config.n_positions {
            return Ok(None);
        }
        let all = self.graph.graph().ops.len();
        self.run_to(all);
        let position = self.ids.len() - 1;
        let next = if self.decoding {
            // The sample op runs again so that settings changed since the last step count.
            self.graph.set_sampling(&self.gpu, &self.sampling);
            let op = self.graph.graph().op_index("sample").expect("decode graph");
            let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
            self.graph
                .encode(&self.registry, &mut encoder, op..op + 1, None);
            self.gpu.submit_timed(encoder.finish());
            let id = self
                .graph
                .graph()
                .tensor_id("next_token")
                .expect("decode graph");
            self.graph.read(&self.gpu, id).await?[0] as u32
        } else {
            let logits = self
                .graph
                .graph()
                .tensor_id("logits")
                .expect("graph has logits");
            let row = self
                .graph
                .tensor(logits)
                .read_row(&self.gpu, position)
                .await?;
            sample(&row, &self.sampling, position as u32)
        };
        let mut ids = self.ids.clone();
        ids.push(next);
        let capacity = self.graph.graph().decode_capacity.unwrap_or(0);
        if self.decoding && ids.len() <= capacity {
            self.graph.set_token(&self.gpu, next, ids.len() - 1)?;
            self.ids = ids;
            self.run_to(all);
        } else {
            self.set_ids(&ids).await?;
        }
        Ok(Some(next))
    }
}
