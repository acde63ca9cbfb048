//! The engine through the real CLI on small real packages: cross builds,
//! no-op rebuilds, cache restores, exact rebuilds after a change, and the
//! errors users get for bad input.

mod common;

use common::{Tree, steps_with, unpack_cpio};
use std::process::Command;

const BOARD: &str = "PACKAGE_TOOLCHAIN_EXTERNAL=y\nPACKAGE_SKELETON=y\nPACKAGE_HELLO=y\n";

#[test]
fn cross_builds_a_fixture_and_runs_it_under_qemu_user() {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    let rec = t.record("fix");
    assert_eq!(rec["failed"], 0);
    assert_eq!(steps_with(&rec, "built").len(), 5, "{rec}");

    let rootfs = t.tmp.path().join("rootfs");
    unpack_cpio(&t.root.join("output/fix/images/rootfs.cpio.gz"), &rootfs);
    let out = Command::new("qemu-arm")
        .arg("-L")
        .arg(&rootfs)
        .arg(rootfs.join("usr/bin/hello"))
        .output();
    let out = out.expect("qemu-arm (install qemu-user)");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from forge\n");

    // Ownership and device nodes come from metadata, not the build user.
    let list = Command::new("sh")
        .arg("-c")
        .arg("gzip -dc output/fix/images/rootfs.cpio.gz | cpio -itv --numeric-uid-gid --quiet")
        .current_dir(&t.root)
        .output()
        .expect("cpio");
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.lines().any(|l| l.starts_with("crw-------")
            && l.contains("5,   1")
            && l.ends_with("dev/console")),
        "{list}"
    );
    assert!(
        list.lines()
            .filter(|l| !l.is_empty())
            .all(|l| l.split_whitespace().nth(2) == Some("0")),
        "{list}"
    );
}

#[test]
fn second_build_is_a_no_op_and_empty_output_restores_from_cache() {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    let image = t.read("output/fix/images/rootfs.cpio.gz");

    let msg = t.ok(&[]);
    assert!(msg.contains("nothing to do"), "{msg}");
    assert_eq!(steps_with(&t.record("fix"), "built"), Vec::<String>::new());

    // An image changed in place (as qemu does to a drive) is put back.
    let path = t.root.join("output/fix/images/rootfs.cpio.gz");
    let mut scribbled = image.clone();
    scribbled[100] ^= 0xff;
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&path, &scribbled).expect("scribble");
    t.ok(&[]);
    assert_eq!(steps_with(&t.record("fix"), "built"), Vec::<String>::new());
    assert!(
        t.read("output/fix/images/rootfs.cpio.gz") == image,
        "image not restored"
    );

    std::fs::remove_dir_all(t.root.join("output")).expect("rm output");
    t.ok(&["boards/fix_defconfig"]);
    assert_eq!(steps_with(&t.record("fix"), "built"), Vec::<String>::new());
    assert_eq!(
        t.read("output/fix/images/rootfs.cpio.gz"),
        image,
        "restored image differs"
    );
}

#[test]
fn an_option_change_rebuilds_exactly_what_reads_it() {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    let before = t.read("output/fix/images/rootfs.cpio.gz");

    t.write(
        "boards/fix_defconfig",
        &format!("{BOARD}HELLO_GREETING=\"changed\"\n"),
    );
    t.ok(&["boards/fix_defconfig"]);
    let rec = t.record("fix");
    assert_eq!(
        steps_with(&rec, "built"),
        vec!["hello", "rootfs", "rootfs-cpio"],
        "{rec}"
    );
    assert_eq!(
        steps_with(&rec, "cached"),
        vec!["skeleton", "toolchain-external"],
        "{rec}"
    );

    // Back to the first value: everything comes from the cache, same bytes.
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    assert_eq!(steps_with(&t.record("fix"), "built"), Vec::<String>::new());
    assert_eq!(t.read("output/fix/images/rootfs.cpio.gz"), before);
}

#[test]
fn an_identical_rebuild_does_not_cascade() {
    let t = Tree::new();
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    // A comment in the recipe changes the package dir digest, so hello
    // rebuilds; its output is identical, so nothing after it does.
    let recipe = t.root.join("packages/hello/hello.ron");
    let text = std::fs::read_to_string(&recipe).expect("read");
    std::fs::write(&recipe, format!("// touched\n{text}")).expect("write");
    t.ok(&[]);
    let rec = t.record("fix");
    assert_eq!(steps_with(&rec, "built"), vec!["hello"], "{rec}");
}

#[test]
fn savedefconfig_round_trip_is_byte_identical() {
    let t = Tree::new();
    let text = "# A fixture board\nPACKAGE_TOOLCHAIN_EXTERNAL=y\n\n# the program\nPACKAGE_HELLO=y\nPACKAGE_SKELETON=y\nHELLO_GREETING=\"hi there\"\n";
    t.write("boards/fix_defconfig", text);
    t.ok(&["boards/fix_defconfig", "hello"]);
    t.ok(&["savedefconfig"]);
    assert_eq!(
        String::from_utf8_lossy(&t.read("boards/fix_defconfig")),
        text
    );
}

#[test]
fn a_bad_defconfig_line_names_file_line_and_a_suggestion() {
    let t = Tree::new();
    t.write(
        "boards/fix_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_HELO=y\n",
    );
    let err = t.fails(&["boards/fix_defconfig"]);
    assert!(err.contains("fix_defconfig:2"), "{err}");
    assert!(err.contains("PACKAGE_HELLO"), "{err}");

    t.write("boards/fix_defconfig", "PACKAGE_SKELETON=maybe\n");
    let err = t.fails(&["boards/fix_defconfig"]);
    assert!(err.contains("fix_defconfig:1"), "{err}");
}

#[test]
fn a_broken_recipe_names_file_line_and_field() {
    let t = Tree::new();
    t.write("packages/broken/broken.ron", "Recipe(\n    name: \"broken\",\n    version: \"1\",\n    dependencies: [],\n    kind: Generic(),\n)\n");
    let err = t.fails(&["boards/qemu_arm_vexpress_defconfig"]);
    assert!(err.contains("broken.ron:4:"), "{err}");
    assert!(err.contains("dependencies"), "{err}");
}

#[test]
fn a_misspelt_option_in_a_recipe_command_fails_before_any_step() {
    let t = Tree::new();
    let recipe = String::from_utf8_lossy(&t.read("packages/hello/hello.ron")).into_owned();
    let broken = recipe.replace("${HELLO_GREETING}", "${HELO_GREETING}");
    assert_ne!(recipe, broken);
    t.write("packages/hello/hello.ron", &broken);
    let (line, col) = broken
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find("${HELO_GREETING}").map(|c| (i + 1, c + 1)))
        .expect("the misspelt reference");
    t.write("boards/fix_defconfig", BOARD);
    let err = t.fails(&["boards/fix_defconfig"]);
    assert!(err.contains(&format!("hello.ron:{line}:{col}:")), "{err}");
    assert!(err.contains("HELO_GREETING"), "{err}");
    assert!(err.contains("did you mean `${HELLO_GREETING}`"), "{err}");
    assert!(
        err.contains("a shell variable is written `$HELO_GREETING`"),
        "{err}"
    );
    assert!(!t.root.join("output/fix/build").exists(), "{err}");
    assert!(!t.root.join("output/fix/logs").exists(), "{err}");
}

#[test]
fn unknown_dependencies_and_cycles_are_named() {
    let t = Tree::new();
    t.write(
        "packages/a/a.ron",
        "Recipe(name: \"a\", version: \"1\",\n depends: [\"b\"], kind: Generic())\n",
    );
    t.write(
        "packages/b/b.ron",
        "Recipe(name: \"b\", version: \"1\",\n depends: [\"a\"], kind: Generic())\n",
    );
    t.write("boards/cyc_defconfig", "PACKAGE_A=y\n");
    let err = t.fails(&["boards/cyc_defconfig"]);
    assert!(err.contains("dependency cycle: a -> b -> a"), "{err}");

    t.write(
        "packages/b/b.ron",
        "Recipe(name: \"b\", version: \"1\",\n depends: [\"hellp\"], kind: Generic())\n",
    );
    let err = t.fails(&["boards/cyc_defconfig"]);
    assert!(err.contains("b.ron:2:"), "{err}");
    assert!(err.contains("did you mean \"hello\""), "{err}");
}

#[test]
fn a_failing_step_shows_its_log_tail_and_path() {
    let t = Tree::new();
    t.write(
        "packages/fails/fails.ron",
        "Recipe(name: \"fails\", version: \"1\", kind: Generic(build: [\"echo compiling widget.c\", \"echo 'widget.c:3: error: boom' >&2; exit 2\"]))\n",
    );
    t.write(
        "boards/f_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_FAILS=y\n",
    );
    let err = t.fails(&["boards/f_defconfig"]);
    assert!(err.contains("widget.c:3: error: boom"), "{err}");
    assert!(err.contains("logs/fails.log"), "{err}");
    assert_eq!(t.record("f")["failed"], 1);
}

/// A `Url` recipe for a tarball made by python's tarfile from `members`
/// (name, content); returns the tarball's sha256.
fn tarball_recipe(t: &Tree, name: &str, members: &[(&str, &str)], sha256: Option<&str>) -> String {
    let tarball = t.tmp.path().join(format!("{name}-1.0.tar.gz"));
    let mut script =
        String::from("import io, sys, tarfile\nt = tarfile.open(sys.argv[1], 'w:gz')\n");
    for (member, content) in members {
        script.push_str(&format!(
            "d = {content:?}.encode()\ni = tarfile.TarInfo({member:?})\ni.size = len(d)\nt.addfile(i, io.BytesIO(d))\n"
        ));
    }
    script.push_str("t.close()\n");
    let status = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .arg(&tarball)
        .status()
        .expect("python3");
    assert!(status.success());
    let real = forge::sources::fetch::sha256_file(&tarball).expect("sha256");
    let sha = sha256.unwrap_or(&real).to_string();
    t.write(
        &format!("packages/{name}/{name}.ron"),
        &format!(
            "Recipe(name: {name:?}, version: \"1.0\",\n source: Url(url: \"file://{}\", sha256: {sha:?}),\n kind: Generic(install: [\"cp -r . \\\"$TARGET_DIR/opt\\\"\"]))\n",
            tarball.display()
        ),
    );
    real
}

fn cached_steps(t: &Tree) -> Vec<String> {
    let mut steps = Vec::new();
    for entry in walkdir::WalkDir::new(t.cache.join("actions"))
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_file() {
            let action: serde_json::Value =
                serde_json::from_slice(&std::fs::read(entry.path()).expect("read")).expect("json");
            steps.push(action["step"].as_str().unwrap_or_default().to_string());
        }
    }
    steps
}

#[test]
fn a_url_source_is_fetched_verified_and_extracted() {
    let t = Tree::new();
    tarball_recipe(
        &t,
        "tarred",
        &[("tarred-1.0/README", "real content\n")],
        None,
    );
    t.write(
        "boards/u_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_TARRED=y\n",
    );
    t.ok(&["boards/u_defconfig"]);
    assert!(t.dl().join("tarred/tarred-1.0.tar.gz").is_file());
    assert_eq!(
        t.read("output/u/build/tarred/out/target/opt/README"),
        b"real content\n"
    );
}

#[test]
fn a_wrong_sha256_is_refused_and_nothing_is_kept() {
    let t = Tree::new();
    let wrong = "0".repeat(64);
    let real = tarball_recipe(&t, "tarred", &[("tarred-1.0/README", "x\n")], Some(&wrong));
    t.write(
        "boards/u_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_TARRED=y\n",
    );
    let err = t.fails(&["boards/u_defconfig"]);
    assert!(err.contains(&wrong) && err.contains(&real), "{err}");
    let dl = t.dl().join("tarred");
    let kept: Vec<_> = std::fs::read_dir(&dl)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(kept.is_empty(), "left in dl/: {kept:?}");
    assert!(!cached_steps(&t).contains(&"tarred".to_string()));
}

#[test]
fn a_hostile_tarball_is_refused() {
    let t = Tree::new();
    tarball_recipe(
        &t,
        "tarred",
        &[
            ("tarred-1.0/ok", "fine\n"),
            ("tarred-1.0/../../../escaped", "evil\n"),
        ],
        None,
    );
    t.write(
        "boards/u_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_TARRED=y\n",
    );
    let err = t.fails(&["boards/u_defconfig"]);
    assert!(err.contains("escaped"), "{err}");
    assert!(!cached_steps(&t).contains(&"tarred".to_string()));
    assert!(
        !t.root.join("output/u/build/escaped").exists() && !t.root.join("output/escaped").exists()
    );
}

#[test]
fn patches_apply_in_order_and_a_failing_one_names_itself() {
    let t = Tree::new();
    t.write(
        "packages/hello/0001-greeting.patch",
        "--- a/hello.c\n+++ b/hello.c\n@@ -1,4 +1,5 @@\n #include <stdio.h>\n+/* patched */\n \n #ifndef GREETING\n #define GREETING \"hello\"\n",
    );
    let recipe = String::from_utf8(t.read("packages/hello/hello.ron")).expect("utf8");
    t.write(
        "packages/hello/hello.ron",
        &recipe.replace(
            "depends:",
            "patches: [\"0001-greeting.patch\"],\n    depends:",
        ),
    );
    t.write("boards/fix_defconfig", BOARD);
    t.ok(&["boards/fix_defconfig"]);
    let patched = t.read("output/fix/build/hello/src/hello.c");
    assert!(String::from_utf8_lossy(&patched).contains("/* patched */"));

    t.write("packages/hello/0001-greeting.patch", "--- a/hello.c\n+++ b/hello.c\n@@ -1,2 +1,2 @@\n-#include <nothing.h>\n+#include <stdio.h>\n");
    let err = t.fails(&[]);
    assert!(
        err.contains("0001-greeting.patch") && err.contains("does not apply"),
        "{err}"
    );
}

#[test]
fn an_overridden_source_keeps_its_work_tree_and_follows_edits() {
    let t = Tree::new();
    let local = t.tmp.path().join("my-hello");
    std::fs::create_dir_all(&local).expect("mkdir");
    for f in ["hello.c", "Makefile"] {
        std::fs::copy(t.root.join("packages/hello/src").join(f), local.join(f)).expect("copy");
    }
    t.write("boards/fix_defconfig", BOARD);
    t.write(
        "output/fix/overrides.ron",
        &format!("{{\"hello\": {:?}}}\n", local.display().to_string()),
    );
    t.ok(&["boards/fix_defconfig"]);
    let work = t.root.join("output/fix/build/hello/src");
    std::fs::write(work.join("leftover.o"), b"kept").expect("write");

    let code = std::fs::read_to_string(local.join("hello.c")).expect("read");
    std::fs::write(
        local.join("hello.c"),
        code.replace(
            "printf(\"%s\\n\", GREETING);",
            "printf(\"%s!\\n\", GREETING);",
        ),
    )
    .expect("write");
    t.ok(&[]);
    assert_eq!(
        steps_with(&t.record("fix"), "built"),
        vec!["hello", "rootfs", "rootfs-cpio"]
    );
    assert!(
        work.join("leftover.o").is_file(),
        "the kept work tree was wiped"
    );

    let rootfs = t.tmp.path().join("rootfs");
    unpack_cpio(&t.root.join("output/fix/images/rootfs.cpio.gz"), &rootfs);
    let out = Command::new("qemu-arm")
        .arg("-L")
        .arg(&rootfs)
        .arg(rootfs.join("usr/bin/hello"))
        .output()
        .expect("qemu-arm");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from forge!\n");
}

/// Two independent steps that each record when they ran and what make saw.
fn timing_packages(t: &Tree) {
    for name in ["slow-a", "slow-b"] {
        t.write(
            &format!("packages/{name}/{name}.ron"),
            &format!(
                "Recipe(name: {name:?}, version: \"1\", kind: Generic(build: [\
                 \"printf 'all:\\\\n\\\\t@echo \\\"$$MAKEFLAGS\\\" > makeflags\\\\n' > Makefile\", \"make\", \
                 \"date +%s.%N > start; sleep 1; date +%s.%N > end\", \
                 \"mkdir -p $TARGET_DIR/{name} && cp start end makeflags $TARGET_DIR/{name}/\"]))\n"
            ),
        );
    }
    t.write(
        "boards/par_defconfig",
        "PACKAGE_SLOW_A=y\nPACKAGE_SLOW_B=y\n",
    );
}

fn interval(t: &Tree, name: &str) -> (f64, f64) {
    let read = |f: &str| -> f64 {
        let p = format!("output/par/build/{name}/out/target/{name}/{f}");
        String::from_utf8_lossy(&t.read(&p))
            .trim()
            .parse()
            .expect("time")
    };
    (read("start"), read("end"))
}

#[test]
fn independent_steps_run_in_parallel_under_one_jobserver() {
    let t = Tree::new();
    timing_packages(&t);
    t.ok(&["-j", "2", "boards/par_defconfig"]);
    let (a, b) = (interval(&t, "slow-a"), interval(&t, "slow-b"));
    assert!(
        a.0 < b.1 && b.0 < a.1,
        "with -j2 the steps did not overlap: {a:?} {b:?}"
    );
    let flags =
        String::from_utf8_lossy(&t.read("output/par/build/slow-a/out/target/slow-a/makeflags"))
            .into_owned();
    assert!(
        flags.contains("--jobserver-auth="),
        "make saw no jobserver: {flags}"
    );

    // One token: the same steps run one after the other.
    std::fs::remove_dir_all(&t.cache).expect("rm cache");
    t.ok(&["-j", "1"]);
    let (a, b) = (interval(&t, "slow-a"), interval(&t, "slow-b"));
    assert!(
        a.1 <= b.0 || b.1 <= a.0,
        "with -j1 the steps overlapped: {a:?} {b:?}"
    );
}

#[test]
fn a_killed_build_is_finished_cleanly_by_the_next_one() {
    let t = Tree::new();
    timing_packages(&t);
    let mut child = Command::new(env!("CARGO_BIN_EXE_forge"))
        .args(["-j", "2", "boards/par_defconfig"])
        .current_dir(&t.root)
        .env("FORGE_CACHE_DIR", &t.cache)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("forge");
    let started = t.root.join("output/par/build/slow-a/src/start");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !started.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(started.exists(), "the step never started");
    child.kill().expect("kill -9");
    child.wait().expect("reap");

    // The step's own processes outlive forge; the next build waits for them
    // instead of racing them, then completes.
    let out = t.forge(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("waiting"),
        "did not wait for the killed build's processes: {err}"
    );
    assert_eq!(t.record("par")["failed"], 0);
    let msg = t.ok(&[]);
    assert!(msg.contains("nothing to do"), "{msg}");
}

#[test]
fn the_demo_board_defconfig_round_trips_byte_for_byte() {
    let t = Tree::new();
    let before = String::from_utf8(t.read("boards/qemu_arm_vexpress_defconfig")).expect("utf8");
    // Configure only (building up to the skeleton keeps this fast).
    t.ok(&["boards/qemu_arm_vexpress_defconfig", "skeleton"]);
    let dot = String::from_utf8(t.read("output/qemu_arm_vexpress/.config")).expect("utf8");
    assert!(
        dot.contains("boards/qemu_arm_vexpress_defconfig"),
        "the .config must remember its defconfig"
    );
    assert!(
        dot.contains("ROOTFS_CPIO=y"),
        "the .config holds every value, defaults too"
    );
    t.ok(&["savedefconfig"]);
    assert_eq!(
        String::from_utf8(t.read("boards/qemu_arm_vexpress_defconfig")).expect("utf8"),
        before
    );
}

/// A package's `host/` tools are on PATH for the steps that depend on it
/// (as U-Boot's mkimage is), and for the post-image scripts; a change to
/// the tool rebuilds its users.
#[test]
fn host_tools_of_dependencies_are_on_path() {
    let t = Tree::new();
    t.write(
        "packages/stamper/stamper.ron",
        "Recipe(name: \"stamper\", version: \"1\", kind: Generic(build: [\
         \"mkdir -p $HOST_DIR/bin\", \
         \"printf '#!/bin/sh\\\\necho stamped-v1 \\\"$1\\\"\\\\n' > $HOST_DIR/bin/forge-stamp\", \
         \"chmod 755 $HOST_DIR/bin/forge-stamp\"]))\n",
    );
    t.write(
        "packages/user/user.ron",
        "Recipe(name: \"user\", version: \"1\", depends: [\"stamper\"], kind: Generic(build: [\
         \"mkdir -p $TARGET_DIR/etc\", \"forge-stamp user > $TARGET_DIR/etc/stamp\"]))\n",
    );
    t.write(
        "boards/post-image.sh",
        "#!/bin/sh\nforge-stamp image > \"$1/stamp.txt\"\n",
    );
    let script = t.root.join("boards/post-image.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    t.write(
        "boards/tools_defconfig",
        "PACKAGE_USER=y\nPOST_IMAGE_SCRIPT=\"boards/post-image.sh\"\n",
    );
    t.ok(&["boards/tools_defconfig"]);
    let stamp = |rel: &str| String::from_utf8_lossy(&t.read(rel)).into_owned();
    assert_eq!(
        stamp("output/tools/build/user/out/target/etc/stamp"),
        "stamped-v1 user\n"
    );
    assert_eq!(stamp("output/tools/images/stamp.txt"), "stamped-v1 image\n");

    // A new version of the tool rebuilds the package that used it.
    let recipe = String::from_utf8(t.read("packages/stamper/stamper.ron")).expect("utf8");
    t.write(
        "packages/stamper/stamper.ron",
        &recipe.replace("stamped-v1", "stamped-v2"),
    );
    t.ok(&[]);
    assert_eq!(
        stamp("output/tools/build/user/out/target/etc/stamp"),
        "stamped-v2 user\n"
    );
    assert_eq!(stamp("output/tools/images/stamp.txt"), "stamped-v2 image\n");
}

/// A `Path` option a recipe declares reaches its commands as a variable of
/// the option's name holding the absolute paths (the value names them
/// relative to the project), and an edit of that file rebuilds the package.
#[test]
fn path_options_are_absolute_paths_in_the_environment() {
    let t = Tree::new();
    t.write(
        "packages/greeter/greeter.ron",
        "Recipe(name: \"greeter\", version: \"1\", \
         options: {\"GREETER_FILES\": Path(default: \"\", help: \"Files to install.\")}, \
         kind: Generic(install: [\
         \"mkdir -p $TARGET_DIR/etc\", \
         \"for f in $GREETER_FILES; do case $f in /*) cat $f >> $TARGET_DIR/etc/greeting;; *) exit 3;; esac; done\"]))\n",
    );
    t.write("boards/files/a.txt", "hello\n");
    t.write("boards/files/b.txt", "world\n");
    t.write(
        "boards/greet_defconfig",
        "PACKAGE_GREETER=y\nGREETER_FILES=\"boards/files/a.txt boards/files/b.txt\"\n",
    );
    t.ok(&["boards/greet_defconfig"]);
    let greeting = || {
        String::from_utf8_lossy(&t.read("output/greet/build/greeter/out/target/etc/greeting"))
            .into_owned()
    };
    assert_eq!(greeting(), "hello\nworld\n");
    t.write("boards/files/b.txt", "again\n");
    t.ok(&[]);
    assert_eq!(greeting(), "hello\nagain\n");
}
