//! The Bazel HTTP cache protocol on the wire: `GET`/`PUT`/`HEAD` of
//! `<base>/ac/<key>` and `<base>/cas/<sha256>`, as nginx with WebDAV,
//! bazel-remote (non-validating) or an HTTP front of a bucket serve it.
//! Short timeouts, bounded retries; once the server has failed a request
//! after its retries it is considered down for the rest of the process
//! (one warning), so a dead server costs a build seconds, never its result.
//! The optional auth header is sent and never printed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Attempts per request (the first and the retries).
const ATTEMPTS: u32 = 3;

pub struct HttpCache {
    base: String,
    agent: ureq::Agent,
    /// `(name, value)` of the auth header.
    auth: Option<(String, String)>,
    down: AtomicBool,
    warned: AtomicBool,
    /// Why the server is considered down.
    trouble: Mutex<Option<String>>,
}

/// Why a request did not give an answer.
#[derive(Debug)]
pub enum Miss {
    /// The server answered that it does not have it (404).
    Absent,
    /// The server is unreachable or failing; already reported once.
    Down,
}

impl HttpCache {
    /// `base`: `http://host:port/prefix` (no trailing slash needed);
    /// `auth`: a header line `Name: value`.
    pub fn new(base: &str, auth: Option<&str>) -> std::result::Result<HttpCache, String> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "remote cache {base:?}: say http://host:port/path or https://…"
            ));
        }
        let auth = match auth {
            None => None,
            Some(line) => {
                let (name, value) = line.split_once(':').ok_or(
                    "the remote cache's auth header must be one line `Name: value`".to_string(),
                )?;
                Some((name.trim().to_string(), value.trim().to_string()))
            }
        };
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(300)))
            .http_status_as_error(false)
            .user_agent(concat!("forge/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(HttpCache {
            base: base.trim_end_matches('/').to_string(),
            agent: ureq::Agent::new_with_config(config),
            auth,
            down: AtomicBool::new(false),
            warned: AtomicBool::new(false),
            trouble: Mutex::new(None),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Warn once per process about the remote cache (never with the header).
    pub fn warn(&self, message: &str) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            eprintln!("forge: warning: remote cache {}: {message}", self.base);
        }
    }

    /// No warnings from here on: the caller reports what goes wrong
    /// itself (`forge why` says it in its explanation).
    pub fn hush(&self) {
        self.warned.store(true, Ordering::Relaxed);
    }

    /// Why the server is considered down, once it is.
    pub fn trouble(&self) -> Option<String> {
        self.trouble.lock().ok().and_then(|t| t.clone())
    }

    fn give_up(&self, what: &str, error: &str) -> Miss {
        self.down.store(true, Ordering::Relaxed);
        if let Ok(mut t) = self.trouble.lock() {
            t.get_or_insert_with(|| format!("{what}: {error}"));
        }
        self.warn(&format!(
            "{what}: {error}; building and storing locally for the rest of this build"
        ));
        Miss::Down
    }

    /// One request with retries: `Ok(status, body)` for any HTTP answer
    /// below 500, `Err` when the server stays unreachable or failing.
    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> std::result::Result<(u16, Vec<u8>), Miss> {
        if self.down.load(Ordering::Relaxed) {
            return Err(Miss::Down);
        }
        let url = format!("{}/{path}", self.base);
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << attempt));
            }
            match self.once(method, &url, body) {
                Ok((status, bytes)) if status < 500 => return Ok((status, bytes)),
                Ok((status, _)) => last = format!("HTTP status {status}"),
                Err(e) => last = e,
            }
        }
        Err(self.give_up(&format!("{method} {path}"), &last))
    }

    fn once(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> std::result::Result<(u16, Vec<u8>), String> {
        let auth = self.auth.as_ref();
        let response = match (method, body) {
            ("PUT", Some(bytes)) => {
                let mut req = self.agent.put(url);
                if let Some((k, v)) = auth {
                    req = req.header(k, v);
                }
                req.send(bytes)
            }
            ("HEAD", _) => {
                let mut req = self.agent.head(url);
                if let Some((k, v)) = auth {
                    req = req.header(k, v);
                }
                req.call()
            }
            _ => {
                let mut req = self.agent.get(url).header("Accept-Encoding", "identity");
                if let Some((k, v)) = auth {
                    req = req.header(k, v);
                }
                req.call()
            }
        }
        .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        if method == "HEAD" {
            return Ok((status, Vec::new()));
        }
        let bytes = response
            .into_body()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok((status, bytes))
    }

    /// The body at `path` (`ac/<key>`, `cas/<sha256>`).
    pub fn get(&self, path: &str) -> std::result::Result<Vec<u8>, Miss> {
        match self.request("GET", path, None)? {
            (200, bytes) => Ok(bytes),
            (404, _) => Err(Miss::Absent),
            (status, _) => {
                self.warn(&format!("GET {path}: HTTP status {status}"));
                Err(Miss::Absent)
            }
        }
    }

    /// Whether the server has `path`.
    pub fn has(&self, path: &str) -> std::result::Result<bool, Miss> {
        Ok(self.request("HEAD", path, None)?.0 == 200)
    }

    pub fn put(&self, path: &str, bytes: &[u8]) -> std::result::Result<(), Miss> {
        match self.request("PUT", path, Some(bytes))?.0 {
            200..=299 => Ok(()),
            status => {
                self.warn(&format!(
                    "PUT {path}: HTTP status {status} (is the server writable?)"
                ));
                Err(Miss::Down)
            }
        }
    }
}
