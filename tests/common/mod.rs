//! Test support: a throw-away forge tree (a copy of the project's configs,
//! packages and boards plus the fixture packages), its own cache and
//! download dirs, and the real `forge` binary run inside it.

#![allow(dead_code)]

pub mod offline;
pub mod tmux;

use serde_json::Value as Json;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Tree {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub cache: PathBuf,
    /// The user and group forge runs as, when not the test's own
    /// ([`Tree::owned_by`]).
    pub user: Option<(u32, u32)>,
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success(), "copying {}", from.display());
}

/// Trees handed to a background `rm` so far by this process.
static TRASHED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for Tree {
    /// Removing a tree that holds a kernel build (a hundred thousand files)
    /// takes minutes on a disk mounted with `discard`; the tree is renamed
    /// aside and removed by a detached `rm -rf`, so the next test starts at
    /// once. If either fails, the `TempDir` removes it as before.
    fn drop(&mut self) {
        let n = TRASHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(parent) = self.tmp.path().parent() else {
            return;
        };
        let trash = parent.join(format!(".forge-test-trash-{}-{n}", std::process::id()));
        // The shell starts rm in the background and exits; rm outlives
        // the test process.
        if fs::rename(self.tmp.path(), &trash).is_ok()
            && !Command::new("sh")
                .args(["-c", "rm -rf \"$1\" </dev/null >/dev/null 2>&1 &", "sh"])
                .arg(&trash)
                .status()
                .is_ok_and(|s| s.success())
        {
            let _ = fs::rename(&trash, self.tmp.path());
        }
    }
}

impl Tree {
    /// A tree holding the project's configs/, packages/, boards/ and the
    /// fixture packages of tests/packages/.
    pub fn new() -> Tree {
        Tree::with_cache(None)
    }

    /// Same, sharing a cache dir with other trees.
    pub fn with_cache(cache: Option<&Path>) -> Tree {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("tree");
        fs::create_dir_all(&root).expect("mkdir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR"));
        for d in ["configs", "packages", "boards"] {
            copy_dir(&src.join(d), &root.join(d));
        }
        for entry in fs::read_dir(src.join("tests/packages")).expect("fixtures") {
            let p = entry.expect("entry").path();
            copy_dir(&p, &root.join("packages"));
        }
        let cache = cache
            .map(Path::to_path_buf)
            .unwrap_or_else(|| tmp.path().join("cache"));
        Tree {
            tmp,
            root,
            cache,
            user: None,
        }
    }

    /// The same tree at `rel` under its temporary dir instead of `tree/`
    /// (a checkout at another path).
    pub fn moved_to(mut self, rel: &str) -> Tree {
        let to = self.tmp.path().join(rel);
        fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        fs::rename(&self.root, &to).expect("move the tree");
        self.root = to;
        self
    }

    /// The whole tree (checkout, cache, downloads) given to `user`, and
    /// forge run as that user from now on.
    pub fn owned_by(mut self, user: (u32, u32)) -> Tree {
        // The user runs its own copy of forge: the checkout the tests run
        // from may sit in a folder only its owner can enter.
        let bin = self.tmp.path().join("bin");
        fs::create_dir_all(&bin).expect("mkdir");
        fs::copy(env!("CARGO_BIN_EXE_forge"), bin.join("forge")).expect("copy forge");
        let status = Command::new("chown")
            .arg("-R")
            .arg(format!("{}:{}", user.0, user.1))
            .arg(self.tmp.path())
            .status()
            .expect("chown");
        assert!(status.success(), "chown {}", self.tmp.path().display());
        self.user = Some(user);
        self
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn forge(&self, args: &[&str]) -> Output {
        self.forge_env(args, &[])
    }

    /// Run forge with further environment variables.
    pub fn forge_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = match self.user {
            None => Command::new(env!("CARGO_BIN_EXE_forge")),
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg(self.tmp.path().join("bin/forge"))
                    .env("HOME", self.tmp.path());
                c
            }
        };
        cmd.envs(env.iter().copied())
            .args(args)
            .current_dir(&self.root)
            .env("FORGE_CACHE_DIR", &self.cache)
            .env("FORGE_DL_DIR", self.tmp.path().join("dl"))
            .env_remove("FORGE_OUTPUT")
            .env_remove("MAKEFLAGS")
            .output()
            .expect("run forge")
    }

    /// Run forge and insist it succeeds.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.forge(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "forge {args:?} failed:\n{text}");
        text
    }

    /// Run forge and insist it fails; returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.forge(args);
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "forge {args:?} should have failed:\n{text}"
        );
        text
    }

    pub fn record(&self, board: &str) -> Json {
        let p = self
            .root
            .join("output")
            .join(board)
            .join("logs/build-record.json");
        serde_json::from_slice(&fs::read(&p).expect("record")).expect("json")
    }

    pub fn dl(&self) -> PathBuf {
        self.tmp.path().join("dl")
    }
}

/// Names of the steps with the given status in a build record.
pub fn steps_with(record: &Json, status: &str) -> Vec<String> {
    record["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["status"] == status)
        .map(|s| s["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Every step's (key, output digest) in a build record, by step name.
pub fn keys_and_outputs(record: &Json) -> std::collections::BTreeMap<String, (String, String)> {
    record["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            let text = |f: &str| s[f].as_str().unwrap_or_default().to_string();
            (text("name"), (text("key"), text("output")))
        })
        .collect()
}

/// Extract a gzip'd cpio into `dest` with the system tools.
pub fn unpack_cpio(image: &Path, dest: &Path) {
    fs::create_dir_all(dest).expect("mkdir");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -dc '{}' | cpio -id --quiet", image.display()))
        .current_dir(dest)
        .status()
        .expect("cpio");
    assert!(status.success());
}

/// Whether a finished process succeeded, and its stdout then stderr.
pub fn status_and_text(out: Output) -> (bool, String) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Run `script` with `sh -c` in `dir`, with sbin on PATH (mke2fs, debugfs,
/// sfdisk live there); insists it succeeds and returns stdout + stderr.
pub fn sh_in(dir: &Path, script: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env(
            "PATH",
            format!(
                "{}:/usr/sbin:/sbin",
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .expect("sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{text}");
    text
}

/// A user other than the tests' own to run forge as: when the tests run
/// as root, the system user `forge-test-b` (created if missing); `None`
/// for an ordinary user, who cannot switch.
pub fn other_user() -> Option<(u32, u32)> {
    static USER: std::sync::OnceLock<Option<(u32, u32)>> = std::sync::OnceLock::new();
    *USER.get_or_init(|| {
        let id = |args: &[&str]| -> Option<u32> {
            let out = Command::new("id").args(args).output().ok()?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        if id(&["-u"]) != Some(0) {
            return None;
        }
        const NAME: &str = "forge-test-b";
        if id(&["-u", NAME]).is_none() {
            let status = Command::new("useradd")
                .args(["--system", "--no-create-home", "--user-group"])
                .args(["--shell", "/usr/sbin/nologin", NAME])
                .status()
                .expect("useradd");
            assert!(status.success(), "useradd {NAME}");
        }
        Some((id(&["-u", NAME])?, id(&["-g", NAME])?))
    })
}
