//! Keys and outputs independent of the machine: two checkouts at different
//! paths, built by different users (when the tests run as root) with
//! caches of their own, agree on every step's key and output digest,
//! because a package step runs at fixed paths, with a fixed host name, user
//! id and HOME, and no network. Without the sandbox (`FORGE_SANDBOX=off`)
//! the same step embeds its real paths and reaches the network, under a
//! key of its own.

mod common;

use common::{Tree, keys_and_outputs, other_user};

const PROBE: &str = r#"#!/bin/bash
# Writes down what a build tool could embed of the machine it runs on.
set -e
out="$TARGET_DIR/etc/whereami"
mkdir -p "$(dirname "$out")"
{
    echo "pwd=$(pwd)"
    echo "src=$SRC_DIR"
    echo "pkg=$PKG_DIR"
    echo "home=$HOME"
    echo "host=$(hostname)"
    echo "uid=$(id -u)"
    if (echo hi > /dev/tcp/127.0.0.1/PORT) 2>/dev/null; then echo "net=yes"; else echo "net=no"; fi
} > "$out"
"#;

fn whereami(t: &Tree, port: u16) {
    t.write(
        "packages/whereami/whereami.ron",
        "Recipe(name: \"whereami\", version: \"1\", \
         kind: Generic(build: [\"bash \\\"$PKG_DIR/probe.sh\\\"\"]))\n",
    );
    t.write(
        "packages/whereami/probe.sh",
        &PROBE.replace("PORT", &port.to_string()),
    );
    // A local source outside the tree, at an absolute path of this
    // checkout's own, chosen in the board (a source choice, as a user
    // points RPI_FIRMWARE_SOURCE_PATH at an unpacked tree): keyed by its
    // content, not where it lies.
    let outside = t.tmp.path().join("outside-src");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("data.txt"), "same everywhere\n").expect("write");
    t.write(
        "packages/outside/outside.ron",
        "Recipe(name: \"outside\", version: \"1\", \
         source: Choice(prefix: \"OUTSIDE\", version: \"1\", \
         url: \"https://example.invalid/outside-${OUTSIDE_VERSION}.tar.gz\", hash_file: \"outside.hash\"), \
         strip_components: Some(0), kind: Generic(build: [\"mkdir -p $TARGET_DIR/usr/share\", \
         \"cp data.txt $TARGET_DIR/usr/share/outside.txt\"]))\n",
    );
    t.write(
        "packages/outside/outside.hash",
        &format!("sha256  {}  outside-1.tar.gz\n", "0".repeat(64)),
    );
    t.write(
        "boards/where_defconfig",
        &format!(
            "PACKAGE_WHEREAMI=y\nPACKAGE_OUTSIDE=y\nOUTSIDE_SOURCE=\"local\"\nOUTSIDE_SOURCE_PATH=\"{}\"\n",
            outside.display()
        ),
    );
}

#[test]
fn two_checkouts_by_two_users_agree_and_the_fallback_is_keyed_apart() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("port").port();

    let a = Tree::new();
    whereami(&a, port);
    a.ok(&["boards/where_defconfig"]);

    let b = Tree::new().moved_to("elsewhere/deeper/checkout-b");
    whereami(&b, port);
    let b = match other_user() {
        Some(user) => b.owned_by(user),
        None => {
            eprintln!("not root: the second checkout is built by the same user");
            b
        }
    };
    let out = b.ok(&["boards/where_defconfig"]);
    assert!(!out.contains("real paths"), "{out}");
    if let Some((uid, _)) = b.user {
        use std::os::unix::fs::MetadataExt;
        let built = std::fs::metadata(b.root.join("output/where/logs/build-record.json"));
        assert_eq!(built.expect("record").uid(), uid, "built by the other user");
    }

    let (ra, rb) = (a.record("where"), b.record("where"));
    for r in [&ra, &rb] {
        let mode = r["sandbox"].as_str().unwrap_or_default();
        assert!(mode.starts_with("steps at fixed paths"), "{mode}");
        assert_eq!(r["cached"], 0, "each checkout builds with its own cache");
    }
    assert_eq!(keys_and_outputs(&ra), keys_and_outputs(&rb));
    let embedded = String::from_utf8(a.read("output/where/build/whereami/out/target/etc/whereami"))
        .expect("utf-8");
    assert_eq!(
        embedded,
        "pwd=/forge/step/src\nsrc=/forge/step/src\npkg=/forge/tree/0/packages/whereami\n\
         home=/forge/home\nhost=forge\nuid=1000\nnet=no\n"
    );

    // Without the sandbox: said once, recorded, keyed apart, and the
    // step sees this checkout's real paths and the network.
    let out = b.forge_env(&["boards/where_defconfig"], &[("FORGE_SANDBOX", "off")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("steps run at their real paths").count(),
        1,
        "{stderr}"
    );
    let off = b.record("where");
    assert_eq!(
        off["sandbox"], "steps at their real paths: FORGE_SANDBOX=off",
        "{off}"
    );
    let (on, offk) = (keys_and_outputs(&rb), keys_and_outputs(&off));
    assert_ne!(on["whereami"].0, offk["whereami"].0);
    assert!(common::steps_with(&off, "built").contains(&"whereami".to_string()));
    let real = String::from_utf8(b.read("output/where/build/whereami/out/target/etc/whereami"))
        .expect("utf-8");
    let src = b.root.join("output/where/build/whereami/src");
    assert!(
        real.starts_with(&format!("pwd={}\n", src.display())),
        "{real}"
    );
    assert!(real.ends_with("net=yes\n"), "{real}");
    drop(listener);
}
