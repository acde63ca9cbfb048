//! End to end: the demo board built from an empty cache out of Debian's
//! packages, booted in qemu-system-arm to a shell driven over the serial
//! console; then the no-op, cache-restore and kernel-config rebuilds.
//!
//! Slow (a kernel build); run with the rest by `cargo test`. Needs the host
//! packages `.ci/run` installs.

mod common;

use common::{Tree, steps_with};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BOARD: &str = "qemu_arm_vexpress";
const DEFCONFIG: &str = "boards/qemu_arm_vexpress_defconfig";
const FRAGMENT: &str = "boards/qemu_arm_vexpress/linux-local.fragment";

/// qemu, killed and reaped however the test ends.
struct Qemu {
    child: Child,
    lines: mpsc::Receiver<String>,
    transcript: String,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Qemu {
    fn boot(t: &Tree) -> Qemu {
        let mut child = Command::new(env!("CARGO_BIN_EXE_forge"))
            .args(["run", "--serial-only"])
            .current_dir(&t.root)
            .env("FORGE_CACHE_DIR", &t.cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("forge run");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // The console sends \r\n and partial lines; split on \n.
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            while reader
                .read_until(b'\n', &mut buf)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                let line = String::from_utf8_lossy(&buf).replace('\r', "");
                if tx.send(line).is_err() {
                    break;
                }
                buf.clear();
            }
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
        });
        Qemu {
            child,
            lines: rx,
            transcript: String::new(),
        }
    }

    /// Wait until a console line contains `pattern`.
    fn expect(&mut self, pattern: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.transcript.push_str(&line);
                    if line.contains(pattern) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no {pattern:?} on the console within {timeout:?}; transcript:\n{}",
                    self.transcript
                ),
            }
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("write console");
        stdin.flush().expect("flush");
    }
}

#[test]
fn demo_board_builds_boots_and_rebuilds_exactly() {
    let t = Tree::new();

    // 1. From an empty cache to a booted shell.
    t.ok(&[DEFCONFIG]);
    let rec = t.record(BOARD);
    assert_eq!(rec["failed"], 0, "{rec}");
    assert_eq!(rec["cached"], 0, "{rec}");
    let images = t.root.join("output").join(BOARD).join("images");
    for f in ["zImage", "vexpress-v2p-ca9.dtb", "rootfs.cpio.gz"] {
        assert!(images.join(f).is_file(), "missing images/{f}");
    }
    {
        let mut q = Qemu::boot(&t);
        q.expect("forge: system is up", Duration::from_secs(180));
        q.send("echo marker-$((6*7)); uname -m");
        q.expect("marker-42", Duration::from_secs(30));
        let arch = q.expect("armv7l", Duration::from_secs(30));
        assert_eq!(arch.trim(), "armv7l");
    }

    // 2. Again right after: no build command runs.
    let msg = t.ok(&[]);
    assert!(msg.contains("nothing to do"), "{msg}");
    assert_eq!(steps_with(&t.record(BOARD), "built"), Vec::<String>::new());

    // 3. A kernel config fragment change rebuilds linux, not the packages.
    let original = String::from_utf8(t.read(FRAGMENT)).expect("utf8");
    t.write(
        FRAGMENT,
        &format!("{original}CONFIG_LOCALVERSION=\"-forge-test\"\n"),
    );
    t.ok(&[]);
    let rec = t.record(BOARD);
    let built = steps_with(&rec, "built");
    assert!(built.contains(&"linux".to_string()), "{rec}");
    for untouched in ["toolchain-external", "busybox-static", "skeleton"] {
        assert!(
            steps_with(&rec, "cached").contains(&untouched.to_string()),
            "{untouched} rebuilt: {rec}"
        );
    }
    {
        let mut q = Qemu::boot(&t);
        q.expect("forge: system is up", Duration::from_secs(180));
        q.send("uname -r");
        q.expect("-forge-test", Duration::from_secs(30));
    }

    // 4. Changing it back runs no build command.
    t.write(FRAGMENT, &original);
    t.ok(&[]);
    assert_eq!(steps_with(&t.record(BOARD), "built"), Vec::<String>::new());

    // 5. An empty output dir is restored from the cache, byte for byte.
    let before: Vec<Vec<u8>> = ["zImage", "vexpress-v2p-ca9.dtb", "rootfs.cpio.gz"]
        .iter()
        .map(|f| std::fs::read(images.join(f)).expect("image"))
        .collect();
    std::fs::remove_dir_all(t.root.join("output").join(BOARD)).expect("rm output");
    t.ok(&[DEFCONFIG]);
    assert_eq!(steps_with(&t.record(BOARD), "built"), Vec::<String>::new());
    let after: Vec<Vec<u8>> = ["zImage", "vexpress-v2p-ca9.dtb", "rootfs.cpio.gz"]
        .iter()
        .map(|f| std::fs::read(images.join(f)).expect("image"))
        .collect();
    assert!(before == after, "restored images differ");
}
