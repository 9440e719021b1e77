//! Downloads a checkpoint (GPT-2 or the Llama family, one file or sharded) from the Hugging Face hub into the hub's own cache layout, so a
//! model fetched here and one fetched with `huggingface-cli` land in, and are found in, the same place:
//!
//! - `{cache}/models--{owner}--{name}/refs/{revision}` holds the commit the revision pointed at;
//! - `{cache}/models--{owner}--{name}/snapshots/{commit}/{file}` holds the files;
//! - `{cache}/models--{owner}--{name}/.no_exist/{commit}/{file}` marks an optional file the hub lacks.
//!
//! huggingface_hub keeps the bytes in `blobs/{etag}` and symlinks them into the snapshot. We write
//! regular files straight into the snapshot instead: no symlink privileges needed on Windows, and
//! every reader of the layout (huggingface_hub included) only ever opens the snapshot paths.

mod cache;
mod http;

use std::fs;
use std::path::{Path, PathBuf};

/// Short names accepted besides "owner/name" repo ids.
pub const KNOWN_MODELS: [(&str, &str); 9] = [
    ("gpt2", "openai-community/gpt2"),
    ("gpt2-medium", "openai-community/gpt2-medium"),
    ("gpt2-large", "openai-community/gpt2-large"),
    ("gpt2-xl", "openai-community/gpt2-xl"),
    ("distilgpt2", "distilbert/distilgpt2"),
    ("smollm2-135m", "HuggingFaceTB/SmolLM2-135M"),
    ("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B"),
    ("tinyllama-1.1b-chat", "TinyLlama/TinyLlama-1.1B-Chat-v1.0"),
    ("llama-3.2-1b", "meta-llama/Llama-3.2-1B"),
];

pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// What a fetch asks for, and whether the model is unusable without it: repos that lack the
/// tokenizer or generation files still load, so a 404 for those is not an error.
const FILES: [(&str, bool); 6] = [
    ("config.json", true),
    ("model.safetensors", true),
    ("tokenizer.json", false),
    ("vocab.json", false),
    ("merges.txt", false),
    ("generation_config.json", false),
];

/// No `Debug`: it would print the token.
#[derive(Clone)]
pub struct FetchOptions {
    /// Hub base URL, e.g. `https://huggingface.co` or a mirror.
    pub endpoint: String,
    /// Branch, tag or commit; `main` by default.
    pub revision: String,
    /// The hub cache root (the folder holding `models--*`).
    pub cache_dir: PathBuf,
    /// Access token for gated or private repos, sent only to the endpoint (never to its CDN).
    pub token: Option<String>,
    /// No progress bars and no status lines.
    pub quiet: bool,
}

impl FetchOptions {
    /// The settings huggingface_hub reads: `HF_ENDPOINT`, `HF_TOKEN`, and for the cache
    /// `HF_HUB_CACHE`, else `HF_HOME/hub`, else `XDG_CACHE_HOME/huggingface/hub`, else
    /// `~/.cache/huggingface/hub`.
    pub fn from_env() -> Self {
        // huggingface_hub treats an empty variable as unset; so do we.
        let var = |key: &str| std::env::var(key).ok().filter(|value| !value.is_empty());
        Self {
            endpoint: var("HF_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            revision: "main".to_string(),
            cache_dir: cache::root(var),
            token: var("HF_TOKEN"),
            quiet: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "unknown model {name:?}: use one of {known}, or a Hugging Face repo id like \"owner/name\""
    )]
    UnknownModel { name: String, known: String },
    #[error("{0:?} is not a repo id of the form \"owner/name\"")]
    BadRepoId(String),
    #[error("{0:?} is not a usable revision (a branch, tag or commit)")]
    BadRevision(String),
    #[error("--file {0:?}: expected a file's path in the repository, such as model.Q4_K_M.gguf (segments of letters, digits, '-', '_' and '.', none starting with '.')")]
    BadFileName(String),
    #[error("bad URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(
        "could not reach {url} ({reason}).\nTo get the model by hand, download config.json and \
         model.safetensors from {tree} (or run `huggingface-cli download {repo} config.json \
         model.safetensors --local-dir DIR`) into a folder DIR, then run `glassbox view --model DIR`"
    )]
    Unreachable {
        url: String,
        reason: String,
        repo: String,
        tree: String,
    },
    #[error("not found (404): {url}")]
    NotFound { url: String },
    #[error("HTTP {status} from {url}{}", auth_hint(*.status))]
    Http { status: u16, url: String },
    #[error("bad response from {url}: {reason}")]
    BadResponse { url: String, reason: String },
    #[error("download of {file} stopped after {bytes} bytes ({reason}); run again to resume")]
    Interrupted {
        file: String,
        bytes: u64,
        reason: String,
    },
    #[error("{file}: the hub says {expected} bytes but {actual} arrived")]
    SizeMismatch {
        file: String,
        expected: u64,
        actual: u64,
    },
    #[error("{file}: sha256 {actual} does not match the hub's {expected}")]
    HashMismatch {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn auth_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (a gated or private repo? set HF_TOKEN to an access token that may read it)",
        _ => "",
    }
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Maps a known short name to its repo id and passes "owner/name" through.
pub fn repo_id(name: &str) -> Result<String, FetchError> {
    if let Some((_, id)) = KNOWN_MODELS.iter().find(|(short, _)| *short == name) {
        return Ok(id.to_string());
    }
    match name.split_once('/') {
        Some((owner, repo)) if is_segment(owner) && is_segment(repo) => Ok(name.to_string()),
        Some(_) => Err(FetchError::BadRepoId(name.to_string())),
        None => Err(FetchError::UnknownModel {
            name: name.to_string(),
            known: KNOWN_MODELS.map(|(short, _)| short).join(", "),
        }),
    }
}

/// One path segment of a repo id or revision. The leading-dot ban keeps `.` and `..` out of the
/// cache paths these end up in.
fn is_segment(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Downloads `model.safetensors.index.json` and every shard it names into `snapshot`. Without an
/// index the checkpoint has no weights: `missing` (model.safetensors' 404) is the error.
fn fetch_shards(
    client: &http::Client,
    snapshot: &Path,
    quiet: bool,
    missing: FetchError,
) -> Result<(), FetchError> {
    let index = snapshot.join(crate::model::shards::INDEX);
    if !index.is_file() {
        match cache::download(client, crate::model::shards::INDEX, &index, quiet) {
            Err(FetchError::NotFound { .. }) => return Err(missing),
            result => result?,
        }
    }
    for shard in shards_of(&index)? {
        let target = snapshot.join(&shard);
        if !target.is_file() {
            cache::download(client, &shard, &target, quiet)?;
        }
    }
    Ok(())
}

/// The shard files an index names (checked to be plain file names beside it).
fn shards_of(index: &Path) -> Result<Vec<String>, FetchError> {
    let text = fs::read(index).map_err(io_error(index))?;
    crate::model::shards::shard_files(&index.display().to_string(), &text).map_err(|e| {
        FetchError::BadResponse {
            url: index.display().to_string(),
            reason: e.to_string(),
        }
    })
}

/// Whether `dir` holds a checkpoint's weights: model.safetensors, or an index and all its shards.
pub(super) fn has_weights(dir: &Path) -> bool {
    if dir.join("model.safetensors").is_file() {
        return true;
    }
    shards_of(&dir.join(crate::model::shards::INDEX))
        .is_ok_and(|shards| shards.iter().all(|shard| dir.join(shard).is_file()))
}

/// A hub repository at a revision: its id, a client for its files, and its folder in the cache.
struct Repo {
    id: String,
    client: http::Client,
    dir: PathBuf,
}

impl Repo {
    /// `name` (a short name or "owner/name") at `options`' revision, both checked.
    fn open(name: &str, options: &FetchOptions) -> Result<Repo, FetchError> {
        let id = repo_id(name)?;
        let revision = options.revision.as_str();
        // Branches like `refs/pr/1` hold slashes; huggingface_hub nests folders for them, so do
        // we.
        if !revision.split('/').all(is_segment) {
            return Err(FetchError::BadRevision(revision.to_string()));
        }
        let client = http::Client::new(&options.endpoint, &id, revision, options.token.clone());
        let dir = options
            .cache_dir
            .join(format!("models--{}", id.replace('/', "--")));
        Ok(Repo { id, client, dir })
    }
}

/// Downloads one file of a hub repository (`--file`, such as a GGUF file a repository holds
/// beside others) into the hub cache's layout and returns its path. As [`fetch`]: a file
/// already there is not fetched again, a download resumes, and without the endpoint an earlier
/// snapshot holding the file is used.
pub fn fetch_file(name: &str, file: &str, options: &FetchOptions) -> Result<PathBuf, FetchError> {
    if !file.split('/').all(is_segment) {
        return Err(FetchError::BadFileName(file.to_string()));
    }
    let Repo {
        id: repo,
        client,
        dir: repo_dir,
    } = Repo::open(name, options)?;
    let revision = options.revision.as_str();
    let head = client.head(file);
    if let Err(FetchError::Unreachable { url, .. }) = &head {
        let cached = cache::snapshot_of(&repo_dir, revision).map(|dir| dir.join(file));
        if let Some(path) = cached.filter(|path| path.is_file()) {
            if !options.quiet {
                eprintln!("could not reach {url}; using the cached {}", path.display());
            }
            return Ok(path);
        }
    }
    let commit = head?.commit;
    let snapshot = repo_dir
        .join("snapshots")
        .join(commit.clone().unwrap_or_else(|| revision.to_string()));
    let target = snapshot.join(file);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    if !target.is_file() {
        if !options.quiet {
            eprintln!(
                "fetching {file} of {repo} ({revision}) into {}",
                snapshot.display()
            );
        }
        cache::download(&client, file, &target, options.quiet)?;
    }
    if let Some(commit) = commit.filter(|commit| commit != revision) {
        cache::write_ref(&repo_dir, revision, &commit)?;
    }
    Ok(target)
}

/// Downloads `name` (a short name or "owner/name") and returns the snapshot folder holding
/// `config.json` and `model.safetensors`. Files already in the snapshot are not fetched again,
/// and an interrupted download resumes from its `.incomplete` file. When the endpoint cannot be
/// reached but an earlier fetch completed, that snapshot is returned.
pub fn fetch(name: &str, options: &FetchOptions) -> Result<PathBuf, FetchError> {
    let Repo {
        id: repo,
        client,
        dir: repo_dir,
    } = Repo::open(name, options)?;
    let revision = options.revision.as_str();
    let say = |line: String| {
        if !options.quiet {
            eprintln!("{line}");
        }
    };

    // The commit names the snapshot folder, and with it what we already have, so ask first.
    let head = client.head("config.json");
    if let Err(FetchError::Unreachable { url, .. }) = &head {
        if let Some(dir) = cache::snapshot_of(&repo_dir, revision) {
            say(format!(
                "could not reach {url}; using the cached {}",
                dir.display()
            ));
            return Ok(dir);
        }
    }
    let commit = head?.commit;
    let snapshot_name = commit.clone().unwrap_or_else(|| revision.to_string());
    let snapshot = repo_dir.join("snapshots").join(&snapshot_name);
    let missing_dir = repo_dir.join(".no_exist").join(&snapshot_name);
    fs::create_dir_all(&snapshot).map_err(io_error(&snapshot))?;
    say(format!(
        "fetching {repo} ({revision}) into {}",
        snapshot.display()
    ));

    for (file, required) in FILES {
        let target = snapshot.join(file);
        if target.is_file() {
            say(format!("already have {file}"));
            continue;
        }
        let marker = missing_dir.join(file);
        if marker.is_file() {
            continue;
        }
        match cache::download(&client, file, &target, options.quiet) {
            // A checkpoint too large for one file comes as shards listed by an index.
            Err(not_found @ FetchError::NotFound { .. }) if file == "model.safetensors" => {
                fetch_shards(&client, &snapshot, options.quiet, not_found)?
            }
            Err(FetchError::NotFound { .. }) if !required => {
                // Remember the 404 so later fetches of this commit don't ask again.
                fs::create_dir_all(&missing_dir).map_err(io_error(&missing_dir))?;
                fs::write(&marker, b"").map_err(io_error(&marker))?;
            }
            result => result?,
        }
    }

    // Pointing the ref at the snapshot last keeps it on a complete one if this run fails midway.
    if let Some(commit) = commit.filter(|commit| commit != revision) {
        cache::write_ref(&repo_dir, revision, &commit)?;
    }
    Ok(snapshot)
}
