//! Out-of-tree kernel modules and the on-target kbuild tree, on the demo
//! board (qemu_arm_vexpress, whose kernel has CONFIG_MODULES): the
//! `hellomod` fixture (KernelModule kind) is built against the `linux`
//! step's module build tree, indexed by `depmod` at the `rootfs` step, and
//! loads in the booted board (`modprobe`, its line in `dmesg`, `lsmod`,
//! `modprobe -r`). The `linux-headers` package's `scripts/` programs are
//! ARM programs, and the same module compiles against that tree in the
//! target's own environment: a Debian armhf root filesystem with gcc (made
//! by mmdebstrap), entered with chroot through qemu-user (binfmt_misc).
//! Then the rebuilds: a module option rebuilds the module and not the
//! kernel; a kernel configuration change rebuilds the kernel, the module
//! and the headers, and the rebuilt module loads in the new kernel.
//!
//! Slow (a kernel build, two boots, a Debian bootstrap); needs the host
//! packages `.ci/run` installs, and root with qemu-arm registered in
//! binfmt_misc (`scripts/setup` does both) for the chroot part.

mod common;

use common::{Tree, sh_in, steps_with};
use std::path::{Path, PathBuf};

const BOARD: &str = "mods";
const FRAGMENT: &str = "boards/qemu_arm_vexpress/linux-local.fragment";
const TESTS: &str = "mods-tests.ron";
const TESTS_RON: &str = r#"// Runtime tests of tests/modules.rs (a root shell on the console).
Tests(
    fail: ["Kernel panic", "Oops"],
    tests: [
        Test(name: "module", steps: [
            Expect(pattern: "forge: system is up", timeout: 180),
            Run("modprobe hellomod"),
            Send("dmesg | grep 'hellomod:'"),
            Expect("hellomod: hello from forge$"),
            Send("lsmod"),
            Expect("^hellomod "),
            Run("modprobe -r hellomod"),
            Send("dmesg | tail -n 1"),
            Expect("hellomod: goodbye$"),
            Run("! grep -q hellomod /proc/modules"),
        ]),
    ],
)
"#;

fn built(t: &Tree) -> Vec<String> {
    let mut b = steps_with(&t.record(BOARD), "built");
    b.sort();
    b
}

/// The root filesystem, unpacked from `rootfs.tar` into a new folder.
fn unpack(t: &Tree, name: &str) -> PathBuf {
    let root = t.tmp.path().join(name);
    std::fs::create_dir_all(&root).expect("mkdir");
    let tar = t.root.join(format!("output/{BOARD}/images/rootfs.tar"));
    sh_in(&root, &format!("tar xf {}", tar.display()));
    root
}

/// The one kernel release under the root filesystem's `/lib/modules`.
fn release(root: &Path) -> String {
    let mut found: Vec<String> = std::fs::read_dir(root.join("lib/modules"))
        .expect("lib/modules")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn is_root() -> bool {
    sh_in(Path::new("/"), "id -u").trim() == "0"
}

#[test]
fn out_of_tree_module_loads_rebuilds_and_compiles_on_the_target() {
    let t = Tree::new();
    let demo = String::from_utf8(t.read("boards/qemu_arm_vexpress_defconfig")).expect("utf8");
    t.write(
        &format!("boards/{BOARD}_defconfig"),
        &format!(
            "{demo}\nPACKAGE_HELLOMOD=y\nPACKAGE_LINUX_HEADERS=y\nROOTFS_TAR=y\n\
             SYSTEM_GETTY_PORT=\"\"\nQEMU_TESTS=\"{TESTS}\"\n"
        ),
    );
    t.write(TESTS, TESTS_RON);

    // 1. Built, indexed, loaded.
    t.ok(&[&format!("boards/{BOARD}_defconfig")]);
    let root = unpack(&t, "root-1");
    let rel = release(&root);
    let modules = root.join("lib/modules").join(&rel);
    assert!(modules.join("updates/hellomod.ko").is_file());
    let dep = std::fs::read_to_string(modules.join("modules.dep")).expect("modules.dep");
    assert!(dep.contains("updates/hellomod.ko:"), "{dep}");
    let out = t.ok(&["test"]);
    assert!(out.contains("1 test, 10 steps passed"), "{out}");

    // 2. The headers tree: /lib/modules/<release>/build points to it, and
    // every program in it runs on the target.
    let headers = format!("usr/src/linux-headers-{rel}");
    let link = std::fs::read_link(modules.join("build")).expect("build link");
    assert_eq!(link, Path::new("/").join(&headers));
    let tree = root.join(&headers);
    for program in ["scripts/basic/fixdep", "scripts/mod/modpost"] {
        let kind = sh_in(&tree, &format!("file -b {program}"));
        assert!(
            kind.starts_with("ELF 32-bit LSB") && kind.contains("ARM"),
            "{program}: {kind}"
        );
    }
    let host_programs = sh_in(
        &tree,
        "find . -type f -perm -u+x -exec file {} + | grep ELF | grep -v ', ARM,' || true",
    );
    assert!(host_programs.trim().is_empty(), "{host_programs}");
    for needed in [".config", "Module.symvers", "include/generated/autoconf.h"] {
        assert!(tree.join(needed).is_file(), "no {needed}");
    }
    if is_root() {
        compiles_on_the_target(&t, &root, &rel);
    } else {
        eprintln!("modules: not root, the chroot compile on the target is left out");
    }

    // 3. A module option: the module and what holds it, not the kernel.
    t.ok(&["config", "set", "HELLOMOD_MESSAGE=hello again"]);
    t.ok(&[]);
    assert_eq!(
        built(&t),
        ["hellomod", "rootfs", "rootfs-cpio", "rootfs-tar"]
    );

    // 4. A kernel configuration change rebuilds the kernel, the module and
    // the headers; the packages before them come from the cache; the new
    // module loads in the new kernel.
    t.ok(&["config", "set", "HELLOMOD_MESSAGE=hello from forge"]);
    let original = String::from_utf8(t.read(FRAGMENT)).expect("utf8");
    t.write(
        FRAGMENT,
        &format!("{original}CONFIG_LOCALVERSION=\"-mods\"\n"),
    );
    t.ok(&[]);
    let b = built(&t);
    for step in ["linux", "hellomod", "linux-headers"] {
        assert!(b.contains(&step.to_string()), "{step} not rebuilt: {b:?}");
    }
    for step in ["toolchain-external", "busybox-static", "skeleton"] {
        assert!(!b.contains(&step.to_string()), "{step} rebuilt: {b:?}");
    }
    let root = unpack(&t, "root-2");
    let new_rel = release(&root);
    assert!(new_rel.ends_with("-mods"), "{new_rel}");
    assert!(
        root.join("lib/modules")
            .join(&new_rel)
            .join("updates/hellomod.ko")
            .is_file()
    );
    let out = t.ok(&["test"]);
    assert!(out.contains("1 test, 10 steps passed"), "{out}");
}

/// The fixture's sources compiled against the target's headers tree inside
/// a Debian armhf root filesystem with gcc and make, run through qemu-user:
/// the module is an ARM object for this kernel release.
fn compiles_on_the_target(t: &Tree, root: &Path, rel: &str) {
    let chroot = t.tmp.path().join("debian-armhf");
    let sources = sh_in(
        Path::new("/"),
        "ls /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1",
    );
    let sources = sources.trim();
    assert!(!sources.is_empty(), "no apt sources on this machine");
    sh_in(
        t.tmp.path(),
        &format!(
            "mmdebstrap --quiet --mode=root --variant=minbase --architectures=armhf \
             --include=gcc,make,libc6-dev bookworm {} {sources}",
            chroot.display()
        ),
    );
    sh_in(
        root,
        &format!(
            "mkdir -p {c}/lib/modules {c}/usr/src {c}/root/mod && \
             cp -a lib/modules/{rel} {c}/lib/modules/ && \
             cp -a usr/src/linux-headers-{rel} {c}/usr/src/ && \
             cp {src}/* {c}/root/mod/",
            c = chroot.display(),
            src = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/packages/hellomod/src")
                .display()
        ),
    );
    let log = sh_in(
        &chroot,
        &format!(
            "chroot . sh -c 'uname -m && make -C /lib/modules/{rel}/build M=/root/mod modules' 2>&1"
        ),
    );
    assert!(log.lines().next() == Some("armv7l"), "{log}");
    assert!(log.contains("LD [M]  /root/mod/hellomod.ko"), "{log}");
    let ko = chroot.join("root/mod/hellomod.ko");
    let kind = sh_in(&chroot, &format!("file -b {}", ko.display()));
    assert!(kind.contains("relocatable, ARM"), "{kind}");
    let magic = sh_in(&chroot, &format!("modinfo -F vermagic {}", ko.display()));
    assert!(magic.starts_with(&format!("{rel} ")), "{magic}");
}
