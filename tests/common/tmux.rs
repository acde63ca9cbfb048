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
