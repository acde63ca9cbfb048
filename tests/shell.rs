//! Pausing a build and looking inside: `forge --pause-after STEP` builds up
//! to the step and stops; a plain `forge` goes on from the cache. `forge
//! shell rootfs -- COMMAND` runs the command inside the armhf root
//! filesystem through qemu-user (as root of a user namespace), and what it
//! changes reaches neither the cache, the step's output nor the images.
//! `forge shell <package>` opens its build environment instead.
//!
//! A board without a kernel (toolchain, skeleton, BusyBox), so it is quick.
//! Needs qemu-arm registered in binfmt_misc (`scripts/setup` does it).

mod common;

use common::{Tree, steps_with};

const BOARD: &str = "sh";
const DEFCONFIG: &str = "boards/sh_defconfig";

fn built(t: &Tree) -> Vec<String> {
    let mut b = steps_with(&t.record(BOARD), "built");
    b.sort();
    b
}

#[test]
fn pause_after_a_step_then_a_shell_in_the_root_filesystem_changes_nothing() {
    let t = Tree::new();
    t.write(
        DEFCONFIG,
        "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_SKELETON=y\nPACKAGE_BUSYBOX_STATIC=y\n",
    );

    // Paused after the skeleton: it is built, nothing else.
    let out = t.ok(&["--pause-after", "skeleton", DEFCONFIG]);
    assert!(out.contains("paused after skeleton"), "{out}");
    assert_eq!(built(&t), ["skeleton"]);
    let images = t.root.join("output").join(BOARD).join("images");
    assert!(!images.join("rootfs.cpio.gz").exists());

    // Going on: the done steps come from the cache.
    t.ok(&[]);
    assert_eq!(
        built(&t),
        [
            "busybox-static",
            "rootfs",
            "rootfs-cpio",
            "toolchain-external"
        ]
    );
    assert_eq!(steps_with(&t.record(BOARD), "cached"), ["skeleton"]);
    let cpio = std::fs::read(images.join("rootfs.cpio.gz")).expect("cpio");

    // A command inside the target: its machine, through qemu-user.
    let out = t.ok(&[
        "shell",
        "rootfs",
        "--",
        "uname -m; id -u; echo changed > /etc/leak; cat /etc/leak",
    ]);
    assert!(out.contains("armv7l\n0\nchanged\n"), "{out}");
    // Nothing of it stayed: not in the next shell, not in the cache, not in
    // the images; the build after it has nothing to do.
    t.ok(&["shell", "rootfs", "--", "test ! -e /etc/leak"]);
    let verify = t.ok(&["cache", "verify"]);
    assert!(verify.contains(" 0 broken entries removed"), "{verify}");
    let out = t.ok(&[]);
    assert!(out.contains("nothing to do"), "{out}");
    assert!(std::fs::read(images.join("rootfs.cpio.gz")).expect("cpio") == cpio);
    assert!(!t.root.join("output").join(BOARD).join("shell").exists());

    // The command's failure is forge's; a step without a root filesystem
    // is refused with the step to use.
    let err = t.fails(&["shell", "rootfs", "--", "exit 3"]);
    assert!(err.contains("exited with status 3"), "{err}");
    let err = t.fails(&["shell", "rootfs-cpio", "--", "true"]);
    assert!(err.contains("`forge shell rootfs`"), "{err}");

    // A package step: a shell in its build environment (its variables and
    // sandbox) over a fresh copy of its source, removed afterwards.
    let out = t.ok(&[
        "shell",
        "skeleton",
        "--",
        "pwd; echo \"$TARGET_DIR\"; test -f \"$PKG_DIR/skeleton.ron\" && echo recipe; touch \"$TARGET_DIR/leak\"",
    ]);
    assert!(out.contains("/src\n"), "{out}");
    assert!(out.contains("/out/target\nrecipe\n"), "{out}");
    assert!(!t.root.join("output").join(BOARD).join("shell").exists());
    let out = t.ok(&[]);
    assert!(out.contains("nothing to do"), "{out}");
    let err = t.fails(&["shell", "nosuch"]);
    assert!(err.contains("nosuch is not a step"), "{err}");
}
