//! Root filesystem assembly through the real CLI: board overlays in order,
//! accounts generated from a users table and the root password, owners and
//! setuid bits from a permission table, device nodes (with ranges) from a
//! device table, and the post-build / post-image hooks — their effect, and
//! that editing one rebuilds exactly what depends on it.

mod common;

use common::{Tree, steps_with};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const BOARD: &str = "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_SKELETON=y\nPACKAGE_HELLO=y\n\
    ROOTFS_TAR=y\n\
    ROOTFS_OVERLAY=\"boards/sys/overlay-common boards/sys/overlay-board\"\n\
    ROOTFS_USERS_TABLES=\"boards/sys/users.txt\"\n\
    ROOTFS_DEVICE_TABLE=\"boards/sys/permissions.txt\"\n\
    ROOT_PASSWORD=\"rootpw\"\n";

const USERS: &str = "# user uid group gid password home shell groups comment\n\
    forge -2 forge -2 =forgepw /home/forge /bin/sh users,audio Forge user\n\
    svc -1 svc -1 ! - - - service account\n";

const PERMISSIONS: &str = "# name type mode uid gid major minor start inc count\n\
    /usr/bin/hello f 4755 0 0 - - - - -\n\
    /dev/forge c 640 0 0 10 200 - - -\n\
    /dev/ttyF c 620 0 0 204 64 0 1 3\n\
    /srv/data d 750 1000 1000 - - - - -\n";

fn board(t: &Tree) {
    t.write("boards/sys_defconfig", BOARD);
    t.write("boards/sys/overlay-common/etc/motd", "common\n");
    t.write("boards/sys/overlay-common/etc/only-common", "kept\n");
    t.write("boards/sys/overlay-board/etc/motd", "board\n");
    t.write("boards/sys/users.txt", USERS);
    t.write("boards/sys/permissions.txt", PERMISSIONS);
}

fn sh(dir: &Path, script: &str) -> String {
    common::sh_in(dir, script)
}

/// Listing line of `path` in `tar -tv --numeric-owner` output.
fn listed<'a>(listing: &'a str, path: &str) -> &'a str {
    listing
        .lines()
        .find(|l| l.ends_with(&format!(" {path}")) || l.contains(&format!(" {path} -> ")))
        .unwrap_or_else(|| panic!("{path} not in\n{listing}"))
}

/// The crypt hash `openssl passwd -6` gives for `clear` with `hash`'s salt,
/// in `hash`'s form (forge writes the default round count out:
/// `$6$rounds=5000$salt$…`, which computes the same as `$6$salt$…`).
fn rehash(clear: &str, hash: &str) -> String {
    let salt = hash.rsplit('$').nth(1).expect("salt");
    let out = Command::new("openssl")
        .args(["passwd", "-6", "-salt", salt, clear])
        .output()
        .expect("openssl");
    let plain = String::from_utf8_lossy(&out.stdout).trim().to_string();
    plain.replacen("$6$", "$6$rounds=5000$", 1)
}

#[test]
fn overlays_accounts_and_tables_shape_the_image() {
    let t = Tree::new();
    board(&t);
    t.ok(&["boards/sys_defconfig"]);
    let images = t.root.join("output/sys/images");
    let list = sh(&images, "tar -tvf rootfs.tar --numeric-owner");

    // Overlays: in order, the later one wins; the earlier one's other files stay.
    let x = t.tmp.path().join("x");
    std::fs::create_dir_all(&x).expect("mkdir");
    sh(&x, &format!("tar -xf {}/rootfs.tar", images.display()));
    let read = |p: &str| std::fs::read_to_string(x.join(p)).expect(p);
    assert_eq!(read("etc/motd"), "board\n");
    assert_eq!(read("etc/only-common"), "kept\n");

    // Accounts from the users table: ids allocated, groups, home owned.
    let passwd = read("etc/passwd");
    assert!(
        passwd.contains("forge:x:1000:1000:Forge user:/home/forge:/bin/sh\n"),
        "{passwd}"
    );
    assert!(
        passwd.contains("svc:x:100:100:service account:/:/bin/false\n"),
        "{passwd}"
    );
    let group = read("etc/group");
    assert!(group.contains("forge:x:1000:"), "{group}");
    assert!(
        group.contains("audio:x:") && group.contains(":forge"),
        "{group}"
    );
    let home = listed(&list, "home/forge/");
    assert!(home.starts_with("drwxr-xr-x 1000/1000"), "{home}");

    // Passwords hashed with SHA-512 crypt; openssl agrees with the hashes.
    let shadow = read("etc/shadow");
    assert!(listed(&list, "etc/shadow").starts_with("-rw------- 0/0"));
    for (user, clear) in [("root", "rootpw"), ("forge", "forgepw")] {
        let line = shadow
            .lines()
            .find(|l| l.starts_with(&format!("{user}:")))
            .unwrap_or_else(|| panic!("{user} in {shadow}"));
        let hash = line.split(':').nth(1).expect("hash");
        assert!(hash.starts_with("$6$"), "{line}");
        assert_eq!(rehash(clear, hash), hash, "{user}");
    }
    assert!(shadow.contains("svc:!:"), "{shadow}");

    // Permission and device tables: setuid bit, device node, a range, owners.
    assert!(listed(&list, "usr/bin/hello").starts_with("-rwsr-xr-x 0/0"));
    let dev = listed(&list, "dev/forge");
    assert!(
        dev.starts_with("crw-r----- 0/0") && dev.contains("10,200"),
        "{dev}"
    );
    for n in 0..3 {
        let tty = listed(&list, &format!("dev/ttyF{n}"));
        assert!(tty.contains(&format!("204,{}", 64 + n)), "{tty}");
    }
    assert!(listed(&list, "srv/data/").starts_with("drwxr-x--- 1000/1000"));

    // A second clean build gives the same bytes (hash salts included).
    let first = std::fs::read(images.join("rootfs.tar")).expect("tar");
    let again = Tree::new();
    board(&again);
    again.ok(&["boards/sys_defconfig"]);
    let second = again.read("output/sys/images/rootfs.tar");
    assert!(
        first == second,
        "rootfs.tar differs between two clean builds"
    );
}

#[test]
fn a_table_error_names_the_file_and_line() {
    let t = Tree::new();
    board(&t);
    t.write(
        "boards/sys/users.txt",
        "forge -2 forge -2 =pw /home/forge /bin/sh -\nbad 12x forge -2 =pw - - -\n",
    );
    let err = t.fails(&["boards/sys_defconfig"]);
    assert!(err.contains("users.txt:2"), "{err}");
}

const POST_BUILD: &str = "#!/bin/sh\nset -e\n\
    test \"$1\" = \"$TARGET_DIR\"\n\
    echo \"built with $2\" > \"$TARGET_DIR/etc/build-note\"\n\
    sed -i 's/board/board, post-built/' \"$TARGET_DIR/etc/motd\"\n\
    test -f \"$FORGE_CONFIG\"\n\
    test -d \"$HOST_DIR\" && test -d \"$BUILD_DIR\" && test -d \"$BINARIES_DIR\"\n\
    test \"$BASE_DIR/.config\" = \"$FORGE_CONFIG\"\n";
const POST_IMAGE: &str = "#!/bin/sh\nset -e\n\
    test \"$1\" = \"$BINARIES_DIR\"\n\
    cp \"$3\" \"$BINARIES_DIR/release.txt\"\n\
    cd \"$BINARIES_DIR\"\n\
    sha256sum rootfs.tar > SHA256SUMS\n";

fn script(t: &Tree, rel: &str, text: &str) {
    t.write(rel, text);
    let p = t.root.join(rel);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn hooks_take_effect_and_rebuild_exactly_what_they_touch() {
    let t = Tree::new();
    board(&t);
    let defconfig = format!(
        "{BOARD}POST_BUILD_SCRIPT=\"boards/sys/post-build.sh\"\n\
         POST_IMAGE_SCRIPT=\"boards/sys/post-image.sh\"\n\
         POST_SCRIPT_ARGS=\"release-7 boards/sys/release.txt\"\n"
    );
    t.write("boards/sys_defconfig", &defconfig);
    script(&t, "boards/sys/post-build.sh", POST_BUILD);
    script(&t, "boards/sys/post-image.sh", POST_IMAGE);
    t.write("boards/sys/release.txt", "seven\n");
    t.ok(&["boards/sys_defconfig"]);
    assert_eq!(t.read("output/sys/images/release.txt"), b"seven\n");
    let images = t.root.join("output/sys/images");
    let tar = sh(&images, "tar -xOf rootfs.tar etc/build-note etc/motd");
    assert_eq!(tar, "built with release-7\nboard, post-built\n");
    let sums = sh(&images, "sha256sum -c SHA256SUMS");
    assert!(sums.contains("rootfs.tar: OK"), "{sums}");

    // Nothing changed: nothing runs.
    t.ok(&[]);
    assert!(steps_with(&t.record("sys"), "built").is_empty());

    // The post-build script changed: the tree and every image after it.
    script(
        &t,
        "boards/sys/post-build.sh",
        &POST_BUILD.replace("built with", "made with"),
    );
    t.ok(&[]);
    let mut built = steps_with(&t.record("sys"), "built");
    built.sort();
    assert_eq!(built, ["post-image", "rootfs", "rootfs-cpio", "rootfs-tar"]);
    assert_eq!(
        sh(&images, "tar -xOf rootfs.tar etc/build-note"),
        "made with release-7\n"
    );

    // The post-image script changed: only the post-image step.
    script(
        &t,
        "boards/sys/post-image.sh",
        &POST_IMAGE.replace("rootfs.tar", "rootfs.tar rootfs.cpio.gz"),
    );
    t.ok(&[]);
    assert_eq!(steps_with(&t.record("sys"), "built"), ["post-image"]);
    assert!(sh(&images, "sha256sum -c SHA256SUMS").contains("rootfs.cpio.gz: OK"));

    // A file named in the arguments is read by content: editing it re-runs
    // the hooks, not the packages.
    t.write("boards/sys/release.txt", "eight\n");
    t.ok(&[]);
    let built = steps_with(&t.record("sys"), "built");
    assert!(built.contains(&"post-image".to_string()), "{built:?}");
    assert!(!built.contains(&"hello".to_string()), "{built:?}");
    assert_eq!(t.read("output/sys/images/release.txt"), b"eight\n");

    // A failing hook fails the build with its log; a script that is not
    // executable is named with the fix.
    script(
        &t,
        "boards/sys/post-build.sh",
        "#!/bin/sh\necho hook-broke >&2\nexit 3\n",
    );
    let err = t.fails(&[]);
    assert!(
        err.contains("post-build.sh") && err.contains("hook-broke"),
        "{err}"
    );
    std::fs::set_permissions(
        t.root.join("boards/sys/post-build.sh"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let err = t.fails(&[]);
    assert!(
        err.contains("chmod +x") && !err.contains("hook-broke"),
        "{err}"
    );
}

fn clash_package(t: &Tree, name: &str, replaces: &str) {
    t.write(
        &format!("packages/{name}/{name}.ron"),
        &format!(
            "Recipe(name: \"{name}\", version: \"1\", replaces: [{replaces}],\n\
             kind: Generic(install: [\"mkdir -p $TARGET_DIR/etc && echo {name} > $TARGET_DIR/etc/clash\"]))\n"
        ),
    );
}

#[test]
fn a_file_two_packages_install_is_an_error_unless_one_replaces_the_other() {
    let t = Tree::new();
    t.write(
        "boards/clash_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_ALPHA=y\nPACKAGE_OMEGA=y\nROOTFS_TAR=y\n",
    );
    clash_package(&t, "alpha", "");
    clash_package(&t, "omega", "");
    let err = t.fails(&["boards/clash_defconfig"]);
    assert!(
        err.contains("/etc/clash is installed by both alpha and omega"),
        "{err}"
    );

    // The package built first may be the one that wins.
    clash_package(&t, "alpha", "\"omega\"");
    t.ok(&[]);
    let images = t.root.join("output/clash/images");
    assert_eq!(sh(&images, "tar -xOf rootfs.tar etc/clash"), "alpha\n");
}

#[test]
fn a_package_brings_its_own_accounts() {
    let t = Tree::new();
    board(&t);
    t.write(
        "packages/svcd/svcd.ron",
        "Recipe(name: \"svcd\", version: \"1\", users_table: Some(\"users.txt\"),\n\
         kind: Generic(install: [\"mkdir -p $TARGET_DIR/usr/sbin && echo svcd > $TARGET_DIR/usr/sbin/svcd\"]))\n",
    );
    t.write(
        "packages/svcd/users.txt",
        "svcd -1 svcd -1 * /var/lib/svcd /bin/false - svcd daemon\n",
    );
    t.write("boards/sys_defconfig", &format!("{BOARD}PACKAGE_SVCD=y\n"));
    t.ok(&["boards/sys_defconfig"]);
    let images = t.root.join("output/sys/images");
    let passwd = sh(&images, "tar -xOf rootfs.tar etc/passwd");
    assert!(
        passwd.contains("svcd:x:100:100:svcd daemon:/var/lib/svcd:/bin/false\n"),
        "{passwd}"
    );
    assert!(passwd.contains("forge:x:1000:1000:"), "{passwd}");
    let list = sh(&images, "tar -tvf rootfs.tar --numeric-owner");
    assert!(
        listed(&list, "var/lib/svcd/").starts_with("drwxr-xr-x 100/100"),
        "{list}"
    );

    // Editing the package's table re-runs the assembly.
    t.write(
        "packages/svcd/users.txt",
        "svcd 990 svcd 990 * /var/lib/svcd /bin/false - svcd daemon\n",
    );
    t.ok(&[]);
    let built = steps_with(&t.record("sys"), "built");
    assert!(built.contains(&"rootfs".to_string()), "{built:?}");
    let passwd = sh(&images, "tar -xOf rootfs.tar etc/passwd");
    assert!(passwd.contains("svcd:x:990:990:"), "{passwd}");
}

#[test]
fn without_a_root_password_root_logs_in_without_one() {
    let t = Tree::new();
    t.write(
        "boards/plain_defconfig",
        "PACKAGE_SKELETON=y\nROOTFS_TAR=y\nSYSTEM_GETTY_PORT=\"ttyS0\"\n",
    );
    t.ok(&["boards/plain_defconfig"]);
    let images = t.root.join("output/plain/images");
    // An empty password field and a last-change day (SOURCE_DATE_EPOCH's):
    // BusyBox's login needs the day to read the line.
    assert_eq!(
        sh(&images, "tar -xOf rootfs.tar etc/shadow"),
        "root::19723:0:99999:7:::\n"
    );
    let list = sh(&images, "tar -tvf rootfs.tar --numeric-owner");
    assert!(listed(&list, "etc/shadow").starts_with("-rw------- 0/0"));
    let inittab = sh(&images, "tar -xOf rootfs.tar etc/inittab");
    assert!(
        inittab.contains("ttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100\n"),
        "{inittab}"
    );
}
