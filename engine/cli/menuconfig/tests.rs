//! Unit tests of the menuconfig model and its drawing, on a small schema
//! built in code, with no terminal: keys in, rows and values out.

use super::model::{Command, Key, Mode, Model};
use crate::load::config::{self, Common, Declared, OptionDecl, Schema, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn common(menu: Option<&str>, prompt: Option<&str>, depends: &[&str]) -> Common {
    Common {
        help: "Some help.".into(),
        prompt: prompt.map(String::from),
        menu: menu.map(String::from),
        depends: depends.iter().map(|s| s.to_string()).collect(),
    }
}

fn schema() -> Schema {
    let mut s = Schema::default();
    let mut add = |name: &str, decl: OptionDecl, package: Option<&str>| {
        let d = Declared {
            decl,
            origin: "/t/configs/x.ron".into(),
            tree: "/t".into(),
            package: package.map(String::from),
        };
        s.options.insert(name.to_string(), d);
    };
    let choice = |c: &[&str], d: &str, common| OptionDecl::Choice {
        choices: c.iter().map(|s| s.to_string()).collect(),
        default: d.into(),
        common,
    };
    let t = Some("Target options");
    add(
        "ARCH",
        choice(&["arm", "aarch64", "x86"], "arm", common(t, None, &[])),
        None,
    );
    let fs = Some("Filesystem images");
    let cpio = OptionDecl::Bool {
        default: true,
        select: vec![],
        common: common(fs, None, &[]),
    };
    add("CPIO", cpio, None);
    let comp = choice(&["none", "gzip", "xz"], "gzip", common(fs, None, &["CPIO"]));
    add("CPIO_COMP", comp, None);
    let pkgs = Some("Packages");
    let a = OptionDecl::Bool {
        default: false,
        select: vec!["PKG_B".into()],
        common: common(pkgs, Some("Alpha tool"), &[]),
    };
    add("PKG_A", a, Some("a"));
    let b = OptionDecl::Bool {
        default: false,
        select: vec![],
        common: common(pkgs, Some("b"), &[]),
    };
    add("PKG_B", b, Some("b"));
    let greeting = OptionDecl::Str {
        default: "hello".into(),
        common: common(None, None, &[]),
    };
    add("GREETING", greeting, Some("hello"));
    let jobs = OptionDecl::Int {
        default: 4,
        range: Some((1, 64)),
        common: common(Some("Build options/Advanced"), None, &[]),
    };
    add("JOBS", jobs, None);
    let host = OptionDecl::Str {
        default: "forge".into(),
        common: common(None, None, &[]),
    };
    add("HOSTNAME", host, None);
    s
}

fn defaults(s: &Schema) -> BTreeMap<String, Value> {
    let empty = config::parse_defconfig_str(Path::new("d"), "").unwrap();
    config::resolve(s, &empty).unwrap().values
}

fn texts(m: &Model) -> Vec<String> {
    m.rows().into_iter().map(|r| r.text).collect()
}

fn keys(m: &mut Model, keys: &[Key]) -> Command {
    keys.iter().fold(Command::None, |_, k| m.key(*k))
}

fn typed(s: &str) -> Vec<Key> {
    s.chars().map(Key::Char).collect()
}

#[test]
fn menus_are_nested_submenus_first() {
    let s = schema();
    let mut m = Model::new(&s, defaults(&s));
    assert_eq!(
        texts(&m),
        [
            "    Build options  --->",
            "    Filesystem images  --->",
            "    Packages  --->",
            "    Target options  --->",
            "(forge) HOSTNAME",
        ]
    );
    keys(&mut m, &[Key::Enter, Key::Enter]);
    assert_eq!(m.breadcrumb(), "Build options > Advanced");
    assert_eq!(texts(&m), ["(4) JOBS"]);
    keys(&mut m, &[Key::Esc, Key::Backspace]);
    assert_eq!(m.breadcrumb(), "");
    keys(&mut m, &[Key::Down, Key::Down, Key::Right]);
    // A recipe's options without a menu sit in Packages.
    assert_eq!(texts(&m), ["(hello) GREETING", "[ ] Alpha tool", "[ ] b"]);
}

#[test]
fn toggling_a_bool_locks_what_depends_on_it() {
    let s = schema();
    let mut m = Model::new(&s, defaults(&s));
    keys(&mut m, &[Key::Down, Key::Enter]);
    assert_eq!(texts(&m), ["[*] CPIO", "<gzip> CPIO_COMP"]);
    assert!(!m.changed());
    m.key(Key::Char(' '));
    assert_eq!(m.values()["CPIO"], Value::Bool(false));
    assert!(m.changed());
    let rows = m.rows();
    assert!(rows[1].dimmed);
    assert_eq!(rows[1].lock.as_deref(), Some("depends on CPIO which is n"));
    keys(&mut m, &[Key::Down, Key::Char(' ')]);
    assert_eq!(
        m.status(),
        Some("CPIO_COMP cannot be changed: depends on CPIO which is n")
    );
    assert_eq!(m.values()["CPIO_COMP"], Value::Str("gzip".into()));
    // Back on: the choice is free again; Space cycles it, Enter picks.
    keys(
        &mut m,
        &[Key::Up, Key::Char('y'), Key::Down, Key::Char(' ')],
    );
    assert_eq!(m.values()["CPIO_COMP"], Value::Str("xz".into()));
    keys(&mut m, &[Key::Enter]);
    assert_eq!(
        *m.mode(),
        Mode::Pick {
            name: "CPIO_COMP".into(),
            cursor: 2
        }
    );
    keys(&mut m, &[Key::Home, Key::Enter]);
    assert_eq!(m.values()["CPIO_COMP"], Value::Str("none".into()));
    assert_eq!(*m.mode(), Mode::Browse);
}

#[test]
fn a_selected_bool_is_locked_and_follows_its_selector() {
    let s = schema();
    let mut m = Model::new(&s, defaults(&s));
    assert!(m.jump_to("PKG_A"));
    m.key(Key::Char(' '));
    assert_eq!(m.values()["PKG_B"], Value::Bool(true));
    assert_eq!(texts(&m)[2], "-*- b  (selected by PKG_A)");
    keys(&mut m, &[Key::Down, Key::Char('n')]);
    assert_eq!(
        m.status(),
        Some("PKG_B cannot be changed: selected by PKG_A")
    );
    // PKG_B was never chosen by the user: it goes back to n with PKG_A.
    keys(&mut m, &[Key::Up, Key::Char(' ')]);
    assert_eq!(m.values()["PKG_B"], Value::Bool(false));
    assert!(!m.changed());
}

#[test]
fn the_edit_line_type_checks_like_a_defconfig() {
    let s = schema();
    let mut m = Model::new(&s, defaults(&s));
    assert!(m.jump_to("JOBS"));
    m.key(Key::Enter);
    assert!(matches!(m.mode(), Mode::Edit { buffer, .. } if buffer == "4"));
    keys(&mut m, &[Key::Backspace]);
    keys(&mut m, &typed("99"));
    m.key(Key::Enter);
    let err = m.status().unwrap_or_default().to_string();
    assert!(
        err.starts_with("invalid value 99 for int option JOBS"),
        "{err}"
    );
    assert!(err.contains("from 1 to 64"), "{err}");
    assert!(matches!(m.mode(), Mode::Edit { .. }));
    keys(&mut m, &[Key::Ctrl('u'), Key::Char('8'), Key::Enter]);
    assert_eq!(m.values()["JOBS"], Value::Int(8));
    assert_eq!(texts(&m), ["(8) JOBS"]);

    // Strings keep quotes and backslashes; Esc drops an edit.
    assert!(m.jump_to("HOSTNAME"));
    keys(&mut m, &[Key::Enter, Key::Ctrl('u')]);
    keys(&mut m, &typed(r#"a "b" \c"#));
    keys(
        &mut m,
        &[Key::Home, Key::Delete, Key::Char('A'), Key::Enter],
    );
    assert_eq!(m.values()["HOSTNAME"], Value::Str(r#"A "b" \c"#.into()));
    keys(&mut m, &[Key::Enter, Key::Char('x'), Key::Esc]);
    assert_eq!(m.values()["HOSTNAME"], Value::Str(r#"A "b" \c"#.into()));
}

#[test]
fn search_finds_by_symbol_or_prompt_and_jumps() {
    let s = schema();
    let mut m = Model::new(&s, defaults(&s));
    assert_eq!(m.search("alpha"), ["PKG_A"]);
    assert_eq!(m.search("cpio"), ["CPIO", "CPIO_COMP"]);
    m.key(Key::Char('/'));
    keys(&mut m, &typed("greet"));
    assert!(matches!(m.mode(), Mode::Search { query, .. } if query == "greet"));
    m.key(Key::Enter);
    assert_eq!(*m.mode(), Mode::Browse);
    assert_eq!(m.focused(), Some("GREETING"));
    assert_eq!(m.breadcrumb(), "Packages");
    // Keys that mean something elsewhere are text in the search line.
    keys(&mut m, &[Key::Char('/'), Key::Char('q'), Key::Char('s')]);
    assert!(matches!(m.mode(), Mode::Search { query, .. } if query == "qs"));
    keys(&mut m, &[Key::Ctrl('u')]);
    keys(&mut m, &typed("comp"));
    keys(&mut m, &[Key::Esc]);
    assert_eq!(m.focused(), Some("GREETING"));
}

#[test]
fn help_shows_type_default_depends_and_selects() {
    let s = schema();
    let mut m = Model::new(&s, defaults(&s));
    m.jump_to("CPIO_COMP");
    m.key(Key::Char('?'));
    assert!(matches!(m.mode(), Mode::Help { .. }));
    let text = m.help_lines("CPIO_COMP").join("\n");
    for want in [
        "Symbol: CPIO_COMP   Type: choice",
        "Default: \"gzip\"",
        "Choices: none, gzip, xz",
        "Depends on: CPIO  (met)",
        "Declared in: configs/x.ron",
        "Some help.",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
    let text = m.help_lines("PKG_B").join("\n");
    assert!(text.contains("Selected by: PKG_A [n]"), "{text}");
    m.key(Key::Esc);
    assert_eq!(*m.mode(), Mode::Browse);
}

#[test]
fn quitting_asks_only_when_there_are_unsaved_changes() {
    let s = schema();
    let mut m = Model::new(&s, defaults(&s));
    assert_eq!(m.key(Key::Char('q')), Command::Quit);
    m.jump_to("CPIO");
    m.key(Key::Char('n'));
    assert_eq!(m.key(Key::Char('q')), Command::None);
    assert_eq!(*m.mode(), Mode::ConfirmQuit);
    assert_eq!(m.key(Key::Esc), Command::None);
    assert_eq!(*m.mode(), Mode::Browse);
    assert_eq!(
        keys(&mut m, &[Key::Char('q'), Key::Char('n')]),
        Command::Quit
    );
    assert_eq!(
        keys(&mut m, &[Key::Char('q'), Key::Char('y')]),
        Command::SaveAndQuit
    );
    assert_eq!(m.key(Key::Char('s')), Command::Save);
    m.mark_saved();
    assert_eq!(m.key(Key::Char('q')), Command::Quit);
    assert_eq!(m.key(Key::Ctrl('c')), Command::Quit);
}

#[test]
fn the_screen_marks_the_cursor_and_explains_locks() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let s = schema();
    let mut m = Model::new(&s, defaults(&s));
    m.jump_to("CPIO");
    keys(&mut m, &[Key::Char(' '), Key::Down]);
    let mut term = Terminal::new(TestBackend::new(80, 12)).unwrap();
    term.draw(|f| super::view::draw(f, &m, "out/.config"))
        .unwrap();
    let buf = term.backend().buffer();
    let width = usize::from(buf.area.width);
    let screen: Vec<String> = buf
        .content()
        .chunks(width)
        .map(|row| row.iter().map(|c| c.symbol()).collect())
        .collect();
    let screen = screen.join("\n");
    assert!(
        screen.contains("forge menuconfig — out/.config  [modified]"),
        "{screen}"
    );
    assert!(screen.contains("Filesystem images"), "{screen}");
    assert!(screen.contains("  [ ] CPIO"), "{screen}");
    assert!(screen.contains("> <gzip> CPIO_COMP"), "{screen}");
    assert!(
        screen.contains("CPIO_COMP: locked, depends on CPIO which is n"),
        "{screen}"
    );
}
