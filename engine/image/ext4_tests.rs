//! Tests of the ext2/3/4 writer: features per type, e2fsck-clean and
//! reproducible images with exact metadata, the no-namespace fallback,
//! errors, and the tools going through the executor.

use super::*;
use crate::image::stage::sample_entries;
use std::process::Command;

/// e2fsprogs' tools, found even when `PATH` lacks `/usr/sbin`.
fn sbin(tool: &str) -> std::path::PathBuf {
    find_tool(Path::new("test"), tool, E2FSPROGS).unwrap()
}

fn opts(seed: &str) -> Ext4Options {
    Ext4Options {
        fs_type: ExtType::Ext4,
        size_bytes: 8 << 20,
        label: "rootfs".into(),
        inodes: Some(256),
        reserved_percent: 0,
        uuid_seed: seed.into(),
    }
}

fn stat(img: &Path, p: &str) -> String {
    let out = Command::new(sbin("debugfs"))
        .arg("-R")
        .arg(format!("stat {p}"))
        .arg(img)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn assert_fsck_clean(img: &Path) {
    let fsck = Command::new(sbin("e2fsck"))
        .arg("-fn")
        .arg(img)
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
}

#[test]
fn ext2_and_ext3_have_their_features_and_the_hosts_config_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(dir.path());
    let features = |img: &Path| {
        let out = Command::new(sbin("dumpe2fs"))
            .arg("-h")
            .arg(img)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("Filesystem features:"))
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    for (fs_type, journal, extents) in [
        (ExtType::Ext2, false, false),
        (ExtType::Ext3, true, false),
        (ExtType::Ext4, true, true),
    ] {
        let img = dir.path().join(fs_type.name());
        let o = Ext4Options {
            fs_type,
            ..opts("seed")
        };
        write_ext4(&entries, &o, 1_700_000_000, &img).unwrap();
        let f = features(&img);
        assert_eq!(
            f.contains(&"has_journal".to_string()),
            journal,
            "{fs_type:?}: {f:?}"
        );
        assert_eq!(
            f.contains(&"extent".to_string()),
            extents,
            "{fs_type:?}: {f:?}"
        );
        assert_fsck_clean(&img);
    }
    // Every e2fsprogs command runs with forge's configuration, whatever
    // the environment says.
    let cmd = Cmd::new("true").env("MKE2FS_CONFIG", "/etc/hostile.conf");
    let conf = dir.path().join("forge.conf");
    let cmd = fake(cmd, "0", &conf);
    let pinned: Vec<_> = cmd
        .env
        .iter()
        .filter(|(k, _)| k == "MKE2FS_CONFIG")
        .collect();
    assert_eq!(pinned, [&("MKE2FS_CONFIG".into(), conf.clone().into())]);
}

#[test]
fn e2fsck_clean_metadata_exact_and_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(dir.path());
    let (a, b) = (dir.path().join("a.ext4"), dir.path().join("b.ext4"));
    write_ext4(&entries, &opts("seed"), 1_700_000_000, &a).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write_ext4(&entries, &opts("seed"), 1_700_000_000, &b).unwrap();
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "not reproducible"
    );
    assert_fsck_clean(&a);

    let checks = [
        (
            "/bin/busybox",
            vec![
                "Type: regular    Mode:  04755",
                "User:     0   Group:     0",
                "Size: 20",
            ],
        ),
        (
            "/etc/hostname",
            vec!["Mode:  0644", "User:  1000   Group:   100", "Size: 6"],
        ),
        (
            "/home/user",
            vec![
                "Type: directory    Mode:  0700",
                "User:  1000   Group:  1000",
            ],
        ),
        ("/tmp", vec!["Type: directory    Mode:  01777"]),
        (
            "/dev/console",
            vec![
                "Type: character special    Mode:  0600",
                "Group:     5",
                "Device major/minor number: 05:01",
            ],
        ),
        (
            "/dev/sda",
            vec![
                "Type: block special    Mode:  0660",
                "Group:     6",
                "Device major/minor number: 08:00",
            ],
        ),
        ("/dev/initctl", vec!["Type: FIFO    Mode:  0600"]),
        (
            "/bin/sh",
            vec!["Type: symlink", "Fast link dest: \"busybox\""],
        ),
    ];
    for (p, wants) in checks {
        let s = stat(&a, p);
        for w in wants {
            assert!(s.contains(w), "{p}: want {w:?} in\n{s}");
        }
        for t in ["ctime", "atime", "mtime"] {
            assert!(s.contains(&format!(" {t}: 0x6553f100")), "{p} {t}:\n{s}");
        }
    }
    let sb = Command::new(sbin("dumpe2fs"))
        .arg("-h")
        .arg(&a)
        .output()
        .unwrap();
    let sb = String::from_utf8_lossy(&sb.stdout);
    assert!(sb.contains(&seeded_uuid("seed", "ext4 uuid")), "{sb}");
    assert!(sb.contains("Filesystem volume name:   rootfs"), "{sb}");

    let c = dir.path().join("c.ext4");
    write_ext4(&entries, &opts("other"), 1_700_000_000, &c).unwrap();
    assert!(std::fs::read(&a).unwrap() != std::fs::read(&c).unwrap());
}

/// Without user namespaces staged files show the build user as owner;
/// the debugfs script must then correct every entry. (As root this is
/// the same as [`Staging::Root`]; run the tests as another user to
/// exercise it fully.)
#[test]
fn fallback_without_user_namespace_sets_every_owner() {
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(dir.path());
    // SAFETY: plain id queries.
    let me = unsafe { (libc::geteuid(), libc::getegid()) };
    let p = dir.path().join("u.ext4");
    let staging = Staging::AsUser(me.0, me.1);
    write_ext4_as(&PLAIN, &entries, &opts("s"), 7, &p, staging).unwrap();
    assert!(stat(&p, "/etc/empty").contains("User:     0   Group:     0"));
    assert!(stat(&p, "/bin/sh").contains("User:     0   Group:     0"));
    assert!(stat(&p, "/etc/hostname").contains("User:  1000   Group:   100"));
    let script = debugfs_script(&p, &entries, (1000, 1000), 7).unwrap();
    let owners = script.lines().filter(|l| l.contains(" uid ")).count();
    // All but `home/user`, which the build user 1000:1000 already owns.
    assert_eq!(owners, entries.len() - 1, "{script}");
    assert!(!script.contains("\"/home/user\" uid"), "{script}");
}

#[test]
fn the_tools_run_through_the_given_executor() {
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(dir.path());
    let rec = crate::exec::testing::Recording::exiting(0);
    let p = dir.path().join("r.ext4");
    write_ext4_with(&rec, &entries, &opts("s"), 7, &p).unwrap();
    let seen = rec.requests();
    let tools: Vec<String> = seen
        .iter()
        .filter(|c| {
            c.argv
                .iter()
                .any(|a| a.to_string_lossy().contains("debugfs"))
        })
        .chain(seen.iter().filter(|c| {
            c.argv
                .iter()
                .any(|a| a.to_string_lossy().ends_with("mke2fs"))
        }))
        .map(|c| c.program())
        .collect();
    assert_eq!(tools.len(), 2, "{seen:?}");
    for c in seen.iter().filter(|c| c.argv.len() > 3) {
        assert!(c.env.iter().any(|(k, _)| k == "MKE2FS_CONFIG"), "{c:?}");
        assert!(c.outputs.iter().all(|o| o.parent() == p.parent()), "{c:?}");
    }
}

#[test]
fn bad_options_and_tool_failures_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(dir.path());
    let p = dir.path().join("x.ext4");
    let mut o = opts("s");
    o.label = "a-label-longer-than-16".into();
    let err = write_ext4(&entries, &o, 0, &p).unwrap_err().to_string();
    assert!(err.contains("longer than 16 bytes"), "{err}");
    let mut o = opts("s");
    o.size_bytes = 64 << 10; // far too small for the journal
    let err = write_ext4(&entries, &o, 0, &p).unwrap_err().to_string();
    assert!(err.contains("x.ext4: `mke2fs` failed"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["busybox-bin"]);
}
