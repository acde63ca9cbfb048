//! Sources as a Buildroot user knows them, through the real CLI and
//! offline: a source choice (release version from a hash file, Git, local),
//! Git commits and branches (pinning, wrong commits, the tree as identity,
//! the reproducible archive `forge source` leaves in `dl/`), primary sites
//! and the error of a download that cannot happen.

mod common;

use common::{Tree, steps_with};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixture recipe: a source choice with prefix PICK whose release URL
/// is unreachable (so releases come from the primary site), built by
/// copying the tree into the target.
const RECIPE: &str = r#"Recipe(
    name: "pick",
    version: "1.0",
    source: Choice(
        prefix: "PICK",
        version: "1.0",
        url: "http://127.0.0.1:9/releases/pick-${PICK_VERSION}.tar.gz",
        hash_file: "pick.hash",
        local: "local-src",
    ),
    kind: Generic(install: ["cp -r . \"$TARGET_DIR/opt\""]),
)
"#;

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A Git repository at `dir` with one commit of `files` (on branch main),
/// committed by `who` at `date`; returns the commit id.
fn repo(dir: &Path, files: &[(&str, &str)], who: &str, date: &str) -> String {
    std::fs::create_dir_all(dir).expect("mkdir");
    if !dir.join(".git").exists() {
        run(dir, "git", &["init", "-q", "-b", "main"]);
    }
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    run(dir, "git", &["add", "-A"]);
    let out = Command::new("git")
        .args(["-c", &format!("user.name={who}"), "-c"])
        .arg(format!("user.email={who}@example.org"))
        .args(["commit", "-q", "-m", &format!("by {who}")])
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .current_dir(dir)
        .output()
        .expect("git commit");
    assert!(out.status.success(), "{out:?}");
    run(dir, "git", &["rev-parse", "HEAD"])
}

fn tree_with_recipe() -> Tree {
    let t = Tree::new();
    t.write("packages/pick/pick.ron", RECIPE);
    t.write("packages/pick/local-src/README", "local\n");
    // The default version must be listed; tests that fetch it rewrite this.
    t.write(
        "packages/pick/pick.hash",
        &format!("sha256  {}  pick-1.0.tar.gz\n", "0".repeat(64)),
    );
    t
}

fn git_board(t: &Tree, url: &Path, commit: &str) {
    t.write(
        "boards/g_defconfig",
        &format!(
            "PACKAGE_PICK=y\nPICK_SOURCE=\"git\"\nPICK_GIT_URL=\"file://{}\"\nPICK_GIT_COMMIT=\"{commit}\"\n",
            url.display()
        ),
    );
}

fn key_of(t: &Tree, board: &str, step: &str) -> String {
    t.record(board)["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == step)
        .and_then(|s| s["key"].as_str())
        .unwrap_or_else(|| panic!("no key for {step}"))
        .to_string()
}

const FILES: &[(&str, &str)] = &[("README", "from git\n"), ("src/a.c", "int a;\n")];

#[test]
fn a_pinned_git_commit_builds_and_its_archive_is_reproducible() {
    let t = tree_with_recipe();
    let up = t.tmp.path().join("upstream");
    let commit = repo(&up, FILES, "ann", "2024-01-01T00:00:00Z");
    git_board(&t, &up, &commit);
    t.ok(&["boards/g_defconfig", "pick"]);
    assert_eq!(
        t.read("output/g/build/pick/out/target/opt/src/a.c"),
        b"int a;\n"
    );
    assert!(
        !t.root
            .join("output/g/build/pick/out/target/opt/.git")
            .exists()
    );
    let archive = t.dl().join(format!("pick/pick-{commit}.tar.gz"));
    let first = std::fs::read(&archive).expect("archive in dl/");
    assert!(t.dl().join("pick/git/HEAD").is_file(), "bare cache");
    let listing = run(
        t.tmp.path(),
        "tar",
        &["-tvzf", &archive.display().to_string()],
    );
    assert!(
        listing.lines().all(|l| l.contains(" 0/0 ")),
        "owner 0:\n{listing}"
    );
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted names");
    assert_eq!(names[0], format!("pick-{commit}/"));

    // Archived again (from the cache, or from a fresh clone): same bytes.
    std::fs::remove_file(&archive).expect("rm");
    t.ok(&["pick-source"]);
    assert!(std::fs::read(&archive).expect("archive") == first);
    std::fs::remove_dir_all(t.dl()).expect("rm dl");
    t.ok(&["pick-source"]);
    assert!(std::fs::read(&archive).expect("archive") == first);
}

#[test]
fn a_branch_is_resolved_pinned_with_a_warning_and_saved() {
    let t = tree_with_recipe();
    let up = t.tmp.path().join("upstream");
    let commit = repo(&up, FILES, "ann", "2024-01-01T00:00:00Z");
    git_board(&t, &up, "main");
    let out = t.ok(&["boards/g_defconfig", "pick"]);
    assert!(
        out.contains("warning") && out.contains("\"main\"") && out.contains(&commit),
        "{out}"
    );
    let pinned = format!("PICK_GIT_COMMIT=\"{commit}\"");
    let dot = String::from_utf8(t.read("output/g/.config")).expect("utf8");
    assert!(dot.lines().any(|l| l == pinned), "{dot}");
    // A later commit on the branch does not move the build.
    repo(&up, &[("README", "newer\n")], "bob", "2024-02-01T00:00:00Z");
    let out = t.ok(&["pick"]);
    assert!(!out.contains("warning"), "{out}");
    assert_eq!(
        t.read("output/g/build/pick/out/target/opt/README"),
        b"from git\n"
    );
    t.ok(&["savedefconfig"]);
    let saved = String::from_utf8(t.read("boards/g_defconfig")).expect("utf8");
    assert!(saved.lines().any(|l| l == pinned), "{saved}");
}

#[test]
fn a_wrong_commit_or_branch_is_refused() {
    let t = tree_with_recipe();
    let up = t.tmp.path().join("upstream");
    repo(&up, FILES, "ann", "2024-01-01T00:00:00Z");
    let wrong = "0123456789abcdef0123456789abcdef01234567";
    git_board(&t, &up, wrong);
    let err = t.fails(&["boards/g_defconfig", "pick"]);
    assert!(
        err.contains(&format!("commit {wrong} is not in file://{}", up.display()))
            && err.contains("PICK_GIT_COMMIT"),
        "{err}"
    );
    git_board(&t, &up, "no-such-branch");
    let err = t.fails(&["boards/g_defconfig", "pick"]);
    assert!(
        err.contains("\"no-such-branch\" is neither a branch nor a tag"),
        "{err}"
    );
}

#[test]
fn the_identity_is_the_tree_not_the_commit_or_the_clone() {
    let t = tree_with_recipe();
    let a = t.tmp.path().join("a");
    let b = t.tmp.path().join("b");
    let ca = repo(&a, FILES, "ann", "2024-01-01T00:00:00Z");
    let cb = repo(&b, FILES, "bob", "2025-06-01T12:00:00Z");
    assert_ne!(ca, cb);
    git_board(&t, &a, &ca);
    t.ok(&["boards/g_defconfig", "pick"]);
    let key = key_of(&t, "g", "pick");
    // Another repository, another commit, the same tree: the same key,
    // so the step comes from the cache.
    git_board(&t, &b, &cb);
    t.ok(&["boards/g_defconfig", "pick"]);
    assert_eq!(key_of(&t, "g", "pick"), key);
    assert_eq!(steps_with(&t.record("g"), "cached"), ["pick"]);
    // Without dl/ (cloned again): the same key.
    std::fs::remove_dir_all(t.dl()).expect("rm dl");
    t.ok(&["pick"]);
    assert_eq!(key_of(&t, "g", "pick"), key);
    // A different tree is a different key.
    let cc = repo(
        &b,
        &[("README", "changed\n")],
        "bob",
        "2025-06-02T12:00:00Z",
    );
    git_board(&t, &b, &cc);
    t.ok(&["boards/g_defconfig", "pick"]);
    assert_ne!(key_of(&t, "g", "pick"), key);
}

#[test]
fn after_forge_source_a_build_needs_only_dl() {
    let t = tree_with_recipe();
    let up = t.tmp.path().join("upstream");
    let commit = repo(&up, FILES, "ann", "2024-01-01T00:00:00Z");
    git_board(&t, &up, &commit);
    t.ok(&["boards/g_defconfig", "source"]);
    assert!(t.dl().join(format!("pick/pick-{commit}.tar.gz")).is_file());
    // No repository and no Git cache: the archive in dl/ is enough.
    std::fs::remove_dir_all(&up).expect("rm upstream");
    std::fs::remove_dir_all(t.dl().join("pick/git")).expect("rm cache");
    t.ok(&["pick-rebuild"]);
    assert_eq!(steps_with(&t.record("g"), "built"), ["pick"]);
    assert_eq!(
        t.read("output/g/build/pick/out/target/opt/README"),
        b"from git\n"
    );
}

/// A release tarball `pick-<version>.tar.gz` in `mirror`, made with tar;
/// returns its sha256.
fn release(t: &Tree, mirror: &Path, version: &str, readme: &str) -> String {
    let top = t.tmp.path().join("rel").join(format!("pick-{version}"));
    std::fs::create_dir_all(&top).expect("mkdir");
    std::fs::write(top.join("README"), readme).expect("write");
    std::fs::create_dir_all(mirror).expect("mkdir");
    let tarball: PathBuf = mirror.join(format!("pick-{version}.tar.gz"));
    run(
        &t.tmp.path().join("rel"),
        "tar",
        &[
            "-czf",
            &tarball.display().to_string(),
            &format!("pick-{version}"),
        ],
    );
    forge::sources::fetch::sha256_file(&tarball).expect("sha256")
}

fn release_board(t: &Tree, mirror: &Path, version: &str) {
    t.write(
        "boards/r_defconfig",
        &format!(
            "PACKAGE_PICK=y\nPICK_SOURCE=\"version\"\nPICK_VERSION=\"{version}\"\nPRIMARY_SITE=\"file://{}\"\n",
            mirror.display()
        ),
    );
}

#[test]
fn a_release_version_comes_from_the_hash_file_and_a_primary_site() {
    let t = tree_with_recipe();
    let mirror = t.tmp.path().join("mirror");
    let s10 = release(&t, &mirror, "1.0", "one\n");
    let s11 = release(&t, &mirror, "1.1", "one.one\n");
    t.write(
        "packages/pick/pick.hash",
        &format!("# releases\nsha256  {s10}  pick-1.0.tar.gz\nsha256  {s11}  pick-1.1.tar.gz\n"),
    );
    release_board(&t, &mirror, "1.1");
    t.ok(&["boards/r_defconfig", "pick"]);
    assert_eq!(
        t.read("output/r/build/pick/out/target/opt/README"),
        b"one.one\n"
    );
    assert!(t.dl().join("pick/pick-1.1.tar.gz").is_file());

    // A version the hash file does not list.
    release_board(&t, &mirror, "2.0");
    let err = t.fails(&["boards/r_defconfig", "pick"]);
    assert!(
        err.contains("packages/pick/pick.hash")
            && err.contains("PICK_VERSION=\"2.0\"")
            && err.contains("known versions: 1.0, 1.1"),
        "{err}"
    );

    // The mirror's file does not match the hash file: refused.
    std::fs::write(mirror.join("pick-1.0.tar.gz"), b"not the release").expect("write");
    release_board(&t, &mirror, "1.0");
    let err = t.fails(&["boards/r_defconfig", "pick"]);
    assert!(
        err.contains("sha256 mismatch") && err.contains(&s10),
        "{err}"
    );
    assert!(!t.dl().join("pick/pick-1.0.tar.gz").exists());
}

#[test]
fn an_offline_download_names_the_url_the_mirrors_and_the_way_out() {
    let t = tree_with_recipe();
    let sha = "ab".repeat(32);
    t.write(
        "packages/pick/pick.hash",
        &format!("sha256  {sha}  pick-1.0.tar.gz\n"),
    );
    let mirror = t.tmp.path().join("empty-mirror");
    release_board(&t, &mirror, "1.0");
    let err = t.fails(&["boards/r_defconfig", "pick"]);
    let upstream = "http://127.0.0.1:9/releases/pick-1.0.tar.gz";
    for needle in [
        format!("upstream {upstream}"),
        format!(
            "primary site (PRIMARY_SITE) file://{}/pick/pick-1.0.tar.gz",
            mirror.display()
        ),
        format!(
            "primary site (PRIMARY_SITE) file://{}/pick-1.0.tar.gz",
            mirror.display()
        ),
        format!(
            "put the file at {}",
            t.dl().join("pick/pick-1.0.tar.gz").display()
        ),
        "BACKUP_SITE is not set".to_string(),
        sha.clone(),
    ] {
        assert!(err.contains(&needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn the_local_choice_builds_a_tree_of_the_package_folder() {
    let t = tree_with_recipe();
    t.write(
        "boards/l_defconfig",
        "PACKAGE_PICK=y\nPICK_SOURCE=\"local\"\n",
    );
    t.ok(&["boards/l_defconfig", "pick"]);
    assert_eq!(
        t.read("output/l/build/pick/out/target/opt/README"),
        b"local\n"
    );
}

#[test]
fn submodules_are_fetched_when_asked() {
    let t = tree_with_recipe();
    let sub = t.tmp.path().join("sub");
    repo(
        &sub,
        &[("lib.c", "int lib;\n")],
        "ann",
        "2024-01-01T00:00:00Z",
    );
    let up = t.tmp.path().join("upstream");
    repo(&up, FILES, "ann", "2024-01-01T00:00:00Z");
    let allow = ["-c", "protocol.file.allow=always"];
    let sub_url = format!("file://{}", sub.display());
    run(
        &up,
        "git",
        &[
            &allow[..],
            &["submodule", "add", "-q", &sub_url, "third_party/sub"],
        ]
        .concat(),
    );
    let commit = repo(&up, &[], "ann", "2024-01-02T00:00:00Z");
    git_board(&t, &up, &commit);
    let board = String::from_utf8(t.read("boards/g_defconfig")).expect("utf8");
    t.write(
        "boards/g_defconfig",
        &format!("{board}PICK_GIT_SUBMODULES=y\n"),
    );
    // git refuses file:// submodules unless allowed; a user's git
    // configuration reaches forge's git runs.
    let out = Command::new(env!("CARGO_BIN_EXE_forge"))
        .args(["boards/g_defconfig", "pick"])
        .current_dir(&t.root)
        .env("FORGE_CACHE_DIR", &t.cache)
        .env("FORGE_DL_DIR", t.dl())
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_0", "always")
        .env_remove("MAKEFLAGS")
        .output()
        .expect("forge");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        t.read("output/g/build/pick/out/target/opt/third_party/sub/lib.c"),
        b"int lib;\n"
    );
    assert!(
        !t.root
            .join("output/g/build/pick/out/target/opt/third_party/sub/.git")
            .exists()
    );
}
