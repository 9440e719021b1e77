//! The "why" commands: `lens`, `heads`, `attribute`, `neighbors` and `patch`, each printing JSON
//! a notebook reads (or a table), and the `--ablate` options they share with `forward`.

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::{load_model, why_tables as tables, Backend};
use crate::gpu::GpuOptions;
use crate::graph::probe::{Ablation, Ablations, DEFAULT_TOP};
use crate::model::Model;
use crate::why::patch::Site;
use crate::why::{self, Runner};

/// Units to switch off, shared by `forward` and the "why" commands.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct AblateArgs {
    /// Switch a unit off: h.L.head.H (the head's slice of the attention output before c_proj),
    /// h.L.mlp (the MLP's output, bias included) or h.L.mlp.neuron.N (one GELU output).
    /// Repeatable; layers, heads and neurons count from 0.
    #[arg(long = "ablate", value_name = "UNIT", value_parser = parse_ablation)]
    pub units: Vec<Ablation>,
    /// Replace ablated units with their mean over the prompt's positions instead of zero.
    #[arg(long, requires = "units")]
    pub mean_ablate: bool,
}

fn parse_ablation(text: &str) -> Result<Ablation, String> {
    text.parse()
}

impl AblateArgs {
    /// The ablations, checked against the model.
    pub fn ablations(&self, model: &Model) -> Result<Ablations> {
        let ablations = Ablations {
            units: self.units.clone(),
            mean: self.mean_ablate,
        };
        ablations
            .check(&model.config)
            .map_err(|e| anyhow::anyhow!("--ablate {e}"))?;
        Ok(ablations)
    }
}

/// What every "why" command reads: the model, the backend, the output form.
#[derive(clap::Args, Clone, Debug)]
pub struct ToolArgs {
    /// Folder with config.json and model.safetensors (Hugging Face GPT-2 layout).
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, value_enum, default_value = "gpu")]
    pub backend: Backend,
    /// Print JSON (for notebooks) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ablate: AblateArgs,
}

#[derive(clap::Subcommand)]
pub enum WhyCommand {
    /// The logit lens: every layer's residual stream through the final layer norm and the tied
    /// unembedding; the top tokens per layer and position.
    Lens {
        #[command(flatten)]
        tool: ToolArgs,
        /// Token ids, comma-separated: 3,1,4
        #[arg(long, value_delimiter = ',', required = true)]
        ids: Vec<u32>,
        /// Tokens kept per layer and position.
        #[arg(long, default_value_t = DEFAULT_TOP)]
        top: usize,
    },
    /// Per-head attention scores: previous token, first token, diagonal and induction.
    Heads {
        #[command(flatten)]
        tool: ToolArgs,
        #[arg(long, value_delimiter = ',', required = true)]
        ids: Vec<u32>,
    },
    /// Direct logit attribution: what the embedding, every head and every MLP write toward a
    /// token's logit (the final layer norm's scale frozen); the terms sum to the logit.
    Attribute {
        #[command(flatten)]
        tool: ToolArgs,
        #[arg(long, value_delimiter = ',', required = true)]
        ids: Vec<u32>,
        /// The token whose logit is explained (default: the one the model predicts).
        #[arg(long)]
        token: Option<u32>,
        /// The position explained (default: the last).
        #[arg(long)]
        position: Option<usize>,
    },
    /// The nearest rows of the token embedding (wte) by cosine similarity, itself included.
    Neighbors {
        #[command(flatten)]
        tool: ToolArgs,
        /// A token id.
        #[arg(long, conflicts_with = "text", required_unless_present = "text")]
        id: Option<u32>,
        /// A word, or a sum of words: "king - man + woman" (GPT-2 tokenizer; each word must be
        /// one token, a leading space included where written: " king").
        #[arg(long)]
        text: Option<String>,
        /// How many neighbours.
        #[arg(long, default_value_t = 10)]
        k: usize,
    },
    /// The embedding space: chosen tokens and the prompt's residual streams after every block,
    /// at unit length, along the tokens' three principal components (computed on the GPU).
    Embedding {
        #[command(flatten)]
        tool: ToolArgs,
        /// The prompt whose residual streams are placed.
        #[arg(long, value_delimiter = ',', required = true)]
        ids: Vec<u32>,
        /// The tokens whose embeddings define the space (default: every token of a vocabulary
        /// of 64 or fewer; else the prompt's tokens and their nearest neighbours).
        #[arg(long, value_delimiter = ',')]
        tokens: Vec<u32>,
        /// Neighbours per prompt token in the default set.
        #[arg(long, default_value_t = 8)]
        neighbors: usize,
    },
    /// Activation patching: copy one activation from the clean run into the corrupted run and
    /// measure how much of the logit difference between --answer and --wrong comes back, for
    /// every layer and position (or head).
    Patch {
        #[command(flatten)]
        tool: ToolArgs,
        #[arg(long, value_delimiter = ',', required = true)]
        clean_ids: Vec<u32>,
        #[arg(long, value_delimiter = ',', required = true)]
        corrupt_ids: Vec<u32>,
        /// The clean prompt's answer token.
        #[arg(long)]
        answer: u32,
        /// The corrupted prompt's answer token.
        #[arg(long)]
        wrong: u32,
        /// What to patch: the residual stream entering each block, each attention or MLP
        /// output (per position), or each head (at every position).
        #[arg(long, value_enum, default_value = "resid")]
        site: SiteArg,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SiteArg {
    #[default]
    Resid,
    Attn,
    Mlp,
    Head,
}

impl From<SiteArg> for Site {
    fn from(site: SiteArg) -> Site {
        match site {
            SiteArg::Resid => Site::Resid,
            SiteArg::Attn => Site::Attn,
            SiteArg::Mlp => Site::Mlp,
            SiteArg::Head => Site::Head,
        }
    }
}

fn print<T: serde::Serialize>(
    json: bool,
    report: &T,
    table: impl FnOnce(&T) -> String,
) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        print!("{}", table(report));
    }
    Ok(())
}

pub fn run(command: &WhyCommand, options: &GpuOptions) -> Result<()> {
    let tool = match command {
        WhyCommand::Lens { tool, .. }
        | WhyCommand::Heads { tool, .. }
        | WhyCommand::Attribute { tool, .. }
        | WhyCommand::Neighbors { tool, .. }
        | WhyCommand::Embedding { tool, .. }
        | WhyCommand::Patch { tool, .. } => tool,
    };
    let model = load_model(&tool.model)?;
    let ablations = tool.ablate.ablations(&model)?;
    let backend = match tool.backend {
        Backend::Cpu => None,
        Backend::Gpu => Some(pollster::block_on(why::GpuBackend::open(&model, options))?),
    };
    let runner = backend.as_ref().map_or(Runner::Cpu(&model), |b| b.runner());
    let config = &model.config;
    pollster::block_on(async {
        match command {
            WhyCommand::Lens { ids, top, .. } => {
                let report = why::lens::lens(&runner, config, ids, *top, &ablations).await?;
                print(tool.json, &report, tables::lens)
            }
            WhyCommand::Heads { ids, .. } => {
                let report = why::heads::head_scores(&runner, config, ids, &ablations).await?;
                print(tool.json, &report, tables::heads)
            }
            WhyCommand::Attribute {
                ids,
                token,
                position,
                ..
            } => {
                let report = why::attribution::attribute(
                    &runner, config, ids, *token, *position, &ablations,
                )
                .await?;
                print(tool.json, &report, tables::attribution)
            }
            WhyCommand::Neighbors { id, text, k, .. } => {
                if !ablations.is_empty() {
                    bail!("--ablate changes the forward pass; neighbours read only the embedding");
                }
                let terms = match (id, text) {
                    (Some(id), _) => vec![(1, *id)],
                    (None, Some(text)) => {
                        why::neighbors::parse_terms(text, &crate::scene::Tokenizer::Gpt2)
                            .map_err(|e| anyhow::anyhow!("--text: {e}"))?
                    }
                    (None, None) => unreachable!("clap requires --id or --text"),
                };
                let report = why::neighbors::neighbors(&runner, &model, &terms, *k).await?;
                print(tool.json, &report, tables::neighbors)
            }
            WhyCommand::Embedding {
                ids,
                tokens,
                neighbors,
                ..
            } => {
                let tokens = match tokens.is_empty() {
                    true => {
                        why::embedding::default_tokens(&runner, &model, ids, *neighbors).await?
                    }
                    false => tokens.clone(),
                };
                let report =
                    why::embedding::embedding(&runner, &model, ids, &tokens, &ablations).await?;
                print(tool.json, &report, tables::embedding)
            }
            WhyCommand::Patch {
                clean_ids,
                corrupt_ids,
                answer,
                wrong,
                site,
                ..
            } => {
                let report = why::patch::patch(
                    &runner,
                    config,
                    (clean_ids, corrupt_ids),
                    (*answer, *wrong),
                    (*site).into(),
                    &ablations,
                )
                .await?;
                print(tool.json, &report, tables::patch)
            }
        }
    })
}

/// "h.0.head.1 and h.1.mlp off (zero)", for titles.
pub fn describe(ablations: &Ablations) -> String {
    let units: Vec<String> = ablations.units.iter().map(|u| u.to_string()).collect();
    let with = if ablations.mean {
        "mean over positions"
    } else {
        "zero"
    };
    format!("{} off ({with})", units.join(", "))
}
