//! End-to-end tests of the config pipeline — parse, resolve, `.config`,
//! `savedefconfig` — on a small schema built in code.

use super::*;
use std::path::Path;

const FILE: &str = "boards/x_defconfig";

fn schema() -> Schema {
    let mut s = Schema::default();
    let mut add = |name: &str, decl: OptionDecl| {
        s.options.insert(
            name.to_string(),
            Declared {
                decl,
                origin: "configs/system.ron".into(),
                tree: ".".into(),
                package: None,
            },
        );
    };
    let c = Common::default;
    let deps = |d: &[&str]| Common {
        depends: d.iter().map(|s| s.to_string()).collect(),
        ..Common::default()
    };
    let choices = ["arm", "aarch64", "x86_64"].map(String::from).to_vec();
    add(
        "TARGET_ARCH",
        OptionDecl::Choice {
            choices,
            default: "arm".into(),
            common: c(),
        },
    );
    add(
        "JOBS",
        OptionDecl::Int {
            default: 4,
            range: Some((1, 64)),
            common: c(),
        },
    );
    add(
        "HOSTNAME",
        OptionDecl::Str {
            default: "forge".into(),
            common: c(),
        },
    );
    add(
        "OVERLAY",
        OptionDecl::Path {
            default: String::new(),
            common: c(),
        },
    );
    add(
        "STATIC",
        OptionDecl::Bool {
            default: false,
            common: c(),
            select: vec![],
        },
    );
    add(
        "SHARED_EXTRA",
        OptionDecl::Bool {
            default: false,
            common: deps(&["!STATIC"]),
            select: vec![],
        },
    );
    add(
        "BUSYBOX",
        OptionDecl::Bool {
            default: true,
            common: c(),
            select: vec![],
        },
    );
    let sel = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
    add(
        "SYSTEMD",
        OptionDecl::Bool {
            default: false,
            common: c(),
            select: sel(&["DBUS", "UDEV"]),
        },
    );
    add(
        "DBUS",
        OptionDecl::Bool {
            default: false,
            common: c(),
            select: sel(&["EXPAT"]),
        },
    );
    add(
        "EXPAT",
        OptionDecl::Bool {
            default: false,
            common: c(),
            select: vec![],
        },
    );
    add(
        "UDEV",
        OptionDecl::Bool {
            default: false,
            common: c(),
            select: vec![],
        },
    );
    add(
        "NEON",
        OptionDecl::Bool {
            default: false,
            common: deps(&["TARGET_ARCH=arm"]),
            select: vec![],
        },
    );
    add(
        "FOO_BAR",
        OptionDecl::Bool {
            default: false,
            common: c(),
            select: vec![],
        },
    );
    s
}

fn parse(text: &str) -> Defconfig {
    parse_defconfig_str(Path::new(FILE), text).unwrap()
}

fn resolve_text(text: &str) -> Result<Resolved, ConfigError> {
    resolve(&schema(), &parse(text))
}

fn v_bool(b: bool) -> Value {
    Value::Bool(b)
}

/// A hand-written defconfig with comments, blank lines and no redundant lines.
const HAND: &str = "\
# Board x: a small ARM board
TARGET_ARCH=\"aarch64\"

# Parallelism
JOBS=16
HOSTNAME=\"board-x\"
# BUSYBOX is not set

SYSTEMD=y
# end
";

#[test]
fn resolves_defaults_and_assignments_with_comments() {
    let r = resolve_text(HAND).unwrap();
    assert_eq!(r.values["TARGET_ARCH"], Value::Str("aarch64".into()));
    assert_eq!(r.values["JOBS"], Value::Int(16));
    assert_eq!(r.values["HOSTNAME"], Value::Str("board-x".into()));
    assert_eq!(r.values["OVERLAY"], Value::Str(String::new()));
    assert_eq!(r.values["BUSYBOX"], v_bool(false));
    assert_eq!(r.values["STATIC"], v_bool(false));
    assert_eq!(r.values.len(), schema().options.len());
    let user: Vec<&str> = r.set_by_user.iter().map(String::as_str).collect();
    assert_eq!(
        user,
        ["BUSYBOX", "HOSTNAME", "JOBS", "SYSTEMD", "TARGET_ARCH"]
    );
}

#[test]
fn bare_words_for_strings_and_choices() {
    let r = resolve_text("TARGET_ARCH=x86_64\nHOSTNAME=box\nOVERLAY=\"a b\"\n").unwrap();
    assert_eq!(r.values["TARGET_ARCH"], Value::Str("x86_64".into()));
    assert_eq!(r.values["HOSTNAME"], Value::Str("box".into()));
    assert_eq!(r.values["OVERLAY"], Value::Str("a b".into()));
}

#[test]
fn every_error_names_file_and_line_and_all_are_reported() {
    let text =
        "FOO=y\nSTATIC=yes\nJOBS=100\nTARGET_ARCH=\"mips\"\nBR2_TARGET_ARCH=\"arm\"\nZZZ=1\n";
    let e = resolve_text(text).unwrap_err();
    let msgs: Vec<String> = e.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs.len(), 6, "{e}");
    assert_eq!(
        msgs[0],
        "boards/x_defconfig:1: unknown option FOO; did you mean FOO_BAR?"
    );
    assert!(msgs[1].starts_with("boards/x_defconfig:2: invalid value yes for bool option STATIC"));
    assert!(msgs[1].contains("`STATIC=y`, `STATIC=n` or `# STATIC is not set`"));
    assert!(msgs[2].starts_with("boards/x_defconfig:3: invalid value 100 for int option JOBS"));
    assert!(msgs[2].contains("an integer from 1 to 64"));
    assert!(msgs[3].starts_with("boards/x_defconfig:4: invalid value \"mips\" for choice"));
    assert!(msgs[3].contains("one of arm, aarch64, x86_64"));
    assert!(
        msgs[4].ends_with("did you mean TARGET_ARCH?"),
        "{}",
        msgs[4]
    );
    assert!(msgs[5].starts_with("boards/x_defconfig:6: unknown option ZZZ; check the spelling"));
}

#[test]
fn unterminated_string_error_names_file_and_line() {
    let e = parse_defconfig_str(Path::new(FILE), "JOBS=2\nHOSTNAME=\"abc\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("boards/x_defconfig:2:10: unterminated string"),
        "{e}"
    );
}

#[test]
fn select_is_transitive() {
    let r = resolve_text("SYSTEMD=y\n").unwrap();
    for sym in ["SYSTEMD", "DBUS", "UDEV", "EXPAT"] {
        assert_eq!(r.values[sym], v_bool(true), "{sym}");
    }
    assert!(!r.set_by_user.contains("DBUS"));
    // Saying y to a selected option is harmless; saying n is a conflict.
    assert!(resolve_text("SYSTEMD=y\nDBUS=y\n").is_ok());
    let e = resolve_text("SYSTEMD=y\n# EXPAT is not set\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "boards/x_defconfig:2: option EXPAT is set to n but DBUS is y and selects it; \
         remove this line or set DBUS to n"
    );
}

#[test]
fn selecting_a_non_bool_is_a_schema_error() {
    let mut s = schema();
    if let Some(Declared {
        decl: OptionDecl::Bool { select, .. },
        ..
    }) = s.options.get_mut("STATIC")
    {
        select.push("JOBS".into());
    }
    let e = resolve(&s, &parse("")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("configs/system.ron: option STATIC: selects JOBS"),
        "{e}"
    );
}

#[test]
fn unmet_depends() {
    // Unmet and set explicitly to a non-default value: an error naming it.
    let e = resolve_text("TARGET_ARCH=\"aarch64\"\nNEON=y\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "boards/x_defconfig:2: option NEON is set to y but its dependency `TARGET_ARCH=arm` \
         is not met (TARGET_ARCH is \"aarch64\"); satisfy `TARGET_ARCH=arm` or remove this line"
    );
    let e = resolve_text("STATIC=y\nSHARED_EXTRA=y\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("dependency `!STATIC` is not met (STATIC is y)"),
        "{e}"
    );
    // Unmet but set to the default: fine, the default applies.
    let r = resolve_text("TARGET_ARCH=\"aarch64\"\n# NEON is not set\n").unwrap();
    assert_eq!(r.values["NEON"], v_bool(false));
    // Met: the value applies.
    assert_eq!(
        resolve_text("NEON=y\n").unwrap().values["NEON"],
        v_bool(true)
    );
}

#[test]
fn duplicate_assignment_later_wins() {
    let d = parse("JOBS=2\nJOBS=8\n");
    assert_eq!(d.warnings.len(), 1);
    assert_eq!(
        resolve(&schema(), &d).unwrap().values["JOBS"],
        Value::Int(8)
    );
}

#[test]
fn dotconfig_round_trip() {
    let s = schema();
    let r = resolve_text(HAND).unwrap();
    let text = write_dotconfig(&s, &r, Some(Path::new(FILE)));
    let body = "# BUSYBOX is not set\nDBUS=y\nEXPAT=y\n# FOO_BAR is not set\n\
                HOSTNAME=\"board-x\"\nJOBS=16\n# NEON is not set\nOVERLAY=\"\"\n\
                # SHARED_EXTRA is not set\n# STATIC is not set\nSYSTEMD=y\n\
                TARGET_ARCH=\"aarch64\"\nUDEV=y\n";
    assert_eq!(
        text,
        format!("{}\n# defconfig: {FILE}\n\n{body}", dotconfig::HEADER)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".config");
    std::fs::write(&path, &text).unwrap();
    let (d, from) = parse_dotconfig(&path).unwrap();
    assert_eq!(from.as_deref(), Some(Path::new(FILE)));
    let again = resolve(&s, &d).unwrap();
    assert_eq!(again.values, r.values);
    // Writing the re-read configuration gives the same file.
    assert_eq!(write_dotconfig(&s, &again, from.as_deref()), text);
}

#[test]
fn savedefconfig_unchanged_is_byte_identical() {
    let s = schema();
    let original = parse(HAND);
    let r = resolve(&s, &original).unwrap();
    assert_eq!(savedefconfig(&s, &r, Some(&original)), HAND);
    // Also without a final newline and with CRLF line endings.
    for text in [HAND.trim_end(), &HAND.replace('\n', "\r\n")] {
        let original = parse(text);
        let r = resolve(&s, &original).unwrap();
        assert_eq!(savedefconfig(&s, &r, Some(&original)), text);
    }
}

#[test]
fn savedefconfig_changed_value_updates_just_that_line() {
    let s = schema();
    let original = parse(HAND);
    let mut r = resolve(&s, &original).unwrap();
    r.values.insert("JOBS".into(), Value::Int(32));
    r.values
        .insert("HOSTNAME".into(), Value::Str("say \"hi\"".into()));
    let expected = HAND
        .replace("JOBS=16", "JOBS=32")
        .replace("HOSTNAME=\"board-x\"", "HOSTNAME=\"say \\\"hi\\\"\"");
    assert_eq!(savedefconfig(&s, &r, Some(&original)), expected);
}

#[test]
fn savedefconfig_value_back_to_default_drops_its_line() {
    let s = schema();
    let original = parse(HAND);
    let mut r = resolve(&s, &original).unwrap();
    r.values.insert("BUSYBOX".into(), v_bool(true));
    let out = savedefconfig(&s, &r, Some(&original));
    assert_eq!(out, HAND.replace("# BUSYBOX is not set\n", ""));
    assert_eq!(resolve_text(&out).unwrap().values, r.values);
}

#[test]
fn savedefconfig_new_values_are_appended_sorted() {
    let s = schema();
    let original = parse(HAND);
    let mut r = resolve(&s, &original).unwrap();
    r.values.insert("STATIC".into(), v_bool(true));
    r.values
        .insert("OVERLAY".into(), Value::Str("board/x/overlay".into()));
    let out = savedefconfig(&s, &r, Some(&original));
    assert_eq!(
        out,
        format!("{HAND}OVERLAY=\"board/x/overlay\"\nSTATIC=y\n")
    );
    assert_eq!(resolve_text(&out).unwrap().values, r.values);
    // Appending to a file without a final newline starts a new line.
    let original = parse("JOBS=2");
    let mut r = resolve(&s, &original).unwrap();
    r.values.insert("STATIC".into(), v_bool(true));
    assert_eq!(savedefconfig(&s, &r, Some(&original)), "JOBS=2\nSTATIC=y\n");
}

#[test]
fn savedefconfig_drops_redundant_and_duplicate_lines() {
    let s = schema();
    // BUSYBOX=y restates the default; DBUS is selected by SYSTEMD; JOBS=2 is
    // overridden by the later JOBS=3.
    let original = parse("# c\nBUSYBOX=y\nJOBS=2\nSYSTEMD=y\nDBUS=y\nJOBS=3\n");
    let r = resolve(&s, &original).unwrap();
    assert_eq!(
        savedefconfig(&s, &r, Some(&original)),
        "# c\nSYSTEMD=y\nJOBS=3\n"
    );
}

#[test]
fn savedefconfig_without_original_is_sorted_minimal_list() {
    let s = schema();
    let r = resolve_text(HAND).unwrap();
    let out = savedefconfig(&s, &r, None);
    assert_eq!(
        out,
        "# BUSYBOX is not set\nHOSTNAME=\"board-x\"\nJOBS=16\nSYSTEMD=y\nTARGET_ARCH=\"aarch64\"\n"
    );
    assert_eq!(resolve_text(&out).unwrap().values, r.values);
    let defaults = resolve_text("").unwrap();
    assert_eq!(savedefconfig(&s, &defaults, None), "");
}

#[test]
fn depends_select_cycle_is_reported_not_looped() {
    let mut s = schema();
    if let Some(Declared {
        decl: OptionDecl::Bool { select, common, .. },
        ..
    }) = s.options.get_mut("FOO_BAR")
    {
        select.push("STATIC".into());
        common.depends.push("!STATIC".into());
    }
    let e = resolve(&s, &parse("FOO_BAR=y\n")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("configs/system.ron: option "), "{msg}");
    assert!(
        msg.contains("FOO_BAR") && msg.contains("keep changing each other"),
        "{msg}"
    );
}
