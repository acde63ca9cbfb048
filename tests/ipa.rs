//! The OpenStack Ironic Python Agent board of seed 002, from its external
//! tree (`external/openstack-ipa`, copied): an x86_64 kernel from
//! linux-source-6.1, a Debian amd64 userland with Python 3, and
//! ironic-python-agent with its dependencies from PyPI (wheels pinned by a
//! requirements lock with hashes), as an xz initramfs. The booted board
//! answers on the agent's API port and takes the overlay's SSH key, checked
//! from the host through forwarded ports; root has no password. Then: a
//! no-op, legal-info with every Debian and PyPI package and a valid SBOM, a
//! changed requirements lock rebuilt without network from `dl/` (only the
//! Python step and the images), and the configuration verbs writing back
//! into the external tree.
//!
//! Slow (a kernel, a Debian lock resolution and bootstrap, a boot); needs
//! the host packages `.ci/run` installs and PyPI through pip.

mod common;

use common::offline::{forge_offline, validate_spdx};
use common::{Tree, steps_with};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BOARD: &str = "openstack_ipa";
const LOCK: &str = "boards/openstack_ipa/debian.lock";
const REQUIREMENTS: &str = "packages/ironic-python-agent/requirements.txt";

fn built(t: &Tree) -> Vec<String> {
    let mut b = steps_with(&t.record(BOARD), "built");
    b.sort();
    b
}

/// The external tree, copied beside the test's tree.
fn external(t: &Tree) -> PathBuf {
    let to = t.tmp.path().join("openstack-ipa");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("external/openstack-ipa");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&from)
        .arg(&to)
        .status()
        .expect("cp");
    assert!(status.success());
    to
}

#[test]
fn openstack_ipa_from_an_external_tree() {
    let t = Tree::new();
    let ext = external(&t);
    let e = ext.to_str().expect("utf8 path");
    // The committed lock may name versions the mirror has replaced since:
    // the first build resolves it again, into the external tree.
    std::fs::remove_file(ext.join(LOCK)).expect("remove the committed lock");

    // 1. Cold build.
    let started = Instant::now();
    t.ok(&["--external", e, "openstack_ipa_defconfig"]);
    eprintln!("ipa: cold build {:.1} s", started.elapsed().as_secs_f64());
    assert!(ext.join(LOCK).is_file(), "the lock is not beside the board");
    assert!(
        !t.root.join(LOCK).exists(),
        "the lock landed in the main tree"
    );
    let images = t.root.join("output").join(BOARD).join("images");
    let initramfs = images.join("rootfs.cpio.xz");
    let size = std::fs::metadata(&initramfs).expect("rootfs.cpio.xz").len();
    eprintln!("ipa: rootfs.cpio.xz {:.1} MiB", size as f64 / 1048576.0);
    assert!(images.join("bzImage").is_file());
    let unpacked = t.tmp.path().join("initramfs");
    common::sh_in(
        t.tmp.path(),
        &format!(
            "mkdir initramfs && cd initramfs && xz -dc '{}' | cpio -id --quiet",
            initramfs.display()
        ),
    );
    let site = unpacked.join("usr/lib/python3/dist-packages");
    assert!(site.join("ironic_python_agent/agent.py").is_file());
    assert!(site.join("ironic_python_agent-13.0.0.dist-info").is_dir());
    let script = std::fs::read_to_string(unpacked.join("usr/bin/ironic-python-agent"))
        .expect("the agent's script");
    assert!(script.starts_with("#!/usr/bin/python3\n"), "{script}");
    // Wheels with native code for x86_64, no byte code of the build.
    let psutil = common::sh_in(&site, "file psutil/_psutil_linux*.so");
    assert!(psutil.contains("x86-64"), "{psutil}");
    assert_eq!(
        common::sh_in(&site, "find . -name '*.pyc' | wc -l").trim(),
        "0"
    );

    // 2. No-op.
    let started = Instant::now();
    t.ok(&[]);
    eprintln!("ipa: no-op {:.3} s", started.elapsed().as_secs_f64());
    assert!(built(&t).is_empty(), "{:?}", built(&t));

    // 3. Boot: the agent's API and SSH from the host.
    let started = Instant::now();
    let out = t.ok(&["test"]);
    eprintln!(
        "ipa: forge test {:.1} s\n{out}",
        started.elapsed().as_secs_f64()
    );

    // 4. legal-info: the Debian packages and the PyPI distributions with
    // their licenses, a valid SBOM.
    t.ok(&["legal-info"]);
    let legal = t.root.join("output").join(BOARD).join("legal-info");
    let manifest = std::fs::read_to_string(legal.join("manifest.csv")).expect("manifest");
    for needle in [
        "ironic-python-agent,13.0.0",
        "oslo-config,",
        "psutil,",
        "python3.11,",
        "openssh-server,",
        "linux,",
    ] {
        assert!(manifest.contains(needle), "{needle} missing:\n{manifest}");
    }
    let (ok, report) = validate_spdx(&legal.join("sbom.spdx.json"));
    assert!(ok, "the SBOM does not validate:\n{report}");

    // 5. A changed requirements lock (tzdata dropped), without network:
    // the wheels come from dl/, and only the Python step and the images
    // are built.
    let req = ext.join(REQUIREMENTS);
    let text = std::fs::read_to_string(&req).expect("requirements");
    let mut lines = text.lines().peekable();
    let mut kept = String::new();
    while let Some(l) = lines.next() {
        if l.starts_with("tzdata==") {
            while lines.peek().is_some_and(|n| n.starts_with(' ')) {
                lines.next();
            }
            continue;
        }
        kept.push_str(l);
        kept.push('\n');
    }
    assert_ne!(kept, text, "no tzdata in the lock");
    std::fs::write(&req, kept).expect("write");
    let (ok, out) = forge_offline(&t, &[]);
    assert!(ok, "offline rebuild failed:\n{out}");
    assert_eq!(
        built(&t),
        ["ironic-python-agent", "rootfs", "rootfs-cpio"],
        "{out}"
    );

    // 6. The configuration verbs write into the external tree: the board's
    // defconfig (committed as savedefconfig writes it) saved unchanged, a
    // kernel option into its fragment.
    let defconfig = ext.join("boards/openstack_ipa_defconfig");
    let before = std::fs::read(&defconfig).expect("defconfig");
    t.ok(&["savedefconfig"]);
    assert_eq!(std::fs::read(&defconfig).expect("defconfig"), before);
    assert!(!t.root.join("boards/openstack_ipa_defconfig").exists());
    // As linux-menuconfig would: the flow configures the work tree from
    // the files, the user edits it.
    t.ok(&["linux-diff-config"]);
    let src = t.root.join("output").join(BOARD).join("build/linux/src");
    common::sh_in(
        &src,
        "scripts/config --set-str LOCALVERSION -ipa && \
         make ARCH=x86 CROSS_COMPILE=x86_64-linux-gnu- olddefconfig >/dev/null",
    );
    t.ok(&["linux-update-defconfig"]);
    let fragment =
        std::fs::read_to_string(ext.join("boards/openstack_ipa/linux.fragment")).expect("fragment");
    assert!(
        fragment.contains("CONFIG_LOCALVERSION=\"-ipa\""),
        "{fragment}"
    );
}
