//! Every attribute that reaches an image is in the keys, through the real
//! CLI: a file's mode and a directory's mode in an overlay, a mode in a
//! package's folder that its install copies, and a symlink's target in an
//! overlay each rebuild exactly the steps that carry them, and the image
//! then holds what a clean build of the same files holds.

mod common;

use common::{Tree, steps_with};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const BOARD: &str = "PACKAGE_SKELETON=y\nPACKAGE_PERMS=y\nROOTFS_TAR=y\n\
    ROOTFS_OVERLAY=\"boards/modes/overlay\"\n";

const RECIPE: &str = "Recipe(name: \"perms\", version: \"1\",\n\
    kind: Generic(install: [\"mkdir -p $TARGET_DIR/usr/share/perms && \
    cp -p $PKG_DIR/files/data $TARGET_DIR/usr/share/perms/data\"]))\n";

fn chmod(t: &Tree, rel: &str, mode: u32) {
    let p = t.root.join(rel);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn relink(t: &Tree, rel: &str, target: &str) {
    let p = t.root.join(rel);
    let _ = std::fs::remove_file(&p);
    std::os::unix::fs::symlink(target, &p).expect("symlink");
}

/// The board's files, every mode set explicitly (the umask plays no part).
fn board(t: &Tree) {
    t.write("boards/modes_defconfig", BOARD);
    t.write("boards/modes/overlay/etc/secret", "s3cret\n");
    t.write("boards/modes/overlay/etc/private/note", "note\n");
    t.write("packages/perms/perms.ron", RECIPE);
    t.write("packages/perms/files/data", "data\n");
    chmod(t, "boards/modes/overlay/etc/secret", 0o644);
    chmod(t, "boards/modes/overlay/etc/private", 0o755);
    chmod(t, "boards/modes/overlay/etc/private/note", 0o644);
    chmod(t, "packages/perms/files/data", 0o644);
    relink(t, "boards/modes/overlay/etc/link", "secret");
}

/// `tar -tv` of the board's rootfs.tar.
fn listing(t: &Tree) -> String {
    let images = t.root.join("output/modes/images");
    common::sh_in(&images, "tar -tvf rootfs.tar --numeric-owner")
}

/// The listing line of `path` (a directory ends in `/`).
fn line<'a>(list: &'a str, path: &str) -> &'a str {
    list.lines()
        .find(|l| l.ends_with(&format!(" {path}")) || l.contains(&format!(" {path} -> ")))
        .unwrap_or_else(|| panic!("{path} not in\n{list}"))
}

/// Build again and return the steps that ran, sorted.
fn rebuilt(t: &Tree) -> Vec<String> {
    t.ok(&[]);
    let mut built = steps_with(&t.record("modes"), "built");
    built.sort();
    built
}

const ASSEMBLY: [&str; 3] = ["rootfs", "rootfs-cpio", "rootfs-tar"];

#[test]
fn each_mode_and_link_target_rebuilds_what_carries_it() {
    let t = Tree::new();
    board(&t);
    t.ok(&["boards/modes_defconfig"]);
    let list = listing(&t);
    assert!(
        line(&list, "etc/secret").starts_with("-rw-r--r-- "),
        "{list}"
    );
    assert!(
        line(&list, "etc/private/").starts_with("drwxr-xr-x "),
        "{list}"
    );
    let data = line(&list, "usr/share/perms/data");
    assert!(data.starts_with("-rw-r--r-- "), "{list}");
    assert!(
        line(&list, "etc/link").ends_with("etc/link -> secret"),
        "{list}"
    );
    assert!(rebuilt(&t).is_empty(), "nothing changed, nothing runs");

    chmod(&t, "boards/modes/overlay/etc/secret", 0o600);
    assert_eq!(rebuilt(&t), ASSEMBLY, "chmod 600 on an overlay file");
    let list = listing(&t);
    assert!(
        line(&list, "etc/secret").starts_with("-rw------- "),
        "{list}"
    );

    chmod(&t, "boards/modes/overlay/etc/private", 0o700);
    assert_eq!(rebuilt(&t), ASSEMBLY, "chmod 700 on an overlay directory");
    let list = listing(&t);
    assert!(
        line(&list, "etc/private/").starts_with("drwx------ "),
        "{list}"
    );

    chmod(&t, "packages/perms/files/data", 0o600);
    let mut with_package = vec!["perms"];
    with_package.extend(ASSEMBLY);
    assert_eq!(rebuilt(&t), with_package, "chmod 600 in the package folder");
    let list = listing(&t);
    let data = line(&list, "usr/share/perms/data");
    assert!(data.starts_with("-rw------- "), "{list}");

    relink(&t, "boards/modes/overlay/etc/link", "private/note");
    assert_eq!(rebuilt(&t), ASSEMBLY, "a symlink retargeted in the overlay");
    let list = listing(&t);
    let link = line(&list, "etc/link");
    assert!(link.ends_with("etc/link -> private/note"), "{list}");

    // A mode changed and put back: the second time, its keys are cached.
    chmod(&t, "boards/modes/overlay/etc/secret", 0o644);
    assert_eq!(rebuilt(&t), ASSEMBLY);
    chmod(&t, "boards/modes/overlay/etc/secret", 0o600);
    assert!(
        rebuilt(&t).is_empty(),
        "the earlier keys come from the cache"
    );

    // A clean build of the same files, with its own cache, gives the
    // same image, byte for byte.
    let clean = Tree::new();
    board(&clean);
    chmod(&clean, "boards/modes/overlay/etc/secret", 0o600);
    chmod(&clean, "boards/modes/overlay/etc/private", 0o700);
    chmod(&clean, "packages/perms/files/data", 0o600);
    relink(&clean, "boards/modes/overlay/etc/link", "private/note");
    clean.ok(&["boards/modes_defconfig"]);
    let image = Path::new("output/modes/images/rootfs.tar");
    let (incremental, fresh) = (
        t.read(&image.to_string_lossy()),
        clean.read(&image.to_string_lossy()),
    );
    assert!(
        incremental == fresh,
        "the incremental image differs from a clean build's:\n{}\n{}",
        listing(&t),
        listing(&clean)
    );
}
