//! The Debian lock at plan time, without network: the request is the
//! board's packages plus those the selected recipes name
//! (`debian_packages`); a lock answering another request, a broken lock
//! and a missing one are reported with the file, the line and the fix; a
//! lock that answers plans a `debian-rootfs` step, keyed by its content.
//! (Resolving and building are in tests/debian.rs.)

mod common;

use common::Tree;

const DEFCONFIG: &str = "boards/deb_defconfig";
const LOCK: &str = "boards/deb/debian.lock";
const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn lock(include: &str, extra: &str) -> String {
    format!(
        "# a lock\nsuite bookworm\narchitecture armhf\nvariant minbase\ncomponents main\n\
         include {include}\nsource deb http://mirror.invalid/debian bookworm main\n\
         package base-files 12.4 armhf {SHA}\n{extra}"
    )
}

#[test]
fn the_lock_must_answer_the_board_and_its_recipes() {
    let t = Tree::new();
    t.write(
        "packages/needs-less/needs-less.ron",
        "Recipe(name: \"needs-less\", version: \"1\", debian_packages: [\"less\"], \
         kind: Generic(install: [\"true\"]))\n",
    );
    t.write(
        DEFCONFIG,
        &format!(
            "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_NEEDS_LESS=y\nPACKAGE_DEBIAN_SYSTEM=y\n\
             DEBIAN_ROOTFS=y\nDEBIAN_PACKAGES=\"sudo kmod\"\nDEBIAN_LOCK=\"{LOCK}\"\n"
        ),
    );
    t.ok(&[DEFCONFIG, "config", "list"]);

    // The recipe's package joins the board's: a lock without it is stale.
    t.write(LOCK, &lock("kmod sudo", ""));
    let err = t.fails(&["show-info"]);
    assert!(
        err.contains("locks packages `kmod sudo` (the board asks for `kmod less sudo`)")
            && err.contains("forge debian-lock"),
        "{err}"
    );

    // A lock that answers plans the step over which the packages go.
    t.write(LOCK, &lock("kmod less sudo", ""));
    t.ok(&["show-info"]);
    let why = t.ok(&["why", "debian-rootfs"]);
    assert!(why.contains("debian-rootfs"), "{why}");

    // Broken lines are named with their file and line.
    t.write(
        LOCK,
        &lock("kmod less sudo", "package sudo 1.9 armhf nothex\n"),
    );
    let err = t.fails(&["show-info"]);
    assert!(
        err.contains("debian.lock:9: `nothex` is not a sha256"),
        "{err}"
    );
    t.write(LOCK, &lock("kmod less sudo", "frobnicate yes\n"));
    let err = t.fails(&["show-info"]);
    assert!(
        err.contains("debian.lock:9: unknown line `frobnicate`"),
        "{err}"
    );

    // No lock: the fix is named.
    std::fs::remove_file(t.root.join(LOCK)).expect("rm");
    let err = t.fails(&["show-info"]);
    assert!(
        err.contains("does not exist") && err.contains("forge debian-lock"),
        "{err}"
    );

    // A customization script must say where it runs.
    t.write(LOCK, &lock("kmod less sudo", ""));
    t.ok(&["config", "set", "DEBIAN_CUSTOMIZE_SCRIPTS=boards/deb/x.sh"]);
    let err = t.fails(&["show-info"]);
    assert!(err.contains("write `target:PATH`"), "{err}");
}
