//! The remote cache through the CLI, against nginx (Debian's package)
//! serving the Bazel HTTP cache protocol with WebDAV on a loopback port,
//! started and stopped by the test: one checkout builds and uploads; a
//! second at another path with an empty local cache restores everything
//! from it with no build command run and identical images; a tampered
//! blob on the server is refused and that step built locally; a server
//! stopped mid-build costs one warning.

mod common;

use common::offline::assert_same_images;
use common::{Tree, steps_with};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

struct Nginx {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Nginx {
    fn start(dir: &Path) -> Nginx {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let data = dir.join("data");
        for d in [&data, &dir.join("body")] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off; master_process off; worker_processes 1;\n\
                 error_log {d}/error.log; pid {d}/nginx.pid;\n\
                 events {{}}\n\
                 http {{ access_log off; client_body_temp_path {d}/body; client_max_body_size 0;\n\
                   server {{ listen 127.0.0.1:{port}; root {data};\n\
                     location / {{ dav_methods PUT; create_full_put_path on; }} }} }}\n",
                d = dir.display(),
                data = data.display()
            ),
        )
        .expect("nginx.conf");
        let nginx = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|n| Path::new(n).is_file() || which(n))
            .expect("nginx is not installed; run scripts/setup");
        let child = Command::new(nginx)
            .args(["-p", &dir.to_string_lossy(), "-c", &conf.to_string_lossy()])
            .spawn()
            .expect("start nginx");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx {
            child,
            url: format!("http://127.0.0.1:{port}/forge"),
            data,
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

fn which(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Three shell packages (`slow` sleeps first) and a board with a cpio.
fn board(t: &Tree, sleep: u32) {
    for (p, deps) in [("ra", ""), ("rb", "depends: [\"ra\"], "), ("slow", "")] {
        let pause = if p == "slow" { sleep } else { 0 };
        t.write(
            &format!("packages/{p}/{p}.ron"),
            &format!(
                "Recipe(name: {p:?}, version: \"1\", {deps}kind: Generic(build: [\
                 \"sleep {pause}\", \"mkdir -p $TARGET_DIR/usr/share/{p}\", \
                 \"for i in $(seq 1 20); do echo {p}-$i > $TARGET_DIR/usr/share/{p}/f$i; done\", \
                 \"touch $TARGET_DIR/usr/share/{p}/ran-on-$(basename $(dirname $(dirname $BUILD_DIR)))\"]))\n"
            ),
        );
    }
    t.write(
        "boards/shared_defconfig",
        "PACKAGE_RA=y\nPACKAGE_RB=y\nPACKAGE_SLOW=y\n",
    );
}

fn build(t: &Tree, url: &str, upload: bool) -> (String, serde_json::Value) {
    let mut args = vec!["--remote-cache", url];
    if upload {
        args.push("--remote-upload");
    }
    args.push("boards/shared_defconfig");
    let out = t.forge(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (stderr, t.record("shared"))
}

fn from_remote(record: &serde_json::Value) -> Vec<String> {
    record["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["from"] == "remote")
        .map(|s| s["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn images(t: &Tree) -> PathBuf {
    t.root.join("output/shared/images")
}

#[test]
fn a_second_checkout_restores_everything_from_the_remote_cache() {
    let server_dir = tempfile::tempdir().expect("tmp");
    let mut nginx = Nginx::start(server_dir.path());
    let a = Tree::new();
    board(&a, 0);
    let (_, record) = build(&a, &nginx.url, true);
    let all = steps_with(&record, "built");
    assert!(!all.is_empty());
    assert!(nginx.data.join("forge/ac").is_dir(), "nothing was uploaded");

    // Another checkout, another path, an empty local cache, read-only.
    let b = Tree::new();
    board(&b, 0);
    let (_, record) = build(&b, &nginx.url, false);
    assert!(steps_with(&record, "built").is_empty(), "{record}");
    let mut remote = from_remote(&record);
    remote.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(remote, expected, "{record}");
    assert!(
        !b.root.join("output/shared/build/ra/src").exists(),
        "a build command ran"
    );
    assert_same_images(&images(&a), &images(&b));

    // A tampered blob on the server: refused, that step built locally.
    let cas = nginx.data.join("forge/cas");
    let victim = std::fs::read_dir(&cas)
        .expect("cas")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| std::fs::read(p).is_ok_and(|b| b == b"slow-3\n"))
        .expect("the blob of slow's f3");
    std::fs::write(&victim, b"slow-3 but evil\n").expect("tamper");
    let c = Tree::new();
    board(&c, 0);
    let (stderr, record) = build(&c, &nginx.url, false);
    assert!(stderr.contains("refused"), "{stderr}");
    assert_eq!(
        stderr.matches("warning: remote cache").count(),
        1,
        "{stderr}"
    );
    assert!(
        steps_with(&record, "built").contains(&"slow".to_string()),
        "{record}"
    );
    assert_same_images(&images(&a), &images(&c));
    let f3 = c.read("output/shared/build/slow/out/target/usr/share/slow/f3");
    assert_eq!(f3, b"slow-3\n");

    // The server stops while a build runs: one warning, the build ends well.
    let d = Tree::new();
    board(&d, 3);
    let url = nginx.url.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        nginx.stop();
    });
    let (stderr, record) = build(&d, &url, true);
    stopper.join().expect("stopper");
    assert!(steps_with(&record, "built").contains(&"slow".to_string()));
    assert_eq!(
        stderr.matches("warning: remote cache").count(),
        1,
        "{stderr}"
    );
}
