//! What each key does in each [`Mode`] of the menuconfig model: moving in
//! and between menus, toggling and editing options, picking choices,
//! searching, help, save and quit.

use super::model::{Command, Key, Mode, Model};
use super::tree::Entry;
use crate::load::config::{OptionDecl, Value};

/// Rows moved by PageUp / PageDown.
const PAGE: usize = 10;

impl Model<'_> {
    /// Handles one key; the returned command is for the caller to carry out.
    pub fn key(&mut self, key: Key) -> Command {
        if key == Key::Ctrl('c') {
            return Command::Quit;
        }
        match self.mode.clone() {
            Mode::Browse => {
                self.status = None;
                self.browse(key)
            }
            Mode::Edit {
                name,
                buffer,
                cursor,
            } => {
                self.edit(key, name, buffer, cursor);
                Command::None
            }
            Mode::Pick { name, cursor } => {
                self.pick(key, name, cursor);
                Command::None
            }
            Mode::Search { query, cursor } => {
                self.search_key(key, query, cursor);
                Command::None
            }
            Mode::Help { name, scroll } => {
                self.mode = match key {
                    Key::Up => Mode::Help {
                        name,
                        scroll: scroll.saturating_sub(1),
                    },
                    Key::Down => Mode::Help {
                        name,
                        scroll: scroll.saturating_add(1),
                    },
                    _ => Mode::Browse,
                };
                Command::None
            }
            Mode::ConfirmQuit => {
                self.mode = Mode::Browse;
                match key {
                    Key::Char('y' | 'Y') => Command::SaveAndQuit,
                    Key::Char('n' | 'N') => Command::Quit,
                    _ => Command::None,
                }
            }
        }
    }

    fn browse(&mut self, key: Key) -> Command {
        let last = self.entries().len().saturating_sub(1);
        let cursor = self.frame().cursor;
        let moved = match key {
            Key::Up | Key::Char('k') => Some(cursor.saturating_sub(1)),
            Key::Down | Key::Char('j') => Some((cursor + 1).min(last)),
            Key::PageUp => Some(cursor.saturating_sub(PAGE)),
            Key::PageDown => Some((cursor + PAGE).min(last)),
            Key::Home => Some(0),
            Key::End => Some(last),
            _ => None,
        };
        if let Some(c) = moved {
            self.frame_mut().cursor = c;
            return Command::None;
        }
        match key {
            Key::Enter | Key::Right => self.activate(false),
            Key::Char(' ') => self.activate(true),
            Key::Char(c @ ('y' | 'n')) => self.set_bool(c == 'y'),
            Key::Esc if self.stack.len() == 1 => return self.quit(),
            Key::Esc | Key::Backspace | Key::Left if self.stack.len() > 1 => {
                self.stack.pop();
            }
            Key::Char('/') => {
                self.mode = Mode::Search {
                    query: String::new(),
                    cursor: 0,
                }
            }
            Key::Char('?') => {
                if let Some(name) = self.focused() {
                    self.mode = Mode::Help {
                        name: name.to_string(),
                        scroll: 0,
                    };
                }
            }
            Key::Char('s') => return Command::Save,
            Key::Char('q') => return self.quit(),
            _ => {}
        }
        Command::None
    }

    fn quit(&mut self) -> Command {
        if self.changed() {
            self.mode = Mode::ConfirmQuit;
            Command::None
        } else {
            Command::Quit
        }
    }

    /// Enter (or Space, `space`) on the focused entry.
    fn activate(&mut self, space: bool) {
        let Some(entry) = self.focused_entry().cloned() else {
            return;
        };
        let name = match entry {
            Entry::Menu(m) => {
                self.stack.push(super::model::Frame { menu: m, cursor: 0 });
                return;
            }
            Entry::Option(name) => name,
        };
        let Some(decl) = self.schema.options.get(&name).map(|d| d.decl.clone()) else {
            return;
        };
        if let Some(reason) = super::why::locked(self.schema, self.values(), &name) {
            self.status = Some(format!("{name} cannot be changed: {reason}"));
            return;
        }
        match decl {
            OptionDecl::Bool { .. } => {
                let on = self.value(&name).is_true();
                self.assign_value(&name, &Value::Bool(!on));
            }
            OptionDecl::Choice { choices, .. } => {
                let current = self.value(&name).as_text();
                let at = choices.iter().position(|c| *c == current).unwrap_or(0);
                if space {
                    if let Some(next) = choices.get((at + 1) % choices.len().max(1)) {
                        self.assign_value(&name, &Value::Str(next.clone()));
                    }
                } else {
                    self.mode = Mode::Pick { name, cursor: at };
                }
            }
            OptionDecl::Str { .. } | OptionDecl::Path { .. } | OptionDecl::Int { .. } => {
                let buffer = self.edit_text(&name);
                let cursor = buffer.chars().count();
                self.mode = Mode::Edit {
                    name,
                    buffer,
                    cursor,
                };
            }
        }
    }

    /// `y` / `n` on a bool.
    fn set_bool(&mut self, on: bool) {
        let Some(name) = self.focused().map(str::to_string) else {
            return;
        };
        let is_bool = matches!(
            self.schema.options.get(&name).map(|d| &d.decl),
            Some(OptionDecl::Bool { .. })
        );
        if !is_bool || self.value(&name).is_true() == on {
            return;
        }
        match super::why::locked(self.schema, self.values(), &name) {
            Some(reason) => self.status = Some(format!("{name} cannot be changed: {reason}")),
            None => self.assign_value(&name, &Value::Bool(on)),
        }
    }

    fn edit(&mut self, key: Key, name: String, mut buffer: String, mut cursor: usize) {
        let byte = |s: &str, c: usize| s.char_indices().nth(c).map_or(s.len(), |(i, _)| i);
        match key {
            Key::Enter => {
                match self.commit_edit(&name, &buffer) {
                    Ok(()) => {
                        self.status = None;
                        self.mode = Mode::Browse;
                    }
                    // Stay in the edit line so the value can be fixed.
                    Err(e) => self.status = Some(e),
                }
                return;
            }
            Key::Esc => {
                self.mode = Mode::Browse;
                return;
            }
            Key::Char(c) => {
                buffer.insert(byte(&buffer, cursor), c);
                cursor += 1;
            }
            Key::Backspace if cursor > 0 => {
                cursor -= 1;
                buffer.remove(byte(&buffer, cursor));
            }
            Key::Delete if cursor < buffer.chars().count() => {
                buffer.remove(byte(&buffer, cursor));
            }
            Key::Left => cursor = cursor.saturating_sub(1),
            Key::Right => cursor = (cursor + 1).min(buffer.chars().count()),
            Key::Home | Key::Ctrl('a') => cursor = 0,
            Key::End | Key::Ctrl('e') => cursor = buffer.chars().count(),
            Key::Ctrl('u') => {
                buffer.clear();
                cursor = 0;
            }
            _ => {}
        }
        self.mode = Mode::Edit {
            name,
            buffer,
            cursor,
        };
    }

    fn pick(&mut self, key: Key, name: String, cursor: usize) {
        let choices = self.choices(&name);
        let last = choices.len().saturating_sub(1);
        let cursor = match key {
            Key::Up | Key::Char('k') => cursor.saturating_sub(1),
            Key::Down | Key::Char('j') => (cursor + 1).min(last),
            Key::Home => 0,
            Key::End => last,
            Key::Enter | Key::Char(' ') => {
                self.mode = Mode::Browse;
                if let Some(c) = choices.get(cursor) {
                    self.assign_value(&name, &Value::Str(c.clone()));
                }
                return;
            }
            Key::Esc | Key::Char('q') => {
                self.mode = Mode::Browse;
                return;
            }
            _ => cursor,
        };
        self.mode = Mode::Pick { name, cursor };
    }

    fn search_key(&mut self, key: Key, mut query: String, mut cursor: usize) {
        match key {
            Key::Esc => {
                self.mode = Mode::Browse;
                return;
            }
            Key::Enter => {
                let results = self.search(&query);
                if let Some(name) = results.get(cursor.min(results.len().saturating_sub(1))) {
                    let name = name.clone();
                    self.jump_to(&name);
                    self.mode = Mode::Browse;
                }
                return;
            }
            Key::Up => cursor = cursor.saturating_sub(1),
            Key::Down => {
                cursor = (cursor + 1).min(self.search(&query).len().saturating_sub(1));
            }
            Key::PageUp => cursor = cursor.saturating_sub(PAGE),
            Key::PageDown => {
                cursor = (cursor + PAGE).min(self.search(&query).len().saturating_sub(1));
            }
            Key::Backspace => {
                query.pop();
                cursor = 0;
            }
            Key::Ctrl('u') => {
                query.clear();
                cursor = 0;
            }
            Key::Char(c) => {
                query.push(c);
                cursor = 0;
            }
            _ => {}
        }
        self.mode = Mode::Search { query, cursor };
    }
}
