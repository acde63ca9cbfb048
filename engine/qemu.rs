//! `forge run`: boot the board's images in qemu with the launch the board
//! declares through its `QEMU_*` options, console on stdin/stdout.

use crate::config::Value;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The qemu command line for the images in `images`.
pub fn command(
    values: &BTreeMap<String, Value>,
    images: &Path,
    serial_only: bool,
) -> Result<Command> {
    let get = |n: &str| values.get(n).map(Value::as_text).unwrap_or_default();
    let system = get("QEMU_SYSTEM");
    if system.is_empty() {
        return Err(Error::Other(
            "this board declares no qemu launch (set QEMU_SYSTEM and QEMU_MACHINE)".into(),
        ));
    }
    let program = which::which(&system).map_err(|_| {
        Error::Other(format!(
            "{system} not found on PATH; install it (on Debian: apt-get install qemu-system-arm)"
        ))
    })?;
    let mut cmd = Command::new(program);
    // Boards' sound devices make qemu complain about the host's audio on
    // every boot; forge run never needs sound.
    if std::env::var_os("QEMU_AUDIO_DRV").is_none() {
        cmd.env("QEMU_AUDIO_DRV", "none");
    }
    cmd.args(["-M", &get("QEMU_MACHINE"), "-m", &get("QEMU_MEMORY")]);
    for (opt, flag) in [
        ("QEMU_KERNEL", "-kernel"),
        ("QEMU_DTB", "-dtb"),
        ("QEMU_INITRD", "-initrd"),
    ] {
        let file = get(opt);
        if file.is_empty() {
            continue;
        }
        let path = images.join(&file);
        if !path.is_file() {
            return Err(Error::Other(format!(
                "{} does not exist; build the board first (forge), or fix {opt}",
                path.display()
            )));
        }
        cmd.arg(flag).arg(path);
    }
    let append = get("QEMU_APPEND");
    if !append.is_empty() {
        cmd.args(["-append", &append]);
    }
    if serial_only {
        cmd.args(["-nographic", "-no-reboot"]);
    } else {
        cmd.args(["-serial", "stdio", "-no-reboot"]);
    }
    cmd.args(get("QEMU_ARGS").split_whitespace());
    Ok(cmd)
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
