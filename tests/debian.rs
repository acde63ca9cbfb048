//! The hybrid board qemu_arm_vexpress_debian: a Debian bookworm armhf
//! userland made by mmdebstrap from a lock, under forge's own kernel and
//! its modules, on an SD card. Its first build resolves the lock (the one
//! in the repository may name versions the mirror has replaced since);
//! then the booted board keeps dpkg's owners and modes, apt, the users
//! table's sudo user and the customization scripts' work; the Debian step
//! is restored from the cache without network, rebuilt from the lock
//! alone to the same bytes, and rebuilt only when the Debian side changes.
//!
//! Slow (a kernel build, two mmdebstrap resolutions, three offline
//! bootstraps, one boot); needs the host packages `.ci/run` installs and
//! qemu-arm registered in binfmt_misc (`scripts/setup`).

mod common;

use common::offline::forge_offline;
use common::{Tree, keys_and_outputs, steps_with};

const BOARD: &str = "qemu_arm_vexpress_debian";
const DEFCONFIG: &str = "boards/qemu_arm_vexpress_debian_defconfig";
const LOCK: &str = "boards/qemu_arm_vexpress_debian/debian.lock";
const FRAGMENT: &str = "boards/qemu_arm_vexpress_debian/linux-debian.fragment";

fn built(t: &Tree) -> Vec<String> {
    let mut b = steps_with(&t.record(BOARD), "built");
    b.sort();
    b
}

/// Output digest of one step in the last build's record.
fn output_of(t: &Tree, step: &str) -> String {
    keys_and_outputs(&t.record(BOARD))
        .get(step)
        .map(|(_, out)| out.clone())
        .unwrap_or_else(|| panic!("no {step} in the record"))
}

#[test]
fn debian_userland_on_forges_kernel() {
    let t = Tree::new();
    std::fs::remove_file(t.root.join(LOCK)).expect("remove the committed lock");

    // 1. The first build resolves the lock, then builds from it.
    let started = std::time::Instant::now();
    let out = t.ok(&[DEFCONFIG]);
    eprintln!(
        "debian: cold build {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(out.contains("resolving the Debian packages"), "{out}");
    let lock = String::from_utf8(t.read(LOCK)).expect("utf8");
    assert!(
        lock.contains("include apt iproute2 kmod login passwd procps sudo systemd-sysv udev\n"),
        "{lock}"
    );
    for p in ["sudo", "systemd", "dpkg", "libc6"] {
        assert!(
            lock.lines()
                .any(|l| l.starts_with(&format!("package {p} "))),
            "{p} not locked:\n{lock}"
        );
    }
    let debian = output_of(&t, "debian-rootfs");
    let linux = output_of(&t, "linux");
    let sdcard = t.read(&format!("output/{BOARD}/images/sdcard.img"));

    // 2. Booted: dpkg's owners and modes, apt, the module, the user.
    let out = t.ok(&["test"]);
    assert!(out.contains("1 test,"), "{out}");
    assert!(out.contains("passed"), "{out}");

    // 3. A shell inside the Debian step's tree, through qemu-user; and a
    // pause after it.
    let out = t.ok(&[
        "shell",
        "debian-rootfs",
        "--",
        "uname -m; dpkg --print-architecture; head -n 1 /etc/forge-customized; touch /etc/leak",
    ]);
    assert!(
        out.contains("armv7l\narmhf\ncustomized inside: armv7l armhf\n"),
        "{out}"
    );
    let out = t.ok(&["--pause-after", "debian-rootfs"]);
    assert!(out.contains("paused after debian-rootfs"), "{out}");
    let out = t.ok(&["shell", "rootfs", "--", "test ! -e /etc/leak && echo clean"]);
    assert!(out.contains("clean"), "{out}");

    // 4. Restored from the cache with no network: another output dir.
    let started = std::time::Instant::now();
    let (ok, out) = forge_offline(&t, &["-O", "output/offline", DEFCONFIG]);
    assert!(ok, "{out}");
    eprintln!(
        "debian: restored from the cache without network {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let record = t.record("offline");
    let cached = steps_with(&record, "cached");
    assert!(cached.contains(&"debian-rootfs".to_string()), "{out}");
    assert!(steps_with(&record, "built").is_empty(), "{out}");
    assert_eq!(t.read("output/offline/images/sdcard.img"), sdcard);
    // The board's own output dir is the current one again.
    std::fs::remove_dir_all(t.root.join("output/offline")).expect("remove output/offline");

    // 5. A kernel option rebuilds the kernel and the images, never the
    // Debian step.
    let fragment = String::from_utf8(t.read(FRAGMENT)).expect("utf8");
    t.write(
        FRAGMENT,
        &format!("{fragment}CONFIG_LOCALVERSION=\"-deb\"\n"),
    );
    let started = std::time::Instant::now();
    t.ok(&[]);
    eprintln!(
        "debian: kernel-only change {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        built(&t),
        ["disk-image", "linux", "rootfs", "rootfs-ext4"],
        "a kernel option rebuilt more or less"
    );
    assert_eq!(output_of(&t, "debian-rootfs"), debian);
    t.write(FRAGMENT, &fragment);
    t.ok(&[]);

    // 6. A lock naming a version the mirror does not have is refused,
    // naming the package and the line.
    let bad: String = lock
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            if f.len() >= 5 && f[0] == "package" && f[1] == "sudo" {
                format!("package sudo 9.9.9-9 {} {}\n", f[3], f[4])
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    t.write(LOCK, &bad);
    let err = t.fails(&[]);
    assert!(
        err.contains("the mirror no longer has sudo 9.9.9-9 (armhf)") && err.contains(LOCK),
        "{err}"
    );
    t.write(LOCK, &lock);

    // 7. Rebuilt from the lock alone (its .debs downloaded again into an
    // empty dl/debian): the same tree, byte for byte.
    std::fs::remove_dir_all(t.dl().join("debian")).expect("empty dl/debian");
    let started = std::time::Instant::now();
    t.ok(&["debian-rootfs-rebuild"]);
    eprintln!(
        "debian: Debian step from the lock {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(output_of(&t, "debian-rootfs"), debian);

    // 8. A package-list change refreshes the lock and rebuilds the Debian
    // step and the images, never the kernel.
    t.ok(&[
        "config",
        "set",
        "DEBIAN_PACKAGES=apt kmod sudo iproute2 systemd-sysv udev login passwd procps less",
    ]);
    let out = t.ok(&[]);
    assert!(out.contains("resolving the Debian packages"), "{out}");
    assert!(
        String::from_utf8(t.read(LOCK))
            .expect("utf8")
            .lines()
            .any(|l| l.starts_with("package less ")),
        "less not locked"
    );
    assert_eq!(
        built(&t),
        ["debian-rootfs", "disk-image", "rootfs", "rootfs-ext4"],
        "a package-list change rebuilt more or less"
    );
    assert_eq!(output_of(&t, "linux"), linux);
}
