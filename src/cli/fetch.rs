//! `glassbox fetch`: GPT-2 weights, or one file of any repository (a GGUF), from the Hugging
//! Face hub into its cache, and model loading
//! with a progress bar for every command that takes `--model DIR`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::progress::LoadBar;
use crate::fetch::{fetch, fetch_file, FetchOptions};
use crate::model::Model;

#[derive(clap::Args)]
pub struct FetchArgs {
    /// gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, or a hub repo id "owner/name".
    #[arg(default_value = "gpt2")]
    name: String,
    /// Branch, tag or commit of the repo.
    #[arg(long, default_value = "main")]
    revision: String,
    /// The hub's address (default: $HF_ENDPOINT, else https://huggingface.co).
    #[arg(long)]
    endpoint: Option<String>,
    /// The hub cache to download into (default: $HF_HUB_CACHE, else $HF_HOME/hub, else
    /// ~/.cache/huggingface/hub).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// One file of the repo instead of a checkpoint folder, such as a GGUF file
    /// (`--file SmolLM2-135M-Instruct-Q8_0.gguf`); its path is printed.
    #[arg(long, value_name = "NAME")]
    file: Option<String>,
    /// No progress bars or status lines; only the folder is printed.
    #[arg(long)]
    quiet: bool,
}

/// Downloads the model and prints the folder that holds it, ready for `--model`.
pub fn run(args: &FetchArgs) -> Result<()> {
    let mut options = FetchOptions::from_env();
    options.revision = args.revision.clone();
    options.quiet = args.quiet;
    if let Some(endpoint) = &args.endpoint {
        options.endpoint = endpoint.clone();
    }
    if let Some(cache_dir) = &args.cache_dir {
        options.cache_dir = cache_dir.clone();
    }
    let path = match &args.file {
        Some(file) => fetch_file(&args.name, file, &options)?,
        None => fetch(&args.name, &options)?,
    };
    println!("{}", path.display());
    if !args.quiet {
        eprintln!("open it with: glassbox view --model {}", path.display());
    }
    Ok(())
}

/// Loads a model folder with a progress bar on the terminal.
pub fn load_model(dir: &Path) -> Result<Model> {
    let mut bar = LoadBar::default();
    Ok(Model::load_path_with(dir, &mut |stage, done, total| {
        bar.update(stage, done, total)
    })?)
}
