use super::*;
use crate::store::Store;
use std::fs;

#[test]
fn sizes_parse_and_print() {
    assert_eq!(parse_size("4096"), Some(4096));
    assert_eq!(parse_size("2K"), Some(2048));
    assert_eq!(parse_size("1.5G"), Some(3 << 29));
    assert_eq!(parse_size("20GiB"), Some(20 << 30));
    assert_eq!(parse_size("512MB"), Some(512 << 20));
    assert_eq!(parse_size("-1G"), None);
    assert_eq!(parse_size("lots"), None);
    assert_eq!(parse_size(""), None);
    assert_eq!(human(512), "512 B");
    assert_eq!(human(3 << 29), "1.5 GiB");
}

/// A store with three one-file trees recorded under keys a, b, c, used
/// in that order (c most recently).
fn three_entries(root: &std::path::Path) {
    let store = Store::open(root).unwrap();
    for (i, key) in ["a", "b", "c"].iter().enumerate() {
        let dir = root.parent().unwrap().join(format!("tree-{key}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("f"), vec![b'x' + i as u8; 10_000]).unwrap();
        let (manifest, _) = store.put_tree(&dir).unwrap();
        let action = crate::store::Action {
            step: key.to_string(),
            manifest,
            inputs: vec![],
        };
        store.put_action(key, &action).unwrap();
        usage::append(
            root,
            &usage::Use {
                time: 1000 + i as u64,
                output: "out".into(),
                cached: 0,
                built: 1,
                keys: vec![key.to_string()],
            },
        )
        .unwrap();
    }
}

#[test]
fn gc_keeps_the_most_recently_used_that_fit_and_reclaims_tmp() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("cache");
    three_entries(&root);
    fs::write(root.join("tmp/.tmpKILLED"), vec![0u8; 5000]).unwrap();
    let held = CacheLock::exclusive(&root).unwrap();
    // Room for about two entries: c and b stay, a goes.
    let report = gc::collect(&root, 25_000, &held).unwrap();
    assert_eq!(report.actions_removed, 1, "{report:?}");
    assert_eq!(report.blobs_removed, 1);
    assert_eq!(report.tmp_removed, 1);
    assert!(report.size_after <= 25_000);
    drop(held);
    let store = Store::open(&root).unwrap();
    assert!(store.action("a").is_none());
    assert!(store.action("b").is_some() && store.action("c").is_some());
    // The log forgets the removed key.
    assert!(
        usage::read(&root)
            .iter()
            .all(|u| !u.keys.contains(&"a".to_string()))
    );
}

#[test]
fn verify_removes_a_corrupt_blob_and_what_needs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("cache");
    three_entries(&root);
    let inv = inventory::read(&root).unwrap();
    let (path, _) = inv.blobs.values().next().unwrap().clone();
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    fs::write(&path, b"tampered").unwrap();
    let held = CacheLock::exclusive(&root).unwrap();
    let report = verify::verify(&root, &held).unwrap();
    assert_eq!(report.blobs, 3);
    // The blob, the manifest naming it and the action naming that.
    assert_eq!(report.removed.len(), 3, "{report}");
    let again = verify::verify(&root, &held).unwrap();
    assert!(again.removed.is_empty(), "{again}");
    assert_eq!(again.actions, 2);
}

#[test]
fn maintenance_waits_for_builds_and_builds_for_maintenance() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("cache");
    let store = Store::open(&root).unwrap();
    assert!(CacheLock::try_exclusive(&root).unwrap().is_none());
    drop(store);
    let held = CacheLock::try_exclusive(&root).unwrap();
    assert!(held.is_some());
}
