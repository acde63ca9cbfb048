//! Per-package and inspection verbs through the real CLI: why, show-info,
//! graph-depends, list-defconfigs, <pkg>-dirclean, <pkg>-rebuild, source.

mod common;

use common::{Tree, steps_with};
use std::io::{Read, Write};
use std::net::TcpListener;

const BOARD: &str = "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_SKELETON=y\nPACKAGE_HELLO=y\n";

#[test]
fn why_names_the_changed_input() {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    assert!(
        t.ok(&["why", "hello"])
            .contains("hello: cached (nothing changed")
    );

    t.write(
        "boards/fix_defconfig",
        &format!("{BOARD}HELLO_GREETING=\"bonjour\"\n"),
    );
    t.ok(&["boards/fix_defconfig", "skeleton"]);
    let why = t.ok(&["why", "hello"]);
    assert!(why.contains("will rebuild"), "{why}");
    assert!(
        why.contains("option HELLO_GREETING: \"hello from forge\" -> \"bonjour\""),
        "{why}"
    );
    let why = t.ok(&["why", "rootfs-cpio"]);
    assert!(why.contains("waits for rootfs"), "{why}");
    let err = t.fails(&["why", "helo"]);
    assert!(err.contains("did you mean \"hello\""), "{err}");
}

#[test]
fn show_info_graph_and_list() {
    let t = Tree::new();
    t.write(
        "boards/fix_defconfig",
        &format!("# A fixture board\n{BOARD}"),
    );
    t.ok(&["boards/fix_defconfig"]);
    let info: serde_json::Value = serde_json::from_str(
        &t.ok(&["show-info"])
            .lines()
            .filter(|l| !l.starts_with("configured"))
            .collect::<String>(),
    )
    .expect("json");
    let hello = info
        .as_array()
        .expect("array")
        .iter()
        .find(|p| p["name"] == "hello")
        .expect("hello");
    assert_eq!(hello["version"], "1.0");
    assert_eq!(hello["license"][0], "MIT");
    assert_eq!(hello["dependencies"][0], "toolchain-external");
    assert_eq!(hello["cached"], true);
    assert_eq!(hello["key"].as_str().map(str::len), Some(64));

    t.ok(&["graph-depends"]);
    let dot = String::from_utf8(t.read("output/fix/graphs/graph-depends.dot")).expect("utf8");
    assert!(dot.contains("\"hello\" -> \"toolchain-external\""), "{dot}");

    let list = t.ok(&["list-defconfigs"]);
    assert!(
        list.contains("fix_defconfig") && list.contains("A fixture board"),
        "{list}"
    );
    assert!(list.contains("qemu_arm_vexpress_defconfig"), "{list}");
}

#[test]
fn dirclean_and_rebuild_of_one_package() {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    t.ok(&["hello-dirclean"]);
    assert!(!t.root.join("output/fix/build/hello").exists());
    // The cache still has it: nothing runs.
    t.ok(&["hello"]);
    assert_eq!(steps_with(&t.record("fix"), "built"), Vec::<String>::new());
    // -rebuild runs it although cached; its identical output cascades nowhere.
    t.ok(&["hello-rebuild"]);
    assert_eq!(steps_with(&t.record("fix"), "built"), vec!["hello"]);
    t.ok(&[]);
    assert_eq!(steps_with(&t.record("fix"), "built"), Vec::<String>::new());
}

/// Serve `body` over HTTP on loopback until `requests` requests were answered.
fn serve(body: Vec<u8>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn source_downloads_everything_then_builds_offline() {
    let t = Tree::new();
    let tarball = t.tmp.path().join("net-1.0.tar.gz");
    let status = std::process::Command::new("tar")
        .args(["-czf"])
        .arg(&tarball)
        .arg("-C")
        .arg(t.root.join("packages/hello"))
        .arg("src")
        .status()
        .expect("tar");
    assert!(status.success());
    let sha = forge::sources::fetch::sha256_file(&tarball).expect("sha");
    let url = serve(std::fs::read(&tarball).expect("read"), 1);
    t.write(
        "packages/net/net.ron",
        &format!(
            "Recipe(name: \"net\", version: \"1.0\", source: Url(url: \"{url}/net-1.0.tar.gz\", sha256: \"{sha}\"),\n depends: [\"toolchain-external\"],\n kind: Generic(build: [\"make CC=\\\"$CC\\\"\"], install: [\"make install DESTDIR=\\\"$TARGET_DIR\\\"\"]))\n"
        ),
    );
    t.write(
        "boards/net_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_NET=y\n",
    );
    t.ok(&["boards/net_defconfig", "skeleton"]);
    t.ok(&["source"]);
    assert!(t.dl().join("net/net-1.0.tar.gz").is_file());
    // The server answered its one request and is gone: the build must not
    // need the network any more.
    t.ok(&[]);
    assert!(steps_with(&t.record("net"), "built").contains(&"net".to_string()));
}

#[test]
fn an_external_tree_adds_boards_and_overrides_packages() {
    let t = Tree::new();
    let ext = t.tmp.path().join("ext");
    std::fs::create_dir_all(ext.join("boards")).expect("mkdir");
    std::fs::create_dir_all(ext.join("packages")).expect("mkdir");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(t.root.join("packages/hello"))
        .arg(ext.join("packages/hello"))
        .status()
        .expect("cp");
    assert!(status.success());
    let recipe = std::fs::read_to_string(ext.join("packages/hello/hello.ron")).expect("read");
    std::fs::write(
        ext.join("packages/hello/hello.ron"),
        recipe.replace("hello from forge", "hello from outside"),
    )
    .expect("write");
    std::fs::write(
        ext.join("boards/ext_defconfig"),
        format!("# A board from an external tree\n{BOARD}"),
    )
    .expect("write");
    let ext_arg = ext.to_string_lossy().into_owned();

    let list = t.ok(&["--external", &ext_arg, "list-defconfigs"]);
    assert!(
        list.contains("ext_defconfig") && list.contains("A board from an external tree"),
        "{list}"
    );
    t.ok(&["--external", &ext_arg, "ext_defconfig"]);
    let info = t.ok(&["show-info"]);
    assert!(
        info.contains("\"overrides\"") && info.contains("packages/hello/hello.ron"),
        "{info}"
    );
    let rootfs = t.tmp.path().join("rootfs");
    common::unpack_cpio(&t.root.join("output/ext/images/rootfs.cpio.gz"), &rootfs);
    let out = std::process::Command::new("qemu-arm")
        .arg("-L")
        .arg(&rootfs)
        .arg(rootfs.join("usr/bin/hello"))
        .output()
        .expect("qemu-arm");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from outside\n");
    // The output dir remembers its external trees.
    assert!(t.ok(&[]).contains("nothing to do"));
}
