//! Buildroot's users tables (the `makeusers` format): parsing them into typed
//! [`UserSpec`]s with `file:line:col` diagnostics. Applying them to the
//! skeleton's `/etc/passwd`, `/etc/group` and `/etc/shadow` lives in
//! [`accounts`]; deterministic SHA-512 crypt hashing in [`crypt`].
//!
//! A line is `username uid group gid password home shell groups comment`,
//! fields separated by blanks; `comment` is optional and runs to the end of
//! the line (it may contain spaces). As in Buildroot's `mkusers`, everything
//! from a `#` to the end of a line is a comment, and blank lines are ignored.
//! No field may contain a `:`.
//!
//! Field forms (Buildroot's manual, "Makeusers syntax", and `mkusers`):
//! * `username`: `-` creates only the group; `root` is refused.
//! * `uid`/`gid`: a positive number, `-1` (allocate a system id, lowest free
//!   in 100..=999) or `-2` (allocate a user id, lowest free in 1000..=1999).
//!   `0` and anything below `-2` are refused.
//! * `group`: the main group, created if missing; `root` is refused.
//! * `password`: `-` no password (empty shadow field); `=clear` hashed;
//!   `!=clear` hashed and locked (`!` prefix); anything else is copied as is
//!   (`*` no login, `!` locked, `$6$…` already hashed, `!$6$…` locked hash).
//!   `=` and `!=` with empty clear text give an empty field and `!`.
//! * `home`: `-` means no home directory (the passwd field becomes `/`);
//!   otherwise an absolute path other than `/`.
//! * `shell`: `-` means `/bin/false`; anything else is kept as is.
//! * `groups`: comma-separated supplementary groups (created on demand),
//!   `-` for none; empty items are skipped.

pub mod accounts;
pub mod crypt;

use std::path::Path;

use crate::image::entries::path_problem;
use crate::location::Location;

pub use accounts::{Accounts, AccountsOptions, home_entries};

/// Lowest and highest ids Buildroot allocates for system accounts (`-1`).
pub const SYSTEM_IDS: (u32, u32) = (100, 999);
/// Lowest and highest ids Buildroot allocates for user accounts (`-2`).
pub const USER_IDS: (u32, u32) = (1000, 1999);

/// A uid or gid as written in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    /// An explicit id (never 0).
    Fixed(u32),
    /// `-1`: the lowest free id in [`SYSTEM_IDS`].
    AutoSystem,
    /// `-2`: the lowest free id in [`USER_IDS`].
    AutoUser,
}

impl Id {
    /// The range an automatic id is taken from, `None` for a fixed id.
    pub fn auto_range(self) -> Option<(u32, u32)> {
        match self {
            Id::Fixed(_) => None,
            Id::AutoSystem => Some(SYSTEM_IDS),
            Id::AutoUser => Some(USER_IDS),
        }
    }
}

/// The password field of a table line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSpec {
    /// `-` (or `=` with nothing after it): an empty shadow field, i.e. no
    /// password is asked for.
    Empty,
    /// `=clear`: SHA-512 crypt of the clear text.
    Clear(String),
    /// `!=clear`: SHA-512 crypt of the clear text, prefixed with `!`.
    ClearLocked(String),
    /// Anything else, copied to the shadow file unchanged: `*`, `!`,
    /// `$6$…`, `!$6$…`.
    Verbatim(String),
}

/// One line of a users table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub location: Location,
    /// `None` when the line only creates a group (username `-`).
    pub name: Option<String>,
    pub uid: Id,
    pub group: String,
    pub gid: Id,
    pub password: PasswordSpec,
    /// Absolute home directory, `None` for `-` (no home; passwd says `/`).
    pub home: Option<String>,
    /// Login shell; `-` is already replaced by `/bin/false`.
    pub shell: String,
    /// Supplementary groups, in table order, without duplicates.
    pub groups: Vec<String>,
    /// GECOS field; may be empty or contain spaces.
    pub comment: String,
}

/// Why a users table, a base account file or an account change was refused.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error(
        "{location}: expected at least 8 fields (username uid group gid password home shell groups [comment]), found {found}"
    )]
    FieldCount { location: Location, found: usize },
    #[error("{location}: bad {field} `{value}`: {reason}")]
    Field {
        location: Location,
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("{location}: {reason}")]
    Conflict { location: Location, reason: String },
    #[error("hashing the password of `{user}`: {reason}")]
    Hash { user: String, reason: String },
}

const FIELD_NAMES: [&str; 9] = [
    "username", "uid", "group", "gid", "password", "home", "shell", "groups", "comment",
];

/// Splits `text` into blank-separated fields with their 1-based columns and
/// byte offsets.
pub(crate) fn split_fields(text: &str) -> Vec<(usize, usize, &str)> {
    let base = text.as_ptr() as usize;
    text.split_whitespace()
        .map(|tok| {
            let off = tok.as_ptr() as usize - base;
            (text[..off].chars().count() + 1, off, tok)
        })
        .collect()
}

struct Line<'a> {
    file: &'a Path,
    line: usize,
    fields: Vec<(usize, usize, &'a str)>,
}

impl Line<'_> {
    fn err(&self, i: usize, reason: impl Into<String>) -> UsersError {
        let (col, _, value) = self.fields[i];
        UsersError::Field {
            location: Location::new(self.file, self.line, Some(col)),
            field: FIELD_NAMES[i],
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    fn id(&self, i: usize) -> Result<Id, UsersError> {
        match self.fields[i].2 {
            "-1" => Ok(Id::AutoSystem),
            "-2" => Ok(Id::AutoUser),
            s => match s.parse::<u32>() {
                Ok(0) => Err(self.err(i, "0 is reserved for root")),
                Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(Id::Fixed(n)),
                _ => Err(self.err(
                    i,
                    "expected a positive decimal number, -1 (system) or -2 (user)",
                )),
            },
        }
    }

    fn name(&self, i: usize) -> Result<String, UsersError> {
        let s = self.fields[i].2;
        if s == "root" {
            return Err(self.err(i, "root is managed by the skeleton, not by users tables"));
        }
        if let Some(c) = s.chars().find(|c| matches!(c, ',' | '/') || c.is_control()) {
            return Err(self.err(
                i,
                format!("`{}` is not allowed in a name", c.escape_default()),
            ));
        }
        Ok(s.to_string())
    }
}

/// Parses a users table. `path_for_messages` names the table in errors.
/// Lines are returned in table order; ids are not allocated here.
pub fn parse_users_table(
    path_for_messages: &Path,
    text: &str,
) -> Result<Vec<UserSpec>, UsersError> {
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let content = raw.split('#').next().unwrap_or_default();
        if content.trim().is_empty() {
            continue;
        }
        let fields = split_fields(content);
        let line = Line {
            file: path_for_messages,
            line: idx + 1,
            fields,
        };
        if line.fields.len() < 8 {
            return Err(UsersError::FieldCount {
                location: Location::new(path_for_messages, idx + 1, None),
                found: line.fields.len(),
            });
        }
        out.push(parse_line(&line, content)?);
    }
    Ok(out)
}

fn parse_line(line: &Line<'_>, content: &str) -> Result<UserSpec, UsersError> {
    if let Some(i) = line.fields.iter().position(|f| f.2.contains(':')) {
        return Err(line.err(i.min(8), "no field may contain `:`"));
    }
    let f = |i: usize| line.fields[i].2;
    let name = match f(0) {
        "-" => None,
        _ => Some(line.name(0)?),
    };
    let uid = line.id(1)?;
    let group = line.name(2)?;
    let gid = line.id(3)?;
    let password = match f(4) {
        "-" | "=" => PasswordSpec::Empty,
        p => match (p.strip_prefix("!="), p.strip_prefix('=')) {
            (Some(clear), _) => PasswordSpec::ClearLocked(clear.to_string()),
            (None, Some(clear)) => PasswordSpec::Clear(clear.to_string()),
            (None, None) => PasswordSpec::Verbatim(p.to_string()),
        },
    };
    let home = match f(5) {
        "-" => None,
        "/" => return Err(line.err(5, "home can not be `/` (use `-` for no home)")),
        h => {
            let rel = h
                .strip_prefix('/')
                .ok_or_else(|| line.err(5, "home must be an absolute path (or `-` for none)"))?;
            if let Some(problem) = path_problem(rel.trim_end_matches('/')) {
                return Err(line.err(5, problem));
            }
            Some(h.trim_end_matches('/').to_string())
        }
    };
    let shell = match f(6) {
        "-" => "/bin/false".to_string(),
        s => s.to_string(),
    };
    let mut groups: Vec<String> = Vec::new();
    if f(7) != "-" {
        for g in f(7).split(',').filter(|g| !g.is_empty()) {
            if g == "root" || g.contains('/') || g.chars().any(char::is_control) {
                return Err(line.err(7, format!("`{g}` is not a valid group name here")));
            }
            if !groups.iter().any(|have| have == g) {
                groups.push(g.to_string());
            }
        }
    }
    let comment = match line.fields.get(8) {
        Some(&(_, off, _)) => content[off..].trim_end().to_string(),
        None => String::new(),
    };
    Ok(UserSpec {
        location: Location::new(line.file, line.line, None),
        name,
        uid,
        group,
        gid,
        password,
        home,
        shell,
        groups,
        comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<UserSpec>, UsersError> {
        parse_users_table(Path::new("users.txt"), text)
    }

    #[test]
    fn every_field_form() {
        let text = "# comment line\n\n\
            foo -1 bar -1 !=blabla /home/foo /bin/sh alpha,bravo Foo  user # trailing\n\
            test 8000 wheel -1 = - - - Test user\n\
            - -1 grp 1234 - - - -\n\
            a -2 a -2 =secret /home/a/ /bin/ash ,x,,x,\n\
            b 500 b 500 * /var/b /bin/sh - \n\
            c 501 c 501 ! - /bin/sh -\n\
            d 502 d 502 $6$salt$hash - /bin/sh -\n\
            e 503 e 503 !$6$s$h - /bin/sh -\n";
        let v = parse(text).unwrap();
        assert_eq!(v.len(), 8);
        let foo = &v[0];
        assert_eq!(foo.location.to_string(), "users.txt:3");
        assert_eq!(foo.name.as_deref(), Some("foo"));
        assert_eq!((foo.uid, foo.gid), (Id::AutoSystem, Id::AutoSystem));
        assert_eq!(foo.group, "bar");
        assert_eq!(foo.password, PasswordSpec::ClearLocked("blabla".into()));
        assert_eq!(foo.home.as_deref(), Some("/home/foo"));
        assert_eq!(foo.shell, "/bin/sh");
        assert_eq!(foo.groups, ["alpha", "bravo"]);
        assert_eq!(foo.comment, "Foo  user");
        let test = &v[1];
        assert_eq!((test.uid, test.gid), (Id::Fixed(8000), Id::AutoSystem));
        assert_eq!(test.password, PasswordSpec::Empty);
        assert_eq!(
            (test.home.as_deref(), test.shell.as_str()),
            (None, "/bin/false")
        );
        assert!(test.groups.is_empty());
        assert_eq!(test.comment, "Test user");
        assert_eq!(v[2].name, None);
        assert_eq!(
            (v[2].gid, v[2].password.clone()),
            (Id::Fixed(1234), PasswordSpec::Empty)
        );
        assert_eq!(v[3].uid, Id::AutoUser);
        assert_eq!(v[3].password, PasswordSpec::Clear("secret".into()));
        assert_eq!(v[3].home.as_deref(), Some("/home/a"));
        assert_eq!(v[3].groups, ["x"]);
        assert_eq!(v[3].comment, "");
        assert_eq!(v[4].password, PasswordSpec::Verbatim("*".into()));
        assert_eq!(v[5].password, PasswordSpec::Verbatim("!".into()));
        assert_eq!(v[6].password, PasswordSpec::Verbatim("$6$salt$hash".into()));
        assert_eq!(v[7].password, PasswordSpec::Verbatim("!$6$s$h".into()));
    }

    #[test]
    fn bad_lines_name_file_line_column_and_field() {
        // Each case: table text, then " => ", then part of the message.
        let cases = [
            "foo -1 foo -1 - - -\n => users.txt:1: expected at least 8 fields",
            "# x\n\nfoo x1 foo -1 - - - - => users.txt:3:5: bad uid `x1`: expected a positive",
            "foo -3 foo -1 - - - - => bad uid `-3`",
            "foo 0 foo -1 - - - - => bad uid `0`: 0 is reserved",
            "foo 1 foo 4294967296 - - - - => bad gid `4294967296`",
            "root 1 foo 1 - - - - => users.txt:1:1: bad username `root`",
            "foo 1 root 1 - - - - => bad group `root`",
            "foo 1 foo 1 - / - - => users.txt:1:15: bad home `/`",
            "foo 1 foo 1 - home - - => bad home `home`: home must be an absolute",
            "foo 1 foo 1 - /a/../b - - => bad home `/a/../b`",
            "foo 1 foo 1 - - - a,root => bad groups `a,root`",
            "foo 1 foo 1 =a:b - - - => bad password `=a:b`: no field may contain `:`",
            "foo 1 foo 1 - - - - gecos:x => bad comment `gecos:x`",
            "fo,o 1 foo 1 - - - - => bad username `fo,o`",
        ];
        for case in cases {
            let (text, want) = case.split_once(" => ").unwrap();
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn unknown_shell_is_accepted() {
        let v = parse("foo 1 foo 1 - - /no/such/shell -").unwrap();
        assert_eq!(v[0].shell, "/no/such/shell");
    }
}
