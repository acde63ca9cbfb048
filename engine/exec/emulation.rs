//! Running a foreign architecture's programs on the build machine: they
//! run only when binfmt_misc hands them to qemu-user, so code that will
//! start one (a shell inside a root filesystem, mmdebstrap's maintainer
//! scripts) asks first and says what to do when it would not work.

use crate::error::{Error, Result};
use std::path::Path;

/// The qemu-user name of a target architecture (`TARGET_ARCH`), when it
/// is not the build machine's own.
pub fn foreign(target_arch: &str) -> Option<&'static str> {
    let qemu = match target_arch {
        "arm" => "arm",
        "aarch64" => "aarch64",
        "x86_64" => "x86_64",
        _ => return None,
    };
    (target_arch != std::env::consts::ARCH).then_some(qemu)
}

/// The `TARGET_ARCH` of a Debian architecture name.
pub fn of_debian_arch(deb_arch: &str) -> &str {
    match deb_arch {
        "armhf" | "armel" => "arm",
        "arm64" => "aarch64",
        "amd64" => "x86_64",
        other => other,
    }
}

/// Whether binfmt_misc runs `target_arch`'s programs through qemu-user;
/// the error names the entry and the fix.
pub fn ready(target_arch: &str) -> Result<()> {
    let Some(qemu) = foreign(target_arch) else {
        return Ok(());
    };
    let entry = Path::new("/proc/sys/fs/binfmt_misc").join(format!("qemu-{qemu}"));
    match std::fs::read_to_string(&entry) {
        Ok(text) if text.lines().next() == Some("enabled") => Ok(()),
        Ok(_) => Err(Error::Other(format!(
            "{} is disabled: enable it with `echo 1 > {}` as root",
            entry.display(),
            entry.display()
        ))),
        Err(_) => Err(Error::Other(format!(
            "the target's {target_arch} programs need qemu-user registered in binfmt_misc \
             ({} is missing): install the Debian package qemu-user (or qemu-user-static) and \
             run scripts/setup-binfmt as root (it mounts binfmt_misc and registers qemu-{qemu})",
            entry.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_another_architecture_needs_emulation() {
        assert_eq!(foreign(std::env::consts::ARCH), None);
        let other = if std::env::consts::ARCH == "aarch64" {
            "arm"
        } else {
            "aarch64"
        };
        assert!(foreign(other).is_some());
        assert_eq!(foreign("riscv64"), None);
        assert_eq!(of_debian_arch("armhf"), "arm");
        assert_eq!(of_debian_arch("arm64"), "aarch64");
        assert_eq!(of_debian_arch("amd64"), "x86_64");
    }

    #[test]
    fn the_build_machines_own_architecture_needs_no_binfmt_entry() {
        // An amd64 target on an x86_64 machine (the OpenStack IPA board)
        // runs natively: no qemu-user, whatever binfmt_misc holds.
        let own = std::env::consts::ARCH;
        assert_eq!(foreign(own), None);
        assert!(ready(own).is_ok());
        if own == "x86_64" {
            assert_eq!(foreign(of_debian_arch("amd64")), None);
            assert_eq!(foreign("aarch64"), Some("aarch64"));
        } else {
            assert_eq!(foreign("x86_64"), Some("x86_64"));
        }
    }
}
