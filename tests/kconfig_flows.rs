//! The kernel's configuration flows on the real linux-source-6.1 tree:
//! diff-config, update-defconfig into the top fragment only, no-op round
//! trips that leave every file byte-identical, and linux-menuconfig driven
//! in a real terminal (tmux). The kernel itself is not built here.

mod common;

use common::Tree;
use common::tmux::Tmux;
use std::process::Command;
use std::time::Duration;

const BASE: &str = "boards/qemu_arm_vexpress/linux.config";
const FRAG1: &str = "boards/qemu_arm_vexpress/linux-local.fragment";
const FRAG2: &str = "boards/qemu_arm_vexpress/linux-top.fragment";

fn board(t: &Tree) {
    t.write(
        FRAG2,
        "# The top fragment: menuconfig changes are saved here.\n",
    );
    let d = String::from_utf8(t.read("boards/qemu_arm_vexpress_defconfig")).expect("utf8");
    let d = d.replace(
        &format!("LINUX_CONFIG_FRAGMENTS=\"{FRAG1}\""),
        &format!("LINUX_CONFIG_FRAGMENTS=\"{FRAG1} {FRAG2}\""),
    );
    t.write("boards/flows_defconfig", &d);
    // Everything but the kernel, so every package's key can be computed.
    t.ok(&["boards/flows_defconfig", "toolchain-external"]);
    t.ok(&["skeleton"]);
    t.ok(&["busybox-static"]);
}

/// Each package's current key, from show-info.
fn keys(t: &Tree) -> std::collections::BTreeMap<String, String> {
    let info: serde_json::Value = serde_json::from_str(&t.ok(&["show-info"])).expect("json");
    info.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_string(),
                p["key"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Exactly linux's key moved: the next build rebuilds linux (and the image
/// steps after it), no other package.
fn only_linux_changed(before: &std::collections::BTreeMap<String, String>, t: &Tree) {
    let after = keys(t);
    for (name, key) in before {
        if name == "linux" {
            assert_ne!(&after[name], key, "linux's key did not change");
        } else {
            assert_eq!(&after[name], key, "{name}'s key changed");
        }
    }
}

fn work_config(t: &Tree) -> String {
    String::from_utf8(t.read("output/flows/build/linux/src/.config")).expect("utf8")
}

fn snapshot(t: &Tree) -> Vec<Vec<u8>> {
    [BASE, FRAG1, FRAG2, "boards/flows_defconfig"]
        .iter()
        .map(|f| t.read(f))
        .collect()
}

#[test]
fn update_defconfig_writes_only_the_top_fragment_and_round_trips() {
    let t = Tree::new();
    board(&t);
    let before = snapshot(&t);
    let keys_before = keys(&t);

    // No edit: nothing to report, nothing written.
    assert_eq!(
        t.ok(&["linux-diff-config"])
            .lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .count(),
        0
    );
    t.ok(&["linux-update-defconfig"]);
    assert_eq!(snapshot(&t), before, "a no-change update rewrote a file");

    // An edit as menuconfig would save it: PRINTK_TIME off, a new LOCALVERSION.
    let src = t.root.join("output/flows/build/linux/src");
    let status = Command::new("sh")
        .arg("-c")
        .arg("scripts/config --disable PRINTK_TIME --set-str LOCALVERSION -edited && make ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- olddefconfig >/dev/null")
        .current_dir(&src)
        .status()
        .expect("scripts/config");
    assert!(status.success());
    let edited = work_config(&t);
    let diff = t.ok(&["linux-diff-config"]);
    assert!(diff.contains("CONFIG_PRINTK_TIME: y -> n"), "{diff}");
    assert!(diff.contains("CONFIG_LOCALVERSION"), "{diff}");

    t.ok(&["linux-update-defconfig"]);
    let after = snapshot(&t);
    assert_eq!(after[0], before[0], "the base config changed");
    assert_eq!(after[1], before[1], "the lower fragment changed");
    assert_eq!(after[3], before[3], "the defconfig changed");
    let top = String::from_utf8(after[2].clone()).expect("utf8");
    assert!(top.starts_with("# The top fragment"), "{top}");
    assert!(top.contains("# CONFIG_PRINTK_TIME is not set\n"), "{top}");
    assert!(top.contains("CONFIG_LOCALVERSION=\"-edited\"\n"), "{top}");

    // A clean tree configured from the written files gives the edited .config.
    t.ok(&["linux-dirclean"]);
    assert!(
        t.ok(&["linux-diff-config"])
            .lines()
            .all(|l| !l.starts_with("CONFIG_"))
    );
    assert_eq!(work_config(&t), edited);
    // And saving again changes nothing.
    let saved = snapshot(&t);
    t.ok(&["linux-update-defconfig"]);
    assert_eq!(snapshot(&t), saved);

    only_linux_changed(&keys_before, &t);
}

#[test]
fn linux_menuconfig_in_a_terminal_then_update_defconfig() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux is not installed (scripts/setup installs it); skipping");
        return;
    }
    let t = Tree::new();
    board(&t);
    let keys_before = keys(&t);
    let tmux = Tmux::forge(&t, "linux-menuconfig");
    tmux.wait_for("Linux/arm 6.1", Duration::from_secs(300));
    // Search for the symbol and jump to it.
    tmux.keys(&["/"]);
    tmux.wait_for("Search Configuration Parameter", Duration::from_secs(10));
    tmux.keys(&["PRINTK_TIME", "Enter"]);
    tmux.wait_for("Symbol: PRINTK_TIME", Duration::from_secs(10));
    tmux.keys(&["1"]);
    tmux.wait_for(
        "Show timing information on printks",
        Duration::from_secs(10),
    );
    tmux.keys(&["n"]);
    // Leave, saving.
    for _ in 0..6 {
        tmux.keys(&["Escape", "Escape"]);
        std::thread::sleep(Duration::from_millis(300));
        if tmux.screen().contains("Do you wish to save") {
            break;
        }
    }
    tmux.wait_for("Do you wish to save", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    tmux.wait_for("MENUCONFIG-EXIT-0", Duration::from_secs(30));

    assert!(work_config(&t).contains("# CONFIG_PRINTK_TIME is not set"));
    t.ok(&["linux-update-defconfig"]);
    let top = String::from_utf8(t.read(FRAG2)).expect("utf8");
    assert!(top.contains("# CONFIG_PRINTK_TIME is not set"), "{top}");
    only_linux_changed(&keys_before, &t);
}

#[test]
fn a_kconfig_kind_package_saves_its_full_config_difference_into_the_top_fragment() {
    let t = Tree::new();
    t.write("boards/kd/base.fragment", "# CONFIG_PRINTK is not set\n");
    t.write("boards/kd/top.fragment", "# edits land here\n");
    t.write(
        "boards/kd_defconfig",
        "PACKAGE_KCONFIG_DEMO=y\nKCONFIG_DEMO_FRAGMENTS=\"boards/kd/base.fragment boards/kd/top.fragment\"\n",
    );
    t.ok(&["boards/kd_defconfig", "kconfig-demo-diff-config"]);
    let files = |t: &Tree| -> Vec<Vec<u8>> {
        [
            "boards/kd/base.fragment",
            "boards/kd/top.fragment",
            "boards/kd_defconfig",
        ]
        .iter()
        .map(|f| t.read(f))
        .collect()
    };
    let before = files(&t);
    t.ok(&["kconfig-demo-update-config"]);
    assert_eq!(files(&t), before, "a no-change update rewrote a file");

    let src = t.root.join("output/kd/build/kconfig-demo/src");
    let status = Command::new("sh")
        .arg("-c")
        .arg("scripts/config --enable PRINTK && yes '' | make ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- oldconfig >/dev/null")
        .current_dir(&src)
        .status()
        .expect("scripts/config");
    assert!(status.success());
    let edited =
        String::from_utf8(t.read("output/kd/build/kconfig-demo/src/.config")).expect("utf8");
    assert!(
        t.ok(&["kconfig-demo-diff-config"])
            .contains("CONFIG_PRINTK: n -> y")
    );
    t.ok(&["kconfig-demo-update-config"]);
    let after = files(&t);
    assert_eq!(after[0], before[0], "the lower fragment changed");
    assert_eq!(after[2], before[2], "the defconfig changed");
    let top = String::from_utf8(after[1].clone()).expect("utf8");
    assert!(
        top.starts_with("# edits land here\n") && top.contains("CONFIG_PRINTK=y\n"),
        "{top}"
    );

    t.ok(&["kconfig-demo-dirclean"]);
    assert!(
        t.ok(&["kconfig-demo-diff-config"])
            .lines()
            .all(|l| !l.starts_with("CONFIG_"))
    );
    let again =
        String::from_utf8(t.read("output/kd/build/kconfig-demo/src/.config")).expect("utf8");
    let settings = |c: &str| -> Vec<String> {
        c.lines()
            .filter(|l| l.starts_with("CONFIG_") || l.ends_with("is not set"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(settings(&again), settings(&edited));
}
