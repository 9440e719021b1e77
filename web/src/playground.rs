//! The kernel playground on the page: variants to choose per op family, kernels edited in the
//! page's editor (checked by naga, errors at their line and column, the last good kernel running
//! on), GPU timing, the difference view against the CPU reference (which runs in wasm), and
//! generation through the KV cache.

use glassbox::gpu::KernelId;
use serde_json::{json, Value};

use crate::state::State;

impl State {
    /// Every op family with its variants, which one runs, and each kernel's file and text
    /// (JSON).
    pub fn kernels(&self) -> Value {
        let registry = self.viewer.registry();
        let choice = &self.viewer.gpu().kernels;
        // Catalog order; a variant loaded later joins its family's row.
        let mut families: Vec<String> = Vec::new();
        for kernel in registry.kernels() {
            if !families.contains(&kernel.id.family) {
                families.push(kernel.id.family);
            }
        }
        let ops = &self.viewer.gpu_graph().graph().ops;
        let list: Vec<Value> = families
            .iter()
            .map(|family| {
                // What runs is what the graph's ops use (a decode step's one-token ops may take
                // another kernel than the family's default); a family no op uses, its default.
                let running = ops
                    .iter()
                    .find(|op| op.kind.kernel_name() == family)
                    .map(|op| choice.kernel_for_op(&op.kind, registry))
                    .or_else(|| registry.default_for(family).cloned());
                let variants: Vec<Value> = registry
                    .variants(family)
                    .into_iter()
                    .map(|k| {
                        json!({
                            "variant": k.id.variant,
                            "about": k.about,
                            "file": k.file,
                            "origin": format!("{:?}", k.origin),
                            "text": registry.source(&k.id).text,
                        })
                    })
                    .collect();
                json!({
                    "family": family,
                    "running": running.map(|id| id.variant),
                    "variants": variants,
                })
            })
            .collect();
        Value::Array(list)
    }

    /// Runs `family` with `variant` from now on, and the graph again.
    pub async fn set_kernel(&mut self, family: &str, variant: &str) -> Result<String, String> {
        let id = KernelId::new(family, variant);
        if !self.viewer.registry().kernels().any(|k| k.id == id) {
            return Err(format!("no kernel {family}/{variant} is loaded"));
        }
        let mut choice = self.viewer.gpu().kernels.clone();
        choice.set(&id);
        self.rerun_with(choice).await
    }

    /// Loads kernel text from the editor (`file` names it in errors): a new variant of its
    /// family or new code for the kernel of its name, then runs the graph again. A kernel naga
    /// refuses changes nothing: the error (JSON, with its line and column) comes back instead.
    pub async fn edit_kernel(&mut self, file: &str, text: &str) -> Result<String, String> {
        let (device, registry) = self.viewer.kernels_mut();
        if let Err(error) = registry.load(device, file, text, &|_| None) {
            return Ok(json!({
                "error": {
                    "file": error.file,
                    "line": error.line,
                    "column": error.column,
                    "message": error.message,
                    "text": error.to_string(),
                }
            })
            .to_string());
        }
        let choice = self.viewer.gpu().kernels.clone();
        self.rerun_with(choice).await
    }

    async fn rerun_with(
        &mut self,
        choice: glassbox::gpu::variants::KernelChoice,
    ) -> Result<String, String> {
        self.viewer
            .set_kernels(choice)
            .await
            .map_err(|e| e.to_string())?;
        self.show_whole_run().await
    }

    /// After the graph changed: every op run, the difference view and the prediction read
    /// again; the status.
    async fn show_whole_run(&mut self) -> Result<String, String> {
        self.viewer.step_to(usize::MAX);
        self.refresh_difference().await?;
        self.after_run().await?;
        Ok(self.status().to_string())
    }

    /// Runs the whole graph once with a GPU timestamp around every op (JSON: each op's time);
    /// where the browser grants no timestamp queries, times the whole run by the wall clock
    /// instead, and says so.
    pub async fn measure(&mut self) -> Result<String, String> {
        let (gpu, registry) = (self.viewer.gpu(), self.viewer.registry());
        let timed = self
            .viewer
            .gpu_graph()
            .run_timed(gpu, registry)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(timings) = timed {
            let ops: Vec<Value> = timings
                .iter()
                .map(|t| json!({"op": t.op, "nanos": t.nanos}))
                .collect();
            return Ok(json!({"clock": "GPU timestamps", "ops": ops}).to_string());
        }
        let start = now();
        self.viewer.gpu_graph().run(gpu, registry);
        // A readback waits for the run to finish.
        self.viewer
            .top_predictions(1)
            .await
            .map_err(|e| e.to_string())?;
        Ok(json!({
            "clock": "wall clock (this browser grants no GPU timestamps): the whole graph, with one readback",
            "total_ms": now() - start,
        })
        .to_string())
    }

    /// Colours every activation by |GPU - CPU| (on) or by value (off).
    pub async fn set_difference(&mut self, on: bool) -> Result<String, String> {
        self.viewer
            .set_difference(on)
            .await
            .map_err(|e| e.to_string())?;
        self.after_run().await?;
        Ok(self.status().to_string())
    }

    pub(crate) async fn refresh_difference(&mut self) -> Result<(), String> {
        if self.viewer.difference().is_some() {
            self.viewer
                .refresh_difference()
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The worst |GPU - CPU| of every op run, with the difference view on (JSON), else null.
    pub fn differences(&self) -> Value {
        match self.viewer.difference() {
            Some(view) => Value::Array(
                view.per_op
                    .iter()
                    .map(|d| {
                        json!({
                            "op": d.op,
                            "max_abs": d.difference.max_abs,
                            "scale": d.difference.scale,
                            "passes": d.difference.passes(),
                        })
                    })
                    .collect(),
            ),
            None => Value::Null,
        }
    }

    /// Generation through the KV cache (one decode step per token) or by running the whole
    /// sequence again.
    pub async fn set_kv_cache(&mut self, on: bool) -> Result<String, String> {
        self.viewer
            .set_decoding(on)
            .await
            .map_err(|e| e.to_string())?;
        self.show_whole_run().await
    }

    /// Appends the next token (greedy, or sampled at `temperature` with the GPU's sampler when
    /// decoding) and runs it.
    pub async fn append_token(&mut self, temperature: f32) -> Result<String, String> {
        self.tour = None;
        self.walkthrough.invalidate();
        self.viewer.sampling_mut().temperature = temperature.max(0.0);
        let appended = self
            .viewer
            .append_token()
            .await
            .map_err(|e| e.to_string())?;
        if appended.is_none() {
            return Err("the model has no position left for another token".into());
        }
        self.base_ids = self.viewer.ids().to_vec();
        self.prompt = self.viewer.scene().tokenizer.decode(&self.base_ids);
        self.show_whole_run().await
    }
}

/// The page's clock, in milliseconds.
fn now() -> f64 {
    web_sys::window().map_or(0.0, |w| w.performance().map_or(0.0, |p| p.now()))
}
