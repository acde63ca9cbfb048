//! The cache's lifecycle: who may use it at once ([`lock`]: builds share
//! it, maintenance takes it alone), what each build used ([`usage`], the
//! last-use times and hit rates), and the maintenance verbs over what is on
//! disk ([`inventory`]): `forge cache stats`, `forge cache verify` (every
//! entry checked, the broken removed), `forge cache gc --max-size SIZE`
//! (least recently used first) and the size limit checked after a build.
//!
//! Safety against kill -9 at any point: nothing is removed while a build
//! holds the cache (maintenance holds the exclusive lock), and removals go
//! roots first (actions, then manifests no kept action names, then blobs
//! no kept manifest names), so an interrupted pass leaves only unreferenced
//! files, which the next pass removes.

pub mod gc;
pub mod inventory;
pub mod lock;
pub mod stats;
pub mod usage;
pub mod verify;

pub use lock::CacheLock;

/// The size limit of a cache when `FORGE_CACHE_MAX_SIZE` does not set one.
pub const DEFAULT_MAX_SIZE: u64 = 20 << 30;

/// Parse a size such as `20G`, `512M`, `1.5G`, `4096` (bytes); binary
/// units (K, M, G, T; an optional trailing `B` or `iB`).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, shift) = match t.chars().last()? {
        'K' | 'k' => (&t[..t.len() - 1], 10),
        'M' | 'm' => (&t[..t.len() - 1], 20),
        'G' | 'g' => (&t[..t.len() - 1], 30),
        'T' | 't' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let value: f64 = num.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let bytes = value * (1u64 << shift) as f64;
    (bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// A size for people: `1.5 GiB`, `12.0 MiB`, `512 B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The limit from `FORGE_CACHE_MAX_SIZE`, or the default.
pub fn max_size_from_env() -> std::result::Result<u64, String> {
    match std::env::var("FORGE_CACHE_MAX_SIZE") {
        Ok(v) => parse_size(&v).ok_or_else(|| {
            format!("FORGE_CACHE_MAX_SIZE={v:?} is not a size (say e.g. 20G, 512M)")
        }),
        Err(_) => Ok(DEFAULT_MAX_SIZE),
    }
}

/// At the end of a build (after its store is closed): log what it used;
/// if no other build holds the cache, remove what killed inserts left in
/// `tmp/` and, when it stored something and the cache is now over `max_size`,
/// collect garbage (with another build running, the next build or
/// `forge cache gc` will). Returns the collection's report, if one ran.
pub fn after_build(
    root: &std::path::Path,
    entry: &usage::Use,
    max_size: u64,
) -> crate::error::Result<Option<gc::GcReport>> {
    usage::append(root, entry)?;
    let Some(held) = CacheLock::try_exclusive(root)? else {
        return Ok(None);
    };
    // Alone with the cache: what is in tmp/ was left by killed inserts.
    reclaim_tmp(root)?;
    if entry.built == 0 || inventory::read(root)?.total_size() <= max_size {
        return Ok(None);
    }
    gc::collect(root, max_size, &held).map(Some)
}

/// Remove the leftovers of interrupted inserts (call with the exclusive
/// lock held).
fn reclaim_tmp(root: &std::path::Path) -> crate::error::Result<usize> {
    let dir = root.join("tmp");
    let files: Vec<std::path::PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => return Ok(0),
    };
    inventory::remove_all(&files)
}

#[cfg(test)]
mod tests;
