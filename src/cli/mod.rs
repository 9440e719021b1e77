//! The `glassbox` command line.

mod encode;
mod fetch;
mod generate;
pub mod progress;
mod render;
mod render_why;
mod video;
mod why;
mod why_tables;

pub use fetch::load_model;
use generate::{generate, GenerateArgs};

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::bench::{self, BenchOptions};
use crate::cpu;
use crate::gpu::{Gpu, GpuGraph, GpuModel, GpuOptions, KernelRegistry};
use crate::graph::Graph;
use crate::model::{validate_ids, Model};
use crate::values::compare::compare;
use crate::values::dump;
use crate::values::TensorValues;

#[derive(Parser)]
#[command(
    name = "glassbox",
    version,
    about = "A GPT-2 forward pass where every op is a WGSL kernel you can check against a CPU reference"
)]
struct Cli {
    /// Split the vocabulary-sized GPU tensors (wte, logits, probs) every ROWS rows, as the
    /// device's binding limit does for large models: exercises that path on small ones.
    #[arg(long, global = true, value_name = "ROWS")]
    max_chunk_rows: Option<usize>,
    #[arg(long = "kernel", global = true, value_name = "FAMILY=VARIANT", long_help = crate::gpu::variants::kernel_help())]
    kernel_choices: Vec<String>,
    /// A folder of kernel files loaded over the built-in ones (see `glassbox kernels export`):
    /// edited built-in kernels, and new variants, which run in place of their family's
    /// default. `view` also watches it and reloads a file when it changes.
    #[arg(long = "kernels", global = true, value_name = "DIR")]
    kernel_dir: Option<PathBuf>,
    /// With --kernels: the longest the GPU may take to finish the work it was given before a
    /// kernel is declared hung (a loop that never ends) and the command stops with an error;
    /// the window then restores the last good kernels on a new device.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60.0)]
    kernel_time_limit: f64,
    /// Store the model's floats on the GPU as f32 (default) or f16 (half the bytes; kernels
    /// still compute in f32; needs the adapter's SHADER_F16).
    #[arg(long, global = true, default_value = "f32", value_name = "f32|f16")]
    precision: String,
    /// Make a GGUF model's quantized matrices into f32 on the GPU when it is uploaded, instead
    /// of reading their blocks in the linear and logits kernels (what GPUs do by default for
    /// Q4_0, Q4_1 and Q8_0; other types are always made into f32). CPU adapters (lavapipe), where
    /// the f32 kernels are faster, dequantize by default, and the window and the "why" tools
    /// always do.
    #[arg(long, global = true, conflicts_with = "quantized")]
    dequantize: bool,
    /// Keep a GGUF model's Q4_0, Q4_1 and Q8_0 matrices as the file's blocks on the GPU, also on
    /// a CPU adapter.
    #[arg(long, global = true)]
    quantized: bool,
    /// `glassbox --frames 30` is `glassbox view --frames 30`: the window is the default command.
    #[command(flatten)]
    view: ViewArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What the window opens on.
#[derive(clap::Args, Clone)]
struct ViewArgs {
    /// Scene folder with scene.toml.
    #[arg(long, conflicts_with = "model")]
    scene: Option<PathBuf>,
    /// A model folder (config.json + model.safetensors) to open without a scene.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Exit after drawing this many frames.
    #[arg(long)]
    frames: Option<u64>,
    /// Presentation mode, for teaching on a projector: the picture and the walkthrough's
    /// narrative only (P toggles it).
    #[arg(long)]
    present: bool,
    /// Lose the GPU device on purpose at this frame, as a driver reset would (tests recovery).
    #[arg(long, hide = true, value_name = "FRAME")]
    lose_device_at: Option<u64>,
    /// Play, step, hover and type by itself for this many seconds, then report whether memory
    /// and the live GPU objects stayed flat (the soak test).
    #[arg(long, hide = true, value_name = "SECONDS")]
    soak: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    Gpu,
    Cpu,
}

fn tokenize(tokenizer: &str, text: &str, decode: bool) -> Result<()> {
    let tokenizer = match tokenizer {
        "gpt2" => crate::scene::Tokenizer::Gpt2,
        path => crate::scene::Tokenizer::Json(crate::scene::hf_tokenizer::HfTokenizer::load(
            std::path::Path::new(path),
        )?),
    };
    if decode {
        let ids = crate::scene::Tokenizer::Ids.encode(text)?;
        println!("{}", serde_json::to_string(&tokenizer.try_decode(&ids)?)?);
    } else {
        println!("{}", serde_json::to_string(&tokenizer.encode(text)?)?);
    }
    Ok(())
}

#[derive(Subcommand)]
enum KernelsCommand {
    /// Write the built-in kernels to DIR, each self-contained (shared helpers appended), at its
    /// path under kernels/ (never overwriting a file).
    Export { dir: PathBuf },
    /// List every kernel: family=variant, where it comes from and what it does (with
    /// --kernels DIR, the folder's kernels too).
    List,
}

#[derive(Subcommand)]
enum Command {
    /// Open the window on a scene (the default command; the built-in `sort` scene without --scene).
    View(ViewArgs),
    /// Kernel files for editing.
    Kernels {
        #[command(subcommand)]
        command: KernelsCommand,
    },
    /// Run the model on token ids and print the most likely next tokens.
    Forward {
        /// Folder with config.json and model.safetensors (Hugging Face GPT-2 layout).
        #[arg(long)]
        model: PathBuf,
        /// Token ids, comma-separated: 3,1,4
        #[arg(long, value_delimiter = ',', required = true)]
        ids: Vec<u32>,
        #[arg(long, value_enum, default_value = "gpu")]
        backend: Backend,
        /// Write every activation plus the Hugging Face aliases to this safetensors file.
        #[arg(long, value_name = "OUT.safetensors")]
        dump: Option<PathBuf>,
        /// How many predictions to print.
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[command(flatten)]
        ablate: why::AblateArgs,
    },
    /// Run both backends and compare every op's outputs, GPU against CPU.
    Check {
        #[arg(long)]
        model: PathBuf,
        #[arg(long, value_delimiter = ',', required = true)]
        ids: Vec<u32>,
    },
    /// Print the token ids of a text (or, with --decode, the text of comma-separated ids).
    Tokenize {
        /// "gpt2" (GPT-2's byte-level BPE, built in), or a model folder holding tokenizer.json
        /// (or the file itself).
        #[arg(long, default_value = "gpt2")]
        tokenizer: String,
        #[arg(long)]
        text: String,
        #[arg(long)]
        decode: bool,
    },
    /// Generate tokens after a prompt, one forward pass per token.
    Generate(GenerateArgs),
    /// Draw the model from the GPU buffers into a PNG (for slides and papers), or film it with
    /// --video.
    Render(Box<render::RenderArgs>),
    /// Download GPT-2 weights from the Hugging Face hub into its cache (resuming a broken
    /// download) and print the folder to open with --model.
    Fetch(fetch::FetchArgs),
    #[command(flatten)]
    Why(why::WhyCommand),
    /// Time every kernel variant on each op shape of a model (its forward pass at --seq-len
    /// tokens and at one token) on this adapter, check each against the CPU reference, and keep
    /// the fastest that agrees per shape in the tuned file (GLASSBOX_CACHE_DIR, else
    /// ~/.cache/glassbox, file tuned.json): those run from then on, where --kernel does not say
    /// otherwise.
    Tune(MeasuredModel),
    /// Measure every kernel and the whole forward pass on both backends.
    Bench {
        #[command(flatten)]
        measured: MeasuredModel,
        /// Sequence lengths of the whole-forward-pass sweep (clamped to the model's positions).
        #[arg(long, value_delimiter = ',', default_values_t = bench::DEFAULT_SEQ_LENS)]
        seq_lens: Vec<usize>,
        /// Also write the results as JSON to this file (the table still prints).
        #[arg(long, value_name = "FILE")]
        json_out: Option<PathBuf>,
        /// Measure frame times of the renderer instead of the kernels.
        #[arg(long)]
        frames: bool,
    },
}

/// What `bench` and `tune` measure, and how.
#[derive(clap::Args)]
struct MeasuredModel {
    /// Model folder; without it, a model of --shape with random weights.
    #[arg(long, conflicts_with = "shape")]
    model: Option<PathBuf>,
    /// Without --model: the shape of the random-weight model.
    #[arg(long, value_enum, default_value = "gpt2-small")]
    shape: BenchShape,
    /// Tokens of the forward pass measured (tune: of the longer one; one token is tuned too).
    #[arg(long, default_value_t = 64)]
    seq_len: usize,
    /// Timed repetitions per measurement (the median is reported and compared).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

impl MeasuredModel {
    /// The model folder, or a model of the shape with random weights.
    fn model(&self) -> Result<Model> {
        match &self.model {
            Some(dir) => load_model(dir),
            None => Ok(Model::random(self.shape.config(), 0)),
        }
    }
}

/// Whether `args` (without the program name) is a command line glassbox accepts, without
/// running it: the commands the README and docs/ show are checked with it.
pub fn parses(args: &[String]) -> Result<(), String> {
    let argv = std::iter::once("glassbox".to_string()).chain(args.iter().cloned());
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    view_args_without_view(&cli)
}

/// The window's options before another command would be ignored: refuse them instead.
fn view_args_without_view(cli: &Cli) -> Result<(), String> {
    let view = &cli.view;
    let given = view.scene.is_some()
        || view.model.is_some()
        || view.frames.is_some()
        || view.present
        || view.soak.is_some()
        || view.lose_device_at.is_some();
    match &cli.command {
        None => Ok(()),
        Some(Command::View(_)) if given => {
            Err("--scene, --model and --frames go after `view`, not before it".to_string())
        }
        Some(Command::View(_)) => Ok(()),
        Some(_) if given => Err(
            "--scene, --model and --frames before a command belong to the window (`glassbox \
             view`); give them after the command instead"
                .to_string(),
        ),
        Some(_) => Ok(()),
    }
}

pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    view_args_without_view(&cli).map_err(anyhow::Error::msg)?;
    let gpu_options = GpuOptions {
        max_chunk_rows: cli.max_chunk_rows,
        kernels: crate::gpu::variants::KernelChoice::parse(&cli.kernel_choices)
            .map_err(anyhow::Error::msg)?,
        time_limit: match cli.kernel_dir {
            Some(_) => Some(
                std::time::Duration::try_from_secs_f64(cli.kernel_time_limit)
                    .ok()
                    .filter(|limit| !limit.is_zero())
                    .with_context(|| {
                        format!(
                            "--kernel-time-limit {}: expected a positive number of seconds",
                            cli.kernel_time_limit
                        )
                    })?,
            ),
            None => None,
        },
        kernel_dir: cli.kernel_dir,
        precision: crate::gpu::Precision::parse(&cli.precision).map_err(anyhow::Error::msg)?,
        weights: match (cli.dequantize, cli.quantized) {
            (true, _) => Some(crate::gpu::WeightStorage::Dequantized),
            (_, true) => Some(crate::gpu::WeightStorage::Quantized),
            _ => None,
        },
        tuned: Some(crate::gpu::tuned::default_path(|key| {
            std::env::var(key).ok()
        })),
    };
    if let Some(dir) = &gpu_options.kernel_dir {
        if !dir.is_dir() {
            bail!("--kernels {}: no such folder", dir.display());
        }
    }
    match cli.command.unwrap_or(Command::View(cli.view)) {
        Command::View(args) => view(&args, gpu_options),
        Command::Kernels {
            command: KernelsCommand::List,
        } => list_kernels(&gpu_options),
        Command::Kernels {
            command: KernelsCommand::Export { dir },
        } => {
            let written = crate::gpu::kernels::export_kernels(&dir)
                .with_context(|| format!("exporting kernels to {}", dir.display()))?;
            println!(
                "wrote {} kernels to {}; edit them with `glassbox view --kernels {}`",
                written.len(),
                dir.display(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Tokenize {
            tokenizer,
            text,
            decode,
        } => tokenize(&tokenizer, &text, decode).map(|()| ExitCode::SUCCESS),
        Command::Forward {
            model,
            ids,
            backend,
            dump,
            top,
            ablate,
        } => forward(
            &model,
            &ids,
            backend,
            (dump.as_deref(), top),
            &ablate,
            &gpu_options,
        ),
        Command::Why(command) => why::run(&command, &gpu_options).map(|()| ExitCode::SUCCESS),
        Command::Check { model, ids } => check(&model, &ids, &gpu_options),
        Command::Generate(args) => generate(&args, &gpu_options).map(|()| ExitCode::SUCCESS),
        Command::Render(args) => render::render(&args, &gpu_options).map(|()| ExitCode::SUCCESS),
        Command::Fetch(args) => {
            fetch::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tune(measured) => {
            let file = gpu_options
                .tuned
                .clone()
                .expect("the command line always names the tuned file");
            let options = bench::tune::TuneOptions {
                seq_len: measured.seq_len,
                reps: measured.reps,
                file,
            };
            let model = measured.model()?;
            let report = pollster::block_on(bench::tune::tune(&model, &options, &gpu_options))?;
            if measured.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            measured,
            frames: true,
            ..
        } => {
            let report =
                pollster::block_on(bench::frames::run(measured.reps.max(3), &gpu_options))?;
            if measured.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            measured,
            json_out,
            frames: false,
            seq_lens,
        } => {
            let model = measured.model()?;
            let report = pollster::block_on(bench::run(
                &model,
                &BenchOptions {
                    seq_len: measured.seq_len,
                    reps: measured.reps,
                    seq_lens,
                },
                &gpu_options,
            ))?;
            let report_json = serde_json::to_string_pretty(&report)?;
            if let Some(path) = json_out {
                std::fs::write(&path, &report_json)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            if measured.json {
                println!("{report_json}");
            } else {
                print!("{}", report.table());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Model shapes `bench` measures with random weights, no download needed.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum BenchShape {
    /// GPT-2 small: 12 layers, 768 channels, 12 heads, vocabulary 50257.
    Gpt2Small,
    /// SmolLM2-135M (Llama): 30 layers, 576 channels, 9 query heads over 3 key/value heads,
    /// 1536 MLP neurons, vocabulary 49152.
    #[value(name = "smollm2-135m")]
    Smollm2_135m,
}

impl BenchShape {
    fn config(self) -> crate::model::Config {
        match self {
            BenchShape::Gpt2Small => crate::model::Config::gpt2_small(),
            BenchShape::Smollm2_135m => crate::model::Config::smollm2_135m(),
        }
    }
}

#[cfg(feature = "app")]
fn view(args: &ViewArgs, mut gpu: GpuOptions) -> Result<ExitCode> {
    let scene = render::load_scene(args.scene.as_deref(), args.model.as_deref())?;
    // The window loads the kernel folder itself, so that a kernel that does not compile is
    // shown in the window (and fixed while it runs) instead of stopping it; unless `--kernel`
    // chooses variants, which may be the folder's: then it is loaded first, as other commands do.
    let kernels = match gpu.kernels.is_empty() {
        true => gpu.kernel_dir.take(),
        false => gpu.kernel_dir.clone(),
    };
    crate::app::run(crate::app::AppOptions {
        scene,
        gpu,
        frames: args.frames,
        present: args.present,
        kernels,
        lose_device_at: args.lose_device_at,
        soak: args.soak.map(std::time::Duration::from_secs),
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "app"))]
fn view(_: &ViewArgs, _: GpuOptions) -> Result<ExitCode> {
    bail!("this glassbox was built without the `app` feature: no window; `glassbox render` still works")
}

/// Prints every kernel the adapter can run, the `--kernels` folder's included.
fn list_kernels(options: &GpuOptions) -> Result<ExitCode> {
    let gpu = pollster::block_on(Gpu::new(options))?;
    let registry = KernelRegistry::for_gpu(&gpu)?;
    println!("{:<30} {:<10} {:<44} about", "kernel", "origin", "file");
    for kernel in registry.kernels() {
        let origin = match kernel.origin {
            crate::gpu::kernels::Origin::BuiltIn => "built-in",
            crate::gpu::kernels::Origin::Edited => "edited",
            crate::gpu::kernels::Origin::DroppedIn => "new",
        };
        println!(
            "{:<30} {origin:<10} {:<44} {}",
            kernel.id.to_string(),
            kernel.file,
            kernel.about
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn load(dir: &Path, ids: &[u32]) -> Result<(Model, Graph)> {
    let model = load_model(dir)?;
    validate_ids(&model.config, ids)?;
    let graph = Graph::forward(&model.config, ids.len());
    Ok((model, graph))
}

/// Runs the graph on the GPU and reads back every activation.
pub fn gpu_forward(
    model: &Model,
    graph: &Graph,
    ids: &[u32],
    options: &GpuOptions,
) -> Result<TensorValues> {
    pollster::block_on(async {
        let gpu = Gpu::new(options).await?;
        let registry = KernelRegistry::for_gpu(&gpu)?;
        let gpu_model = GpuModel::upload(&gpu, model).await?;
        let gpu_graph = GpuGraph::new(&gpu, &registry, graph.clone(), &gpu_model).await?;
        gpu_graph.set_ids(&gpu, ids)?;
        gpu_graph.run(&gpu, &registry);
        Ok(gpu_graph.read_all(&gpu).await?)
    })
}

fn forward(
    dir: &Path,
    ids: &[u32],
    backend: Backend,
    (dump_path, top): (Option<&Path>, usize),
    ablate: &why::AblateArgs,
    options: &GpuOptions,
) -> Result<ExitCode> {
    let (model, _) = load(dir, ids)?;
    let ablations = ablate.ablations(&model)?;
    let graph = Graph::forward_ablated(&model.config, ids.len(), &ablations);
    if !ablations.is_empty() {
        println!("ablated: {}", why::describe(&ablations));
    }
    let values = match backend {
        Backend::Gpu => gpu_forward(&model, &graph, ids, options)?,
        Backend::Cpu => cpu::forward(&graph, &model, ids)?,
    };
    let probs = values.get(graph.tensor_id("probs").expect("graph has probs"));
    let logits = values.get(graph.tensor_id("logits").expect("graph has logits"));
    let vocab = model.config.vocab_size;
    let last = ids.len() - 1;
    let row = &probs[last * vocab..][..vocab];
    let mut ranked: Vec<usize> = (0..vocab).collect();
    ranked.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    println!("next token after position {last} (token {}):", ids[last]);
    println!(
        "{:>4}  {:>8}  {:>10}  {:>10}",
        "rank", "token", "prob", "logit"
    );
    for (rank, &token) in ranked.iter().take(top).enumerate() {
        println!(
            "{:>4}  {:>8}  {:>10.6}  {:>10.4}",
            rank + 1,
            token,
            row[token],
            logits[last * vocab + token]
        );
    }
    if let Some(path) = dump_path {
        let bytes = dump::to_safetensors(&graph, &values)?;
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn check(dir: &Path, ids: &[u32], options: &GpuOptions) -> Result<ExitCode> {
    let (model, graph) = load(dir, ids)?;
    let reference = cpu::forward(&graph, &model, ids)?;
    let gpu = gpu_forward(&model, &graph, ids, options)?;
    // f16 storage is checked for drift, against a bound of its own: its rounding alone is
    // 2^-11 of every value, ten times the f32 tolerance.
    let tolerance = options.precision.tolerance();
    println!(
        "GPU ({} storage) against the CPU reference, per op output (pass: max abs <= {tolerance:e} x max(1, max |cpu|))",
        options.precision.name()
    );
    println!(
        "{:<24} {:<22} {:>12} {:>12}  result",
        "op", "output", "max abs", "max rel"
    );
    let mut failures = 0;
    for op in &graph.ops {
        for &out in &op.outputs {
            let diff = compare(gpu.get(out), reference.get(out));
            let passes = diff.within(tolerance);
            let verdict = if passes { "ok" } else { "FAIL" };
            failures += usize::from(!passes);
            println!(
                "{:<24} {:<22} {:>12.3e} {:>12.3e}  {verdict}",
                op.name, graph.tensors[out].name, diff.max_abs, diff.max_rel
            );
        }
    }
    if failures > 0 {
        bail!("{failures} tensors differ beyond the tolerance");
    }
    println!("all {} ops agree", graph.ops.len());
    Ok(ExitCode::SUCCESS)
}
