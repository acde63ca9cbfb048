//! Mirrors as Buildroot has them: a package's download is tried from the
//! primary site (under `<package>/<file>`, then `<file>`), then its
//! upstream URL, then the backup site (the same two names); when none
//! gives it, the error lists every URL tried with where it came from, and
//! says how to provide the file by hand (`dl/<package>/<file>` or a
//! primary site).

use super::{Attempt, FetchError, fetch_url, list_attempts};
use crate::spec::Sites;
use std::fmt;
use std::path::{Path, PathBuf};

/// A package's download that no URL gave.
#[derive(Debug)]
pub struct Unavailable {
    pub package: String,
    pub file_name: String,
    pub sha256: String,
    /// Each URL tried, labelled with where it came from.
    pub attempts: Vec<Attempt>,
    pub dl_dir: PathBuf,
    pub sites: Sites,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot download {} for {} (sha256 {}); tried:{}\n{}",
            self.file_name,
            self.package,
            self.sha256,
            list_attempts(&self.attempts),
            provide_hint(&self.package, &self.file_name, &self.dl_dir, &self.sites)
        )
    }
}

/// How to provide a file no URL gave: the names it is looked up under.
fn provide_hint(package: &str, file_name: &str, dl_dir: &Path, sites: &Sites) -> String {
    let unset = |name: &str, site: &str| {
        if site.is_empty() {
            format!(" {name} is not set.")
        } else {
            String::new()
        }
    };
    format!(
        "To build without the network, put the file at {} (it is checked against the \
         sha256), or on a mirror as <site>/{package}/{file_name} or <site>/{file_name} and set \
         PRIMARY_SITE to that site (file:///path or http://host/path).{}{}",
        dl_dir.join(package).join(file_name).display(),
        unset("PRIMARY_SITE", &sites.primary),
        unset("BACKUP_SITE", &sites.backup),
    )
}

/// The URLs a download is tried from, in order: the primary site (under
/// `<package>/<file>`, then `<file>`), the upstream URL, the backup site
/// (the same two names).
pub fn candidates(package: &str, file_name: &str, upstream: &str, sites: &Sites) -> Vec<String> {
    let on = |site: &str| -> Vec<String> {
        let site = site.trim_end_matches('/');
        if site.is_empty() {
            return Vec::new();
        }
        vec![
            format!("{site}/{package}/{file_name}"),
            format!("{site}/{file_name}"),
        ]
    };
    let mut all = on(&sites.primary);
    if !upstream.is_empty() {
        all.push(upstream.to_string());
    }
    all.extend(on(&sites.backup));
    all
}

/// [`fetch_url`] for a package's download: every URL that failed is
/// labelled (primary site, upstream, backup site) and the error says how
/// to provide the file by hand.
pub fn fetch_for(
    package: &str,
    urls: &[String],
    sites: &Sites,
    sha256: &str,
    dl_dir: &Path,
    file_name: &str,
) -> Result<PathBuf, FetchError> {
    match fetch_url(urls, sha256, &dl_dir.join(package), file_name) {
        Err(FetchError::AllFailed { attempts, .. }) => Err(unavailable(
            package, sites, sha256, dl_dir, file_name, attempts,
        )),
        Err(FetchError::NoCandidates { .. }) => Err(unavailable(
            package,
            sites,
            sha256,
            dl_dir,
            file_name,
            Vec::new(),
        )),
        other => other,
    }
}

fn unavailable(
    package: &str,
    sites: &Sites,
    sha256: &str,
    dl_dir: &Path,
    file_name: &str,
    attempts: Vec<Attempt>,
) -> FetchError {
    let label = |url: &str| {
        let under = |site: &str| {
            let site = site.trim_end_matches('/');
            !site.is_empty() && url.starts_with(&format!("{site}/"))
        };
        if under(&sites.primary) {
            "primary site (PRIMARY_SITE)"
        } else if under(&sites.backup) {
            "backup site (BACKUP_SITE)"
        } else {
            "upstream"
        }
    };
    let attempts = attempts
        .into_iter()
        .map(|a| Attempt {
            url: format!("{} {}", label(&a.url), a.url),
            reason: a.reason,
        })
        .collect();
    FetchError::Unavailable(Box::new(Unavailable {
        package: package.to_string(),
        file_name: file_name.to_string(),
        sha256: sha256.to_string(),
        attempts,
        dl_dir: dl_dir.to_path_buf(),
        sites: sites.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_looked_up_under_two_names_per_mirror() {
        let sites = Sites {
            primary: "file:///srv/mirror/".into(),
            backup: "https://backup.example/dl".into(),
        };
        assert_eq!(
            candidates("pkg", "pkg-1.0.tar.gz", "https://up/pkg-1.0.tar.gz", &sites),
            [
                "file:///srv/mirror/pkg/pkg-1.0.tar.gz",
                "file:///srv/mirror/pkg-1.0.tar.gz",
                "https://up/pkg-1.0.tar.gz",
                "https://backup.example/dl/pkg/pkg-1.0.tar.gz",
                "https://backup.example/dl/pkg-1.0.tar.gz",
            ]
        );
        assert_eq!(
            candidates("pkg", "f", "https://up/f", &Sites::default()),
            ["https://up/f"]
        );
    }

    #[test]
    fn a_file_primary_site_is_used_and_a_failure_is_labelled() {
        let tmp = tempfile::tempdir().unwrap();
        let mirror = tmp.path().join("mirror");
        std::fs::create_dir_all(mirror.join("pkg")).unwrap();
        std::fs::write(mirror.join("pkg/f.tar"), b"abc").unwrap();
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let sites = Sites {
            primary: format!("file://{}", mirror.display()),
            backup: String::new(),
        };
        let dl = tmp.path().join("dl");
        let urls = candidates("pkg", "f.tar", "http://127.0.0.1:9/f.tar", &sites);
        let got = fetch_for("pkg", &urls, &sites, sha, &dl, "f.tar").unwrap();
        assert_eq!(got, dl.join("pkg/f.tar"));

        std::fs::remove_file(&got).unwrap();
        std::fs::remove_file(mirror.join("pkg/f.tar")).unwrap();
        let err = fetch_for("pkg", &urls, &sites, sha, &dl, "f.tar")
            .unwrap_err()
            .to_string();
        assert!(err.contains("primary site (PRIMARY_SITE) file://"), "{err}");
        assert!(err.contains("upstream http://127.0.0.1:9/f.tar"), "{err}");
        assert!(err.contains("BACKUP_SITE is not set"), "{err}");
        assert!(!err.contains("PRIMARY_SITE is not set"), "{err}");
    }
}
