//! The menuconfig state, with no terminal in sight: the option values, where
//! the user is in the menus, what they are editing or searching, the status
//! line, and how a change is applied. Keys arrive through
//! [`Model::key`](super::input); drawing reads the state through
//! [`Model::rows`] and the accessors.

use super::tree::{Entry, Tree};
use super::why;
use crate::cli::configcmd::{self, value_text};
use crate::load::config::defconfig::quote;
use crate::load::config::{ConfigError, OptionDecl, Schema, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// A key, as the model understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Left,
    Right,
    Enter,
    Esc,
    Backspace,
    Delete,
    Char(char),
    Ctrl(char),
}

/// What the caller must do after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    None,
    Save,
    Quit,
    SaveAndQuit,
}

/// What the keys act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Browse,
    /// Editing a string, path or int option in the edit line.
    Edit {
        name: String,
        buffer: String,
        /// Cursor position, in chars.
        cursor: usize,
    },
    /// Picking one of a choice option's choices.
    Pick {
        name: String,
        cursor: usize,
    },
    /// Searching by symbol or prompt; `cursor` is in the result list.
    Search {
        query: String,
        cursor: usize,
    },
    /// Showing an option's help, scrolled by `scroll` lines.
    Help {
        name: String,
        scroll: u16,
    },
    /// Asking whether to save before quitting.
    ConfirmQuit,
}

/// One line of the current menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub text: String,
    /// The option on this row (`None` for a submenu).
    pub symbol: Option<String>,
    /// Why it cannot be changed, if it cannot.
    pub lock: Option<String>,
    /// Its `depends` do not hold (drawn dimmed).
    pub dimmed: bool,
}

/// A position in one menu.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    pub menu: usize,
    pub cursor: usize,
}

pub struct Model<'a> {
    pub(super) schema: &'a Schema,
    pub(super) tree: Tree,
    /// The values changes are made on top of (the `.config`'s, then each
    /// accepted change's); a value that later changes contradict gives way.
    user: BTreeMap<String, Value>,
    /// Every option's resolved value.
    values: BTreeMap<String, Value>,
    saved: BTreeMap<String, Value>,
    /// The open menus, top menu first; never empty.
    pub(super) stack: Vec<Frame>,
    pub(super) mode: Mode,
    pub(super) status: Option<String>,
}

impl<'a> Model<'a> {
    /// A model over `schema` showing `values` (a resolved `.config`).
    pub fn new(schema: &'a Schema, values: BTreeMap<String, Value>) -> Model<'a> {
        Model {
            schema,
            tree: Tree::new(schema),
            user: values.clone(),
            saved: values.clone(),
            values,
            stack: vec![Frame { menu: 0, cursor: 0 }],
            mode: Mode::Browse,
            status: None,
        }
    }

    pub fn values(&self) -> &BTreeMap<String, Value> {
        &self.values
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Whether any value differs from the last save (or the load).
    pub fn changed(&self) -> bool {
        self.values != self.saved
    }

    /// Records that the current values were written.
    pub fn mark_saved(&mut self) {
        self.saved = self.values.clone();
    }

    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    pub fn set_status(&mut self, message: impl Into<String>) {
        self.status = Some(message.into());
    }

    pub(super) fn frame(&self) -> Frame {
        self.stack
            .last()
            .copied()
            .unwrap_or(Frame { menu: 0, cursor: 0 })
    }

    pub(super) fn frame_mut(&mut self) -> &mut Frame {
        if self.stack.is_empty() {
            self.stack.push(Frame { menu: 0, cursor: 0 });
        }
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    /// The cursor's row in the current menu.
    pub fn cursor(&self) -> usize {
        self.frame().cursor
    }

    /// The current menu's titles from the top, e.g. `Filesystem images`.
    pub fn breadcrumb(&self) -> String {
        self.tree.breadcrumb(self.frame().menu)
    }

    pub(super) fn entries(&self) -> &[Entry] {
        &self.tree.menus[self.frame().menu].entries
    }

    /// The entry under the cursor.
    pub(super) fn focused_entry(&self) -> Option<&Entry> {
        self.entries().get(self.frame().cursor)
    }

    /// The option under the cursor, if the cursor is on one.
    pub fn focused(&self) -> Option<&str> {
        match self.focused_entry()? {
            Entry::Option(n) => Some(n),
            Entry::Menu(_) => None,
        }
    }

    /// The rows of the current menu.
    pub fn rows(&self) -> Vec<Row> {
        self.entries()
            .iter()
            .map(|e| match e {
                Entry::Menu(m) => Row {
                    text: format!("    {}  --->", self.tree.menus[*m].title),
                    symbol: None,
                    lock: None,
                    dimmed: false,
                },
                Entry::Option(n) => self.option_row(n),
            })
            .collect()
    }

    fn option_row(&self, name: &str) -> Row {
        let Some(d) = self.schema.options.get(name) else {
            return Row {
                text: name.to_string(),
                symbol: Some(name.to_string()),
                lock: None,
                dimmed: false,
            };
        };
        let value = self.value(name);
        let prompt = self.prompt(name);
        let lock = why::locked(self.schema, &self.values, name);
        let dimmed = why::unmet_depends(&d.decl, &self.values).is_some();
        let text = match (&d.decl, &value) {
            (OptionDecl::Bool { .. }, v) if v.is_true() && lock.is_some() && !dimmed => {
                let by = lock.as_deref().unwrap_or_default();
                format!("-*- {prompt}  ({by})")
            }
            (OptionDecl::Bool { .. }, v) if v.is_true() => format!("[*] {prompt}"),
            (OptionDecl::Bool { .. }, _) => format!("[ ] {prompt}"),
            (OptionDecl::Choice { .. }, v) => format!("<{}> {prompt}", v.as_text()),
            (_, v) => format!("({}) {prompt}", v.as_text()),
        };
        Row {
            text,
            symbol: Some(name.to_string()),
            lock,
            dimmed,
        }
    }

    /// An option's current value (its default if somehow missing).
    pub fn value(&self, name: &str) -> Value {
        match (self.values.get(name), self.schema.options.get(name)) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.decl.default_value(),
            (None, None) => Value::Str(String::new()),
        }
    }

    /// An option's prompt, or its name when it has none.
    pub fn prompt(&self, name: &str) -> String {
        self.schema
            .options
            .get(name)
            .and_then(|d| d.decl.common().prompt.clone())
            .unwrap_or_else(|| name.to_string())
    }

    /// The choices of a choice option (empty for other kinds).
    pub fn choices(&self, name: &str) -> Vec<String> {
        match self.schema.options.get(name).map(|d| &d.decl) {
            Some(OptionDecl::Choice { choices, .. }) => choices.clone(),
            _ => Vec::new(),
        }
    }

    /// Sets `name` from `rhs`, the right-hand side of a defconfig line
    /// (`y`, `42`, `"text"`), type-checked and resolved like one. On
    /// failure nothing changes and the reason is returned.
    pub fn assign(&mut self, name: &str, rhs: &str) -> Result<(), String> {
        let result = (|| -> crate::error::Result<configcmd::Applied> {
            let base = configcmd::defconfig_of(Path::new("(current values)"), &self.user)?;
            let change = configcmd::changes_from("menuconfig", &[format!("{name}={rhs}")])?;
            Ok(configcmd::apply(self.schema, &base, &change)?)
        })();
        match result {
            Ok(applied) => {
                for gone in &applied.dropped {
                    self.user.remove(gone);
                }
                self.values = applied.resolved.values;
                self.user.insert(name.to_string(), self.value(name));
                Ok(())
            }
            Err(crate::error::Error::Config(e)) => Err(plain(&e)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Sets `name` to `value`, reporting the outcome in the status line.
    pub(super) fn assign_value(&mut self, name: &str, value: &Value) {
        match self.assign(name, &value_text(value)) {
            Ok(()) => self.status = None,
            Err(e) => self.status = Some(e),
        }
    }

    /// The text the edit line starts with for `name`.
    pub(super) fn edit_text(&self, name: &str) -> String {
        self.value(name).as_text()
    }

    /// Commits the edit line's `buffer` to `name`.
    pub(super) fn commit_edit(&mut self, name: &str, buffer: &str) -> Result<(), String> {
        let rhs = match self.schema.options.get(name).map(|d| &d.decl) {
            Some(OptionDecl::Int { .. }) => buffer.trim().to_string(),
            _ => quote(buffer),
        };
        self.assign(name, &rhs)
    }

    /// Opens the menus down to option `name` and puts the cursor on it.
    pub fn jump_to(&mut self, name: &str) -> bool {
        let Some(path) = self.tree.locate(name) else {
            return false;
        };
        self.stack = path
            .into_iter()
            .map(|(menu, cursor)| Frame { menu, cursor })
            .collect();
        true
    }

    /// Options whose name or prompt contains `query`, ignoring case, by name.
    pub fn search(&self, query: &str) -> Vec<String> {
        let q = query.to_lowercase();
        self.schema
            .options
            .keys()
            .filter(|n| n.to_lowercase().contains(&q) || self.prompt(n).to_lowercase().contains(&q))
            .cloned()
            .collect()
    }

    /// The menu path of option `name`, e.g. `Filesystem images`.
    pub fn menu_of(&self, name: &str) -> String {
        match self.tree.locate(name).and_then(|p| p.last().copied()) {
            Some((menu, _)) if menu != 0 => self.tree.breadcrumb(menu),
            _ => "(top)".to_string(),
        }
    }
}

/// A configuration error without the `file:line: ` it would carry in a
/// defconfig: here the user is not editing a file.
fn plain(e: &ConfigError) -> String {
    let parts: Vec<String> = e
        .errors()
        .iter()
        .map(|err| {
            let text = err.to_string();
            match err.location() {
                Some(loc) => text
                    .strip_prefix(&format!("{loc}: "))
                    .map(str::to_string)
                    .unwrap_or(text),
                None => text,
            }
        })
        .collect();
    parts.join("; ")
}
