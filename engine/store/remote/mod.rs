//! The remote tier: a shared cache other machines fill, behind the local
//! store (see `store::cache` for the digest mapping). What `/ac/<key>`
//! holds is a [`RemoteAction`]: the step's [`Action`] plus the sha256 and
//! size of its manifest and of every file blob, since the wire addresses
//! content by sha256 while forge names it by blake3. A hit is downloaded
//! entirely into the local store, each blob checked against both digests,
//! before it counts: a remote entry that fails a check is reported once
//! and the step is built locally. Uploads put content first, the action
//! last, so a reader never finds an action whose content is missing, and
//! after the action the [`pointer`] to this board's last upload of the
//! step, so a reader never finds a pointer to a missing action. What
//! `forge why` asks (`peek`, `last_upload`) downloads no content.

pub mod http;
pub mod pointer;

use super::{Action, EntryKind, Manifest, Store};
use http::{HttpCache, Miss};
use pointer::{LastUpload, pointer_key};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Serialize, Deserialize)]
pub struct RemoteAction {
    pub action: Action,
    /// sha256 and size of the manifest's bytes.
    pub manifest: (String, u64),
    /// blake3 of each file blob → its sha256 and size.
    pub blobs: BTreeMap<String, (String, u64)>,
}

/// What the server answered to a question of `forge why`.
pub enum Answer<T> {
    Found(T),
    Absent,
    /// It had an entry that does not read as one (treated as absent).
    Unreadable(String),
    /// It could not be asked ([`HttpCache::trouble`] says why).
    Down,
}

/// How a remote lookup ended.
pub enum Fetched {
    Hit(Action),
    Miss,
    /// The server had an entry that failed verification (reported).
    Refused,
}

/// The environment variable holding the auth header line (a secret).
pub const AUTH_HEADER_ENV: &str = "FORGE_REMOTE_CACHE_HEADER";
/// The environment variable naming a file that holds it.
pub const AUTH_FILE_ENV: &str = "FORGE_REMOTE_CACHE_HEADER_FILE";

/// Where the remote cache is and what forge may do with it.
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    pub url: String,
    /// Write what this machine builds (read-only otherwise).
    pub upload: bool,
    /// `Name: value`, from the environment or a file; never printed.
    pub auth: Option<String>,
}

impl RemoteSettings {
    /// The auth header from `FORGE_REMOTE_CACHE_HEADER`, or from the file
    /// `FORGE_REMOTE_CACHE_HEADER_FILE` names.
    pub fn auth_from_env() -> crate::error::Result<Option<String>> {
        if let Ok(line) = std::env::var(AUTH_HEADER_ENV) {
            return Ok(Some(line));
        }
        match std::env::var_os(AUTH_FILE_ENV) {
            None => Ok(None),
            Some(file) => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| crate::error::Error::io(std::path::Path::new(&file), e))?;
                Ok(text.lines().next().map(|l| l.trim().to_string()))
            }
        }
    }

    /// Connect for a build of `board` (the name pointers are kept under).
    pub fn connect(&self, board: &str) -> crate::error::Result<Remote> {
        let http = HttpCache::new(&self.url, self.auth.as_deref()).map_err(|message| {
            crate::error::Error::BadOption {
                option: "--remote-cache".into(),
                message,
                at: None,
            }
        })?;
        Ok(Remote {
            http,
            upload: self.upload,
            board: board.to_string(),
        })
    }
}

pub struct Remote {
    pub http: HttpCache,
    pub upload: bool,
    /// The board this build is of: its pointers' name.
    pub board: String,
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Remote {
    /// Download the action for `key` and everything it names into
    /// `local`; the local store then answers for it.
    pub fn fetch(&self, key: &str, local: &Store) -> Fetched {
        let entry = match self.http.get(&format!("ac/{key}")) {
            Ok(bytes) => bytes,
            Err(Miss::Absent | Miss::Down) => return Fetched::Miss,
        };
        match self.fetch_content(&entry, local) {
            Ok(Some(action)) => {
                if local.put_action(key, &action).is_err() {
                    return Fetched::Miss;
                }
                Fetched::Hit(action)
            }
            Ok(None) => Fetched::Miss,
            Err(why) => {
                self.http.warn(&format!(
                    "entry {key} refused: {why}; built locally instead"
                ));
                Fetched::Refused
            }
        }
    }

    /// `Ok(None)`: something is no longer on the server (or it is down);
    /// `Err`: something does not match its digests.
    fn fetch_content(&self, entry: &[u8], local: &Store) -> Result<Option<Action>, String> {
        let remote: RemoteAction =
            serde_json::from_slice(entry).map_err(|e| format!("unreadable entry: {e}"))?;
        let Some(bytes) = self.download(&remote.manifest.0)? else {
            return Ok(None);
        };
        if blake3::hash(&bytes).to_hex().as_str() != remote.action.manifest {
            return Err("its manifest does not match the action's digest".into());
        }
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| format!("unreadable manifest: {e}"))?;
        for e in &manifest.entries {
            let EntryKind::File { digest, .. } = &e.kind else {
                continue;
            };
            if local.blob_path(digest).is_file() {
                continue;
            }
            let (sha, _) = remote
                .blobs
                .get(digest)
                .ok_or_else(|| format!("no sha256 for blob {digest}"))?;
            let Some(blob) = self.download(sha)? else {
                return Ok(None);
            };
            let (got, _) = local.put_blob(&blob).map_err(|e| e.to_string())?;
            if &got != digest {
                return Err(format!("blob {sha} is not the blob {digest} it should be"));
            }
        }
        let stored = local.put_manifest(&manifest).map_err(|e| e.to_string())?;
        if stored != remote.action.manifest {
            return Err("the manifest's canonical form differs".into());
        }
        Ok(Some(remote.action))
    }

    /// The blob with this sha256, checked; `Ok(None)` when absent.
    fn download(&self, sha: &str) -> Result<Option<Vec<u8>>, String> {
        match self.http.get(&format!("cas/{sha}")) {
            Ok(bytes) if sha256(&bytes) == sha => Ok(Some(bytes)),
            Ok(_) => Err(format!("cas/{sha} does not match its sha256")),
            Err(_) => Ok(None),
        }
    }

    /// Upload a step's result from `local` (content first, then the
    /// action) unless the server has it; failures cost a warning.
    pub fn upload(&self, key: &str, action: &Action, local: &Store) {
        if !self.upload || self.http.has(&format!("ac/{key}")).unwrap_or(true) {
            return;
        }
        if let Err(why) = self.try_upload(key, action, local) {
            self.http.warn(&format!("upload of {}: {why}", action.step));
        }
    }

    fn try_upload(&self, key: &str, action: &Action, local: &Store) -> Result<(), String> {
        let manifest = local
            .manifest(&action.manifest)
            .map_err(|e| e.to_string())?;
        let mut blobs = BTreeMap::new();
        for digest in super::blob_digests(&manifest) {
            let path = local.blob_path(digest);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let sha = sha256(&bytes);
            self.put_cas(&sha, &bytes)?;
            blobs.insert(digest.to_string(), (sha, bytes.len() as u64));
        }
        let (bytes, _) = manifest.encode();
        let sha = sha256(&bytes);
        self.put_cas(&sha, &bytes)?;
        let entry = RemoteAction {
            action: action.clone(),
            manifest: (sha, bytes.len() as u64),
            blobs,
        };
        let body = serde_json::to_vec(&entry).map_err(|e| e.to_string())?;
        self.http
            .put(&format!("ac/{key}"), &body)
            .map_err(|_| "the server refused the action".to_string())?;
        let last = LastUpload::new(&self.board, &action.step, key, &action.inputs);
        let path = format!("ac/{}", pointer_key(&self.board, &action.step));
        self.http
            .put(&path, &last.encode())
            .map_err(|_| "the server refused the pointer to the last upload".to_string())
    }

    /// The output digest of the action the server holds for `key`, its
    /// content left where it is (so a build would try to restore it).
    pub fn peek(&self, key: &str) -> Answer<String> {
        match self.http.get(&format!("ac/{key}")) {
            Ok(bytes) => match serde_json::from_slice::<RemoteAction>(&bytes) {
                Ok(entry) => Answer::Found(entry.action.manifest),
                Err(e) => Answer::Unreadable(format!("unreadable entry: {e}")),
            },
            Err(Miss::Absent) => Answer::Absent,
            Err(Miss::Down) => Answer::Down,
        }
    }

    /// What the server records of this board's last upload of `step`.
    pub fn last_upload(&self, step: &str) -> Answer<LastUpload> {
        match self
            .http
            .get(&format!("ac/{}", pointer_key(&self.board, step)))
        {
            Ok(bytes) => match LastUpload::decode(&bytes, &self.board, step) {
                Ok(p) => Answer::Found(p),
                Err(why) => Answer::Unreadable(why),
            },
            Err(Miss::Absent) => Answer::Absent,
            Err(Miss::Down) => Answer::Down,
        }
    }

    fn put_cas(&self, sha: &str, bytes: &[u8]) -> Result<(), String> {
        let path = format!("cas/{sha}");
        match self.http.has(&path) {
            Ok(true) => Ok(()),
            Ok(false) => self
                .http
                .put(&path, bytes)
                .map_err(|_| format!("PUT {path} failed")),
            Err(_) => Err("the server is down".into()),
        }
    }
}
