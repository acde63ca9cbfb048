//! `forge cache stats`: the cache's size and entries, its limit, and the
//! hit rates of the last builds from the usage log.

use super::{inventory, usage};
use crate::error::Result;
use std::fmt::Write;
use std::path::Path;

/// How many of the last builds `stats` lists.
const LAST_BUILDS: usize = 10;

fn ago(then: u64, now: u64) -> String {
    let s = now.saturating_sub(then);
    match s {
        0..120 => format!("{s} s ago"),
        120..7200 => format!("{} min ago", s / 60),
        7200..172_800 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

pub fn report(root: &Path, max_size: u64) -> Result<String> {
    let inv = inventory::read(root)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cache {}: {} of at most {}",
        root.display(),
        super::human(inv.total_size()),
        super::human(max_size)
    );
    let _ = writeln!(
        out,
        "  {} actions, {} manifests, {} blobs; {} in {} temporary files",
        inv.actions.len(),
        inv.manifests.len(),
        inv.blobs.len(),
        super::human(inv.tmp.1),
        inv.tmp.0.len()
    );
    let uses = usage::read(root);
    let now = usage::now();
    let (cached, total) = uses
        .iter()
        .fold((0, 0), |(c, t), u| (c + u.cached, t + u.cached + u.built));
    if let Some(rate) = (cached * 100).checked_div(total) {
        let _ = writeln!(
            out,
            "  hit rate over {} builds: {rate} % ({cached} of {total} steps restored)",
            uses.len(),
        );
    }
    for u in uses.iter().rev().take(LAST_BUILDS) {
        let steps = u.cached + u.built;
        let rate = (u.cached * 100).checked_div(steps).unwrap_or(100);
        let _ = writeln!(
            out,
            "  {:>12}  {}: {} restored, {} built ({rate} %)",
            ago(u.time, now),
            u.output,
            u.cached,
            u.built
        );
    }
    Ok(out)
}
