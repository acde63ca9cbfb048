//! Unit tests of the defconfig reader.

use super::*;

fn parse(text: &str) -> Result<Defconfig, ConfigError> {
    parse_defconfig_str(Path::new("boards/x_defconfig"), text)
}

#[test]
fn parses_all_line_kinds_and_round_trips() {
    let text = "# Board\n\nA=y\n# B is not set\nC=42\nD=\"say \\\"hi\\\" \\\\o/\"\n  E = arm \n#F is not set\n";
    let d = parse(text).unwrap();
    assert_eq!(d.to_text(), text);
    assert_eq!(d.lines[0].kind, LineKind::Comment);
    assert_eq!(d.lines[1].kind, LineKind::Blank);
    let eff = d.effective();
    assert_eq!(eff["A"].value, RawValue::Bare("y".into()));
    assert_eq!(eff["A"].loc.to_string(), "boards/x_defconfig:3");
    assert_eq!(eff["B"].value, RawValue::NotSet);
    assert_eq!(eff["C"].value, RawValue::Bare("42".into()));
    assert_eq!(eff["D"].value, RawValue::Quoted("say \"hi\" \\o/".into()));
    assert_eq!(eff["E"].value, RawValue::Bare("arm".into()));
    // `#F is not set` lacks the space: a plain comment.
    assert!(!eff.contains_key("F"));
    assert!(d.warnings.is_empty());
}

#[test]
fn exact_bytes_without_trailing_newline_and_with_crlf() {
    for text in ["A=y", "A=y\r\n# c\r\n", "", "\n", "\n\n"] {
        assert_eq!(parse(text).unwrap().to_text(), text);
    }
    let d = parse("A=y\r\nB=\"x\"\r\n").unwrap();
    assert_eq!(d.effective()["B"].value, RawValue::Quoted("x".into()));
}

#[test]
fn duplicate_assignment_warns_and_later_wins() {
    let d = parse("A=1\nB=y\nA=2\n").unwrap();
    assert_eq!(d.effective()["A"].value, RawValue::Bare("2".into()));
    assert_eq!(d.warnings.len(), 1);
    assert_eq!(d.warnings[0].0.line, 3);
    assert!(d.warnings[0].1.contains("boards/x_defconfig:1"));
}

#[test]
fn unterminated_string_names_line_and_column() {
    let e = parse("A=y\nB=\"abc\n").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("boards/x_defconfig:2:3: unterminated string"),
        "{msg}"
    );
    let e = parse("B=\"abc\\\"\n").unwrap_err();
    assert!(e.to_string().contains("unterminated string"));
}

#[test]
fn other_syntax_errors_are_all_reported() {
    let e = parse("just words\nBAD-NAME=1\nC=\"a\" b\nD=\"\\n\"\n").unwrap_err();
    let errs = e.errors();
    assert_eq!(errs.len(), 4, "{e}");
    assert!(
        errs[0]
            .to_string()
            .starts_with("boards/x_defconfig:1: expected `NAME=value`")
    );
    assert!(
        errs[1]
            .to_string()
            .starts_with("boards/x_defconfig:2:1: invalid option name")
    );
    assert!(errs[2].to_string().contains(":3:7: unexpected text `b`"));
    assert!(errs[3].to_string().contains(":4:4: unknown escape `\\n`"));
}

#[test]
fn canonical_formatting() {
    assert_eq!(format_assignment("A", &Value::Bool(true)), "A=y");
    assert_eq!(
        format_assignment("A", &Value::Bool(false)),
        "# A is not set"
    );
    assert_eq!(format_assignment("A", &Value::Int(-3)), "A=-3");
    assert_eq!(
        format_assignment("A", &Value::Str("a\"b\\".into())),
        "A=\"a\\\"b\\\\\""
    );
    let d = parse(&format!(
        "{}\n",
        format_assignment("A", &Value::Str("a\"b\\".into()))
    ))
    .unwrap();
    assert_eq!(d.effective()["A"].value, RawValue::Quoted("a\"b\\".into()));
}

#[test]
fn a_nul_byte_or_a_control_character_is_refused_at_its_line() {
    let e = parse("A=y\nB=\"x\0y\"\nC=\"\x07\"\n").unwrap_err();
    let errs = e.errors();
    assert_eq!(errs.len(), 2, "{e}");
    assert!(
        errs[0]
            .to_string()
            .starts_with("boards/x_defconfig:2:5: a NUL byte after `B=\"x`"),
        "{e}"
    );
    assert!(
        errs[1]
            .to_string()
            .contains(":3:4: the control character U+0007")
    );
}

#[test]
fn invalid_utf8_in_a_file_is_refused_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x_defconfig");
    std::fs::write(&f, b"A=y\n# ok\nHOSTNAME=\"h\xffst\"\n").unwrap();
    let e = parse_defconfig(&f).unwrap_err().to_string();
    assert!(
        e.contains("x_defconfig:3:12: invalid UTF-8 byte 0xff"),
        "{e}"
    );
}

#[test]
fn oversized_values_and_names_are_refused_with_an_excerpt() {
    let big = "v".repeat(text::MAX_VALUE + 1);
    for line in [format!("A=\"{big}\""), format!("A={big}")] {
        let e = parse(&format!("B=y\n{line}\n")).unwrap_err().to_string();
        assert!(
            e.starts_with("boards/x_defconfig:2:3: the value of A is 4097 bytes long"),
            "{e}"
        );
        assert!(e.len() < 200, "never the whole line: {e}");
    }
    let ok = "v".repeat(text::MAX_VALUE);
    assert!(parse(&format!("A=\"{ok}\"\n")).is_ok());
    let name = "N".repeat(text::MAX_NAME + 1);
    let e = parse(&format!("{name}=y\n")).unwrap_err().to_string();
    assert!(e.contains(":1:1: the option name"), "{e}");
    assert!(e.len() < 200, "{e}");
    // Every message quoting the line quotes an excerpt of it.
    let e = parse(&format!("{big}\n")).unwrap_err().to_string();
    assert!(e.contains("expected `NAME=value`") && e.len() < 250, "{e}");
    let e = parse(&format!("A=\"x\" {big}\n")).unwrap_err().to_string();
    assert!(e.contains("unexpected text") && e.len() < 250, "{e}");
}
