//! Git sources: a bare cache per package (`dl/<pkg>/git`, fetched
//! incrementally), resolving a branch or tag to its commit (`git
//! ls-remote`), the tree id of a commit (the source's identity), and the
//! reproducible archive `dl/<pkg>/<pkg>-<commit>.tar.gz` a build extracts
//! (sorted names, the commit's time as every mtime, owner 0, `gzip -n`: the
//! same tree gives the same bytes), which is what later builds use offline.
//! Every git run goes through an [`Executor`].

use crate::exec::{Cmd, Executor, Finished};
use crate::load::recipe::choice::is_commit_id;
use std::fs;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum GitError {
    #[error("cannot run git: {message}; install git on the build host")]
    Spawn { message: String },

    #[error("`git {what}` failed for {url}{}", tail(stderr))]
    Failed {
        what: String,
        url: String,
        stderr: String,
    },

    #[error(
        "{rev:?} is neither a branch nor a tag of {url}; set {option} to a full commit id \
         (40 hex digits) or to a branch or tag the repository has"
    )]
    NoRef {
        url: String,
        rev: String,
        option: String,
    },

    #[error(
        "commit {commit} is not in {url} (after fetching it, and all branches and tags); \
         check {option}{}",
        tail(stderr)
    )]
    NoCommit {
        url: String,
        commit: String,
        option: String,
        stderr: String,
    },

    #[error("{package}: no Git repository URL; set {option}")]
    NoUrl { package: String, option: String },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(6);
    lines[start..]
        .iter()
        .map(|l| format!("\n  git: {l}"))
        .collect()
}

/// The archive's file name.
pub fn archive_name(package: &str, commit: &str) -> String {
    format!("{package}-{commit}.tar.gz")
}

/// Run git with `args` (in `cwd` if given), outputs captured.
fn git(exec: &dyn Executor, cwd: Option<&Path>, args: &[&str]) -> Result<Finished, GitError> {
    let mut cmd = Cmd::new("git")
        .args(args)
        .inherit_env()
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .capture_all();
    if let Some(dir) = cwd {
        cmd = cmd.cwd(dir).input(dir);
    }
    exec.run(&cmd).map_err(|e| GitError::Spawn {
        message: e.to_string(),
    })
}

/// Run git and insist it succeeds; its stdout, trimmed.
fn git_ok(
    exec: &dyn Executor,
    cwd: Option<&Path>,
    args: &[&str],
    url: &str,
) -> Result<String, GitError> {
    let done = git(exec, cwd, args)?;
    if !done.status.success() {
        return Err(GitError::Failed {
            what: args.join(" "),
            url: url.to_string(),
            stderr: String::from_utf8_lossy(&done.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&done.stdout).trim().to_string())
}

/// The commit a branch or tag `rev` of `url` names now: a tag's peeled
/// commit first, then the tag, then a branch, then a ref spelled in full.
pub fn resolve_rev(
    exec: &dyn Executor,
    url: &str,
    rev: &str,
    option: &str,
) -> Result<String, GitError> {
    let out = git_ok(exec, None, &["ls-remote", "--", url, rev], url)?;
    let refs: Vec<(&str, &str)> = out
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(sha, name)| (name, sha))
        .collect();
    let wanted = [
        format!("refs/tags/{rev}^{{}}"),
        format!("refs/tags/{rev}"),
        format!("refs/heads/{rev}"),
        rev.to_string(),
    ];
    wanted
        .iter()
        .find_map(|w| refs.iter().find(|(name, _)| name == w))
        .map(|(_, sha)| sha.to_string())
        .filter(|sha| is_commit_id(sha))
        .ok_or_else(|| GitError::NoRef {
            url: url.to_string(),
            rev: rev.to_string(),
            option: option.to_string(),
        })
}

fn has_commit(exec: &dyn Executor, cache: &Path, commit: &str) -> Result<bool, GitError> {
    let spec = format!("{commit}^{{commit}}");
    Ok(git(exec, Some(cache), &["cat-file", "-e", &spec])?
        .status
        .success())
}

/// Make the bare cache `cache` hold `commit` of `url`: fetch just that
/// commit, or, when the server refuses, every branch and tag. The commit is
/// kept by a ref of its own, so no cleanup drops it.
pub fn ensure_commit(
    exec: &dyn Executor,
    cache: &Path,
    url: &str,
    commit: &str,
    option: &str,
) -> Result<(), GitError> {
    if !cache.join("HEAD").is_file() {
        fs::create_dir_all(cache).map_err(|source| GitError::Write {
            path: cache.to_path_buf(),
            source,
        })?;
        git_ok(exec, Some(cache), &["init", "-q", "--bare"], url)?;
    }
    let keep = format!("refs/forge/{commit}");
    if has_commit(exec, cache, commit)? {
        return git_ok(exec, Some(cache), &["update-ref", &keep, commit], url).map(drop);
    }
    let direct = git(
        exec,
        Some(cache),
        &["fetch", "-q", "--no-tags", "--", url, commit],
    )?;
    let mut stderr = String::from_utf8_lossy(&direct.stderr).into_owned();
    if !has_commit(exec, cache, commit)? {
        let all = git(
            exec,
            Some(cache),
            &[
                "fetch",
                "-q",
                "--",
                url,
                "+refs/heads/*:refs/heads/*",
                "+refs/tags/*:refs/tags/*",
            ],
        )?;
        stderr.push_str(&String::from_utf8_lossy(&all.stderr));
    }
    if !has_commit(exec, cache, commit)? {
        return Err(GitError::NoCommit {
            url: url.to_string(),
            commit: commit.to_string(),
            option: option.to_string(),
            stderr,
        });
    }
    git_ok(exec, Some(cache), &["update-ref", &keep, commit], url).map(drop)
}

/// The tree id of `commit` in `cache`: git's content hash of its files.
pub fn tree_of(exec: &dyn Executor, cache: &Path, commit: &str) -> Result<String, GitError> {
    let spec = format!("{commit}^{{tree}}");
    git_ok(
        exec,
        Some(cache),
        &["rev-parse", "--verify", "-q", &spec],
        &cache.display().to_string(),
    )
}

/// What an archive is made of.
pub struct ArchiveRequest<'a> {
    pub package: &'a str,
    pub url: &'a str,
    pub commit: &'a str,
    pub submodules: bool,
    /// The option naming the commit, for messages.
    pub option: &'a str,
}

/// Make `dest_dir/<package>-<commit>.tar.gz` from the cache `dest_dir/git`
/// (fetching the commit if needed): the commit checked out (with its
/// submodules if asked), `.git` left out, packed reproducibly under the
/// top directory `<package>-<commit>/`. An existing archive is kept.
pub fn archive(
    exec: &dyn Executor,
    req: &ArchiveRequest,
    dest_dir: &Path,
) -> Result<PathBuf, GitError> {
    let dest = dest_dir.join(archive_name(req.package, req.commit));
    if dest.is_file() {
        return Ok(dest);
    }
    let write = |path: &Path, source| GitError::Write {
        path: path.to_path_buf(),
        source,
    };
    let cache = dest_dir.join("git");
    ensure_commit(exec, &cache, req.url, req.commit, req.option)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{}-{}.tmp-", req.package, req.commit))
        .tempdir_in(dest_dir)
        .map_err(|e| write(dest_dir, e))?;
    let top = format!("{}-{}", req.package, req.commit);
    let work = tmp.path().join(&top);
    let (work_s, cache_s) = (work.display().to_string(), cache.display().to_string());
    git_ok(
        exec,
        None,
        &[
            "clone",
            "-q",
            "--no-checkout",
            "--shared",
            "--",
            &cache_s,
            &work_s,
        ],
        req.url,
    )?;
    git_ok(
        exec,
        Some(&work),
        &["checkout", "-q", "--detach", req.commit],
        req.url,
    )?;
    if req.submodules {
        // Relative submodule URLs are relative to the real repository.
        git_ok(
            exec,
            Some(&work),
            &["remote", "set-url", "origin", req.url],
            req.url,
        )?;
        git_ok(
            exec,
            Some(&work),
            &["submodule", "update", "-q", "--init", "--recursive"],
            req.url,
        )?;
    }
    let time = git_ok(
        exec,
        Some(&cache),
        &["log", "-1", "--format=%ct", req.commit],
        req.url,
    )?;
    let part = tmp.path().join("archive.tar.gz");
    let pack = Cmd::new("sh")
        .args([
            "-ec",
            "find \"$1/$2\" -name .git -prune -exec rm -rf {} +\n\
             tar --create --file=\"$4.tar\" --format=gnu --sort=name --owner=0 --group=0 \
             --numeric-owner --mtime=\"@$3\" --mode=u+rw,go=rX -C \"$1\" \"$2\"\n\
             gzip -n -c \"$4.tar\" > \"$4\"\nrm -f \"$4.tar\"",
            "sh",
        ])
        .arg(tmp.path())
        .arg(&top)
        .arg(&time)
        .arg(&part)
        .inherit_env()
        .env("LC_ALL", "C")
        .input(&work)
        .output(&part)
        .capture_all();
    let done = exec.run(&pack).map_err(|e| GitError::Spawn {
        message: e.to_string(),
    })?;
    if !done.status.success() {
        return Err(GitError::Failed {
            what: "archive (tar | gzip -n)".into(),
            url: req.url.to_string(),
            stderr: String::from_utf8_lossy(&done.stderr).into_owned(),
        });
    }
    fs::rename(&part, &dest).map_err(|e| write(&dest, e))?;
    Ok(dest)
}
