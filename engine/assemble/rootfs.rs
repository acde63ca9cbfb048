//! The `rootfs` step: the tree every image is written from, assembled in
//! Buildroot's order — the selected packages' `target/` trees (dependency
//! order; see [`crate::assemble::images::merge`]), the board overlays
//! (`ROOTFS_OVERLAY`, in order, a later one wins), the kernel modules'
//! index (`depmod`, [`crate::assemble::depmod`]), the generated accounts
//! (`/etc/passwd`, `group`, `shadow` from the users tables and
//! `ROOT_PASSWORD`), then the post-build scripts, run on a materialized
//! copy. Without scripts the step is a pure manifest operation.
//!
//! Its output is `target/` plus [`USERS_META`]: the home directories with
//! their owners, as a makedevs table the image steps apply before the
//! device tables.

use crate::assemble::hooks::{self, HookDirs};
use crate::assemble::users::{Accounts, AccountsOptions, home_entries, parse_users_table};
use crate::error::{Error, Result};
use crate::exec::StepContext;
use crate::spec::RootfsSpec;
use crate::store::{ContentStore, Entry, EntryKind, Manifest};
use std::collections::BTreeMap;
use std::path::Path;

/// The generated home-directory table in the `rootfs` step's output.
pub const USERS_META: &str = "meta/users.table";

/// The packages' owners tables (a Debian base's, read from dpkg's
/// archive), carried into the `rootfs` step's output under the same name.
pub use crate::debian::tree::OWNERS_META;

/// Run the `rootfs` step over the packages' outputs `parts` (step name,
/// output digest) in dependency order.
pub fn rootfs_step(
    spec: &RootfsSpec,
    parts: &[(String, String)],
    ctx: &StepContext,
) -> Result<String> {
    let store = ctx.store;
    let replaces = |later: &str, earlier: &str| {
        spec.packages
            .iter()
            .any(|p| p.step == later && p.replaces.iter().any(|r| r == earlier))
    };
    let mut tree = crate::assemble::images::merge(store, parts, &replaces)?;
    let owners = owners_tables(store, parts)?;
    for dir in &spec.overlays {
        overlay(store, &mut tree, &dir.path)?;
    }
    crate::assemble::depmod::run(ctx, &mut tree)?;
    let homes = accounts(spec, store, &mut tree)?;
    if !homes.is_empty() {
        put_file(store, &mut tree, USERS_META, homes.as_bytes(), 0o644)?;
    }
    if !owners.is_empty() {
        put_file(store, &mut tree, OWNERS_META, owners.as_bytes(), 0o644)?;
    }
    let before = Manifest {
        entries: tree.into_values().collect(),
    };
    let Some(hook) = spec.post_build.as_ref().filter(|h| !h.scripts.is_empty()) else {
        return store.put_manifest(&before);
    };
    let dirs = &ctx.dirs;
    dirs.fresh_out()?;
    store.materialize(&before, "", &dirs.out)?;
    let target = dirs.out.join("target");
    let host = dirs.base.join("host");
    let outputs: Vec<String> = parts.iter().map(|(_, d)| d.clone()).collect();
    crate::exec::host_tree(store, &outputs, &host)?;
    let hook_dirs = HookDirs {
        target: Some(&target),
        binaries: &dirs.out.join("images"),
        host: &host,
    };
    hooks::run_scripts(hook, ctx, &target, &hook_dirs)?;
    let (_, mut after) = store.put_tree(&dirs.out)?;
    // Materializing makes directories owner-writable; a directory the
    // scripts left alone keeps the mode it had.
    let old: BTreeMap<&str, &EntryKind> = before
        .entries
        .iter()
        .map(|e| (e.path.as_str(), &e.kind))
        .collect();
    for e in &mut after.entries {
        if let (EntryKind::Dir { mode }, Some(EntryKind::Dir { mode: was })) =
            (&mut e.kind, old.get(e.path.as_str()))
            && *mode == *was | 0o700
        {
            *mode = *was;
        }
    }
    store.put_manifest(&after)
}

/// The owners tables of the parts, in merge order, as one text.
fn owners_tables(store: &dyn ContentStore, parts: &[(String, String)]) -> Result<String> {
    let mut text = String::new();
    for (_, digest) in parts {
        let manifest = store.get_manifest(digest)?;
        if let Some(EntryKind::File { digest, .. }) = manifest
            .entries
            .iter()
            .find(|e| e.path == OWNERS_META)
            .map(|e| &e.kind)
        {
            text.push_str(&String::from_utf8_lossy(&store.read_blob(digest)?));
        }
    }
    Ok(text)
}

/// Lay the directory `dir` over the tree: its entries replace what is at
/// the same path (a file replacing a directory removes what was in it).
fn overlay(store: &dyn ContentStore, tree: &mut BTreeMap<String, Entry>, dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::Other(format!(
            "option ROOTFS_OVERLAY: {} is not a directory",
            dir.display()
        )));
    }
    let (_, manifest) = store.put_tree(dir)?;
    for e in manifest.entries {
        let path = format!("target/{}", e.path);
        if !matches!(e.kind, EntryKind::Dir { .. }) {
            let inside = format!("{path}/");
            tree.retain(|p, _| !p.starts_with(&inside));
        }
        tree.insert(path.clone(), Entry { path, kind: e.kind });
    }
    Ok(())
}

fn put_file(
    store: &dyn ContentStore,
    tree: &mut BTreeMap<String, Entry>,
    path: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<()> {
    let (digest, size) = store.put_blob(bytes)?;
    for parent in Path::new(path).ancestors().skip(1) {
        let p = parent.to_string_lossy().into_owned();
        if !p.is_empty() {
            tree.entry(p.clone()).or_insert(Entry {
                path: p,
                kind: EntryKind::Dir { mode: 0o755 },
            });
        }
    }
    tree.insert(
        path.to_string(),
        Entry {
            path: path.to_string(),
            kind: EntryKind::File { mode, size, digest },
        },
    );
    Ok(())
}

/// A text file of the tree, if it has one.
fn read_text(
    store: &dyn ContentStore,
    tree: &BTreeMap<String, Entry>,
    path: &str,
) -> Result<Option<String>> {
    match tree.get(path).map(|e| &e.kind) {
        Some(EntryKind::File { digest, .. }) => {
            let bytes = store.read_blob(digest)?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        }
        _ => Ok(None),
    }
}

/// Generate `/etc/passwd`, `group` and `shadow` from the tree's own files,
/// the users tables and `ROOT_PASSWORD`; returns the home directories as
/// makedevs lines. Nothing changes when no table and no password is set.
fn accounts(
    spec: &RootfsSpec,
    store: &dyn ContentStore,
    tree: &mut BTreeMap<String, Entry>,
) -> Result<String> {
    let tables = &spec.users_tables;
    let root_password = &spec.root_password;
    if tables.is_empty() && root_password.is_empty() {
        return Ok(String::new());
    }
    let passwd = read_text(store, tree, "target/etc/passwd")?.ok_or_else(|| {
        Error::Other(
            "users tables and ROOT_PASSWORD need an /etc/passwd in the root filesystem; \
             select the skeleton package (PACKAGE_SKELETON) or provide one in an overlay"
                .into(),
        )
    })?;
    let group = read_text(store, tree, "target/etc/group")?.unwrap_or_default();
    let shadow = read_text(store, tree, "target/etc/shadow")?;
    let mut texts = Vec::new();
    for table in tables {
        let path = &table.file.path;
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        texts.push((path.clone(), text));
    }
    // Salts follow the board's accounts: the same inputs give the same
    // hashes, and two boards with the same password do not share them.
    let mut seed = blake3::Hasher::new();
    seed.update(spec.hostname.as_bytes());
    for (_, text) in &texts {
        seed.update(text.as_bytes());
    }
    let epoch = u64::try_from(spec.source_date_epoch).unwrap_or(0);
    let options = AccountsOptions::with_source_date_epoch(seed.finalize().as_bytes(), epoch);
    let users_err = |e: crate::assemble::users::UsersError| Error::Other(e.to_string());
    let mut accounts =
        Accounts::from_base(&passwd, &group, shadow.as_deref(), options).map_err(users_err)?;
    for (path, text) in &texts {
        let specs = parse_users_table(path, text).map_err(users_err)?;
        accounts.apply(&specs).map_err(users_err)?;
    }
    if !root_password.is_empty() {
        accounts
            .set_root_password(root_password)
            .map_err(users_err)?;
    }
    // Each file keeps the mode the base gave it (Debian's shadow is 640,
    // group shadow, by its owners table).
    let mode_of = |tree: &BTreeMap<String, Entry>, path: &str, default: u32| match tree
        .get(path)
        .map(|e| &e.kind)
    {
        Some(EntryKind::File { mode, .. }) => *mode,
        _ => default,
    };
    for (path, text, default) in [
        ("target/etc/passwd", accounts.passwd_text(), 0o644),
        ("target/etc/group", accounts.group_text(), 0o644),
        ("target/etc/shadow", accounts.shadow_text(), 0o600),
    ] {
        let mode = mode_of(tree, path, default);
        put_file(store, tree, path, text.as_bytes(), mode)?;
    }
    let mut table = String::from("# home directories from the users tables\n");
    for e in home_entries(&accounts, &[]) {
        table.push_str(&format!(
            "/{} d {:o} {} {} - - - - -\n",
            e.path, e.mode, e.uid, e.gid
        ));
    }
    Ok(table)
}
