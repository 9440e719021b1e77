//! The hub cache on disk: where it lives, which snapshot a revision points at, and downloading one
//! file into it (resume from `{file}.incomplete`, progress, size and sha256 checks, rename).

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::http::Client;
use super::{io_error, FetchError};

/// Where the hub cache lives: the first variable set, and the folder below it, in this order.
const ROOTS: [(&str, &str); 5] = [
    ("HF_HUB_CACHE", ""),
    ("HF_HOME", "hub"),
    ("XDG_CACHE_HOME", "huggingface/hub"),
    ("HOME", ".cache/huggingface/hub"),
    ("USERPROFILE", ".cache/huggingface/hub"),
];

/// The cache root huggingface_hub would use, given a way to read environment variables.
pub(super) fn root(var: impl Fn(&str) -> Option<String>) -> PathBuf {
    let below = |base: &str, rest: &str| {
        let parts = rest.split_terminator('/');
        parts.fold(PathBuf::from(base), |path, part| path.join(part))
    };
    ROOTS
        .iter()
        .find_map(|(key, rest)| var(key).map(|base| below(&base, rest)))
        // No home at all (a bare container): a cache below the working directory beats failing.
        .unwrap_or_else(|| below(".", ROOTS[3].1))
}

/// The snapshot an earlier fetch of `revision` completed, if its required files are there.
pub(super) fn snapshot_of(repo_dir: &Path, revision: &str) -> Option<PathBuf> {
    let name = fs::read_to_string(repo_dir.join("refs").join(revision))
        .map(|commit| commit.trim().to_string())
        .unwrap_or_else(|_| revision.to_string());
    let dir = repo_dir.join("snapshots").join(name);
    let complete = dir.join("config.json").is_file() && super::has_weights(&dir);
    complete.then_some(dir)
}

/// Records that `revision` (a branch or tag, possibly with slashes) now means `commit`.
pub(super) fn write_ref(repo_dir: &Path, revision: &str, commit: &str) -> Result<(), FetchError> {
    let path = repo_dir.join("refs").join(revision);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    fs::write(&path, commit).map_err(io_error(&path))
}

/// Downloads `file` to `target`, resuming a partial `{target}.incomplete` with a `Range` request.
pub(super) fn download(
    client: &Client,
    file: &str,
    target: &Path,
    quiet: bool,
) -> Result<(), FetchError> {
    let name = target.file_name().map_or_else(
        || file.to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let partial = target.with_file_name(format!("{name}.incomplete"));
    let mut offset = fs::metadata(&partial).map_or(0, |m| m.len());
    let (response, meta) = loop {
        match client.get(file, offset) {
            // Nothing left past our offset: the partial is complete but was never renamed, or the
            // file changed upstream. Either way its bytes can't be trusted to line up; start over.
            Err(FetchError::Http { status: 416, .. }) if offset > 0 => {
                fs::remove_file(&partial).map_err(io_error(&partial))?;
                offset = 0;
            }
            result => break result?,
        }
    };
    let url = client.url(file);
    let headers = response.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let length: Option<u64> = header("content-length").and_then(|l| l.trim().parse().ok());

    // A 200 to a Range request means the server ignored it and sends the whole file again.
    let (start, total) = if response.status().as_u16() == 206 {
        let (first, total) = header("content-range").and_then(content_range).unzip();
        if first != Some(offset) {
            let reason = format!("asked for bytes from {offset}, got Content-Range {first:?}");
            return Err(FetchError::BadResponse { url, reason });
        }
        (offset, total.flatten().or(length.map(|l| offset + l)))
    } else {
        (0, length)
    };
    // The hub's LFS size is the authority; the transfer headers come from whoever sent the bytes.
    let expected = meta.size.or(total);

    let mut out = if start > 0 {
        OpenOptions::new().append(true).open(&partial)
    } else {
        File::create(&partial)
    }
    .map_err(io_error(&partial))?;
    let mut hasher = meta.sha256.as_ref().map(|_| Sha256::new());
    if let (Some(hasher), true) = (hasher.as_mut(), start > 0) {
        // The hash covers the whole file, so feed it the part we already had.
        let mut existing = File::open(&partial).map_err(io_error(&partial))?;
        std::io::copy(&mut existing, hasher).map_err(io_error(&partial))?;
    }

    let bar = progress_bar(file, expected, start, quiet);
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0; 1 << 16];
    let mut written = start;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                // Keep the partial: the next run resumes from it.
                bar.abandon();
                let (file, reason) = (file.to_string(), e.to_string());
                return Err(FetchError::Interrupted {
                    file,
                    bytes: written,
                    reason,
                });
            }
        };
        out.write_all(&buf[..n]).map_err(io_error(&partial))?;
        if let Some(hasher) = hasher.as_mut() {
            hasher.update(&buf[..n]);
        }
        written += n as u64;
        bar.inc(n as u64);
    }
    out.sync_all().map_err(io_error(&partial))?;
    drop(out);
    bar.finish();

    // The body ended cleanly yet the bytes are wrong: resuming would only extend a bad file.
    if let Some(expected) = expected.filter(|&e| e != written) {
        fs::remove_file(&partial).map_err(io_error(&partial))?;
        let file = file.to_string();
        return Err(FetchError::SizeMismatch {
            file,
            expected,
            actual: written,
        });
    }
    if let (Some(expected), Some(hasher)) = (meta.sha256, hasher) {
        let actual = format!("{:x}", hasher.finalize());
        if actual != expected {
            fs::remove_file(&partial).map_err(io_error(&partial))?;
            let file = file.to_string();
            return Err(FetchError::HashMismatch {
                file,
                expected,
                actual,
            });
        }
    }
    fs::rename(&partial, target).map_err(io_error(target))
}

/// `bytes FIRST-LAST/TOTAL` → (FIRST, TOTAL); TOTAL may be `*` (unknown).
fn content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let first = range.split_once('-')?.0.trim().parse().ok()?;
    Some((first, total.trim().parse().ok()))
}

/// Bytes, rate and ETA when the size is known, a spinner otherwise. Drawn to stderr, which
/// indicatif leaves blank when stderr is not a terminal.
fn progress_bar(file: &str, len: Option<u64>, start: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(len) => (
            ProgressBar::new(len),
            "{msg:>22} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{msg:>22} {spinner} {bytes} {bytes_per_sec}",
        ),
    };
    let style = ProgressStyle::with_template(template).expect("the templates above are valid");
    bar.with_style(style.progress_chars("=> "))
        .with_message(file.to_string())
        .with_position(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_follows_huggingface_hub_precedence() {
        let vars = [
            ("HF_HUB_CACHE", "/a"),
            ("HF_HOME", "/b"),
            ("XDG_CACHE_HOME", "/c"),
            ("HOME", "/d"),
        ];
        let root_from = |vars: &[(&str, &str)]| {
            root(|key| {
                vars.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            })
        };
        let path = |parts: &[&str]| parts.iter().collect::<PathBuf>();
        assert_eq!(root_from(&vars), path(&["/a"]));
        assert_eq!(root_from(&vars[1..]), path(&["/b", "hub"]));
        assert_eq!(root_from(&vars[2..]), path(&["/c", "huggingface", "hub"]));
        assert_eq!(
            root_from(&vars[3..]),
            path(&["/d", ".cache", "huggingface", "hub"])
        );
        assert_eq!(root_from(&[]), path(&[".", ".cache", "huggingface", "hub"]));
    }

    #[test]
    fn content_range_parses() {
        assert_eq!(content_range("bytes 100-299/300"), Some((100, Some(300))));
        assert_eq!(content_range("bytes 100-299/*"), Some((100, None)));
        assert_eq!(content_range("items 1-2/3"), None);
    }
}
