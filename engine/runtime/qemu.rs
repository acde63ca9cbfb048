//! The qemu launch the board declares through its `QEMU_*` options: firmware, kernel,
//! device tree, initrd and drive from `images/`, console on stdin/stdout,
//! and the guest ports `QEMU_HOSTFWD` forwards (`hostfwd` picks the host ports).
//! `forge run` executes it; `forge test` (`boardtest`) drives it with the
//! drive opened `snapshot=on`, so a test never changes the built image.

use crate::error::{Error, Result};
use crate::load::config::Value;
use crate::runtime::hostfwd::{self, Forwards};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How qemu is launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// qemu's window for the display; the serial console on stdin/stdout.
    Window,
    /// No graphics: the serial console (and qemu's monitor, Ctrl-A c) on
    /// stdin/stdout.
    Serial,
    /// Like `Serial`, and writes to the drive go to a temporary overlay that
    /// qemu discards (`snapshot=on`): the image stays as built.
    Test,
}

/// A qemu command and the host ports its forwarded guest ports got.
#[derive(Debug)]
pub struct Launch {
    pub cmd: Command,
    pub forwards: Forwards,
}

/// The qemu command line for the images in `images`. Outside `Mode::Test`
/// it prints a line per forwarded guest port on stderr (`forge run`).
pub fn command(values: &BTreeMap<String, Value>, images: &Path, mode: Mode) -> Result<Command> {
    let launch = launch(values, images, mode)?;
    if mode != Mode::Test {
        for line in launch.forwards.lines() {
            eprintln!("{line}");
        }
    }
    Ok(launch.cmd)
}

/// The qemu launch for the images in `images`, with a free host port on
/// 127.0.0.1 chosen now for each guest port in `QEMU_HOSTFWD`.
pub fn launch(values: &BTreeMap<String, Value>, images: &Path, mode: Mode) -> Result<Launch> {
    let get = |n: &str| values.get(n).map(Value::as_text).unwrap_or_default();
    let guest_ports = hostfwd::guest_ports(&get("QEMU_HOSTFWD"))?;
    let system = get("QEMU_SYSTEM");
    if system.is_empty() {
        return Err(Error::Other(
            "this board declares no qemu launch (set QEMU_SYSTEM and QEMU_MACHINE)".into(),
        ));
    }
    let program = which::which(&system).map_err(|_| Error::ToolMissing {
        tool: system.clone(),
        hint: "install it (on Debian: qemu-system-arm has the arm and aarch64 machines, qemu-system-x86 the x86 ones)".into(),
    })?;
    let mut cmd = Command::new(program);
    // Boards' sound devices make qemu complain about the host's audio on
    // every boot; forge run never needs sound.
    if std::env::var_os("QEMU_AUDIO_DRV").is_none() {
        cmd.env("QEMU_AUDIO_DRV", "none");
    }
    cmd.args(["-M", &get("QEMU_MACHINE"), "-m", &get("QEMU_MEMORY")]);
    for (opt, flag) in [
        ("QEMU_BIOS", "-bios"),
        ("QEMU_KERNEL", "-kernel"),
        ("QEMU_DTB", "-dtb"),
        ("QEMU_INITRD", "-initrd"),
    ] {
        let file = get(opt);
        if file.is_empty() {
            continue;
        }
        cmd.arg(flag).arg(image(images, &file, opt)?);
    }
    let drive = get("QEMU_DRIVE");
    if !drive.is_empty() {
        let path = image(images, &drive, "QEMU_DRIVE")?;
        let interface = match get("QEMU_DRIVE_IF") {
            i if i.is_empty() => "sd".to_string(),
            i => i,
        };
        cmd.arg("-drive")
            .arg(drive_spec(&path, &interface, mode == Mode::Test));
    }
    let append = get("QEMU_APPEND");
    if !append.is_empty() {
        cmd.args(["-append", &append]);
    }
    match mode {
        Mode::Window => cmd.args(["-serial", "stdio", "-no-reboot"]),
        Mode::Serial => cmd.args(["-nographic", "-no-reboot"]),
        // -snapshot: also drives a board adds in QEMU_ARGS stay unwritten.
        Mode::Test => cmd.args(["-nographic", "-no-reboot", "-snapshot"]),
    };
    let forwards = Forwards::choose(&guest_ports)?;
    if let Some(nic) = forwards.nic(&get("QEMU_NIC")) {
        cmd.args(["-nic", &nic]);
    }
    cmd.args(get("QEMU_ARGS").split_whitespace());
    Ok(Launch { cmd, forwards })
}

/// `images/<file>`, which must exist.
fn image(images: &Path, file: &str, opt: &str) -> Result<PathBuf> {
    let path = images.join(file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::Other(format!(
            "{} does not exist; build the board first (forge), or fix {opt}",
            path.display()
        )))
    }
}

/// The `-drive` value: a raw image on `interface`; qemu's option syntax
/// needs commas in the file name doubled.
fn drive_spec(path: &Path, interface: &str, snapshot: bool) -> OsString {
    let mut file = b"file=".to_vec();
    for &b in path.as_os_str().as_bytes() {
        file.push(b);
        if b == b',' {
            file.push(b',');
        }
    }
    let mut spec = OsString::from_vec(file);
    spec.push(format!(",if={interface},format=raw"));
    if interface == "none" {
        spec.push(",id=disk0");
    }
    if snapshot {
        spec.push(",snapshot=on");
    }
    spec
}

/// The command as a line to copy and paste.
pub fn shell_line(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\'')
        {
            parts.push(format!("'{}'", a.replace('\'', "'\\''")));
        } else {
            parts.push(a.into_owned());
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Str(v.to_string())))
            .collect()
    }

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn drive_is_raw_and_a_snapshot_only_in_test_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let images = dir.path().join("im,ages");
        std::fs::create_dir_all(&images).expect("mkdir");
        std::fs::write(images.join("zImage"), "k").expect("write");
        std::fs::write(images.join("rootfs.ext4"), "d").expect("write");
        let v = values(&[
            ("QEMU_SYSTEM", "sh"),
            ("QEMU_KERNEL", "zImage"),
            ("QEMU_DRIVE", "rootfs.ext4"),
            ("QEMU_DRIVE_IF", "virtio"),
        ]);
        let file = format!("file={}/rootfs.ext4", images.display()).replace(',', ",,");
        let run = args(&command(&v, &images, Mode::Serial).expect("command"));
        assert!(
            run.contains(&format!("{file},if=virtio,format=raw")),
            "{run:?}"
        );
        let test = args(&command(&v, &images, Mode::Test).expect("command"));
        assert!(
            test.contains(&format!("{file},if=virtio,format=raw,snapshot=on")),
            "{test:?}"
        );
    }

    #[test]
    fn a_missing_drive_names_its_option() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v = values(&[("QEMU_SYSTEM", "sh"), ("QEMU_DRIVE", "sdcard.img")]);
        let err = command(&v, dir.path(), Mode::Test)
            .expect_err("error")
            .to_string();
        assert!(err.contains("sdcard.img does not exist"), "{err}");
        assert!(err.contains("QEMU_DRIVE"), "{err}");
    }

    #[test]
    fn forwarded_ports_get_a_user_nic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut v = values(&[("QEMU_SYSTEM", "sh"), ("QEMU_ARGS", "-s")]);
        let plain = args(&command(&v, dir.path(), Mode::Test).expect("command"));
        assert!(!plain.iter().any(|a| a == "-nic"), "{plain:?}");
        v.extend(values(&[
            ("QEMU_HOSTFWD", "9999 22"),
            ("QEMU_NIC", "e1000"),
        ]));
        let l = launch(&v, dir.path(), Mode::Test).expect("launch");
        let (h22, h9999) = (l.forwards.ports[&22], l.forwards.ports[&9999]);
        let a = args(&l.cmd);
        let nic = a.iter().position(|a| a == "-nic").expect("-nic");
        assert_eq!(
            a[nic + 1],
            format!(
                "user,model=e1000,hostfwd=tcp:127.0.0.1:{h22}-:22,hostfwd=tcp:127.0.0.1:{h9999}-:9999"
            )
        );
        assert_eq!(a.last().map(String::as_str), Some("-s"), "QEMU_ARGS last");
        // An empty QEMU_NIC is the default model.
        v.insert("QEMU_NIC".into(), Value::Str(String::new()));
        let a = args(&launch(&v, dir.path(), Mode::Serial).expect("launch").cmd);
        assert!(
            a.iter()
                .any(|a| a.starts_with("user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:")),
            "{a:?}"
        );
    }

    #[test]
    fn a_bad_hostfwd_is_an_option_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v = values(&[("QEMU_SYSTEM", "sh"), ("QEMU_HOSTFWD", "ssh")]);
        let err = launch(&v, dir.path(), Mode::Test).expect_err("error");
        assert!(matches!(err, Error::BadOption { .. }), "{err}");
    }

    #[test]
    fn interface_none_gets_an_id() {
        let spec = drive_spec(Path::new("/i/d.img"), "none", false);
        assert_eq!(spec, "file=/i/d.img,if=none,format=raw,id=disk0");
    }
}
