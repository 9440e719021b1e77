//! Talking to the hub: one ureq agent, redirects followed by hand, hub headers collected.

use std::time::Duration;

use ureq::http::{HeaderMap, Response};
use ureq::{Agent, Body};

use super::FetchError;

/// The hub redirects LFS files once (to its CDN), renamed repos once more.
const MAX_REDIRECTS: usize = 5;

/// What the hub says about a file, gathered across redirects: its answer carries these, the CDN's
/// answer (where the bytes come from) does not.
#[derive(Debug, Default)]
pub(super) struct Meta {
    /// `X-Repo-Commit`: the commit the revision resolved to.
    pub commit: Option<String>,
    /// `X-Linked-Size`: the LFS file's size.
    pub size: Option<u64>,
    /// `X-Linked-Etag`: for LFS files, the sha256 of the content.
    pub sha256: Option<String>,
}

impl Meta {
    /// Keeps the first value seen for each field: the hub's, not a later hop's.
    fn absorb(&mut self, headers: &HeaderMap) {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        // It becomes a folder name, so only take what looks like a commit hash.
        let commit = get("x-repo-commit").filter(|c| {
            !c.is_empty() && c.len() <= 64 && c.chars().all(|c| c.is_ascii_alphanumeric())
        });
        self.commit = self.commit.take().or(commit.map(str::to_string));
        self.size = self
            .size
            .or(get("x-linked-size").and_then(|s| s.parse().ok()));
        let etag = get("x-linked-etag").map(|e| e.trim_start_matches("W/").trim_matches('"'));
        let sha256 = etag.filter(|e| e.len() == 64 && e.chars().all(|c| c.is_ascii_hexdigit()));
        self.sha256 = self.sha256.take().or(sha256.map(str::to_ascii_lowercase));
    }
}

pub(super) struct Client {
    agent: Agent,
    endpoint: String,
    repo: String,
    revision: String,
    token: Option<String>,
}

impl Client {
    pub fn new(endpoint: &str, repo: &str, revision: &str, token: Option<String>) -> Self {
        let agent = Agent::config_builder()
            .timeout_resolve(Some(Duration::from_secs(10)))
            .timeout_connect(Some(Duration::from_secs(10)))
            // No overall limit, files run to gigabytes; a stalled server is what must not hang us.
            .timeout_per_read(Some(Duration::from_secs(60)))
            // 4xx/5xx as responses, so errors can name the URL and optional files can 404.
            .http_status_as_error(false)
            // By hand, to read the hub's headers before the CDN's and keep the token off the CDN.
            .max_redirects(0)
            .user_agent(concat!("glassbox/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: agent.into(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            repo: repo.to_string(),
            revision: revision.to_string(),
            token,
        }
    }

    pub fn url(&self, file: &str) -> String {
        format!(
            "{}/{}/resolve/{}/{file}",
            self.endpoint, self.repo, self.revision
        )
    }

    pub fn head(&self, file: &str) -> Result<Meta, FetchError> {
        self.send(file, true, 0).map(|(_, meta)| meta)
    }

    /// GETs `file` from byte `offset` on (a `Range` request when non-zero). Returns only 2xx
    /// responses; a 206 means the server honoured the range.
    pub fn get(&self, file: &str, offset: u64) -> Result<(Response<Body>, Meta), FetchError> {
        self.send(file, false, offset)
    }

    fn send(
        &self,
        file: &str,
        head: bool,
        offset: u64,
    ) -> Result<(Response<Body>, Meta), FetchError> {
        let url = self.url(file);
        let mut meta = Meta::default();
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = if head {
                self.agent.head(&current)
            } else {
                self.agent.get(&current)
            };
            if offset > 0 {
                request = request.header("Range", format!("bytes={offset}-"));
            }
            if let Some(token) = &self.token {
                if origin(&current) == origin(&self.endpoint) {
                    request = request.header("Authorization", format!("Bearer {token}"));
                }
            }
            let response = request.call().map_err(|e| self.call_error(&current, e))?;
            meta.absorb(response.headers());
            let status = response.status().as_u16();
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok());
                let Some(location) = location else {
                    let reason = format!("HTTP {status} without a Location header");
                    return Err(FetchError::BadResponse {
                        url: current,
                        reason,
                    });
                };
                current = join(&current, location);
                continue;
            }
            // Errors name the URL asked for: the CDN's signed URLs are long and say nothing.
            return match status {
                200..=299 => Ok((response, meta)),
                404 => Err(FetchError::NotFound { url }),
                _ => Err(FetchError::Http { status, url }),
            };
        }
        let reason = format!("more than {MAX_REDIRECTS} redirects");
        Err(FetchError::BadResponse { url, reason })
    }

    fn call_error(&self, url: &str, error: ureq::Error) -> FetchError {
        let url = url.to_string();
        match error {
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => FetchError::BadUrl {
                url,
                reason: error.to_string(),
            },
            // Refused, no DNS, timed out, TLS failed: all mean "can't get there from here".
            _ => FetchError::Unreachable {
                url,
                reason: error.to_string(),
                repo: self.repo.clone(),
                tree: format!("{}/{}/tree/{}", self.endpoint, self.repo, self.revision),
            },
        }
    }
}

/// `scheme://host[:port]` of an absolute URL.
fn origin(url: &str) -> &str {
    let host_start = url.find("://").map_or(0, |i| i + 3);
    let host_end = url[host_start..]
        .find('/')
        .map_or(url.len(), |i| host_start + i);
    &url[..host_end]
}

/// Resolves a `Location` header against the URL that sent it; the hub sends relative ones.
fn join(base: &str, location: &str) -> String {
    if location.contains("://") {
        location.to_string()
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base))
    } else {
        let dir = base.rfind('/').map_or(base, |i| &base[..=i]);
        format!("{dir}{location}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_sender() {
        let base = "https://hub.example:8080/o/n/resolve/main/model.safetensors";
        assert_eq!(
            join(base, "https://cdn.example/x?sig=1"),
            "https://cdn.example/x?sig=1"
        );
        assert_eq!(join(base, "/api/x"), "https://hub.example:8080/api/x");
        assert_eq!(
            join(base, "other.bin"),
            "https://hub.example:8080/o/n/resolve/main/other.bin"
        );
        assert_eq!(origin("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }
}
