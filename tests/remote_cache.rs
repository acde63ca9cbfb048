//! The remote cache through the CLI, against nginx (Debian's package)
//! serving the Bazel HTTP cache protocol with WebDAV on a loopback port,
//! started and stopped by the test: one checkout builds and uploads; a
//! second at another path with an empty local cache restores everything
//! from it with no build command run and identical images; a tampered
//! blob on the server is refused and that step built locally; a server
//! stopped mid-build costs one warning. `forge why` against the server
//! names what differs from the last upload of a step, reports a hit once
//! it is uploaded, treats a spoiled pointer as absent and says in one line
//! that a stopped server could not be asked.

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
                 \"touch $TARGET_DIR/usr/share/{p}/built\"]))\n"
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

/// `wa`, and `wb` on top of it reading an option and a file.
fn why_board(t: &Tree, word: &str, note: &str) {
    t.write(
        "packages/wa/wa.ron",
        "Recipe(name: \"wa\", version: \"1\", kind: Generic(build: [\
         \"mkdir -p $TARGET_DIR/usr/share/wa\", \"echo wa > $TARGET_DIR/usr/share/wa/f\"]))\n",
    );
    t.write(
        "packages/wb/wb.ron",
        "Recipe(name: \"wb\", version: \"1\", depends: [\"wa\"], \
         options: {\"WB_WORD\": Str(default: \"\", help: \"A word.\"), \
         \"WB_NOTE\": Path(default: \"\", help: \"A file to install.\")}, \
         kind: Generic(build: [\"mkdir -p $TARGET_DIR/usr/share/wb\", \
         \"echo ${WB_WORD} > $TARGET_DIR/usr/share/wb/word\", \
         \"cat $WB_NOTE > $TARGET_DIR/usr/share/wb/note\"]))\n",
    );
    t.write("boards/why/note.txt", note);
    t.write(
        "boards/why_defconfig",
        &format!(
            "PACKAGE_WA=y\nPACKAGE_WB=y\nWB_WORD=\"{word}\"\nWB_NOTE=\"boards/why/note.txt\"\n"
        ),
    );
}

/// `forge why wb` with the remote cache: its stdout, insisting on exit 0.
fn why_wb(t: &Tree, url: &str) -> String {
    let out = t.forge(&["--remote-cache", url, "boards/why_defconfig", "why", "wb"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The indented lines after the first line starting with `header`.
fn listed_after(text: &str, header: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with(header))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn why_explains_a_remote_miss_against_the_last_upload() {
    let server_dir = tempfile::tempdir().expect("tmp");
    let mut nginx = Nginx::start(server_dir.path());
    let url = nginx.url.clone();
    let a = Tree::new();
    why_board(&a, "one", "first\n");
    a.ok(&[
        "--remote-cache",
        &url,
        "--remote-upload",
        "boards/why_defconfig",
    ]);

    // Another checkout with an empty cache changes a value and a file.
    let b = Tree::new();
    why_board(&b, "two", "second\n");
    let why = why_wb(&b, &url);
    assert!(why.starts_with("wb: waits for wa"), "{why}");
    let header = "remote cache: no entry for this key; the last upload of wb for board why (at ";
    assert!(why.contains(header), "{why}");
    // The value, the file, and the build command the value expands into.
    assert_eq!(
        listed_after(&why, header),
        [
            "Package.kind.Generic.build[1]: changed",
            "file Package.option_files[0] WB_NOTE boards/why/note.txt: content changed",
            "option WB_WORD: \"one\" -> \"two\"",
        ],
        "{why}"
    );

    // Once B uploads too: B holds it, and a third checkout would restore it.
    b.ok(&[
        "--remote-cache",
        &url,
        "--remote-upload",
        "boards/why_defconfig",
    ]);
    assert!(why_wb(&b, &url).contains("remote cache: holds this key too"));
    let c = Tree::new();
    why_board(&c, "two", "second\n");
    let why = why_wb(&c, &url);
    assert!(
        why.contains("remote cache: hit (would be restored)"),
        "{why}"
    );

    // A pointer that does not read as one is treated as absent.
    let pointer = nginx
        .data
        .join("forge/ac")
        .join(forge::store::remote::pointer::pointer_key("why", "wb"));
    assert!(pointer.is_file(), "no pointer at {}", pointer.display());
    std::fs::write(&pointer, b"{garbage").expect("spoil the pointer");
    let d = Tree::new();
    why_board(&d, "three", "second\n");
    let why = why_wb(&d, &url);
    assert!(why.contains("is unreadable"), "{why}");
    assert!(
        why.contains("remote cache: no entry for this key, and no upload of wb for board why is recorded there"),
        "{why}"
    );

    // A server that is down: said in one line, exit 0.
    nginx.stop();
    let why = why_wb(&b, &url);
    let down: Vec<&str> = why
        .lines()
        .filter(|l| l.starts_with("remote cache"))
        .collect();
    assert_eq!(down.len(), 1, "{why}");
    assert!(
        down[0].starts_with("remote cache: could not be asked"),
        "{why}"
    );
    assert!(why.starts_with("wb: cached"), "{why}");
}
