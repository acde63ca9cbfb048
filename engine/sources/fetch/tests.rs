//! Tests for downloads: file:// and plain paths, a throwaway HTTP server on
//! 127.0.0.1 (404 then success, gzip-encoded bodies), hash mismatches that
//! must leave nothing behind, reuse of verified files, and apt when the
//! host has armhf configured.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use super::*;

const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Serve `responses` (status, extra headers, body) to successive
/// connections; returns the base URL and a channel of request heads.
fn serve(responses: Vec<(u16, &'static str, Vec<u8>)>) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for (status, headers, body) in responses {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let _ = tx.send(head);
            let reason = if status == 200 { "OK" } else { "Not Found" };
            let msg = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(msg.as_bytes()).unwrap();
            stream.write_all(&body).unwrap();
        }
    });
    (base, rx)
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    v.sort();
    v
}

#[test]
fn sha256_of_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("abc");
    fs::write(&f, "abc").unwrap();
    assert_eq!(sha256_file(&f).unwrap(), ABC);
    let err = sha256_file(&tmp.path().join("missing")).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn file_url_and_plain_path_with_good_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src dir/abc.txt");
    fs::create_dir_all(src.parent().unwrap()).unwrap();
    fs::write(&src, "abc").unwrap();
    let dl = tmp.path().join("dl");
    let url = format!("file://{}", src.display()).replace(' ', "%20");
    let got = fetch_url(&[url], &ABC.to_uppercase(), &dl, "abc.txt").unwrap();
    assert_eq!(got, dl.join("abc.txt"));
    assert_eq!(fs::read_to_string(&got).unwrap(), "abc");
    assert_eq!(
        fs::metadata(&got).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let plain = src.to_string_lossy().into_owned();
    let got = fetch_url(&[plain], ABC, &tmp.path().join("dl2"), "abc.txt").unwrap();
    assert_eq!(fs::read_to_string(got).unwrap(), "abc");
}

#[test]
fn mismatch_leaves_nothing_and_names_both_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("abc.txt");
    fs::write(&src, "abd").unwrap();
    let dl = tmp.path().join("dl");
    let err = fetch_url(&[format!("file://{}", src.display())], ABC, &dl, "abc.txt").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(ABC) && msg.contains(&sha(b"abd")), "{msg}");
    assert!(
        msg.contains("sha256 mismatch") && msg.contains("abc.txt"),
        "{msg}"
    );
    assert!(names(&dl).is_empty(), "{:?}", names(&dl));
}

#[test]
fn every_failure_is_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let urls = vec![
        format!("http://{closed}/x.tar.gz"),
        "ftp://example.invalid/x.tar.gz".to_string(),
        format!("file://{}/nope", tmp.path().display()),
    ];
    let err = fetch_url(&urls, ABC, tmp.path(), "x.tar.gz").unwrap_err();
    let FetchError::AllFailed { attempts, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(attempts.len(), 3);
    assert!(attempts[0].reason.contains("connection"), "{err}");
    assert!(attempts[1].reason.contains("unsupported"), "{err}");
    assert!(attempts[2].reason.contains("cannot open"), "{err}");
    for u in &urls {
        assert!(err.to_string().contains(u.as_str()), "{err}");
    }
}

#[test]
fn http_404_then_good_mirror() {
    let body = b"release tarball bytes".to_vec();
    let want = sha(&body);
    let (base, requests) = serve(vec![(404, "", b"gone".to_vec()), (200, "", body.clone())]);
    let tmp = tempfile::tempdir().unwrap();
    let urls = vec![
        format!("{base}/primary/p-1.0.tar.gz"),
        format!("{base}/upstream/p-1.0.tar.gz"),
    ];
    let got = fetch_url(&urls, &want, tmp.path(), "p-1.0.tar.gz").unwrap();
    assert_eq!(fs::read(&got).unwrap(), body);
    assert!(
        requests
            .recv()
            .unwrap()
            .starts_with("GET /primary/p-1.0.tar.gz")
    );
    assert!(
        requests
            .recv()
            .unwrap()
            .starts_with("GET /upstream/p-1.0.tar.gz")
    );
    assert_eq!(names(tmp.path()), vec!["p-1.0.tar.gz"]);
}

#[test]
fn http_errors_are_reported_with_status() {
    let (base, _rx) = serve(vec![(404, "", b"gone".to_vec())]);
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch_url(&[format!("{base}/a.tgz")], ABC, tmp.path(), "a.tgz").unwrap_err();
    assert!(err.to_string().contains("HTTP status 404"), "{err}");
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn gzip_encoded_tarball_is_not_decoded() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"inner tar").unwrap();
    let gz = enc.finish().unwrap();
    let want = sha(&gz);
    let (base, requests) = serve(vec![(200, "Content-Encoding: gzip\r\n", gz.clone())]);
    let tmp = tempfile::tempdir().unwrap();
    let got = fetch_url(&[format!("{base}/t.tar.gz")], &want, tmp.path(), "t.tar.gz").unwrap();
    assert_eq!(fs::read(got).unwrap(), gz);
    let head = requests.recv().unwrap().to_ascii_lowercase();
    assert!(!head.contains("gzip"), "{head}");
}

#[test]
fn verified_file_is_reused_and_bad_one_removed() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("abc.txt"), "abc").unwrap();
    let unreachable = vec!["ftp://nowhere.invalid/abc.txt".to_string()];
    let got = fetch_url(&unreachable, ABC, tmp.path(), "abc.txt").unwrap();
    assert_eq!(got, tmp.path().join("abc.txt"));
    let got = fetch_url(&[], ABC, tmp.path(), "abc.txt").unwrap();
    assert_eq!(fs::read_to_string(got).unwrap(), "abc");
    fs::write(tmp.path().join("abc.txt"), "corrupt").unwrap();
    assert!(fetch_url(&unreachable, ABC, tmp.path(), "abc.txt").is_err());
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn bad_arguments_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch_url(&[], "abc", tmp.path(), "x").unwrap_err();
    assert!(matches!(err, FetchError::BadSha256 { .. }) && err.to_string().contains("64 hex"));
    let err = fetch_url(&[], &"g".repeat(64), tmp.path(), "x").unwrap_err();
    assert!(matches!(err, FetchError::BadSha256 { .. }));
    let err = fetch_url(&[], ABC, tmp.path(), "../x").unwrap_err();
    assert!(matches!(err, FetchError::BadFileName { .. }));
    let err = fetch_url(&[], ABC, tmp.path(), "x").unwrap_err();
    assert!(matches!(err, FetchError::NoCandidates { .. }));
}

#[test]
fn deb_for_a_foreign_architecture() {
    let probe = std::process::Command::new("apt-cache")
        .args(["show", "busybox-static:armhf"])
        .output();
    if !probe.is_ok_and(|o| o.status.success() && !o.stdout.is_empty()) {
        eprintln!("apt-cache knows no busybox-static:armhf on this host: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let deb = fetch_deb("busybox-static", "armhf", None, tmp.path()).unwrap();
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("busybox-static_") && name.ends_with("_armhf.deb"),
        "{name}"
    );
    assert_eq!(names(tmp.path()), vec![name.clone()]);
    let first = fs::metadata(&deb).unwrap().modified().unwrap();
    // A second call reuses the verified file without downloading.
    let again = fetch_deb("busybox-static", "armhf", None, tmp.path()).unwrap();
    assert_eq!(again, deb);
    assert_eq!(fs::metadata(&again).unwrap().modified().unwrap(), first);
    // The package unpacks through the archive module.
    let root = tmp.path().join("rootfs");
    crate::sources::archive::extract(&deb, &root, 0).unwrap();
    assert!(root.join("bin/busybox").is_file());

    let err = fetch_deb("forge-no-such-package", "armhf", None, tmp.path()).unwrap_err();
    assert!(
        err.to_string().contains("dpkg --add-architecture armhf"),
        "{err}"
    );
}
