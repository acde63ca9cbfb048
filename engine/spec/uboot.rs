//! The U-Boot parts of a package spec that are more than a file list: the
//! environment image's settings and their checks (done at plan time, so a
//! bad size or a missing source fails before anything runs).

use super::FileInput;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An environment image made with `mkenvimage` from a text file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvImage {
    /// `name=value` lines.
    pub source: FileInput,
    /// Image size in bytes: U-Boot's CONFIG_ENV_SIZE.
    pub size: u64,
    /// Redundant environment (`mkenvimage -r`): one flag byte per copy.
    pub redundant: bool,
}

/// A U-Boot setting that cannot work, found at plan time.
#[derive(Debug, Error, PartialEq)]
pub enum UBootSettingError {
    #[error(
        "{recipe}: UBOOT_ENVIMAGE is y but UBOOT_ENVIMAGE_SOURCE is empty; name the environment text file (name=value lines), or set UBOOT_ENVIMAGE=n"
    )]
    EnvSourceMissing { recipe: String },
    #[error(
        "{recipe}: UBOOT_ENVIMAGE_SOURCE names {count} files; the environment image is made from exactly one"
    )]
    EnvSourceCount { recipe: String, count: usize },
    #[error(
        "{recipe}: UBOOT_ENVIMAGE_SIZE is {value:?}; give the board's CONFIG_ENV_SIZE in bytes (decimal or 0x hex, e.g. 0x20000), larger than 5"
    )]
    EnvSize { recipe: String, value: String },
    #[error(
        "{recipe}: UBOOT_BOOT_SCRIPT is y but UBOOT_BOOT_SCRIPT_SOURCE is empty; name the boot.cmd text, or set UBOOT_BOOT_SCRIPT=n"
    )]
    BootScriptMissing { recipe: String },
    #[error(
        "{recipe}: UBOOT_BOOT_SCRIPT_SOURCE names {count} files; boot.scr is made from exactly one"
    )]
    BootScriptCount { recipe: String, count: usize },
}

impl From<UBootSettingError> for crate::error::Error {
    fn from(e: UBootSettingError) -> Self {
        crate::error::Error::Other(e.to_string())
    }
}

/// An environment size: decimal or `0x` hex bytes. The image holds a CRC
/// (4 bytes) and, when redundant, a flag byte, so it must be larger than 5.
pub fn parse_env_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let n = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => t.parse().ok()?,
    };
    (n > 5).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::parse_env_size;

    #[test]
    fn env_sizes() {
        assert_eq!(parse_env_size("0x20000"), Some(0x20000));
        assert_eq!(parse_env_size(" 131072 "), Some(131_072));
        assert_eq!(parse_env_size("0X400000"), Some(0x40_0000));
        assert_eq!(parse_env_size(""), None);
        assert_eq!(parse_env_size("4"), None);
        assert_eq!(parse_env_size("128k"), None);
    }
}
