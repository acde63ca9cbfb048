//! Buildroot-style device/permission tables (the `makedevs` format): parsing
//! them into typed, range-expanded entries and applying them to an image's
//! entry list, so ownership, setuid bits and device nodes come from metadata
//! rather than from a root-owned staging tree.
//!
//! A line is `<name> <type> <mode> <uid> <gid> <major> <minor> <start> <inc>
//! <count>`; `-` marks an unused field; blank lines and lines starting with
//! `#` are ignored, as is anything after the tenth field that starts with `#`.
//!
//! Choices where Buildroot is loose:
//! * `mode` may be `-` for `f`, `d` and `r` (leave modes as they are; a
//!   created `d` gets 0755). Device nodes and fifos need a mode.
//! * `r` sets uid/gid on the directory and everything under it, and its mode
//!   (if given) on directories only, so files keep their executable bits.
//!   `r` on `/` covers the whole image.
//! * `count` is only meaningful for `c`, `b` and `p`; other types reject a
//!   non-zero count.

use std::collections::HashMap;
use std::path::Path;

use crate::image::entries::{EntryKind, ImageEntry, MAX_MAJOR, MAX_MINOR, MODE_MASK};
use crate::image::entries::{parent_of, path_problem};
use crate::location::Location;

/// What a table line does; ranges are already expanded into single nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevTableKind {
    /// `f`: set mode/owner of an existing regular file.
    File,
    /// `d`: set mode/owner of a directory, creating it if missing.
    Dir,
    /// `c`: create a character device.
    CharDev { major: u32, minor: u32 },
    /// `b`: create a block device.
    BlockDev { major: u32, minor: u32 },
    /// `p`: create a fifo.
    Fifo,
    /// `r`: set owner (and directory modes) over a whole subtree.
    Recursive,
}

/// One action from a device table, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevTableEntry {
    pub location: Location,
    /// Image path without leading `/`; empty only for `r` on `/`.
    pub path: String,
    pub kind: DevTableKind,
    /// Permission bits; `None` (written `-`) leaves modes unchanged.
    pub mode: Option<u32>,
    pub uid: u32,
    pub gid: u32,
}

/// Why a table could not be parsed or applied.
#[derive(Debug, thiserror::Error)]
pub enum DevTableError {
    #[error(
        "{location}: expected 10 fields (name type mode uid gid major minor start inc count), found {found}"
    )]
    FieldCount { location: Location, found: usize },
    #[error("{location}: bad {field} `{value}`: {reason}")]
    Field {
        location: Location,
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("{location}: `/{path}`: {reason}")]
    Apply {
        location: Location,
        path: String,
        reason: String,
    },
}

const FIELD_NAMES: [&str; 10] = [
    "name", "type", "mode", "uid", "gid", "major", "minor", "start", "inc", "count",
];

/// The longest range a single line may expand to.
const MAX_COUNT: u32 = 1 << 20;

/// A line's fields with their 1-based columns.
struct Line<'a> {
    file: &'a Path,
    line: usize,
    fields: Vec<(usize, &'a str)>,
}

impl Line<'_> {
    fn err(&self, i: usize, reason: impl Into<String>) -> DevTableError {
        DevTableError::Field {
            location: Location::new(self.file, self.line, Some(self.fields[i].0)),
            field: FIELD_NAMES[i],
            value: self.fields[i].1.to_string(),
            reason: reason.into(),
        }
    }

    /// Field `i` as a number in `radix`, or `None` for `-`.
    fn num(&self, i: usize, radix: u32) -> Result<Option<u32>, DevTableError> {
        let s = self.fields[i].1;
        if s == "-" {
            return Ok(None);
        }
        let what = if radix == 8 {
            "an octal number"
        } else {
            "a decimal number"
        };
        match u32::from_str_radix(s, radix) {
            Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
            _ => Err(self.err(i, format!("expected {what} or `-`"))),
        }
    }

    fn required(&self, i: usize, radix: u32) -> Result<u32, DevTableError> {
        self.num(i, radix)?
            .ok_or_else(|| self.err(i, "a value is required here"))
    }
}

/// Splits `text` into fields, remembering 1-based columns.
fn split_fields(text: &str) -> Vec<(usize, &str)> {
    let base = text.as_ptr() as usize;
    text.split_whitespace()
        .map(|tok| {
            let off = tok.as_ptr() as usize - base;
            (text[..off].chars().count() + 1, tok)
        })
        .collect()
}

/// Parses a device table. `path_for_messages` names the table in errors;
/// ranges (`count` > 0) become one entry per node, named `<name><n>` for
/// `n` in `start..start+count`, the minor growing by `inc` per node.
pub fn parse_device_table(
    path_for_messages: &Path,
    text: &str,
) -> Result<Vec<DevTableEntry>, DevTableError> {
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut fields = split_fields(raw);
        if fields.len() > 10 && fields[10].1.starts_with('#') {
            fields.truncate(10);
        }
        let line = Line {
            file: path_for_messages,
            line: idx + 1,
            fields,
        };
        if line.fields.len() != 10 {
            return Err(DevTableError::FieldCount {
                location: Location::new(path_for_messages, idx + 1, None),
                found: line.fields.len(),
            });
        }
        parse_line(&line, &mut out)?;
    }
    Ok(out)
}

fn parse_line(line: &Line<'_>, out: &mut Vec<DevTableEntry>) -> Result<(), DevTableError> {
    let t = line.fields[1].1;
    if !matches!(t, "f" | "d" | "c" | "b" | "p" | "r") {
        return Err(line.err(1, "expected one of f, d, c, b, p, r"));
    }
    let is_node = matches!(t, "c" | "b" | "p");
    let path = line.fields[0].1.trim_matches('/').to_string();
    if let Some(problem) = path_problem(&path).filter(|_| !(path.is_empty() && t == "r")) {
        return Err(line.err(0, problem));
    }
    let mode = line.num(2, 8)?;
    if mode.is_some_and(|m| m & !MODE_MASK != 0) {
        return Err(line.err(
            2,
            "only permission bits allowed (the type field gives the type)",
        ));
    }
    if mode.is_none() && is_node {
        return Err(line.err(2, "device nodes and fifos need a mode"));
    }
    let (uid, gid) = (line.required(3, 10)?, line.required(4, 10)?);
    let (major, minor) = if matches!(t, "c" | "b") {
        (line.required(5, 10)?, line.required(6, 10)?)
    } else {
        (line.num(5, 10)?.unwrap_or(0), line.num(6, 10)?.unwrap_or(0))
    };
    if major > MAX_MAJOR {
        return Err(line.err(5, format!("majors go up to {MAX_MAJOR}")));
    }
    if minor > MAX_MINOR {
        return Err(line.err(6, format!("minors go up to {MAX_MINOR}")));
    }
    let start = line.num(7, 10)?.unwrap_or(0);
    let inc = line.num(8, 10)?.unwrap_or(0);
    let count = line.num(9, 10)?.unwrap_or(0);
    if count > 0 && !is_node {
        return Err(line.err(9, "ranges apply only to c, b and p entries"));
    }
    if count > MAX_COUNT {
        return Err(line.err(9, format!("at most {MAX_COUNT} nodes per line")));
    }
    for i in 0..count.max(1) {
        let past_end = || line.err(9, "the range runs past the largest name or minor number");
        let name = match count {
            0 => path.clone(),
            _ => format!("{path}{}", start.checked_add(i).ok_or_else(past_end)?),
        };
        let minor = i.checked_mul(inc).and_then(|d| d.checked_add(minor));
        let minor = minor.filter(|m| *m <= MAX_MINOR).ok_or_else(past_end)?;
        let kind = match t {
            "f" => DevTableKind::File,
            "d" => DevTableKind::Dir,
            "p" => DevTableKind::Fifo,
            "r" => DevTableKind::Recursive,
            "c" => DevTableKind::CharDev { major, minor },
            _ => DevTableKind::BlockDev { major, minor },
        };
        let location = Location::new(line.file, line.line, None);
        out.push(DevTableEntry {
            location,
            path: name,
            kind,
            mode,
            uid,
            gid,
        });
    }
    Ok(())
}

fn apply_err(t: &DevTableEntry, path: &str, reason: impl Into<String>) -> DevTableError {
    let (location, path, reason) = (t.location.clone(), path.to_string(), reason.into());
    DevTableError::Apply {
        location,
        path,
        reason,
    }
}

/// The entry list with a path index, kept in step as entries are added.
struct Tree<'a> {
    entries: &'a mut Vec<ImageEntry>,
    index: HashMap<String, usize>,
}

impl Tree<'_> {
    fn push(&mut self, entry: ImageEntry) {
        self.index.insert(entry.path.clone(), self.entries.len());
        self.entries.push(entry);
    }

    /// The index of `path`'s entry, which must be a directory (`want_dir`)
    /// or a regular file; `None` when there is no such entry.
    fn find(
        &self,
        t: &DevTableEntry,
        path: &str,
        want_dir: bool,
    ) -> Result<Option<usize>, DevTableError> {
        let Some(&i) = self.index.get(path) else {
            return Ok(None);
        };
        let kind = &self.entries[i].kind;
        if want_dir == matches!(kind, EntryKind::Dir)
            && matches!(kind, EntryKind::Dir | EntryKind::File { .. })
        {
            return Ok(Some(i));
        }
        let wanted = if want_dir {
            "a directory"
        } else {
            "a regular file"
        };
        Err(apply_err(
            t,
            path,
            format!("is {}, not {wanted}", kind.describe()),
        ))
    }

    /// Creates a directory (with missing ancestors) unless it exists.
    fn ensure_dir(
        &mut self,
        t: &DevTableEntry,
        path: &str,
        mode: u32,
    ) -> Result<usize, DevTableError> {
        if let Some(i) = self.find(t, path, true)? {
            return Ok(i);
        }
        if let Some(parent) = parent_of(path) {
            self.ensure_dir(t, parent, 0o755)?;
        }
        self.push(ImageEntry::dir(path, mode));
        Ok(self.entries.len() - 1)
    }

    /// Creates a device node or fifo, replacing any non-directory entry.
    fn node(&mut self, t: &DevTableEntry, kind: EntryKind) -> Result<(), DevTableError> {
        let mode = t
            .mode
            .ok_or_else(|| apply_err(t, &t.path, "a device node needs a mode"))?;
        let entry = ImageEntry {
            path: t.path.clone(),
            uid: t.uid,
            gid: t.gid,
            mode,
            kind,
        };
        match self.index.get(&t.path) {
            Some(&i) if self.entries[i].is_dir() => {
                Err(apply_err(t, &t.path, "is a directory; cannot replace it"))
            }
            Some(&i) => {
                self.entries[i] = entry;
                Ok(())
            }
            None => {
                if let Some(parent) = parent_of(&t.path) {
                    self.ensure_dir(t, parent, 0o755)?;
                }
                self.push(entry);
                Ok(())
            }
        }
    }

    /// `f`/`d`: owner and mode of an existing file or (maybe new) directory.
    fn set(&mut self, t: &DevTableEntry) -> Result<(), DevTableError> {
        let i = match t.kind {
            DevTableKind::Dir => self.ensure_dir(t, &t.path, t.mode.unwrap_or(0o755))?,
            _ => self
                .find(t, &t.path, false)?
                .ok_or_else(|| apply_err(t, &t.path, "no such file in the image"))?,
        };
        let e = &mut self.entries[i];
        (e.uid, e.gid, e.mode) = (t.uid, t.gid, t.mode.unwrap_or(e.mode));
        Ok(())
    }

    /// `r`: owner on the whole subtree, mode on its directories only.
    fn recursive(&mut self, t: &DevTableEntry) -> Result<(), DevTableError> {
        if !t.path.is_empty() && self.find(t, &t.path, true)?.is_none() {
            return Err(apply_err(t, &t.path, "no such directory in the image"));
        }
        let prefix = format!("{}/", t.path);
        for e in self.entries.iter_mut() {
            if t.path.is_empty() || e.path == t.path || e.path.starts_with(&prefix) {
                (e.uid, e.gid) = (t.uid, t.gid);
                if let (Some(mode), true) = (t.mode, e.is_dir()) {
                    e.mode = mode;
                }
            }
        }
        Ok(())
    }
}

/// Applies `table`, line by line, to `entries`. New entries (created
/// directories, device nodes, fifos and their missing parents) are
/// appended; call `sort_entries` afterwards. Errors name the table line.
pub fn apply_device_table(
    entries: &mut Vec<ImageEntry>,
    table: &[DevTableEntry],
) -> Result<(), DevTableError> {
    let index = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.clone(), i))
        .collect();
    let mut tree = Tree { entries, index };
    for t in table {
        match t.kind {
            DevTableKind::File | DevTableKind::Dir => tree.set(t)?,
            DevTableKind::CharDev { major, minor } => {
                tree.node(t, EntryKind::CharDev { major, minor })?
            }
            DevTableKind::BlockDev { major, minor } => {
                tree.node(t, EntryKind::BlockDev { major, minor })?
            }
            DevTableKind::Fifo => tree.node(t, EntryKind::Fifo)?,
            DevTableKind::Recursive => tree.recursive(t)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<DevTableEntry>, DevTableError> {
        parse_device_table(Path::new("t.txt"), text)
    }

    #[test]
    fn ranges_comments_and_dashes() {
        let text = "# comment\n\n   # indented comment\n/dev/ttyS c 666 0 0 4 64 0 1 4\n\
            /dev d 0755 0 0 - - - - - # trailing\n/etc/shadow\tf 600 0 0 - - - - -\n\
            / r - 0 0 - - - - -\n/dev/fifo p 600 0 0 - - 2 - 2\n";
        let got: Vec<String> = parse(text)
            .unwrap()
            .iter()
            .map(|e| {
                let mode = e.mode.map_or("-".into(), |m| format!("{m:o}"));
                format!("{}: /{} {:?} {mode}", e.location, e.path, e.kind)
            })
            .collect();
        let want = [
            "t.txt:4: /dev/ttyS0 CharDev { major: 4, minor: 64 } 666",
            "t.txt:4: /dev/ttyS1 CharDev { major: 4, minor: 65 } 666",
            "t.txt:4: /dev/ttyS2 CharDev { major: 4, minor: 66 } 666",
            "t.txt:4: /dev/ttyS3 CharDev { major: 4, minor: 67 } 666",
            "t.txt:5: /dev Dir 755",
            "t.txt:6: /etc/shadow File 600",
            "t.txt:7: / Recursive -",
            "t.txt:8: /dev/fifo2 Fifo 600",
            "t.txt:8: /dev/fifo3 Fifo 600",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn bad_lines_name_file_line_column_and_field() {
        // Each case: table text, then " => ", then part of the message.
        let cases = [
            "/dev c 666 0 0 4\n => t.txt:1: expected 10 fields",
            "/a f 644 0 0 - - - - - extra => found 11",
            "# c\n/dev/x q 666 0 0 - - - - - => t.txt:2:8: bad type `q`: expected one of",
            "/a f 8755 0 0 - - - - - => t.txt:1:6: bad mode `8755`: expected an octal",
            "/a f -1 0 0 - - - - - => bad mode `-1`",
            "/a f 100755 0 0 - - - - - => bad mode `100755`: only permission bits",
            "/a c - 0 0 1 1 - - - => bad mode `-`: device nodes and fifos need a mode",
            "\n\n/a f 644 root 0 - - - - - => t.txt:3:10: bad uid `root`: expected a decimal",
            "/a f 644 0 - - - - - - => bad gid `-`: a value is required",
            "/a c 644 0 0 - 1 - - - => bad major `-`: a value is required",
            "/a b 644 0 0 4096 1 - - - => bad major `4096`: majors go up to 4095",
            "/a c 644 0 0 1 1048576 - - - => bad minor `1048576`",
            "/a d 755 0 0 - - 0 1 4 => bad count `4`: ranges apply only to c, b and p",
            "/a c 644 0 0 1 1048575 0 1 2 => bad count `2`: the range runs past",
            "/a c 644 0 0 1 1 4294967295 1 2 => bad count `2`: the range runs past",
            "/../x f 644 0 0 - - - - - => bad name `/../x`",
            "/ d 755 0 0 - - - - - => bad name `/`: the path is empty",
        ];
        for case in cases {
            let (text, want) = case.split_once(" => ").unwrap();
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
