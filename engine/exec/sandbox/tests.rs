use super::*;
use crate::exec::Executor;
use crate::exec::local::PLAIN;
use std::fs;

fn maps(pairs: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .iter()
        .map(|(h, f)| (h.as_bytes().to_vec(), f.as_bytes().to_vec()))
        .collect()
}

#[test]
fn host_paths_are_rewritten_only_where_they_stand_whole() {
    let m = maps(&[("/o/build/bb", "/forge/step"), ("/o", "/forge/tree/0")]);
    let r = |s: &str| String::from_utf8(rewrite(s.as_bytes(), &m)).unwrap();
    assert_eq!(r("/o/build/bb"), "/forge/step");
    assert_eq!(r("/o/build/bb/src"), "/forge/step/src");
    assert_eq!(
        r("PATH=/o/build/bb/host/bin:/usr/bin"),
        "PATH=/forge/step/host/bin:/usr/bin"
    );
    assert_eq!(
        r("make O=\"/o/build/bb\" -C /o/x"),
        "make O=\"/forge/step\" -C /forge/tree/0/x"
    );
    // A longer name that merely starts like a mapped path is left alone.
    assert_eq!(r("/o/build/bb-2/src"), "/forge/tree/0/build/bb-2/src");
    assert_eq!(r("/other /o.d /o_x"), "/other /o.d /o_x");
    assert_eq!(r("no paths here"), "no paths here");
}

#[test]
fn a_wrapped_command_names_only_fixed_paths() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o");
    fs::create_dir_all(o.join("build/bb")).unwrap();
    let o = o.to_str().unwrap();
    let sb = Sandbox::default()
        .map(format!("{o}/build/bb"), "/forge/step")
        .map(format!("{o}/no-such-dir"), "/forge/dl");
    let cmd = Cmd::shell(&format!("cd {o}/build/bb/src && make"))
        .env("SRC_DIR", format!("{o}/build/bb/src"))
        .env("DL", format!("{o}/no-such-dir"))
        .env("HOME", "/root")
        .cwd(format!("{o}/build/bb/src"));
    let w = sb.wrap(&cmd);
    let argv: Vec<String> = w
        .argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let bind = argv.iter().position(|a| a == "--bind").unwrap();
    assert_eq!(
        argv[bind + 1..bind + 3],
        [format!("{o}/build/bb"), "/forge/step".into()]
    );
    // A missing directory is neither mounted nor named.
    assert_eq!(argv.iter().filter(|a| *a == "--bind").count(), 1);
    assert!(
        w.env
            .contains(&("DL".into(), format!("{o}/no-such-dir").into()))
    );
    let chdir = argv.iter().position(|a| a == "--chdir").unwrap();
    assert_eq!(argv[chdir + 1], "/forge/step/src");
    let tail = argv.iter().position(|a| a == "--").unwrap();
    assert_eq!(
        argv[tail + 1..],
        ["sh", "-ec", "cd /forge/step/src && make"]
    );
    assert!(
        w.env
            .contains(&("SRC_DIR".into(), "/forge/step/src".into()))
    );
    assert!(w.env.contains(&("HOME".into(), "/forge/home".into())));
    assert!(!w.env.contains(&("HOME".into(), "/root".into())));
    assert!(w.cwd.is_none() && w.sandbox.is_none());
}

/// Where bwrap is installed, commands run in the fixed view: the mapped
/// directory at `/forge/step`, writable, a fixed host name and id, an
/// empty HOME and no way to the host's network. Without it, the mode says
/// what to install.
#[test]
fn sandboxed_commands_see_fixed_paths_and_no_network() {
    let has_bwrap = find_in(&std::env::var_os("PATH").unwrap_or_default(), "bwrap").is_some();
    if !has_bwrap || std::env::var("FORGE_SANDBOX").is_ok_and(|v| v == "off" || v == "0") {
        assert!(matches!(mode(), Paths::Real { reason } if !reason.is_empty()));
        return;
    }
    assert_eq!(*mode(), Paths::Fixed, "{}", mode().describe());
    let dir = tempfile::tempdir().unwrap();
    let step = dir.path().join("build/step");
    fs::create_dir_all(step.join("src")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "pwd; echo \"$SRC_DIR\"; echo \"$HOME\"; hostname; id -u; ls -A \"$HOME\" | wc -l; \
         echo made > made.txt; \
         if (echo hi > /dev/tcp/127.0.0.1/{port}) 2>/dev/null; then echo net; else echo no-net; fi"
    );
    let cmd = Cmd::new("bash")
        .arg("-c")
        .arg(script)
        .env("PATH", "/usr/bin:/bin")
        .env("SRC_DIR", step.join("src"))
        .cwd(step.join("src"))
        .capture_all()
        .sandboxed(Sandbox::default().map(&step, "/forge/step"));
    let out = PLAIN.run(&cmd).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "/forge/step/src",
            "/forge/step/src",
            "/forge/home",
            "forge",
            "1000",
            "0",
            "no-net"
        ]
    );
    assert_eq!(
        fs::read_to_string(step.join("src/made.txt")).unwrap(),
        "made\n"
    );
}
