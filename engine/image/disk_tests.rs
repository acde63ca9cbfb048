//! Tests of the disk image writer: GPT and MBR layouts written twice and
//! read back with `sfdisk -d` and mtools; layout errors.

use super::*;
use std::fs;
use std::process::Command;

#[test]
fn the_tools_run_through_the_given_executor() {
    let dir = tempfile::tempdir().unwrap();
    let text = layout("Gpt");
    let l = parse_layout(Path::new("layout.ron"), &text).unwrap();
    for f in ["zImage", "board.dtb"] {
        fs::write(dir.path().join(f), b"x").unwrap();
    }
    fs::write(dir.path().join("rootfs.img"), b"root").unwrap();
    let rec = crate::exec::testing::Recording::exiting(0);
    let out = dir.path().join("disk.img");
    write_disk_with(&rec, &l, dir.path(), 0, &out).unwrap();
    let seen = rec.requests();
    let sfdisk = seen
        .iter()
        .find(|c| c.program().ends_with("sfdisk"))
        .expect("sfdisk ran");
    let crate::exec::Stdin::Bytes(script) = &sfdisk.stdin else {
        panic!("no script on stdin: {sfdisk:?}")
    };
    assert!(String::from_utf8_lossy(script).starts_with("label: gpt\n"));
    let programs: Vec<String> = seen.iter().map(|c| c.program()).collect();
    assert!(
        programs.iter().any(|p| p.ends_with("mkfs.vfat")),
        "{programs:?}"
    );
    assert!(
        programs.iter().any(|p| p.ends_with("mcopy")),
        "{programs:?}"
    );
}

fn layout(table: &str) -> String {
    format!(
        r#"(
table: {table},
seed: "test-board",
partitions: [
    (name: "boot", size: 8388608, type: "{}", bootable: true,
     content: Fat(label: "BOOT", files: [
        (source: "zImage", dest: "zImage"),
        (source: "board.dtb", dest: "dtbs/vendor/board.dtb"),
     ])),
    (name: "rootfs", size: 4194304, type: "{}", content: File("rootfs.img")),
    (name: "data", size: 1048576, type: "{}", content: Empty),
],
)"#,
        if table == "Gpt" { "U" } else { "c" },
        if table == "Gpt" { "L" } else { "83" },
        if table == "Gpt" { "L" } else { "83" },
    )
}

fn inputs(dir: &Path) {
    fs::write(dir.join("zImage"), b"kernel bytes").unwrap();
    fs::write(dir.join("board.dtb"), b"\xd0\x0d\xfe\xed dtb").unwrap();
    let mut root = vec![0u8; 3 << 20];
    root[..4].copy_from_slice(b"ROOT");
    root[(2 << 20) + 5] = 0x5a;
    fs::write(dir.join("rootfs.img"), root).unwrap();
}

fn tool(cmd: &str, args: &[&str], img: &Path) -> String {
    let mut c = Command::new(find_tool(Path::new("test"), cmd, "fdisk or mtools").unwrap());
    c.args(args);
    if !img.as_os_str().is_empty() {
        c.arg(img);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gpt_and_mbr_disks_have_partitions_fat_files_and_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    for table in ["Gpt", "Mbr"] {
        let l = parse_layout(Path::new("disk.ron"), &layout(table)).unwrap();
        let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
        write_disk(&l, dir.path(), 1_700_000_000, &a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write_disk(&l, dir.path(), 1_700_000_000, &b).unwrap();
        let bytes = fs::read(&a).unwrap();
        assert!(bytes == fs::read(&b).unwrap(), "{table}: not reproducible");

        let dump = tool("sfdisk", &["-d"], &a);
        let parts: Vec<String> = dump
            .lines()
            .filter(|l| l.contains("start="))
            .map(|l| {
                l.split_once(':')
                    .unwrap()
                    .1
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let id = |i: usize| seeded_uuid("test-board", &format!("partition {i}")).to_uppercase();
        let want: Vec<String> = if table == "Gpt" {
            vec![
                format!(
                    "start= 2048, size= 16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid={}, name=\"boot\"",
                    id(0)
                ),
                format!(
                    "start= 18432, size= 8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid={}, name=\"rootfs\"",
                    id(1)
                ),
                format!(
                    "start= 26624, size= 2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid={}, name=\"data\"",
                    id(2)
                ),
            ]
        } else {
            vec![
                "start= 2048, size= 16384, type=c, bootable".into(),
                "start= 18432, size= 8192, type=83".into(),
                "start= 26624, size= 2048, type=83".into(),
            ]
        };
        assert_eq!(parts, want, "{dump}");
        let disk_id = seeded_uuid("test-board", "disk id");
        assert!(
            dump.to_lowercase().contains(&if table == "Gpt" {
                disk_id
            } else {
                format!("0x{}", &disk_id[..8])
            }),
            "{dump}"
        );

        let fat = format!("{}@@{}", a.display(), 2048 * 512);
        let root = tool("mdir", &["-i", &fat, "-b", "-/", "::"], Path::new(""));
        assert_eq!(
            root.lines().collect::<Vec<_>>(),
            [
                "::/dtbs/",
                "::/zImage",
                "::/dtbs/vendor/",
                "::/dtbs/vendor/board.dtb"
            ],
            "{root}"
        );
        let info = tool("mdir", &["-i", &fat, "::"], Path::new(""));
        assert!(info.contains("2023-11-14  22:13"), "{info}");
        let rootfs = 18432 * 512;
        assert_eq!(&bytes[rootfs..rootfs + 4], b"ROOT");
        assert_eq!(bytes[rootfs + (2 << 20) + 5], 0x5a);
    }
}

#[test]
fn layout_errors_are_reported() {
    let err = parse_layout(
        Path::new("d.ron"),
        "(table: Gpt, seed: \"s\", partitions: [(nam: \"x\")])",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("d.ron: 1:"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let mut l = parse_layout(Path::new("d.ron"), &layout("Gpt")).unwrap();
    l.partitions[1].size = 1 << 20; // rootfs.img is 3 MiB
    let out = dir.path().join("x.img");
    let err = write_disk(&l, dir.path(), 0, &out).unwrap_err().to_string();
    assert!(
        err.contains("does not fit its 1048576-byte partition"),
        "{err}"
    );
    l.partitions[1].size = 1000;
    let err = write_disk(&l, dir.path(), 0, &out).unwrap_err().to_string();
    assert!(err.contains("not a positive multiple of 512"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_layout_may_fix_the_disk_size_and_names_its_file() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let text = layout("Mbr").replacen("(\n", "(\nname: \"sd.img\",\nsize: 33554432,\n", 1);
    let l = parse_layout(Path::new("d.ron"), &text).unwrap();
    assert_eq!(l.name, "sd.img");
    assert_eq!(
        l.inputs(),
        [
            Path::new("zImage"),
            Path::new("board.dtb"),
            Path::new("rootfs.img")
        ]
    );
    let out = dir.path().join("sd.img");
    write_disk(&l, dir.path(), 0, &out).unwrap();
    assert_eq!(fs::metadata(&out).unwrap().len(), 32 << 20);
    let dump = tool("sfdisk", &["-d"], &out);
    assert!(dump.contains("label: dos"), "{dump}");

    let mut small = l.clone();
    small.size = Some(8 << 20);
    let err = write_disk(&small, dir.path(), 0, &out)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("disk size 8388608 is smaller than the 14680064 bytes its partitions need"),
        "{err}"
    );
    let bad = text.replace("sd.img", "../sd.img");
    let err = parse_layout(Path::new("d.ron"), &bad)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`../sd.img` is not a plain file name"),
        "{err}"
    );
    assert_eq!(
        parse_layout(Path::new("d.ron"), &layout("Gpt"))
            .unwrap()
            .name,
        "disk.img"
    );
}

#[test]
fn the_demo_boards_sd_card_layout_fills_128_mib() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("boards/qemu_arm_vexpress/sdcard.ron");
    let l = parse_layout(&file, &fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(l.name, "sdcard.img");
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("zImage"), b"kernel").unwrap();
    fs::write(dir.path().join("vexpress-v2p-ca9.dtb"), b"dtb").unwrap();
    fs::write(dir.path().join("rootfs.ext4"), vec![1u8; 1 << 20]).unwrap();
    let out = dir.path().join("sdcard.img");
    write_disk(&l, dir.path(), 0, &out).unwrap();
    assert_eq!(fs::metadata(&out).unwrap().len(), 128 << 20);
    let dump = tool("sfdisk", &["-d"], &out);
    assert!(
        dump.contains("start=       67584, size=      194560, type=83"),
        "{dump}"
    );
}

#[test]
fn an_mbr_disk_signature_names_the_partuuids() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let text = layout("Mbr").replacen("(\n", "(\ndisk_signature: \"0x52504934\",\n", 1);
    let l = parse_layout(Path::new("d.ron"), &text).unwrap();
    let out = dir.path().join("sd.img");
    write_disk(&l, dir.path(), 0, &out).unwrap();
    let dump = tool("sfdisk", &["-d"], &out);
    assert!(dump.contains("label-id: 0x52504934"), "{dump}");

    for (bad, says) in [
        ("0x5250493", "is not 0x and 8 hex digits"),
        ("52504934", "is not 0x and 8 hex digits"),
        ("0x5250493g", "is not 0x and 8 hex digits"),
    ] {
        let t = layout("Mbr").replacen("(\n", &format!("(\ndisk_signature: \"{bad}\",\n"), 1);
        let err = parse_layout(Path::new("d.ron"), &t)
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
    let gpt = layout("Gpt").replacen("(\n", "(\ndisk_signature: \"0x52504934\",\n", 1);
    let err = parse_layout(Path::new("d.ron"), &gpt)
        .unwrap_err()
        .to_string();
    assert!(err.contains("only an MBR"), "{err}");
}
