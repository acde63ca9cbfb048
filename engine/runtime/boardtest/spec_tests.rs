//! Tests of the tests-file format: both argument forms, defaults, step
//! locations, and the diagnostics for mistakes.

use super::*;

fn parse_ok(text: &str) -> Suite {
    parse(Path::new("t.ron"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> String {
    parse(Path::new("t.ron"), text)
        .expect_err("should fail")
        .to_string()
}

const TWO: &str = r#"// header with Expect( in a comment
Tests(
    fail: ["Kernel panic"],
    timeout: 5,
    tests: [
        Test(
            name: "boot",
            steps: [
                Expect(pattern: "system is up", timeout: 120),
                Send("echo \"Run(\""),
                /* Send( in a block comment */
                Expect(r"^armv7l$"),
            ],
        ),
        Test(name: "users", steps: [Run("id -u"), Run(command: "true", timeout: 3)]),
    ],
)
"#;

#[test]
fn both_forms_defaults_and_locations() {
    let s = parse_ok(TWO);
    assert_eq!(s.fail[0].source, "Kernel panic");
    assert_eq!(s.tests.len(), 2);
    let boot = &s.tests[0];
    assert_eq!(boot.name, "boot");
    let lines: Vec<String> = s
        .tests
        .iter()
        .flat_map(|t| &t.steps)
        .map(|st| st.location.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "t.ron:9:17",
            "t.ron:10:17",
            "t.ron:12:17",
            "t.ron:15:37",
            "t.ron:15:51"
        ]
    );
    match &boot.steps[0].action {
        Action::Expect { pattern, timeout } => {
            assert_eq!(pattern.source, "system is up");
            assert_eq!(*timeout, Duration::from_secs(120));
        }
        other => panic!("{other:?}"),
    }
    match &boot.steps[2].action {
        Action::Expect { pattern, timeout } => {
            assert!(pattern.regex.is_match("x\narmv7l\ny"), "multi-line");
            assert_eq!(*timeout, Duration::from_secs(5), "the file's default");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(boot.steps[1].action.describe(), r#"send "echo \"Run(\"""#);
    match &s.tests[1].steps[1].action {
        Action::Run { command, timeout } => {
            assert_eq!(command, "true");
            assert_eq!(*timeout, Duration::from_secs(3));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn default_timeout_without_one_in_the_file() {
    let s = parse_ok(r#"Tests(tests: [Test(name: "a", steps: [Expect("x")])])"#);
    match &s.tests[0].steps[0].action {
        Action::Expect { timeout, .. } => {
            assert_eq!(*timeout, Duration::from_secs(DEFAULT_TIMEOUT))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn syntax_errors_name_the_place_and_the_form() {
    let err = parse_err("Tests(\n  tests: [Test(name: \"a\", steps: [Wait(\"x\")])],\n)");
    assert!(err.starts_with("t.ron:2:"), "{err}");
    assert!(err.contains("unknown variant `Wait`"), "{err}");
    assert!(err.contains("Expect, Send, Run"), "{err}");
    assert!(err.contains("a tests file looks like: Tests("), "{err}");

    let err = parse_err(r#"Tests(tests: [Test(name: "a", steps: [Expect(patern: "x")])])"#);
    assert!(err.contains("unknown field `patern`"), "{err}");
    assert!(err.contains("pattern, timeout"), "{err}");

    let err = parse_err(r#"Tests(tests: [Test(name: "a", steps: [Run(timeout: 3)])])"#);
    assert!(err.contains("missing field `command`"), "{err}");

    let err = parse_err(r#"Tests(tests: [Test(name: "a", steps: [Expect(3)])])"#);
    assert!(err.contains("a string, or pattern:"), "{err}");
}

#[test]
fn invalid_contents_are_located() {
    let err = parse_err(
        "Tests(tests: [Test(name: \"a\", steps: [\n  Send(\"x\"),\n  Expect(\"(\"),\n])])",
    );
    assert!(
        err.starts_with("t.ron:3:3: \"(\" is not a valid regular expression"),
        "{err}"
    );

    let err =
        parse_err(r#"Tests(tests: [Test(name: "a", steps: [Expect(pattern: "x", timeout: 0)])])"#);
    assert!(err.contains("at least 1 second"), "{err}");

    let err = parse_err(r#"Tests(tests: [])"#);
    assert!(err.contains("no tests"), "{err}");

    let err = parse_err(r#"Tests(tests: [Test(name: "a", steps: [])])"#);
    assert!(err.contains("test \"a\" has no steps"), "{err}");

    let err = parse_err(
        r#"Tests(tests: [Test(name: "a", steps: [Send("")]), Test(name: "a", steps: [Send("")])])"#,
    );
    assert!(err.contains("two tests are named \"a\""), "{err}");
}

#[test]
fn raw_strings_and_raw_identifiers_do_not_confuse_locations() {
    let text = "Tests(tests: [Test(name: \"a\", steps: [Send(r#\"Run(\"#), Run(\"x\")])])";
    let s = parse_ok(text);
    let cols: Vec<Option<usize>> = s.tests[0].steps.iter().map(|st| st.location.col).collect();
    assert_eq!(cols, [Some(39), Some(56)]);
}

#[test]
fn host_steps_with_their_optional_fields() {
    let text = r#"Tests(timeout: 7, tests: [Test(name: "net", steps: [
    Host(run: "nc -z 127.0.0.1 $FORGE_HOSTFWD_22"),
    Host(run: "curl -s localhost:$FORGE_HOSTFWD_9999", expect: "^ok$", timeout: 3, retry_for: 60),
])])"#;
    let s = parse_ok(text);
    let steps = &s.tests[0].steps;
    assert_eq!(steps[1].location.to_string(), "t.ron:3:5");
    match &steps[0].action {
        Action::Host(h) => {
            assert_eq!(h.run, "nc -z 127.0.0.1 $FORGE_HOSTFWD_22");
            assert!(h.expect.is_none());
            assert_eq!(h.timeout, Duration::from_secs(7), "the file's default");
            assert_eq!(h.retry_for, Duration::ZERO);
        }
        other => panic!("{other:?}"),
    }
    match &steps[1].action {
        Action::Host(h) => {
            assert!(h.expect.as_ref().is_some_and(|p| p.regex.is_match("x\nok")));
            assert_eq!(h.timeout, Duration::from_secs(3));
            assert_eq!(h.retry_for, Duration::from_secs(60));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        steps[0].action.describe(),
        r#"host "nc -z 127.0.0.1 $FORGE_HOSTFWD_22""#
    );
}

#[test]
fn host_step_mistakes() {
    let err = parse_err(r#"Tests(tests: [Test(name: "a", steps: [Host(expect: "x")])])"#);
    assert!(err.contains("missing field `run`"), "{err}");
    let err = parse_err(r#"Tests(tests: [Test(name: "a", steps: [Host(run: "x", retry: 3)])])"#);
    assert!(err.contains("unknown field `retry`"), "{err}");
    let err = parse_err(
        r#"Tests(tests: [Test(name: "a", steps: [Send("x"), Host(run: "x", expect: "(")])])"#,
    );
    assert!(
        err.starts_with("t.ron:1:50: \"(\" is not a valid regular expression"),
        "{err}"
    );
    let err = parse_err(r#"Tests(tests: [Test(name: "a", steps: [Host(run: "x", timeout: 0)])])"#);
    assert!(err.contains("at least 1 second"), "{err}");
}
