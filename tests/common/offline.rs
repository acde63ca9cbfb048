//! Building the real boards offline from Debian's copies of their upstream
//! sources, the way a user with an offline mirror would: a local primary
//! site (`${FORGE_TOOLS_DIR}/mirror`, filled by `scripts/setup-mirror` with
//! release tarballs Debian keeps byte-identical), Debian's repacked U-Boot
//! and kernel tarballs as local sources, and an external tree pinning the
//! BusyBox version that mirror has.

use super::Tree;
use std::path::{Path, PathBuf};

/// The BusyBox release Debian's source archive holds unmodified.
pub const BUSYBOX_DEBIAN: &str = "1.35.0";

/// Debian's linux-source-6.12 (bookworm-backports).
pub const LINUX_6_12: &str = "/usr/src/linux-source-6.12.tar.xz";

/// Where `scripts/setup` keeps its downloads.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("FORGE_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/forge-tools")
        })
}

/// The local primary site; panics with the fix when setup has not run.
pub fn mirror() -> PathBuf {
    let mirror = tools_dir().join("mirror");
    assert!(
        mirror.join("busybox-1.35.0.tar.bz2").is_file(),
        "{} has no busybox-1.35.0.tar.bz2; run scripts/setup",
        mirror.display()
    );
    mirror
}

/// Debian's U-Boot 2023.01 source tarball (repacked: `+dfsg`).
pub fn debian_uboot() -> PathBuf {
    let dir = tools_dir().join("debian-sources");
    let found = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/setup", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("u-boot_2023.01") && name.contains(".orig.tar.")
        });
    found.unwrap_or_else(|| {
        panic!(
            "no u-boot_2023.01*.orig.tar.* in {}; run scripts/setup",
            dir.display()
        )
    })
}

/// Debian's raspi-firmware package, unpacked by `scripts/setup-mirror`.
pub fn debian_raspi_firmware() -> PathBuf {
    let dir = tools_dir().join("debian-sources/raspi-firmware");
    assert!(
        dir.join("usr/lib/raspi-firmware/start4.elf").is_file(),
        "{} holds no usr/lib/raspi-firmware/start4.elf; run scripts/setup",
        dir.display()
    );
    dir
}

/// The `config set` arguments that point a board's sources at Debian's
/// copies: the primary site, U-Boot, the kernel and the Raspberry Pi
/// firmware as local tarballs or trees.
pub fn source_settings() -> Vec<String> {
    vec![
        "UBOOT_SOURCE=local".into(),
        format!("UBOOT_SOURCE_PATH={}", debian_uboot().display()),
        "RPI_FIRMWARE_SOURCE=local".into(),
        format!(
            "RPI_FIRMWARE_SOURCE_PATH={}",
            debian_raspi_firmware().display()
        ),
        "LINUX_SOURCE=local".into(),
        format!("LINUX_SOURCE_PATH={LINUX_6_12}"),
        format!("PRIMARY_SITE=file://{}", mirror().display()),
        "BACKUP_SITE=".into(),
    ]
}

/// The user's own external tree (in the tree's temp dir): the busybox
/// recipe pinned to the version the offline mirror holds, with that
/// version's official sha256 from the project's busybox.hash.
pub fn offline_external(t: &Tree) -> PathBuf {
    let ext = t.tmp.path().join("offline-external");
    let recipe = String::from_utf8(t.read("packages/busybox/busybox.ron")).expect("utf8");
    let hashes = String::from_utf8(t.read("packages/busybox/busybox.hash")).expect("utf8");
    let file = format!("busybox-{BUSYBOX_DEBIAN}.tar.bz2");
    let sha = hashes
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[0] == "sha256" && f[2] == file).then(|| f[1].to_string())
        })
        .expect("busybox.hash lists 1.35.0");
    let old_version = recipe
        .lines()
        .find_map(|l| l.trim().strip_prefix("version: \""))
        .and_then(|v| v.strip_suffix("\","))
        .expect("recipe version");
    let old_sha = recipe
        .lines()
        .find_map(|l| l.trim().strip_prefix("sha256: \""))
        .and_then(|v| v.strip_suffix("\","))
        .expect("recipe sha256");
    let pinned = recipe
        .replace(
            &format!("version: \"{old_version}\""),
            &format!("version: \"{BUSYBOX_DEBIAN}\""),
        )
        .replace(old_sha, &sha);
    let dir = ext.join("packages/busybox");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("busybox.ron"), pinned).expect("write");
    std::fs::copy(
        t.root.join("packages/busybox/busybox.fragment"),
        dir.join("busybox.fragment"),
    )
    .expect("copy fragment");
    ext
}

/// Configure `defconfig` in `t` with the offline external tree and the
/// source settings, plus `extra` settings.
pub fn configure_offline(t: &Tree, defconfig: &str, extra: &[&str]) -> PathBuf {
    let ext = offline_external(t);
    let ext_arg = ext.to_string_lossy().into_owned();
    let settings = source_settings();
    let mut args: Vec<&str> = vec!["--external", &ext_arg, defconfig, "config", "set"];
    args.extend(settings.iter().map(String::as_str));
    args.extend_from_slice(extra);
    t.ok(&args);
    ext
}

/// Every regular file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Assert two `images/` dirs hold the same files with the same bytes.
pub fn assert_same_images(a: &Path, b: &Path) {
    let files = files_under(a);
    assert_eq!(
        files,
        files_under(b),
        "the two builds delivered different files"
    );
    let differ: Vec<_> = files
        .iter()
        .filter(|f| std::fs::read(a.join(f)).ok() != std::fs::read(b.join(f)).ok())
        .collect();
    assert!(
        differ.is_empty(),
        "not byte-identical across two clean builds: {differ:?}"
    );
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    super::sh_in(Path::new("/"), "id -u").trim() == "0"
}

/// forge in `t` with no network at all (a new network namespace, as root),
/// or with every proxy pointing at a closed port (as anyone else).
pub fn forge_offline(t: &Tree, args: &[&str]) -> (bool, String) {
    let dead = "http://127.0.0.1:9";
    let mut cmd = if is_root() {
        let mut c = std::process::Command::new("unshare");
        c.arg("--net").arg(env!("CARGO_BIN_EXE_forge"));
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_forge"))
    };
    let out = cmd
        .args(args)
        .current_dir(&t.root)
        .env("FORGE_CACHE_DIR", &t.cache)
        .env("FORGE_DL_DIR", t.dl())
        .env("http_proxy", dead)
        .env("https_proxy", dead)
        .env_remove("FORGE_OUTPUT")
        .env_remove("MAKEFLAGS")
        .output()
        .expect("run forge");
    super::status_and_text(out)
}

/// An SPDX document checked by an independent validator (`pyspdxtools`
/// from PyPI's spdx-tools, in the venv `scripts/setup` makes): whether it
/// is valid, and what the validator said.
pub fn validate_spdx(sbom: &Path) -> (bool, String) {
    let tool = tools_dir().join("venv/bin/pyspdxtools");
    assert!(
        tool.is_file(),
        "{} is missing: run scripts/setup",
        tool.display()
    );
    super::status_and_text(
        std::process::Command::new(&tool)
            .arg("-i")
            .arg(sbom)
            .output()
            .expect("pyspdxtools"),
    )
}
