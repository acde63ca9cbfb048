//! Running the menuconfig model on the real terminal: raw mode and the
//! alternate screen (restored on every way out), crossterm key events
//! mapped to model keys, and saving the `.config` when the model asks.

use super::model::{Command, Key, Model};
use super::view;
use crate::cli::configcmd;
use crate::error::{Error, Result};
use crate::load::project::Project;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// `forge menuconfig` on `output`'s `.config`.
pub fn run(project: &Project, output: &Path) -> Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(Error::Other(
            "forge menuconfig needs a terminal; without one use \
             `forge config list` and `forge config set NAME=VALUE`"
                .into(),
        ));
    }
    let loaded = configcmd::load_lenient(project, output)?;
    let mut model = Model::new(&project.schema, loaded.values);
    if let Some(first) = loaded.dropped.first() {
        model.set_status(format!(
            "ignored {} line(s) of the .config that no longer fit: {first}",
            loaded.dropped.len()
        ));
    }
    let shown = output.strip_prefix(&project.root).unwrap_or(output);
    let title = shown.join(".config").display().to_string();
    let mut terminal = ratatui::try_init().map_err(|e| Error::io("terminal", e))?;
    let session = Session {
        project,
        output,
        defconfig: loaded.defconfig,
        title,
    };
    let outcome = session.event_loop(&mut terminal, &mut model);
    let restored = ratatui::try_restore().map_err(|e| Error::io("terminal", e));
    if outcome?.is_some() {
        eprintln!("saved {}", session.title);
    }
    restored
}

struct Session<'a> {
    project: &'a Project,
    output: &'a Path,
    /// The defconfig the `.config` names, kept when it is rewritten.
    defconfig: Option<PathBuf>,
    title: String,
}

impl Session<'_> {
    /// Runs until the model says quit; returns the `.config` path if it was
    /// written at least once.
    fn event_loop(
        &self,
        terminal: &mut DefaultTerminal,
        model: &mut Model,
    ) -> Result<Option<PathBuf>> {
        let mut saved = None;
        loop {
            terminal
                .draw(|f| view::draw(f, model, &self.title))
                .map_err(|e| Error::io("terminal", e))?;
            let ev = event::read().map_err(|e| Error::io("terminal", e))?;
            let Event::Key(k) = ev else { continue };
            let Some(key) = map_key(k) else { continue };
            match model.key(key) {
                Command::None => {}
                Command::Quit => return Ok(saved),
                Command::Save => {
                    if let Some(p) = self.save(model) {
                        saved = Some(p);
                    }
                }
                Command::SaveAndQuit => {
                    if let Some(p) = self.save(model) {
                        return Ok(Some(p));
                    }
                }
            }
        }
    }

    /// Writes the model's values; reports the outcome in its status line.
    fn save(&self, model: &mut Model) -> Option<PathBuf> {
        let result = configcmd::save(
            &self.project.schema,
            self.output,
            model.values(),
            self.defconfig.as_deref(),
        );
        match result {
            Ok(path) => {
                model.mark_saved();
                model.set_status(format!("saved {}", self.title));
                Some(path)
            }
            Err(e) => {
                model.set_status(format!("not saved: {e}"));
                None
            }
        }
    }
}

/// The model's key for a crossterm key press, if it has one.
fn map_key(k: KeyEvent) -> Option<Key> {
    if k.kind != KeyEventKind::Press {
        return None;
    }
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Delete => Key::Delete,
        _ => return None,
    })
}
