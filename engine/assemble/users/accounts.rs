//! The account database of an image: the skeleton's `/etc/passwd`,
//! `/etc/group` and `/etc/shadow`, users-table lines applied to them the way
//! Buildroot's `mkusers` does, the root password, the rendered texts, and
//! the home directories to create.
//!
//! Order of application (as in `mkusers`, so an explicit id wins over an
//! automatic one given for the same name elsewhere): main groups with an
//! explicit gid, main groups with an automatic gid, supplementary groups,
//! users with an explicit uid, users with an automatic uid; each pass in
//! table order. A supplementary group that does not exist yet gets an
//! automatic gid of the user's kind: the same `-1`/`-2` as the uid, or system
//! when the explicit uid is at most 999. An automatic id is the lowest free
//! one in its range; a name that already exists keeps its id.
//!
//! Departures from `mkusers`: an existing group or user is updated in place
//! (it keeps its line) instead of being moved to the end, a line for an
//! existing user replaces all its passwd and shadow fields, and conflicting
//! explicit gids are refused for group-only lines too. Output keeps base
//! order and appends new entries in creation order. Shadow entries written
//! here (table users, the root password, shadow derived from passwd) get
//! the last-change day from [`AccountsOptions::last_change_days`].

use super::crypt::hash_password;
use super::{Id, PasswordSpec, SYSTEM_IDS, UserSpec, UsersError};
use crate::image::entries::ImageEntry;
use crate::location::Location;

/// Inputs that make the result reproducible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountsOptions {
    /// Seed for password salts (see [`super::crypt`]); same seed, same
    /// hashes.
    pub salt_seed: Vec<u8>,
    /// Day number written as the shadow "last change" of entries written
    /// here; `None` leaves the field empty.
    pub last_change_days: Option<u64>,
}

impl AccountsOptions {
    /// Options whose last-change day is `SOURCE_DATE_EPOCH` (seconds) in
    /// days since 1970-01-01.
    pub fn with_source_date_epoch(salt_seed: &[u8], source_date_epoch: u64) -> Self {
        AccountsOptions {
            salt_seed: salt_seed.to_vec(),
            last_change_days: Some(source_date_epoch / 86_400),
        }
    }
}

/// One `/etc/passwd` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub password: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: String,
    pub shell: String,
}

/// One `/etc/group` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub password: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// One `/etc/shadow` line: name, password, and the remaining fields as
/// written (last change, min, max, warn, inactive, expire, reserved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    pub name: String,
    pub password: String,
    pub rest: Vec<String>,
}

/// A home directory a table line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Home {
    user: String,
    path: String,
    uid: u32,
    gid: u32,
}

/// The account files of an image, being edited.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub passwd: Vec<PasswdEntry>,
    pub group: Vec<GroupEntry>,
    pub shadow: Vec<ShadowEntry>,
    options: AccountsOptions,
    homes: Vec<Home>,
}

impl Accounts {
    fn fresh_rest(&self) -> Vec<String> {
        let mut rest = vec![String::new(); 7];
        if let Some(days) = self.options.last_change_days {
            rest[0] = days.to_string();
        }
        rest
    }

    /// Sets `name`'s shadow password (and last change), adding the entry if
    /// missing.
    fn set_shadow(&mut self, name: &str, password: String) {
        let rest = self.fresh_rest();
        match self.shadow.iter_mut().find(|s| s.name == name) {
            Some(s) => {
                s.password = password;
                match s.rest.first_mut() {
                    Some(day) => day.clone_from(&rest[0]),
                    None => s.rest = rest,
                }
            }
            None => self.shadow.push(ShadowEntry {
                name: name.to_string(),
                password,
                rest,
            }),
        }
    }

    /// Sets root's password the way Buildroot's root-password option does:
    /// empty means no password, a value starting with `$` is an existing
    /// crypt hash kept as is, anything else is clear text, hashed.
    pub fn set_root_password(&mut self, value: &str) -> Result<(), UsersError> {
        let reason = if !self.passwd.iter().any(|p| p.name == "root") {
            Some("the base /etc/passwd has no root user")
        } else if value.contains([':', '\n']) {
            Some("the root password may not contain `:` or a newline")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(UsersError::Hash {
                user: "root".into(),
                reason: reason.into(),
            });
        }
        let password = if value.is_empty() || value.starts_with('$') {
            value.to_string()
        } else {
            hash_password(&self.options.salt_seed, "root", value)?
        };
        self.set_shadow("root", password);
        Ok(())
    }

    /// Applies users-table lines (see the module documentation for the
    /// order). Conflicts name the table line.
    pub fn apply(&mut self, specs: &[UserSpec]) -> Result<(), UsersError> {
        for explicit in [true, false] {
            for s in specs
                .iter()
                .filter(|s| matches!(s.gid, Id::Fixed(_)) == explicit)
            {
                self.add_group(&s.location, &s.group, s.gid)?;
            }
        }
        for s in specs {
            let kind = match s.uid {
                Id::Fixed(n) if n <= SYSTEM_IDS.1 => Id::AutoSystem,
                Id::Fixed(_) => Id::AutoUser,
                auto => auto,
            };
            for g in &s.groups {
                self.add_group(&s.location, g, kind)?;
            }
        }
        for explicit in [true, false] {
            for s in specs
                .iter()
                .filter(|s| matches!(s.uid, Id::Fixed(_)) == explicit)
            {
                if let Some(name) = &s.name {
                    self.add_user(s, name)?;
                }
            }
        }
        Ok(())
    }

    fn add_group(&mut self, location: &Location, name: &str, id: Id) -> Result<(), UsersError> {
        let conflict = |reason: String| UsersError::Conflict {
            location: location.clone(),
            reason,
        };
        let existing = self.group.iter().find(|g| g.name == name).map(|g| g.gid);
        let gid = match (id, id.auto_range(), existing) {
            (Id::Fixed(want), _, _) => {
                if let Some(other) = self.group.iter().find(|g| g.gid == want && g.name != name) {
                    return Err(conflict(format!(
                        "gid {want} for group `{name}` is already used by group `{}`",
                        other.name
                    )));
                }
                if let Some(have) = existing.filter(|&have| have != want) {
                    return Err(conflict(format!(
                        "group `{name}` already exists with gid {have} (wants {want})"
                    )));
                }
                want
            }
            (_, _, Some(_)) => return Ok(()),
            (_, Some((lo, hi)), None) => (lo..=hi)
                .find(|&g| !self.group.iter().any(|e| e.gid == g))
                .ok_or_else(|| {
                    conflict(format!("no free gid in {lo}..={hi} for group `{name}`"))
                })?,
            (_, None, None) => return Ok(()),
        };
        if existing.is_none() {
            self.group.push(GroupEntry {
                name: name.to_string(),
                password: "x".into(),
                gid,
                members: Vec::new(),
            });
        }
        Ok(())
    }

    fn add_user(&mut self, s: &UserSpec, name: &str) -> Result<(), UsersError> {
        let conflict = |reason: String| UsersError::Conflict {
            location: s.location.clone(),
            reason,
        };
        let existing = self.passwd.iter().position(|p| p.name == name);
        let uid = match (s.uid, s.uid.auto_range(), existing) {
            (Id::Fixed(want), _, _) => {
                if let Some(other) = self.passwd.iter().find(|p| p.uid == want && p.name != name) {
                    return Err(conflict(format!(
                        "uid {want} for `{name}` is already used by user `{}`",
                        other.name
                    )));
                }
                if let Some(have) = existing.map(|i| self.passwd[i].uid).filter(|&h| h != want) {
                    return Err(conflict(format!(
                        "user `{name}` already exists with uid {have} (wants {want})"
                    )));
                }
                want
            }
            (_, _, Some(i)) => self.passwd[i].uid,
            (_, Some((lo, hi)), None) => (lo..=hi)
                .find(|&u| !self.passwd.iter().any(|p| p.uid == u))
                .ok_or_else(|| conflict(format!("no free uid in {lo}..={hi} for `{name}`")))?,
            (_, None, None) => return Err(conflict(format!("no uid for `{name}`"))),
        };
        let gid = self
            .group
            .iter()
            .find(|g| g.name == s.group)
            .map(|g| g.gid)
            .ok_or_else(|| conflict(format!("group `{}` was not created", s.group)))?;
        if let Some(have) = existing.map(|i| self.passwd[i].gid).filter(|&h| h != gid) {
            return Err(conflict(format!(
                "user `{name}` already exists with gid {have} (wants group `{}`, gid {gid})",
                s.group
            )));
        }
        let password = match &s.password {
            PasswordSpec::Empty => String::new(),
            PasswordSpec::Clear(c) if c.is_empty() => String::new(),
            PasswordSpec::ClearLocked(c) if c.is_empty() => "!".into(),
            PasswordSpec::Clear(c) => hash_password(&self.options.salt_seed, name, c)?,
            PasswordSpec::ClearLocked(c) => {
                format!("!{}", hash_password(&self.options.salt_seed, name, c)?)
            }
            PasswordSpec::Verbatim(p) => p.clone(),
        };
        let entry = PasswdEntry {
            name: name.to_string(),
            password: "x".into(),
            uid,
            gid,
            gecos: s.comment.clone(),
            home: s.home.clone().unwrap_or_else(|| "/".into()),
            shell: s.shell.clone(),
        };
        match existing {
            Some(i) => self.passwd[i] = entry,
            None => self.passwd.push(entry),
        }
        let rest = self.fresh_rest();
        self.set_shadow(name, password);
        if let Some(sh) = self.shadow.iter_mut().find(|e| e.name == name) {
            sh.rest = rest;
        }
        for g in &s.groups {
            if let Some(group) = self.group.iter_mut().find(|e| &e.name == g)
                && !group.members.iter().any(|m| m == name)
            {
                group.members.push(name.to_string());
            }
        }
        self.homes.retain(|h| h.user != name);
        if let Some(path) = &s.home {
            let (user, path) = (name.to_string(), path.clone());
            self.homes.push(Home {
                user,
                path,
                uid,
                gid,
            });
        }
        Ok(())
    }
}

/// Home directories to add to the image: for every users-table user with a
/// home (not `-`), and for root, a directory owned by the user and its main
/// group, mode 0755 (0700 for root's), unless `base` (the image's entries
/// so far) already has that path. Entries come in table order, root's
/// first; missing parents are not added (see `add_missing_parents`).
/// Buildroot also chowns an existing home and everything in it; that is
/// left to the caller.
pub fn home_entries(accounts: &Accounts, base: &[ImageEntry]) -> Vec<ImageEntry> {
    let root = accounts
        .passwd
        .iter()
        .find(|p| p.name == "root")
        .map(|p| (p.home.clone(), p.uid, p.gid));
    let table = accounts
        .homes
        .iter()
        .map(|h| (h.path.clone(), h.uid, h.gid));
    let mut out: Vec<ImageEntry> = Vec::new();
    for (home, uid, gid) in root.into_iter().chain(table) {
        let path = home.trim_matches('/').to_string();
        if path.is_empty() || base.iter().chain(out.iter()).any(|e| e.path == path) {
            continue;
        }
        let mode = if uid == 0 { 0o700 } else { 0o755 };
        out.push(ImageEntry {
            uid,
            gid,
            mode,
            ..ImageEntry::dir(path, mode)
        });
    }
    out
}

mod files;

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
