//! Filesystem images written without root privileges: the neutral entry
//! list ([`entries`]) that describes ownership, modes and device nodes, and
//! the writers that turn it into an image ([`cpio`] for initramfs). Also
//! home to the end-to-end tests: entry lists, shaped by device tables,
//! written out and read back with the system's archive tools.

pub mod cpio;
pub mod disk;
pub mod entries;
pub mod ext4;
pub mod fat;
pub mod squashfs;
pub mod stage;
pub mod tar;
pub mod tool;
pub mod ubi;

pub use cpio::{Compression, CpioError, write_compressed_cpio, write_cpio};
pub use entries::{EntryKind, FileData, ImageEntry, add_missing_parents, sort_entries};

/// End-to-end tests: entry lists (optionally shaped by a device table)
/// written as cpio, checked with the system `cpio`, `gzip`, `xz`, `zstd`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::devtable::{apply_device_table, parse_device_table};
    use std::path::Path;
    use std::process::{Command, Stdio};

    const MTIME: u32 = 1_700_000_000;

    fn entry(path: &str, mode: u32, uid: u32, gid: u32, kind: EntryKind) -> ImageEntry {
        ImageEntry {
            path: path.into(),
            uid,
            gid,
            mode,
            kind,
        }
    }

    fn bytes(b: &[u8]) -> EntryKind {
        EntryKind::File {
            data: FileData::Bytes(b.to_vec()),
        }
    }

    /// A small root: dirs, Bytes and Path files, symlink, setuid, devices
    /// (the writers' shared sample, without its home directory).
    fn sample(dir: &Path) -> Vec<ImageEntry> {
        crate::image::stage::sample_entries(dir)
            .into_iter()
            .filter(|e| e.path != "home" && !e.path.starts_with("home/"))
            .collect()
    }

    /// Runs `cmd` with `input` on stdin, returning stdout (must succeed).
    fn run(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let feeder = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap().unwrap();
        assert!(out.status.success(), "{cmd:?} failed");
        out.stdout
    }

    /// `cpio -itv --numeric-uid-gid` as (mode, uid, gid, size-or-dev, name).
    fn listing(archive: &[u8]) -> Vec<(String, String, String, String, String)> {
        let out = run(
            Command::new("cpio").args(["-itv", "--numeric-uid-gid", "--quiet"]),
            archive,
        );
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let dev = f[4].ends_with(',');
                let size = if dev {
                    format!("{}{}", f[4], f[5])
                } else {
                    f[4].to_string()
                };
                let name = f[if dev { 9 } else { 8 }..].join(" ");
                (f[0].into(), f[2].into(), f[3].into(), size, name)
            })
            .collect()
    }

    #[test]
    fn system_cpio_reads_names_modes_owners_devices() {
        let dir = tempfile::tempdir().unwrap();
        let archive = write_cpio(&sample(dir.path()), MTIME, Vec::new()).unwrap();
        assert_eq!(&archive[..6], b"070701");
        assert_eq!(archive.len() % 4, 0);
        let got = listing(&archive);
        let row = |m: &str, u: &str, g: &str, s: &str, n: &str| {
            (
                m.to_string(),
                u.to_string(),
                g.to_string(),
                s.to_string(),
                n.to_string(),
            )
        };
        let want = vec![
            row("drwxr-xr-x", "0", "0", "0", "bin"),
            row("-rwsr-xr-x", "0", "0", "20", "bin/busybox"),
            row("lrwxrwxrwx", "0", "0", "7", "bin/sh -> busybox"),
            row("drwxr-xr-x", "0", "0", "0", "dev"),
            row("crw-------", "0", "5", "5,1", "dev/console"),
            row("prw-------", "0", "0", "0", "dev/initctl"),
            row("brw-rw----", "0", "6", "8,0", "dev/sda"),
            row("drwxr-xr-x", "0", "0", "0", "etc"),
            row("-rw-------", "0", "0", "0", "etc/empty"),
            row("-rw-r--r--", "1000", "100", "6", "etc/hostname"),
            row("drwxrwxrwt", "0", "0", "0", "tmp"),
        ];
        assert_eq!(got, want);

        let out = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("cpio");
        cmd.args(["-idm", "--quiet", "--no-preserve-owner", "bin/*", "etc/*"])
            .current_dir(out.path());
        run(&mut cmd, &archive);
        assert_eq!(
            std::fs::read(out.path().join("bin/busybox")).unwrap(),
            b"\x7fELF pretend busybox"
        );
        assert_eq!(
            std::fs::read(out.path().join("etc/hostname")).unwrap(),
            b"forge\n"
        );
        assert_eq!(
            std::fs::read_link(out.path().join("bin/sh")).unwrap(),
            Path::new("busybox")
        );
        let meta = std::fs::metadata(out.path().join("etc/hostname")).unwrap();
        use std::os::unix::fs::MetadataExt as _;
        assert_eq!(meta.mtime(), i64::from(MTIME));
    }

    #[test]
    fn inodes_links_and_trailer() {
        let v = vec![
            ImageEntry::dir("d", 0o755),
            entry("d/f", 0o644, 0, 0, bytes(b"abcde")),
        ];
        let a = write_cpio(&v, 7, Vec::new()).unwrap();
        let field = |rec: usize, i: usize| std::str::from_utf8(&a[rec + 6 + i * 8..][..8]).unwrap();
        assert_eq!(
            (field(0, 0), field(0, 1), field(0, 4), field(0, 5)),
            ("00000001", "000041ED", "00000002", "00000007")
        );
        // "d\0" ends at 112, padded to 112; file header starts there.
        assert_eq!(
            (field(112, 0), field(112, 4), field(112, 6)),
            ("00000002", "00000001", "00000005")
        );
        // 112 + 110 + "d/f\0" = 226 → 228, data 5 → pad to 236: trailer.
        assert_eq!(&a[236 + 110..236 + 120], b"TRAILER!!!");
        assert_eq!(a.len(), 236 + 124);
    }

    #[test]
    fn compressed_variants_decompress_and_are_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample(dir.path());
        let plain = write_cpio(&entries, MTIME, Vec::new()).unwrap();
        let cases = [
            (Compression::None, "cat", vec![]),
            (Compression::Gzip, "gzip", vec!["-dc"]),
            (Compression::Xz, "xz", vec!["-dc"]),
            (Compression::Zstd, "zstd", vec!["-dcq"]),
        ];
        for (c, tool, args) in cases {
            let (p1, p2) = (
                dir.path().join(format!("{c:?}.1")),
                dir.path().join(format!("{c:?}.2")),
            );
            write_compressed_cpio(&entries, MTIME, c, &p1).unwrap();
            write_compressed_cpio(&entries, MTIME, c, &p2).unwrap();
            let (b1, b2) = (std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
            assert_eq!(b1, b2, "{c:?} not reproducible");
            assert_eq!(run(Command::new(tool).args(&args), &b1), plain, "{c:?}");
        }
        let gz = std::fs::read(dir.path().join("Gzip.1")).unwrap();
        assert_eq!(
            (gz[3] & 0x08, &gz[4..8]),
            (0, &[0u8; 4][..]),
            "gzip name/mtime"
        );
        let xz = Command::new("xz")
            .args(["-lvv"])
            .arg(dir.path().join("Xz.1"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&xz.stdout);
        assert!(text.contains("CRC32") && !text.contains("CRC64"), "{text}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    }

    #[test]
    fn same_inputs_give_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_cpio(&sample(dir.path()), MTIME, Vec::new()).unwrap();
        let b = write_cpio(&sample(dir.path()), MTIME, Vec::new()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn invalid_lists_are_rejected() {
        let f = |p: &str| entry(p, 0o644, 0, 0, bytes(b"x"));
        let bad: Vec<(Vec<ImageEntry>, &str)> = vec![
            (vec![f("a/b")], "parent directory `a`"),
            (vec![f("a"), f("a")], "more than once"),
            (vec![f("/abs")], "relative"),
            (vec![entry("x", 0o100644, 0, 0, bytes(b""))], "beyond 7777"),
            (vec![f("a"), f("a/b")], "parent directory `a`"),
            (
                vec![entry(
                    "c",
                    0o600,
                    0,
                    0,
                    EntryKind::CharDev {
                        major: 4096,
                        minor: 0,
                    },
                )],
                "out of range",
            ),
        ];
        for (v, want) in bad {
            let err = write_cpio(&v, 0, Vec::new()).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
        let missing = vec![entry(
            "m",
            0o644,
            0,
            0,
            EntryKind::File {
                data: FileData::Path("/nonexistent/m".into()),
            },
        )];
        let err = write_cpio(&missing, 0, Vec::new()).unwrap_err().to_string();
        assert!(
            err.starts_with("/nonexistent/m: reading contents of image entry `m`"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.cpio");
        assert!(write_compressed_cpio(&missing, 0, Compression::Gzip, &target).is_err());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temp file left behind"
        );
    }

    #[test]
    fn device_table_shapes_the_archive() {
        let table = "# Buildroot-style table\n\
            /dev        d 755  0 0 - - - - -\n\
            /dev/console c 600 0 5 5 1 - - -\n\
            /dev/ttyS   c 666  0 0 4 64 0 1 4\n\
            /bin/busybox f 4755 0 0 - - - - -\n\
            /home/user  d 700 1000 1000 - - - - -\n";
        let entries = parse_device_table(Path::new("table.txt"), table).unwrap();
        let mut v = vec![entry("bin/busybox", 0o755, 1000, 1000, bytes(b"bb"))];
        add_missing_parents(&mut v);
        apply_device_table(&mut v, &entries).unwrap();
        sort_entries(&mut v);
        let got: Vec<(String, String, String, String, String)> =
            listing(&write_cpio(&v, MTIME, Vec::new()).unwrap());
        let names: Vec<String> = got
            .iter()
            .map(|r| format!("{} {}:{} {} {}", r.0, r.1, r.2, r.3, r.4))
            .collect();
        assert_eq!(
            names,
            [
                "drwxr-xr-x 0:0 0 bin",
                "-rwsr-xr-x 0:0 2 bin/busybox",
                "drwxr-xr-x 0:0 0 dev",
                "crw------- 0:5 5,1 dev/console",
                "crw-rw-rw- 0:0 4,64 dev/ttyS0",
                "crw-rw-rw- 0:0 4,65 dev/ttyS1",
                "crw-rw-rw- 0:0 4,66 dev/ttyS2",
                "crw-rw-rw- 0:0 4,67 dev/ttyS3",
                "drwxr-xr-x 0:0 0 home",
                "drwx------ 1000:1000 0 home/user",
            ]
        );
    }

    #[test]
    fn device_table_apply_rules() {
        let table = |text: &str| parse_device_table(Path::new("t.txt"), text).unwrap();
        let link = EntryKind::Symlink {
            target: "usr/bin".into(),
        };
        let mut v = vec![
            entry("usr/bin/x", 0o755, 1000, 1000, bytes(b"x")),
            entry("usr/lib/l.so", 0o644, 1000, 1000, bytes(b"")),
            entry("bin", 0o777, 0, 0, link),
            entry("dev/null", 0o644, 1000, 0, bytes(b"")),
        ];
        add_missing_parents(&mut v);
        let text = "/usr r 700 0 0 - - - - -\n/dev/null c 666 0 0 1 3 - - -\n\
            /var/lib/x d 700 1 2 - - - - -\n/usr/lib/l.so f - 0 5 - - - - -\n";
        apply_device_table(&mut v, &table(text)).unwrap();
        sort_entries(&mut v);
        let got: Vec<String> = v
            .iter()
            .map(|e| {
                format!(
                    "{} {:o} {}:{} {}",
                    e.path,
                    e.mode,
                    e.uid,
                    e.gid,
                    e.kind.describe()
                )
            })
            .collect();
        let want = [
            "bin 777 0:0 a symlink",
            "dev 755 0:0 a directory",
            "dev/null 666 0:0 a character device",
            "usr 700 0:0 a directory",
            "usr/bin 700 0:0 a directory",
            "usr/bin/x 755 0:0 a regular file",
            "usr/lib 700 0:0 a directory",
            "usr/lib/l.so 644 0:5 a regular file",
            "var 755 0:0 a directory",
            "var/lib 755 0:0 a directory",
            "var/lib/x 700 1:2 a directory",
        ];
        assert_eq!(got, want);

        let errors = [
            "\n/nope f 644 0 0 - - - - - => t.txt:2: `/nope`: no such file in the image",
            "/bin f 755 0 0 - - - - - => `/bin`: is a symlink, not a regular file",
            "/usr c 600 0 0 1 1 - - - => `/usr`: is a directory; cannot replace it",
            "/usr/bin/x/y d 755 0 0 - - - - - => `/usr/bin/x`: is a regular file, not a dir",
            "/usr/bin/x d 755 0 0 - - - - - => is a regular file, not a directory",
            "/bin r - 0 0 - - - - - => `/bin`: is a symlink, not a directory",
            "/opt r - 0 0 - - - - - => `/opt`: no such directory in the image",
        ];
        for case in errors {
            let (text, want) = case.split_once(" => ").unwrap();
            let err = apply_device_table(&mut v.clone(), &table(text)).unwrap_err();
            assert!(err.to_string().contains(want), "{text:?}: {err}");
        }
    }
}
