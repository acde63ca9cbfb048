//! Storing and materializing trees; corrupt blobs refused.

use super::*;

#[test]
fn tree_round_trip_and_tamper_detection() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("cache")).unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("target/bin")).unwrap();
    fs::write(src.join("target/bin/tool"), b"#!/bin/sh\n").unwrap();
    fs::set_permissions(
        src.join("target/bin/tool"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    symlink("tool", src.join("target/bin/alias")).unwrap();
    let (d1, m) = store.put_tree(&src).unwrap();
    let (d2, _) = store.put_tree(&src).unwrap();
    assert_eq!(d1, d2);
    assert_eq!(store.manifest(&d1).unwrap(), m);

    let out = tmp.path().join("out");
    store.materialize(&m, "target", &out).unwrap();
    assert_eq!(fs::read(out.join("bin/tool")).unwrap(), b"#!/bin/sh\n");
    assert_eq!(
        fs::read_link(out.join("bin/alias")).unwrap(),
        Path::new("tool")
    );
    let mode = fs::metadata(out.join("bin/tool"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);

    // Tamper with the blob: materializing must refuse it.
    let EntryKind::File { digest, .. } = &m
        .entries
        .iter()
        .find(|e| e.path.ends_with("tool"))
        .unwrap()
        .kind
    else {
        panic!()
    };
    let blob = store.blob_path(digest);
    fs::set_permissions(&blob, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&blob, b"evil").unwrap();
    let out2 = tmp.path().join("out2");
    let err = store
        .materialize(&m, "target", &out2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("corrupt"), "{err}");
}
