//! The cache traits over the local store, and two stores layered as
//! `Tiered` (the second standing in for a shared remote cache).

use super::*;
use std::os::unix::fs::PermissionsExt;

fn tree(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    fs::create_dir_all(src.join("target/bin")).unwrap();
    fs::create_dir_all(src.join("images")).unwrap();
    fs::write(src.join("target/bin/tool"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(
        src.join("target/bin/tool"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::write(src.join("images/zImage"), b"kernel").unwrap();
    src
}

fn action(manifest: &str) -> Action {
    Action {
        step: "pkg".into(),
        manifest: manifest.into(),
        inputs: vec![("recipe".into(), "x".into())],
    }
}

#[test]
fn the_local_store_through_the_traits() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("cache")).unwrap();
    let cas: &dyn ContentStore = &store;
    let ac: &dyn ActionCache = &store;
    let (d, size) = cas.put_blob(b"hello").unwrap();
    assert_eq!((size, cas.has_blob(&d).unwrap()), (5, true));
    assert_eq!(cas.read_blob(&d).unwrap(), b"hello");
    assert!(cas.verify_blob(&d).unwrap());
    assert_eq!(fs::read(cas.local_blob(&d).unwrap()).unwrap(), b"hello");
    let missing = blake3::hash(b"absent").to_hex().to_string();
    assert!(!cas.has_blob(&missing).unwrap());
    assert!(cas.local_blob(&missing).is_err());

    let (m, manifest) = cas.put_tree(&tree(tmp.path())).unwrap();
    assert_eq!(cas.get_manifest(&m).unwrap(), manifest);
    assert_eq!(blob_digests(&manifest).len(), 2);
    assert!(ac.get_action("k").unwrap().is_none());
    ac.put_action("k", &action(&m)).unwrap();
    assert_eq!(ac.get_action("k").unwrap().unwrap().manifest, m);

    // A tampered blob is refused when read.
    let path = store.blob_path(&d);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&path, b"evil").unwrap();
    assert!(!cas.verify_blob(&d).unwrap());
    let err = cas.read_blob(&d).unwrap_err().to_string();
    assert!(err.contains("corrupt"), "{err}");
}

#[test]
fn a_hit_in_the_second_tier_is_copied_into_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = Store::open(&tmp.path().join("remote")).unwrap();
    let (m, manifest) = remote.put_tree(&tree(tmp.path())).unwrap();
    ActionCache::put_action(&remote, "key", &action(&m)).unwrap();

    let local_root = tmp.path().join("local");
    let tiers = Tiered::new(Store::open(&local_root).unwrap(), remote);
    assert!(tiers.first.action("key").is_none());
    let got = tiers.get_action("key").unwrap().expect("remote hit");
    assert_eq!(got.manifest, m);
    // Now entirely local: action, manifest and every blob.
    assert_eq!(tiers.first.action("key").unwrap().manifest, m);
    assert_eq!(tiers.first.manifest(&m).unwrap(), manifest);
    for d in blob_digests(&manifest) {
        assert!(tiers.first.has_blob(d).unwrap(), "{d}");
    }
    // Materializing needs nothing from the second tier any more.
    fs::remove_dir_all(tiers.second.root()).unwrap();
    let out = tmp.path().join("out");
    tiers.materialize(&manifest, "target", &out).unwrap();
    assert_eq!(
        fs::read(out.join("bin/tool")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    assert!(tiers.get_action("other").unwrap().is_none());
}

#[test]
fn writes_reach_both_tiers_content_first() {
    let tmp = tempfile::tempdir().unwrap();
    let tiers = Tiered::new(
        Store::open(&tmp.path().join("local")).unwrap(),
        Store::open(&tmp.path().join("remote")).unwrap(),
    );
    let (m, manifest) = tiers.put_tree(&tree(tmp.path())).unwrap();
    tiers.put_action("key", &action(&m)).unwrap();
    for tier in [&tiers.first, &tiers.second] {
        assert_eq!(tier.action("key").unwrap().manifest, m);
        for d in blob_digests(&manifest) {
            assert!(ContentStore::has_blob(tier, d).unwrap());
        }
    }
    // A blob only the second tier has is read through and kept.
    let (d, _) = tiers.second.put_blob(b"only remote").unwrap();
    assert!(!tiers.first.has_blob(&d).unwrap());
    assert_eq!(tiers.read_blob(&d).unwrap(), b"only remote");
    assert!(tiers.first.has_blob(&d).unwrap());
}
