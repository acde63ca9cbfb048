//! `forge config list|get|set` and `forge menuconfig` through the real CLI
//! on the small fixture board: round trips, diagnostics, the `.config`
//! they write, and that the next build rebuilds exactly what the changed
//! options feed. menuconfig runs in a real pseudo-terminal under tmux.

mod common;

use common::{Tree, steps_with};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BOARD: &str = "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_SKELETON=y\nPACKAGE_HELLO=y\n";

/// A tree with the fixture board configured and built once.
fn built() -> Tree {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    t
}

fn dotconfig(t: &Tree) -> String {
    String::from_utf8_lossy(&t.read("output/fix/.config")).into_owned()
}

/// forge's stdout, insisting it succeeds.
fn stdout(t: &Tree, args: &[&str]) -> String {
    let out = t.forge(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "forge {args:?} failed:\n{err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines that differ between two `.config`s, as `old => new`.
fn changed_lines(a: &str, b: &str) -> Vec<String> {
    assert_eq!(a.lines().count(), b.lines().count(), "{a}\n---\n{b}");
    let pairs = a.lines().zip(b.lines()).filter(|(x, y)| x != y);
    pairs.map(|(x, y)| format!("{x} => {y}")).collect()
}

/// A `config list` line's menu, name, type and value.
fn columns(line: &str) -> [String; 4] {
    let w: Vec<&str> = line[2..]
        .split("  ")
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    [w[0].into(), w[1].into(), w[2].into(), w[3..].join("  ")]
}

#[test]
fn config_get_set_and_list_round_trip() {
    let t = built();
    let before = dotconfig(&t);
    assert_eq!(
        stdout(&t, &["config", "get", "HELLO_GREETING"]),
        "\"hello from forge\"\n"
    );
    assert_eq!(stdout(&t, &["config", "get", "ROOTFS_CPIO"]), "y\n");

    let list = stdout(&t, &["config", "list"]);
    let rows: Vec<[String; 4]> = list.lines().map(columns).collect();
    let row = |name: &str| rows.iter().find(|r| r[1] == name).cloned();
    let greeting = [
        "Packages",
        "HELLO_GREETING",
        "string",
        "\"hello from forge\"",
    ];
    assert_eq!(row("HELLO_GREETING"), Some(greeting.map(String::from)));
    assert_eq!(
        row("SOURCE_DATE_EPOCH").map(|r| r[2].clone()).as_deref(),
        Some("int")
    );
    // `*` marks values that are not the default.
    let marked: Vec<&str> = list.lines().filter(|l| l.starts_with('*')).collect();
    assert_eq!(marked.len(), 3, "{list}");
    assert!(marked.iter().all(|l| l.contains(" PACKAGE_")), "{list}");
    // Ordered by menu, then name.
    let keys: Vec<(&str, &str)> = rows.iter().map(|r| (&*r[0], &*r[1])).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // Setting every option to what `list` shows changes nothing.
    let all: Vec<String> = rows.iter().map(|r| format!("{}={}", r[1], r[3])).collect();
    let mut args = vec!["config", "set"];
    args.extend(all.iter().map(String::as_str));
    assert_eq!(stdout(&t, &args), "no change\n");
    assert_eq!(dotconfig(&t), before);

    let set = [
        "config",
        "set",
        "HELLO_GREETING=\"x\"",
        "SOURCE_DATE_EPOCH=7",
    ];
    assert_eq!(
        stdout(&t, &set),
        "HELLO_GREETING: \"hello from forge\" -> \"x\"\nSOURCE_DATE_EPOCH: 1704067200 -> 7\n"
    );
    assert_eq!(stdout(&t, &["config", "get", "HELLO_GREETING"]), "\"x\"\n");
    let list = stdout(&t, &["config", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("* ") && l.contains(" HELLO_GREETING "))
    );
    let after = dotconfig(&t);
    assert!(
        after.contains("\n# defconfig: boards/fix_defconfig\n"),
        "{after}"
    );
    assert_eq!(
        changed_lines(&before, &after),
        [
            "HELLO_GREETING=\"hello from forge\" => HELLO_GREETING=\"x\"",
            "SOURCE_DATE_EPOCH=1704067200 => SOURCE_DATE_EPOCH=7",
        ]
    );
    // Back again (a bare word is a string too): the configure's bytes.
    let back = [
        "HELLO_GREETING=hello from forge",
        "SOURCE_DATE_EPOCH=1704067200",
    ];
    t.ok(&["config", "set", back[0], back[1]]);
    assert_eq!(dotconfig(&t), before);
}

#[test]
fn config_errors_name_the_option_and_what_is_accepted() {
    let t = built();
    let before = dotconfig(&t);
    let cases: [(&[&str], &str); 8] = [
        (
            &["set", "HELO_GREETING=\"x\""],
            "config set:1: unknown option HELO_GREETING; did you mean HELLO_GREETING?",
        ),
        (&["get", "HELO_GREETING"], "did you mean HELLO_GREETING?"),
        (
            &["set", "HELLO_GREETING=x", "SOURCE_DATE_EPOCH=soon"],
            "config set:2: invalid value soon for int option SOURCE_DATE_EPOCH",
        ),
        (
            &["set", "ROOTFS_CPIO=maybe"],
            "invalid value maybe for bool option",
        ),
        (
            &["set", "TARGET_ARCH=mips"],
            "accepted: one of arm, aarch64",
        ),
        (
            &["set", "ROOTFS_CPIO=n", "ROOTFS_CPIO_COMPRESSION=xz"],
            "dependency `ROOTFS_CPIO` is not met",
        ),
        (&["set", "HELLO_GREETING"], "expected NAME=VALUE"),
        (&["frobnicate"], "usage: forge config list"),
    ];
    for (args, want) in cases {
        let err = t.fails(&[&["config"], args].concat());
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(dotconfig(&t), before, "a failed set must not write");

    // Outside a terminal, menuconfig says what to use instead.
    let err = t.fails(&["menuconfig"]);
    assert!(err.contains("needs a terminal"), "{err}");
}

#[test]
fn config_set_rebuilds_exactly_what_reads_the_option() {
    let t = built();
    t.ok(&["config", "set", "HELLO_GREETING=\"x\""]);
    t.ok(&[]);
    let rec = t.record("fix");
    assert_eq!(
        steps_with(&rec, "built"),
        ["hello", "rootfs", "rootfs-cpio"],
        "{rec}"
    );
    assert_eq!(
        steps_with(&rec, "cached"),
        ["skeleton", "toolchain-external"],
        "{rec}"
    );

    // No cpio wanted: nothing rebuilds, and its image leaves images/.
    t.ok(&["config", "set", "ROOTFS_CPIO=n"]);
    t.ok(&[]);
    let rec = t.record("fix");
    assert_eq!(steps_with(&rec, "built"), Vec::<String>::new(), "{rec}");
    assert_eq!(rec["steps"].as_array().map(Vec::len), Some(4), "{rec}");
    assert!(!t.root.join("output/fix/images/rootfs.cpio.gz").exists());
}

/// A tmux server of our own (its socket in the test's temp dir) running
/// one program in a 120×40 pty; killed when dropped, whatever happened.
struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    /// Starts `shell_command` in a fresh tmux server; `None` if there is
    /// no tmux.
    fn start(socket: std::path::PathBuf, shell_command: &str) -> Option<Tmux> {
        let present = Command::new("tmux").arg("-V").output();
        if !present.is_ok_and(|o| o.status.success()) {
            return None;
        }
        let tmux = Tmux { socket };
        let status = tmux
            .cmd()
            .args(["new-session", "-d", "-x", "120", "-y", "40", "-s", "t"])
            .arg(shell_command)
            .status()
            .expect("tmux new-session");
        assert!(status.success(), "tmux new-session failed");
        Some(tmux)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }

    /// Sends tmux key names (`Down`, `Enter`, `Space`, `C-u`).
    fn keys(&self, keys: &[&str]) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status();
        assert!(status.expect("tmux send-keys").success());
    }

    /// Types `text` literally.
    fn text(&self, text: &str) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", "t", "-l", text])
            .status();
        assert!(status.expect("tmux send-keys").success());
    }

    fn screen(&self) -> String {
        let out = self.cmd().args(["capture-pane", "-p", "-t", "t"]).output();
        String::from_utf8_lossy(&out.expect("tmux capture-pane").stdout).into_owned()
    }

    /// Polls the screen until `ok` holds; panics with the screen after 20 s.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the row under the cursor is exactly `row`.
    fn wait_focus(&self, row: &str) {
        self.wait(&format!("the cursor on `{row}`"), |s| {
            focused(s).as_deref() == Some(row)
        });
    }

    /// Presses Down until the row under the cursor satisfies `ok`.
    fn move_to(&self, what: &str, ok: impl Fn(&str) -> bool) {
        for _ in 0..40 {
            let now = self.wait("a cursor", |s| focused(s).is_some());
            let row = focused(&now).unwrap_or_default();
            if ok(&row) {
                return;
            }
            self.keys(&["Down"]);
            self.wait("the cursor to move", |s| {
                focused(s).is_some_and(|r| r != row)
            });
        }
        panic!("never reached {what}:\n{}", self.screen());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").stderr(Stdio::null()).status();
    }
}

/// The menu row the cursor is on (marked `> ` inside the menu's border).
fn focused(screen: &str) -> Option<String> {
    screen.lines().find_map(|l| {
        let row = l.strip_prefix("│> ")?;
        Some(row.trim_matches([' ', '│']).to_string())
    })
}

#[test]
fn menuconfig_in_a_terminal_toggles_searches_edits_and_saves() {
    let t = built();
    let before = dotconfig(&t);
    let exit_file = t.tmp.path().join("menuconfig-exit");
    let command = format!(
        "cd '{}' && env -u FORGE_OUTPUT -u MAKEFLAGS FORGE_CACHE_DIR='{}' FORGE_DL_DIR='{}' \
         '{}' menuconfig; echo $? > '{}'",
        t.root.display(),
        t.cache.display(),
        t.dl().display(),
        env!("CARGO_BIN_EXE_forge"),
        exit_file.display()
    );
    let Some(tmux) = Tmux::start(t.tmp.path().join("tmux.sock"), &command) else {
        eprintln!("skipping: tmux is not installed (scripts/setup installs it)");
        return;
    };
    tmux.wait("the top menu", |s| {
        s.contains("forge menuconfig — output/fix/.config")
    });

    // A bool under "Filesystem images": off, which locks what depends on
    // it (and says why), then on again.
    tmux.move_to("Filesystem images", |r| r.starts_with("Filesystem images"));
    tmux.keys(&["Enter"]);
    tmux.wait("its menu", |s| s.contains("┌ Filesystem images "));
    tmux.move_to("ROOTFS_CPIO", |r| r.ends_with("] ROOTFS_CPIO"));
    tmux.wait_focus("[*] ROOTFS_CPIO");
    tmux.keys(&["Space"]);
    tmux.wait_focus("[ ] ROOTFS_CPIO");
    tmux.wait("the modified mark", |s| s.contains("[modified]"));
    tmux.keys(&["Down"]);
    tmux.wait_focus("<gzip> ROOTFS_CPIO_COMPRESSION");
    tmux.keys(&["Space"]);
    tmux.wait("the lock reason", |s| {
        s.contains("ROOTFS_CPIO_COMPRESSION cannot be changed: depends on ROOTFS_CPIO which is n")
    });
    tmux.keys(&["Up"]);
    tmux.wait_focus("[ ] ROOTFS_CPIO");
    tmux.keys(&["Space"]);
    tmux.wait_focus("[*] ROOTFS_CPIO");

    // A package bool under "Packages": off.
    tmux.keys(&["BSpace"]);
    tmux.wait("the top menu", |s| s.contains("┌ forge options "));
    tmux.move_to("Packages", |r| r.starts_with("Packages"));
    tmux.keys(&["Enter"]);
    tmux.wait("its menu", |s| s.contains("┌ Packages "));
    tmux.move_to("skeleton", |r| r.ends_with("] skeleton"));
    tmux.wait_focus("[*] skeleton");
    tmux.keys(&["Space"]);
    tmux.wait_focus("[ ] skeleton");

    // Search jumps to HELLO_GREETING in its menu; edit it there.
    tmux.text("/");
    tmux.wait("the search box", |s| {
        s.contains("Search by symbol or prompt")
    });
    tmux.text("greeting");
    tmux.wait("a search result", |s| s.contains("> HELLO_GREETING"));
    tmux.keys(&["Enter"]);
    tmux.wait_focus("(hello from forge) HELLO_GREETING");
    tmux.wait("the Packages menu", |s| s.contains("┌ Packages "));
    tmux.keys(&["Enter"]);
    tmux.wait("the edit line", |s| {
        s.lines()
            .any(|l| l.trim_end() == " HELLO_GREETING: hello from forge")
    });
    tmux.keys(&["C-u"]);
    tmux.wait("an empty edit line", |s| {
        s.lines().any(|l| l.trim_end() == " HELLO_GREETING:")
    });
    tmux.text("hi from tmux");
    tmux.wait("the typed text", |s| {
        s.lines()
            .any(|l| l.trim_end() == " HELLO_GREETING: hi from tmux")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_focus("(hi from tmux) HELLO_GREETING");

    tmux.text("s");
    tmux.wait("the save", |s| s.contains("saved output/fix/.config"));
    tmux.text("q");
    let start = Instant::now();
    while !std::fs::read_to_string(&exit_file).is_ok_and(|s| s.ends_with('\n')) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "menuconfig did not exit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        std::fs::read_to_string(&exit_file).unwrap_or_default(),
        "0\n"
    );
    drop(tmux);

    let after = dotconfig(&t);
    assert_eq!(
        changed_lines(&before, &after),
        [
            "HELLO_GREETING=\"hello from forge\" => HELLO_GREETING=\"hi from tmux\"",
            "PACKAGE_SKELETON=y => # PACKAGE_SKELETON is not set",
        ]
    );

    // The next build: hello (its option) and what reads it rebuild,
    // skeleton is no longer wanted, the toolchain comes from the cache.
    t.ok(&[]);
    let rec = t.record("fix");
    assert_eq!(
        steps_with(&rec, "built"),
        ["hello", "rootfs", "rootfs-cpio"],
        "{rec}"
    );
    assert_eq!(steps_with(&rec, "cached"), ["toolchain-external"], "{rec}");
    assert_eq!(rec["steps"].as_array().map(Vec::len), Some(4), "{rec}");
}
