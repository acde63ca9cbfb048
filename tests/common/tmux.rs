//! A tmux session for driving a terminal program (a package's menuconfig)
//! from a test: send keys, read the screen, wait for text; the session is
//! killed however the test ends.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session, killed however the test ends.
pub struct Tmux(String);

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

impl Tmux {
    /// A session started by the caller under this name.
    pub fn named(name: String) -> Tmux {
        Tmux(name)
    }

    /// `forge <verb>` in the tree `t` (its cache and download dirs), in a
    /// new 120x40 session; when forge exits the screen shows
    /// `MENUCONFIG-EXIT-<status>` and the session stays for inspection.
    pub fn forge(t: &super::Tree, verb: &str) -> Tmux {
        let name = format!("forge-{verb}-{}", std::process::id());
        let cmd = format!(
            "cd '{}' && FORGE_CACHE_DIR='{}' FORGE_DL_DIR='{}' '{}' {verb}; echo MENUCONFIG-EXIT-$?; sleep 600",
            t.root.display(),
            t.cache.display(),
            t.dl().display(),
            env!("CARGO_BIN_EXE_forge")
        );
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-x", "120", "-y", "40", "-s", &name])
            .arg(cmd)
            .status()
            .expect("tmux");
        assert!(status.success(), "tmux new-session failed");
        Tmux(name)
    }

    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .expect("tmux");
        assert!(status.success());
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {text:?} on screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
