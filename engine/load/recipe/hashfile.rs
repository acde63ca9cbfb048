//! Hash files in Buildroot's `.hash` format, as a package folder carries
//! them for the release versions it knows: one `ALGO  HEX  FILE` line per
//! file, `#` comments and blank lines ignored. Owns parsing such a file and
//! finding the sha256 of a file name; only `sha256` lines are kept (other
//! algorithms are read and skipped).

use crate::location::Location;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The sha256 lines of one hash file.
#[derive(Debug, Clone, PartialEq)]
pub struct HashFile {
    pub path: PathBuf,
    /// `(file name, lowercase hex sha256)`, in file order.
    pub entries: Vec<(String, String)>,
}

#[derive(Debug, Error)]
pub enum HashFileError {
    #[error("cannot read hash file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{location}: {message}; write `sha256  <64 hex digits>  <file name>`")]
    Syntax { location: Location, message: String },
}

impl HashFile {
    pub fn load(path: &Path) -> Result<HashFile, HashFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| HashFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        HashFile::parse(path, &text)
    }

    /// Parse `text`; `path` names the file in messages.
    pub fn parse(path: &Path, text: &str) -> Result<HashFile, HashFileError> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |message: String| HashFileError::Syntax {
                location: Location::new(path, i + 1, Some(1)),
                message,
            };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [algo, hex, file] = fields[..] else {
                return Err(bad(format!(
                    "expected three fields (algorithm, hash, file), found {}",
                    fields.len()
                )));
            };
            if algo != "sha256" {
                continue;
            }
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!("`{hex}` is not a sha256")));
            }
            entries.push((file.to_string(), hex.to_ascii_lowercase()));
        }
        Ok(HashFile {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The sha256 listed for `file`.
    pub fn sha256_of(&self, file: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, h)| h.as_str())
    }

    /// The versions whose files match `prefix<version>suffix`, in file order.
    pub fn versions(&self, prefix: &str, suffix: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter_map(|(f, _)| f.strip_prefix(prefix)?.strip_suffix(suffix))
            .filter(|v| !v.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# from upstream's sha256sums\n\
        sha256  AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA  pkg-1.2.tar.xz\n\
        md5  0123  pkg-1.2.tar.xz\n\n\
        sha256  bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  pkg-1.3.tar.xz\n\
        sha256  cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc  COPYING\n";

    #[test]
    fn finds_hashes_and_versions() {
        let h = HashFile::parse(Path::new("pkg.hash"), SAMPLE).unwrap();
        assert_eq!(h.sha256_of("pkg-1.2.tar.xz"), Some(&*"a".repeat(64)));
        assert_eq!(h.sha256_of("pkg-1.4.tar.xz"), None);
        assert_eq!(h.versions("pkg-", ".tar.xz"), ["1.2", "1.3"]);
    }

    #[test]
    fn a_bad_line_names_file_and_line() {
        let e = HashFile::parse(Path::new("pkg.hash"), "# c\nsha256 xyz pkg.tar\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("pkg.hash:2:"), "{e}");
        assert!(e.contains("`xyz` is not a sha256"), "{e}");
        let e = HashFile::parse(Path::new("pkg.hash"), "sha256 only-two\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("three fields"), "{e}");
    }
}
