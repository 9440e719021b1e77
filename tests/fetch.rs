//! `fetch` against a tiny hub served from a thread on 127.0.0.1, in the hub's URL layout.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use glassbox::fetch::{fetch, repo_id, FetchError, FetchOptions};
use sha2::{Digest, Sha256};

const REPO: &str = "openai-community/gpt2";
const COMMIT: &str = "607a30d783dfa663caf39e06633721c8d4cfcd7e";
const CONFIG: &[u8] = br#"{"n_layer": 2, "n_head": 2, "n_embd": 8}"#;
const TOKENIZER: &[u8] = br#"{"model": {}}"#;

#[derive(Debug, Clone, PartialEq)]
struct Request {
    method: String,
    file: String,
    range: Option<u64>,
    /// Whether it carried an `Authorization` header.
    auth: bool,
}

/// What the fake hub serves; file names are relative to `/{REPO}/resolve/main/`.
#[derive(Default)]
struct Hub {
    files: HashMap<String, Vec<u8>>,
    /// Extra response headers per file (X-Linked-Size, X-Linked-Etag).
    headers: HashMap<String, Vec<(String, String)>>,
    /// Status to answer instead of the file.
    status: HashMap<String, u16>,
    /// Files answered with a 302 to this URL, as the hub does for LFS files.
    redirects: HashMap<String, String>,
    /// One shot: the next GET of this file sends only this many body bytes, then hangs up.
    cut: Option<(String, usize)>,
    log: Vec<Request>,
}

struct Server {
    endpoint: String,
    hub: Arc<Mutex<Hub>>,
}

impl Server {
    fn start(hub: Hub) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let hub = Arc::new(Mutex::new(hub));
        let shared = Arc::clone(&hub);
        // One connection at a time, each closed after its response: fetch is sequential.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &shared);
            }
        });
        Self { endpoint, hub }
    }

    fn log(&self) -> Vec<Request> {
        std::mem::take(&mut self.hub.lock().unwrap().log)
    }
}

fn serve(stream: TcpStream, hub: &Mutex<Hub>) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    let (mut range, mut auth) = (None, false);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        if name.eq_ignore_ascii_case("range") {
            let from = value
                .trim()
                .strip_prefix("bytes=")
                .and_then(|r| r.strip_suffix('-'));
            range = from.and_then(|n| n.parse().ok());
        }
        auth |= name.eq_ignore_ascii_case("authorization");
    }
    let prefix = format!("/{REPO}/resolve/main/");
    let file = path.strip_prefix(&prefix).unwrap_or(&path).to_string();

    let mut hub = hub.lock().unwrap();
    let request = Request {
        method: method.clone(),
        file: file.clone(),
        range,
        auth,
    };
    hub.log.push(request);
    let mut out = stream;
    let extra = hub.headers.get(&file).into_iter().flatten();
    let extra: String = extra
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    if let Some(location) = hub.redirects.get(&file) {
        let head = format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nX-Repo-Commit: {COMMIT}\r\n{extra}\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return out.write_all(head.as_bytes());
    }
    let status = hub.status.get(&file).copied();
    let (Some(body), None) = (hub.files.get(&file).cloned(), status) else {
        let status = status.unwrap_or(404);
        let head =
            format!("HTTP/1.1 {status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return out.write_all(head.as_bytes());
    };
    let len = body.len();
    let start = range.unwrap_or(0) as usize;
    if range.is_some() && start >= len {
        let head = format!(
            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return out.write_all(head.as_bytes());
    }
    let mut head = match range {
        Some(_) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{len}\r\n",
            len - 1
        ),
        None => "HTTP/1.1 200 OK\r\n".to_string(),
    };
    head += &format!(
        "Content-Length: {}\r\nConnection: close\r\nX-Repo-Commit: {COMMIT}\r\n",
        len - start
    );
    out.write_all(format!("{head}{extra}\r\n").as_bytes())?;
    if method == "HEAD" {
        return Ok(());
    }
    let mut part = &body[start..];
    if let Some((_, keep)) = hub.cut.take_if(|(cut, _)| *cut == file) {
        part = &part[..keep];
    }
    out.write_all(part)
}

fn model_bytes() -> Vec<u8> {
    (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A hub with config.json, model.safetensors (with its LFS size and sha256) and tokenizer.json,
/// but no vocab.json, merges.txt or generation_config.json.
fn gpt2_hub() -> Hub {
    let model = model_bytes();
    let lfs = vec![
        ("X-Linked-Size".to_string(), model.len().to_string()),
        (
            "X-Linked-Etag".to_string(),
            format!("\"{}\"", sha256(&model)),
        ),
    ];
    Hub {
        files: HashMap::from([
            ("config.json".to_string(), CONFIG.to_vec()),
            ("model.safetensors".to_string(), model),
            ("tokenizer.json".to_string(), TOKENIZER.to_vec()),
        ]),
        headers: HashMap::from([("model.safetensors".to_string(), lfs)]),
        ..Hub::default()
    }
}

/// A cache folder of its own per test, removed when the test ends.
struct Cache(PathBuf);

impl Cache {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("glassbox-fetch-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        Self(dir)
    }

    fn options(&self, endpoint: &str) -> FetchOptions {
        FetchOptions {
            endpoint: endpoint.to_string(),
            revision: "main".to_string(),
            cache_dir: self.0.clone(),
            token: None,
            quiet: true,
        }
    }

    fn repo_dir(&self) -> PathBuf {
        self.0.join("models--openai-community--gpt2")
    }

    fn snapshot(&self) -> PathBuf {
        self.repo_dir().join("snapshots").join(COMMIT)
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn gets(log: &[Request], file: &str) -> Vec<Option<u64>> {
    log.iter()
        .filter(|r| r.method == "GET" && r.file == file)
        .map(|r| r.range)
        .collect()
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn fetches_into_the_hub_cache_layout() {
    let server = Server::start(gpt2_hub());
    let cache = Cache::new("layout");
    let dir = fetch("gpt2", &cache.options(&server.endpoint)).unwrap();
    assert_eq!(dir, cache.snapshot());
    assert_eq!(read(&dir.join("config.json")), CONFIG);
    assert_eq!(read(&dir.join("model.safetensors")), model_bytes());
    assert_eq!(read(&dir.join("tokenizer.json")), TOKENIZER);
    assert!(!dir.join("vocab.json").exists());
    assert!(!dir.join("model.safetensors.incomplete").exists());
    assert_eq!(
        read(&cache.repo_dir().join("refs").join("main")),
        COMMIT.as_bytes()
    );
    assert!(cache
        .repo_dir()
        .join(".no_exist")
        .join(COMMIT)
        .join("vocab.json")
        .is_file());
}

#[test]
fn resumes_an_interrupted_download() {
    let mut hub = gpt2_hub();
    hub.cut = Some(("model.safetensors".to_string(), 100_000));
    let server = Server::start(hub);
    let cache = Cache::new("resume");
    let options = cache.options(&server.endpoint);

    let error = fetch("gpt2", &options).unwrap_err();
    assert!(matches!(error, FetchError::Interrupted { .. }), "{error}");
    assert!(error.to_string().contains("model.safetensors"), "{error}");
    let partial = read(&cache.snapshot().join("model.safetensors.incomplete"));
    assert_eq!(partial, model_bytes()[..100_000]);
    assert_eq!(gets(&server.log(), "model.safetensors"), [None]);

    let dir = fetch("gpt2", &options).unwrap();
    assert_eq!(read(&dir.join("model.safetensors")), model_bytes());
    assert_eq!(gets(&server.log(), "model.safetensors"), [Some(100_000)]);
}

#[test]
fn restarts_a_partial_the_server_cannot_extend() {
    let server = Server::start(gpt2_hub());
    let cache = Cache::new("restart");
    // A download that finished but was never renamed: nothing lies past its end (416).
    fs::create_dir_all(cache.snapshot()).unwrap();
    let partial = cache.snapshot().join("model.safetensors.incomplete");
    fs::write(&partial, model_bytes()).unwrap();
    let dir = fetch("gpt2", &cache.options(&server.endpoint)).unwrap();
    assert_eq!(read(&dir.join("model.safetensors")), model_bytes());
    assert_eq!(
        gets(&server.log(), "model.safetensors"),
        [Some(300_000), None]
    );
}

#[test]
fn a_second_fetch_downloads_nothing_again() {
    let server = Server::start(gpt2_hub());
    let cache = Cache::new("again");
    let options = cache.options(&server.endpoint);
    let first = fetch("gpt2", &options).unwrap();
    server.log();
    assert_eq!(fetch("gpt2", &options).unwrap(), first);
    let log = server.log();
    // Only the HEAD that learns the commit; neither the model nor the known-missing vocab.json.
    let head = Request {
        method: "HEAD".to_string(),
        file: "config.json".to_string(),
        range: None,
        auth: false,
    };
    assert_eq!(log, [head]);
}

/// The hub answers LFS files with a redirect to its CDN; the size and sha256 ride on the redirect.
#[test]
fn follows_the_hub_redirect_to_its_cdn() {
    let cdn = Server::start(Hub {
        files: HashMap::from([("/lfs/model".to_string(), model_bytes())]),
        ..Hub::default()
    });
    let mut hub = gpt2_hub();
    hub.files.remove("model.safetensors");
    let location = format!("{}/lfs/model", cdn.endpoint);
    hub.redirects
        .insert("model.safetensors".to_string(), location);
    let hub = Server::start(hub);
    let cache = Cache::new("redirect");
    let mut options = cache.options(&hub.endpoint);
    options.token = Some("secret".to_string());
    let dir = fetch("gpt2", &options).unwrap();
    assert_eq!(read(&dir.join("model.safetensors")), model_bytes());
    // The token goes to the hub only, never to the CDN.
    assert!(hub.log().iter().all(|request| request.auth));
    assert_eq!(
        cdn.log().iter().map(|r| r.auth).collect::<Vec<_>>(),
        [false]
    );

    // The checks use what the hub said on the redirect, which the CDN's answer lacks.
    let etag = (
        "X-Linked-Etag".to_string(),
        format!("\"{}\"", sha256(b"other")),
    );
    hub.hub
        .lock()
        .unwrap()
        .headers
        .insert("model.safetensors".to_string(), vec![etag]);
    let cache = Cache::new("redirect-bad-sha");
    let error = fetch("gpt2", &cache.options(&hub.endpoint)).unwrap_err();
    assert!(matches!(error, FetchError::HashMismatch { .. }), "{error}");
}

#[test]
fn a_missing_required_file_names_its_url() {
    let mut hub = gpt2_hub();
    hub.files.remove("model.safetensors");
    let server = Server::start(hub);
    let cache = Cache::new("missing");
    let error = fetch("gpt2", &cache.options(&server.endpoint)).unwrap_err();
    let url = format!("{}/{REPO}/resolve/main/model.safetensors", server.endpoint);
    assert!(matches!(error, FetchError::NotFound { .. }), "{error}");
    assert!(error.to_string().contains(&url), "{error}");
}

/// A checkpoint saved in shards: no model.safetensors, an index naming two shard files.
#[test]
fn fetches_a_sharded_checkpoint() {
    let mut hub = gpt2_hub();
    let model = hub.files.remove("model.safetensors").unwrap();
    hub.headers.clear();
    let (first, second) = model.split_at(model.len() / 2);
    let names = [
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    ];
    let index = format!(
        r#"{{"metadata": {{}}, "weight_map": {{"a.weight": "{}", "b.weight": "{}", "c.weight": "{}"}}}}"#,
        names[0], names[1], names[1]
    );
    hub.files.extend([
        (
            "model.safetensors.index.json".to_string(),
            index.into_bytes(),
        ),
        (names[0].to_string(), first.to_vec()),
        (names[1].to_string(), second.to_vec()),
    ]);
    let server = Server::start(hub);
    let cache = Cache::new("shards");
    let dir = fetch("gpt2", &cache.options(&server.endpoint)).unwrap();
    assert_eq!(read(&dir.join(names[0])), first);
    assert_eq!(read(&dir.join(names[1])), second);
    assert!(!dir.join("model.safetensors").exists());
    let log = server.log();
    assert_eq!(gets(&log, names[1]).len(), 1, "each shard fetched once");
    // Complete, so an unreachable hub falls back to it.
    assert_eq!(
        fetch("gpt2", &cache.options(&dead_endpoint())).unwrap(),
        dir
    );
}

#[test]
fn other_http_errors_give_status_and_url() {
    let mut hub = gpt2_hub();
    hub.status.insert("model.safetensors".to_string(), 403);
    let server = Server::start(hub);
    let cache = Cache::new("forbidden");
    let error = fetch("gpt2", &cache.options(&server.endpoint))
        .unwrap_err()
        .to_string();
    assert!(error.contains("HTTP 403"), "{error}");
    assert!(error.contains(&format!(
        "{}/{REPO}/resolve/main/model.safetensors",
        server.endpoint
    )));
    assert!(error.contains("HF_TOKEN"), "{error}");
}

fn dead_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[test]
fn an_unreachable_endpoint_explains_the_manual_route() {
    let endpoint = dead_endpoint();
    let cache = Cache::new("offline");
    let error = fetch("gpt2", &cache.options(&endpoint)).unwrap_err();
    assert!(matches!(error, FetchError::Unreachable { .. }), "{error}");
    let message = error.to_string();
    for needle in [
        format!("could not reach {endpoint}/{REPO}/resolve/main/config.json"),
        format!("{endpoint}/{REPO}/tree/main"),
        format!("huggingface-cli download {REPO} config.json model.safetensors --local-dir DIR"),
        "glassbox view --model DIR".to_string(),
    ] {
        assert!(message.contains(&needle), "{needle:?} not in {message:?}");
    }
}

#[test]
fn an_unreachable_endpoint_falls_back_to_a_complete_cache() {
    let server = Server::start(gpt2_hub());
    let cache = Cache::new("fallback");
    let dir = fetch("gpt2", &cache.options(&server.endpoint)).unwrap();
    assert_eq!(
        fetch("gpt2", &cache.options(&dead_endpoint())).unwrap(),
        dir
    );
}

#[test]
fn names_map_to_repo_ids() {
    assert_eq!(repo_id("gpt2").unwrap(), "openai-community/gpt2");
    assert_eq!(repo_id("gpt2-xl").unwrap(), "openai-community/gpt2-xl");
    assert_eq!(repo_id("distilgpt2").unwrap(), "distilbert/distilgpt2");
    assert_eq!(repo_id("someone/tiny-gpt2").unwrap(), "someone/tiny-gpt2");
    assert_eq!(
        repo_id("smollm2-135m").unwrap(),
        "HuggingFaceTB/SmolLM2-135M"
    );
    assert_eq!(repo_id("llama-3.2-1b").unwrap(), "meta-llama/Llama-3.2-1B");
    let error = repo_id("gpt3").unwrap_err().to_string();
    assert!(
        error.contains("gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, smollm2-135m, qwen2.5-0.5b, tinyllama-1.1b-chat, llama-3.2-1b"),
        "{error}"
    );
    for bad in ["a/b/c", "/gpt2", "owner/..", "owner/"] {
        assert!(
            matches!(repo_id(bad), Err(FetchError::BadRepoId(_))),
            "{bad}"
        );
    }
}

#[test]
fn a_size_mismatch_is_an_error() {
    let mut hub = gpt2_hub();
    let lfs = vec![("X-Linked-Size".to_string(), "300001".to_string())];
    hub.headers.insert("model.safetensors".to_string(), lfs);
    let server = Server::start(hub);
    let cache = Cache::new("size");
    let error = fetch("gpt2", &cache.options(&server.endpoint)).unwrap_err();
    assert!(matches!(error, FetchError::SizeMismatch { .. }), "{error}");
    let message = error.to_string();
    for needle in ["model.safetensors", "300001", "300000"] {
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }
    assert!(!cache.snapshot().join("model.safetensors").exists());
    assert!(!cache
        .snapshot()
        .join("model.safetensors.incomplete")
        .exists());
}

#[test]
fn a_sha256_mismatch_is_an_error() {
    let mut hub = gpt2_hub();
    let etag = vec![(
        "X-Linked-Etag".to_string(),
        format!("\"{}\"", sha256(b"other")),
    )];
    hub.headers.insert("model.safetensors".to_string(), etag);
    let server = Server::start(hub);
    let cache = Cache::new("sha");
    let error = fetch("gpt2", &cache.options(&server.endpoint)).unwrap_err();
    assert!(matches!(error, FetchError::HashMismatch { .. }), "{error}");
    assert!(!cache.snapshot().join("model.safetensors").exists());
}

/// `glassbox fetch` end to end: a real (tiny) checkpoint served in the hub's layout lands in
/// the cache, the command prints its folder, and that folder loads as the same model.
#[test]
fn the_fetch_command_downloads_a_loadable_model() {
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oracle/tiny_2l");
    let files = ["config.json", "model.safetensors"]
        .map(|name| (name.to_string(), read(&oracle.join(name))));
    let server = Server::start(Hub {
        files: HashMap::from(files),
        ..Hub::default()
    });
    let cache = Cache::new("cli");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(["fetch", "gpt2", "--quiet", "--endpoint", &server.endpoint])
        .arg("--cache-dir")
        .arg(&cache.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(dir.starts_with(&cache.0), "{}", dir.display());
    let fetched = glassbox::model::Model::load_dir(&dir).unwrap();
    let original = glassbox::model::Model::load_dir(&oracle).unwrap();
    assert_eq!(fetched.config, original.config);
    assert_eq!(
        fetched.weights.get("wte.weight"),
        original.weights.get("wte.weight")
    );

    // Offline, the command fails and says how to get the files by hand.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args([
            "fetch",
            "gpt2-xl",
            "--quiet",
            "--endpoint",
            &dead_endpoint(),
        ])
        .arg("--cache-dir")
        .arg(&cache.0)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("glassbox view --model"), "{stderr}");
}

/// `--file`: one file of a repository, such as a GGUF file, into the same snapshot layout; a
/// second fetch asks only for the commit; a path that could leave the cache is refused.
#[test]
fn fetches_one_file_of_a_repository() {
    use glassbox::fetch::fetch_file;
    let gguf = model_bytes();
    let mut hub = gpt2_hub();
    hub.files
        .insert("gguf/model.Q4_1.gguf".to_string(), gguf.clone());
    let server = Server::start(hub);
    let cache = Cache::new("one-file");
    let options = cache.options(&server.endpoint);
    let path = fetch_file("gpt2", "gguf/model.Q4_1.gguf", &options).unwrap();
    assert_eq!(path, cache.snapshot().join("gguf/model.Q4_1.gguf"));
    assert_eq!(read(&path), gguf);
    assert!(!cache.snapshot().join("config.json").exists());
    assert_eq!(
        fetch_file("gpt2", "gguf/model.Q4_1.gguf", &options).unwrap(),
        path
    );
    assert_eq!(gets(&server.log(), "gguf/model.Q4_1.gguf").len(), 1);
    let error = fetch_file("gpt2", "../escape.gguf", &options).unwrap_err();
    assert!(
        error.to_string().contains("--file \"../escape.gguf\""),
        "{error}"
    );
}
