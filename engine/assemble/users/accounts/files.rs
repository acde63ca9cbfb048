//! Reading the base account files (`/etc/passwd`, `group`, `shadow`) into
//! [`Accounts`] with `file:line:col` diagnostics, and rendering them back as
//! text.

use std::path::Path;

use super::{Accounts, AccountsOptions, GroupEntry, PasswdEntry, ShadowEntry};
use crate::assemble::users::UsersError;
use crate::location::Location;

/// A base file's line split at `:`, with 1-based columns.
fn colon_fields(line: &str) -> Vec<(usize, &str)> {
    let mut col = 1;
    line.split(':')
        .map(|f| {
            let at = col;
            col += f.chars().count() + 1;
            (at, f)
        })
        .collect()
}

/// Parses the non-empty lines of a base file, `want` fields each (at least
/// `want` when `at_least`), handing the fields and a number parser to `make`.
fn parse_base<T>(
    file: &str,
    text: &str,
    names: &[&'static str],
    at_least: bool,
    mut make: impl FnMut(&[(usize, &str)], &dyn Fn(usize) -> Result<u32, UsersError>) -> T,
) -> Result<Vec<T>, UsersError> {
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields = colon_fields(line);
        let loc = |col| Location::new(Path::new(file), idx + 1, col);
        let count_ok = if at_least {
            fields.len() >= names.len()
        } else {
            fields.len() == names.len()
        };
        if !count_ok {
            return Err(UsersError::Conflict {
                location: loc(None),
                reason: format!(
                    "expected {} `:`-separated fields, found {}",
                    names.len(),
                    fields.len()
                ),
            });
        }
        let num = |i: usize| {
            let (col, s) = fields[i];
            match s.parse::<u32>() {
                Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
                _ => Err(UsersError::Field {
                    location: loc(Some(col)),
                    field: names[i],
                    value: s.to_string(),
                    reason: "expected a decimal number".into(),
                }),
            }
        };
        out.push(make(&fields, &num));
    }
    Ok(out)
}

const PASSWD_FIELDS: [&str; 7] = ["name", "password", "uid", "gid", "gecos", "home", "shell"];
const GROUP_FIELDS: [&str; 4] = ["name", "password", "gid", "members"];

impl Accounts {
    /// Reads the base files. Without a shadow text, one is derived from
    /// passwd: a password kept in passwd moves to shadow (passwd gets `x`),
    /// an `x` becomes `*` (no login).
    pub fn from_base(
        passwd: &str,
        group: &str,
        shadow: Option<&str>,
        options: AccountsOptions,
    ) -> Result<Accounts, UsersError> {
        let passwd = parse_base("/etc/passwd", passwd, &PASSWD_FIELDS, false, |f, num| {
            Ok::<_, UsersError>(PasswdEntry {
                name: f[0].1.to_string(),
                password: f[1].1.to_string(),
                uid: num(2)?,
                gid: num(3)?,
                gecos: f[4].1.to_string(),
                home: f[5].1.to_string(),
                shell: f[6].1.to_string(),
            })
        })?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let group = parse_base("/etc/group", group, &GROUP_FIELDS, false, |f, num| {
            Ok::<_, UsersError>(GroupEntry {
                name: f[0].1.to_string(),
                password: f[1].1.to_string(),
                gid: num(2)?,
                members: f[3]
                    .1
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(String::from)
                    .collect(),
            })
        })?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let mut accounts = Accounts {
            passwd,
            group,
            shadow: Vec::new(),
            options,
            homes: Vec::new(),
        };
        match shadow {
            Some(text) => {
                accounts.shadow =
                    parse_base("/etc/shadow", text, &["name", "password"], true, |f, _| {
                        ShadowEntry {
                            name: f[0].1.to_string(),
                            password: f[1].1.to_string(),
                            rest: f[2..].iter().map(|(_, s)| s.to_string()).collect(),
                        }
                    })?;
            }
            None => {
                for i in 0..accounts.passwd.len() {
                    let p = &mut accounts.passwd[i];
                    let password = match p.password.as_str() {
                        "x" => "*".to_string(),
                        other => other.to_string(),
                    };
                    p.password = "x".into();
                    let name = p.name.clone();
                    accounts.set_shadow(&name, password);
                }
            }
        }
        Ok(accounts)
    }

    /// `/etc/passwd` as text.
    pub fn passwd_text(&self) -> String {
        self.passwd
            .iter()
            .map(|p| {
                let PasswdEntry {
                    name,
                    password,
                    uid,
                    gid,
                    gecos,
                    home,
                    shell,
                } = p;
                format!("{name}:{password}:{uid}:{gid}:{gecos}:{home}:{shell}\n")
            })
            .collect()
    }

    /// `/etc/group` as text.
    pub fn group_text(&self) -> String {
        self.group
            .iter()
            .map(|g| {
                format!(
                    "{}:{}:{}:{}\n",
                    g.name,
                    g.password,
                    g.gid,
                    g.members.join(",")
                )
            })
            .collect()
    }

    /// `/etc/shadow` as text.
    pub fn shadow_text(&self) -> String {
        self.shadow
            .iter()
            .map(|s| {
                let mut line = format!("{}:{}", s.name, s.password);
                for f in &s.rest {
                    line.push(':');
                    line.push_str(f);
                }
                line.push('\n');
                line
            })
            .collect()
    }
}
