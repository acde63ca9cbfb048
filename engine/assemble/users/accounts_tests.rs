//! Tests of applying users tables to base account files, rendering them and
//! listing home directories.

use std::path::Path;

use super::*;
use crate::assemble::users::crypt::verify_password;
use crate::assemble::users::parse_users_table;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n";
const GROUP: &str = "root:x:0:\ndaemon:x:1:\nwheel:x:10:root\nusers:x:100:\n";
const SHADOW: &str = "root::::::::\ndaemon:*:::::::\n";

fn opts() -> AccountsOptions {
    AccountsOptions::with_source_date_epoch(b"seed", 1_700_000_000)
}

fn build(table: &str, shadow: Option<&str>) -> Result<Accounts, UsersError> {
    let specs = parse_users_table(Path::new("users.txt"), table)?;
    let mut a = Accounts::from_base(PASSWD, GROUP, shadow, opts())?;
    a.apply(&specs)?;
    Ok(a)
}

fn shadow_pw(a: &Accounts, name: &str) -> String {
    a.shadow
        .iter()
        .find(|s| s.name == name)
        .unwrap()
        .password
        .clone()
}

#[test]
fn auto_ids_and_groups_on_demand() {
    let table = "foo -1 foo -1 - /home/foo /bin/sh alpha,wheel Foo user\n\
        bar -2 bar -2 * - - - \n\
        sys 150 sysg -1 ! - - beta\n\
        usr 5000 usrg -2 - - - gamma\n\
        baz -1 foo 200 - - - -\n\
        - -1 onlygroup -1 - - - -\n";
    let a = build(table, Some(SHADOW)).unwrap();
    // Groups: explicit gid first (foo=200 wins over foo's -1), then auto in
    // table order; `users` (100) is taken, so system ids start at 101.
    let want_group = "root:x:0:\ndaemon:x:1:\nwheel:x:10:root,foo\nusers:x:100:\n\
        foo:x:200:\nbar:x:1000:\nsysg:x:101:\nusrg:x:1001:\nonlygroup:x:102:\n\
        alpha:x:103:foo\nbeta:x:104:sys\ngamma:x:1002:usr\n";
    assert_eq!(a.group_text(), want_group);
    // Users: explicit uids first, then automatic ones in table order.
    let want_passwd = "root:x:0:0:root:/root:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
        sys:x:150:101::/:/bin/false\nusr:x:5000:1001::/:/bin/false\n\
        foo:x:100:200:Foo user:/home/foo:/bin/sh\nbar:x:1000:1000::/:/bin/false\n\
        baz:x:101:200::/:/bin/false\n";
    assert_eq!(a.passwd_text(), want_passwd);
    let shadow = a.shadow_text();
    assert!(
        shadow.starts_with("root::::::::\ndaemon:*:::::::\n"),
        "{shadow}"
    );
    assert!(shadow.contains("\nsys:!:19675::::::\n"), "{shadow}");
    assert!(shadow.contains("\nbar:*:19675::::::\n"), "{shadow}");
    assert!(shadow.contains("\nfoo::19675::::::\n"), "{shadow}");
}

#[test]
fn clear_passwords_are_hashed_and_verifiable() {
    let table = "a -2 a -2 =s3cret - - -\nb -2 b -2 !=hidden - - -\nc -2 c -2 = - - -\n\
        d -2 d -2 != - - -\ne -2 e -2 $6$x$y - - -\n";
    let a = build(table, Some(SHADOW)).unwrap();
    let pa = shadow_pw(&a, "a");
    assert!(
        pa.starts_with("$6$") && verify_password("s3cret", &pa),
        "{pa}"
    );
    assert!(!verify_password("wrong", &pa));
    let pb = shadow_pw(&a, "b");
    let hashed = pb.strip_prefix('!').unwrap();
    assert!(verify_password("hidden", hashed), "{pb}");
    assert_eq!(shadow_pw(&a, "c"), "");
    assert_eq!(shadow_pw(&a, "d"), "!");
    assert_eq!(shadow_pw(&a, "e"), "$6$x$y");
    // Cross-check with the host's crypt(3) when python3 has `crypt`.
    let out = std::process::Command::new("python3")
        .args(["-W", "ignore", "-c"])
        .arg("import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))")
        .args(["s3cret", &pa])
        .output();
    match out {
        Ok(o) if o.status.success() => assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), pa),
        _ => eprintln!("python3 crypt unavailable; skipped"),
    }
}

#[test]
fn identical_input_identical_output() {
    let table = "a -2 a -2 =pw /home/a /bin/sh x,y A\nb -1 b -1 !=pw - - x\n";
    let render = || {
        let mut a = build(table, None).unwrap();
        a.set_root_password("rootpw").unwrap();
        (a.passwd_text(), a.group_text(), a.shadow_text())
    };
    assert_eq!(render(), render());
}

#[test]
fn root_password_forms_and_derived_shadow() {
    let mut a = build("", None).unwrap();
    // Derived from passwd: `x` becomes `*`, with the last-change day.
    assert_eq!(
        a.shadow_text(),
        "root:*:19675::::::\ndaemon:*:19675::::::\n"
    );
    a.set_root_password("").unwrap();
    assert_eq!(shadow_pw(&a, "root"), "");
    a.set_root_password("$5$abc$def").unwrap();
    assert_eq!(shadow_pw(&a, "root"), "$5$abc$def");
    a.set_root_password("toor").unwrap();
    assert!(verify_password("toor", &shadow_pw(&a, "root")));
    assert!(a.set_root_password("a:b").is_err());
    let mut b = Accounts::from_base("", "", None, opts()).unwrap();
    assert!(b.set_root_password("x").is_err());
}

#[test]
fn home_entries_skip_existing_paths() {
    let table =
        "foo -1 foo -1 - /home/foo - -\nbar -1 bar -1 - /srv/bar - -\nbaz -1 baz -1 - - - -\n";
    let a = build(table, Some(SHADOW)).unwrap();
    let base = [ImageEntry::dir("srv/bar", 0o755)];
    let got: Vec<(String, u32, u32, u32)> = home_entries(&a, &base)
        .into_iter()
        .map(|e| (e.path, e.uid, e.gid, e.mode))
        .collect();
    let want = [
        ("root".to_string(), 0, 0, 0o700),
        ("home/foo".to_string(), 100, 101, 0o755),
    ];
    assert_eq!(got, want);
}

#[test]
fn conflicts_and_bad_base_lines_are_located() {
    let cases = [
        (
            "foo 1 foo 300 - - - -",
            "users.txt:1: uid 1 for `foo` is already used by user `daemon`",
        ),
        (
            "x 300 wheel 11 - - - -",
            "users.txt:1: group `wheel` already exists with gid 10",
        ),
        (
            "x 300 newg 10 - - - -",
            "gid 10 for group `newg` is already used by group `wheel`",
        ),
        (
            "daemon 1 wheel -1 - - - -",
            "user `daemon` already exists with gid 1",
        ),
        (
            "\ndaemon 2 daemon -1 - - - -",
            "users.txt:2: user `daemon` already exists with uid 1",
        ),
    ];
    for (table, want) in cases {
        let err = build(table, Some(SHADOW)).unwrap_err().to_string();
        assert!(err.contains(want), "{table:?}: {err}");
    }
    let err = Accounts::from_base("root:x:0:0:root:/root\n", "", None, opts()).unwrap_err();
    assert!(
        err.to_string().contains("/etc/passwd:1: expected 7"),
        "{err}"
    );
    let err = Accounts::from_base(PASSWD, "a:x:1:\nb:x:zz:\n", None, opts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/etc/group:2:5: bad gid `zz`: expected a decimal number"
    );
}
