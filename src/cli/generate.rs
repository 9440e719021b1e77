//! `glassbox generate`: the generation loop through the KV cache, on the GPU or the CPU
//! reference, printing the text as it comes.

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::{render, Backend};
use crate::gpu::{Gpu, GpuModel, GpuOptions, KernelRegistry};
use crate::model::validate_ids;

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Scene folder (model and tokenizer); the built-in `sort` scene when neither this nor
    /// --model is given.
    #[arg(long, conflicts_with = "model")]
    scene: Option<PathBuf>,
    /// A model folder without a scene: the prompt is text for GPT-2's vocabulary, else token
    /// ids, comma-separated.
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long)]
    prompt: String,
    /// Send the prompt as a user's message in the model's chat form (an instruct model's
    /// template: ChatML, `<|im_start|>user ... <|im_end|>`), and stop at the end of the answer.
    #[arg(long)]
    chat: bool,
    /// How many tokens to generate.
    #[arg(short = 'n', long, default_value_t = 6)]
    count: usize,
    /// Always take the most likely token.
    #[arg(long, conflicts_with_all = ["temperature", "top_k", "top_p"])]
    greedy: bool,
    /// Sampling temperature: below 1 sharpens the distribution, above 1 flattens it.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long)]
    top_k: Option<usize>,
    #[arg(long)]
    top_p: Option<f32>,
    /// Seed of the sampler: the same seed gives the same text.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value = "gpu")]
    backend: Backend,
    #[command(flatten)]
    ablate: super::why::AblateArgs,
}

pub fn generate(args: &GenerateArgs, options: &GpuOptions) -> Result<()> {
    use std::io::Write;
    let scene = render::load_scene(args.scene.as_deref(), args.model.as_deref())?;
    let (model, tokenizer) = (scene.model, scene.tokenizer);
    if !(args.temperature > 0.0 && args.temperature.is_finite()) {
        bail!(
            "--temperature {}: expected a positive number (or --greedy)",
            args.temperature
        );
    }
    if let Some(p) = args.top_p.filter(|p| !(*p > 0.0 && *p <= 1.0)) {
        bail!("--top-p {p}: expected a number in (0, 1]");
    }
    let sampling = if args.greedy {
        crate::cpu::sampling::Sampling::GREEDY
    } else {
        crate::cpu::sampling::Sampling {
            temperature: args.temperature,
            top_k: args.top_k,
            top_p: args.top_p,
            seed: args.seed,
        }
    };
    let ablations = args.ablate.ablations(&model)?;
    if ablations.mean {
        bail!(
            "--mean-ablate needs every position at once, and generate runs one token at a time \
             through the KV cache: zero the units instead (--ablate without --mean-ablate)"
        );
    }
    if !ablations.is_empty() {
        eprintln!("ablated: {}", super::why::describe(&ablations));
    }
    let (text, stop) = match args.chat {
        false => (args.prompt.clone(), None),
        true => {
            let crate::scene::Tokenizer::Json(own) = &tokenizer else {
                bail!(
                    "--chat: this model has no tokenizer of its own, so no chat template (GGUF \
                     files and tokenizer.json folders have one)"
                );
            };
            let (chat, end) = own.chat().map_err(|e| anyhow::anyhow!("--chat: {e}"))?;
            (chat.prompt(&args.prompt), Some(end))
        }
    };
    let prompt = tokenizer.encode(&text)?;
    validate_ids(&model.config, &prompt)?;
    let mut stream = crate::scene::TextStream::new(&tokenizer);
    let mut print = |id: u32| {
        if Some(id) != stop {
            print!("{}", stream.push(id));
        }
        let _ = std::io::stdout().flush();
    };
    let (produced, time_report) = match args.backend {
        Backend::Cpu => (
            crate::generate::generate_cpu_ablated(
                &model,
                (&prompt, args.count, stop),
                &sampling,
                &ablations,
                &mut print,
            )?,
            None,
        ),
        Backend::Gpu => pollster::block_on(async {
            let mut clock = StartClock::new();
            let gpu = Gpu::new(options).await?;
            let registry = KernelRegistry::for_gpu(&gpu)?;
            clock.lap("opening the device");
            let mut bar = crate::cli::progress::LoadBar::default();
            let weights = GpuModel::upload_with(&gpu, &model, &mut |stage, done, total| {
                bar.update(stage, done, total)
            })
            .await?;
            clock.lap("uploading the weights");
            let mut generator =
                crate::generate::GpuGenerator::ablated(&gpu, &registry, &weights, &ablations)
                    .await?;
            generator.stop_at(stop);
            clock.lap("planning the decode step");
            eprintln!("{}", generator.path_note());
            let mut first = true;
            let produced = generator
                .generate(&prompt, args.count, &sampling, &mut |id| {
                    if std::mem::take(&mut first) {
                        clock.lap("the prompt and the first token");
                    }
                    print(id)
                })
                .await?;
            clock.lap("the other tokens");
            let report = clock.report(registry.compile_stats(), registry.pipeline_cache_file());
            anyhow::Ok((produced, Some(report)))
        })?,
    };
    println!("{}", stream.finish());
    if let Some(report) = time_report {
        eprintln!("{report}");
    }
    if produced.len() < args.count && produced.last() != stop.as_ref() {
        eprintln!(
            "stopped after {} tokens: the model has n_positions = {}",
            produced.len(),
            model.config.n_positions
        );
    }
    Ok(())
}

/// Where a run's time went from start to the last token, stage by stage: what a first run on a
/// new machine spends compiling shows beside what later runs, which find the pipelines in the
/// cache, spend.
struct StartClock {
    last: std::time::Instant,
    laps: Vec<(&'static str, f64)>,
}

impl StartClock {
    fn new() -> StartClock {
        StartClock {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, what: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((what, (now - self.last).as_secs_f64()));
        self.last = now;
    }

    fn report(
        &self,
        compiled: crate::gpu::kernels::CompileStats,
        cache: Option<&std::path::Path>,
    ) -> String {
        let total: f64 = self.laps.iter().map(|(_, secs)| secs).sum();
        let laps: Vec<String> = self
            .laps
            .iter()
            .map(|(what, secs)| format!("{what} {:.0} ms", secs * 1e3))
            .collect();
        let cache = cache.map_or("no pipeline cache on this backend".to_string(), |file| {
            format!("pipeline cache {}", file.display())
        });
        format!(
            "time: {:.0} ms: {}; of it, compiling {} pipelines {:.0} ms ({cache})",
            total * 1e3,
            laps.join(", "),
            compiled.pipelines,
            compiled.seconds * 1e3
        )
    }
}
