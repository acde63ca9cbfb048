//! Translating one Buildroot string value into the forge value it means:
//! make-style variables (`$(ARCH)`, `$(TOPDIR)`), paths, device tree names
//! `file://` URLs, Buildroot's `$(call github,…)` download helper and the
//! `$(BR2_DEFCONFIG)` argument of board scripts. A value forge cannot
//! translate comes back as the reason, phrased for the "not honoured" report.

use super::table::How;

/// What a translation may depend on besides the value.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// forge's TARGET_ARCH, which is also Buildroot's ARCH for arm and aarch64.
    pub arch: &'a str,
    /// Version of the kernel forge builds, e.g. "6.1".
    pub linux_version: Option<&'a str>,
}

/// A translated value: the forge value, or none, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    pub value: Option<String>,
    /// Set when part of the value has no meaning for forge and was dropped.
    pub note: Option<String>,
}

/// The forge value for Buildroot value `text` translated by `how`.
pub fn translate(how: &How, text: &str, target: Target) -> Result<Translated, String> {
    let text = text
        .replace("$(ARCH)", target.arch)
        .replace("${ARCH}", target.arch)
        .replace("$(CROSS_TRIPLET)", cross_triplet(target.arch));
    let value = match how {
        How::Same => plain(&text).map(str::to_string),
        How::Suffix(_) if text.is_empty() => Ok(String::new()),
        How::Suffix(suffix) => plain(&text).map(|t| format!("{t}{suffix}")),
        How::Paths => paths(&text),
        How::Dts => dts(&text, target),
        How::FileUrl => file_url(&text),
        How::MiB => mib(&text),
        How::Url => url(&text),
        How::ScriptArgs => return Ok(script_args(&text)),
    }?;
    Ok(Translated {
        value: Some(value),
        note: None,
    })
}

/// The GNU triplet of the cross compiler forge's setup installs for
/// TARGET_ARCH (Debian's names).
fn cross_triplet(arch: &str) -> &'static str {
    match arch {
        "aarch64" => "aarch64-linux-gnu",
        _ => "arm-linux-gnueabihf",
    }
}

/// Board script arguments: `$(BR2_DEFCONFIG)`, the path of Buildroot's
/// defconfig that Buildroot's own board scripts read, is dropped with a
/// note; the other arguments stay as written.
fn script_args(text: &str) -> Translated {
    const VAR: [&str; 2] = ["$(BR2_DEFCONFIG)", "${BR2_DEFCONFIG}"];
    let kept: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !VAR.contains(w))
        .collect();
    let dropped = kept.len() != text.split_whitespace().count();
    let note = dropped.then(|| {
        "`$(BR2_DEFCONFIG)` (Buildroot's own defconfig path, read by Buildroot's board \
         scripts) is dropped: forge's post-build and post-image scripts get the other arguments"
            .to_string()
    });
    let value = (!kept.is_empty() || !dropped).then(|| kept.join(" "));
    Translated { value, note }
}

/// A download URL; Buildroot's `$(call github,OWNER,REPO,VERSION)` becomes
/// the archive URL it stands for.
fn url(text: &str) -> Result<String, String> {
    let Some(at) = text.find("$(call github,") else {
        return plain(text).map(str::to_string);
    };
    let args_at = at + "$(call github,".len();
    let end = text[args_at..]
        .find(')')
        .ok_or_else(|| format!("`{text}`: `$(call github,` is not closed"))?;
    let args: Vec<&str> = text[args_at..args_at + end].split(',').collect();
    let [owner, repo, version] = args[..] else {
        return Err(format!(
            "`$(call github,{})` needs three arguments: owner, repository, version",
            args.join(",")
        ));
    };
    let expanded = format!(
        "{}https://github.com/{owner}/{repo}/archive/{version}{}",
        &text[..at],
        &text[args_at + end + 1..]
    );
    plain(&expanded).map(str::to_string)
}

/// Buildroot's image size (`60M`, `1g`, `65536`: a k, m, g or t suffix,
/// KiB without one) as a whole number of MiB.
fn mib(text: &str) -> Result<String, String> {
    let t = plain(text)?.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_lowercase() {
                'k' => 10,
                'm' => 20,
                'g' => 30,
                't' => 40,
                _ => return Err(format!("`{t}` is not a size (a number with k, m, g or t)")),
            };
            (&t[..i], shift)
        }
        _ => (t, 10),
    };
    let bytes = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_shl(shift).filter(|b| b >> shift == n))
        .ok_or_else(|| format!("`{t}` is not a size (a number with k, m, g or t)"))?;
    if bytes == 0 || bytes % (1 << 20) != 0 {
        return Err(format!(
            "forge sizes the image in whole MiB; `{t}` is not a positive number of MiB"
        ));
    }
    Ok((bytes >> 20).to_string())
}

/// `text` when it holds no variable forge cannot resolve.
fn plain(text: &str) -> Result<&str, String> {
    match first_variable(text) {
        None => Ok(text),
        Some(var) if var.starts_with("BR2_EXTERNAL") => Err(format!(
            "forge cannot tell which tree `$({var})` is: write the path relative to the tree \
             holding it (forge looks relative paths up in the project tree, then in the \
             --external trees)"
        )),
        Some(var) => Err(format!(
            "forge cannot resolve `$({var})`: write the value without it"
        )),
    }
}

/// The name of the first `$(NAME)` or `${NAME}` in `text`.
fn first_variable(text: &str) -> Option<&str> {
    let at = text.find("$(").or_else(|| text.find("${"))?;
    let rest = &text[at + 2..];
    let end = rest.find([')', '}']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Space-separated paths: Buildroot's are relative to its top directory,
/// forge's to the project root, so only `$(TOPDIR)` needs translating.
fn paths(text: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let word = ["$(TOPDIR)", "${TOPDIR}"]
            .iter()
            .find_map(|v| {
                let rest = word.strip_prefix(v)?;
                if rest.is_empty() {
                    Some(".")
                } else {
                    rest.strip_prefix('/')
                }
            })
            .unwrap_or(word);
        out.push(plain(word)?.to_string());
    }
    Ok(out.join(" "))
}

/// In-tree device tree names, without `.dts`. Buildroot writes them as the
/// path under `arch/<arch>/boot/dts/`, which for 32-bit arm has a vendor
/// directory only since Linux 6.5 (`arm/vexpress-v2p-ca9`); for an older
/// kernel forge drops that directory.
fn dts(text: &str, target: Target) -> Result<String, String> {
    let flat = target.arch == "arm"
        && target
            .linux_version
            .and_then(major_minor)
            .is_some_and(|v| v < (6, 5));
    let mut out = Vec::new();
    for name in text.split_whitespace() {
        let name = plain(name)?;
        let name = name.strip_suffix(".dts").unwrap_or(name);
        let name = match name.rsplit_once('/') {
            Some((_, base)) if flat => base,
            _ => name,
        };
        out.push(name.to_string());
    }
    Ok(out.join(" "))
}

/// `(major, minor)` of a version such as `6.1` or `6.18.7`.
pub fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// A `file://` URL's path; anything else is a download forge does not make.
fn file_url(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("Buildroot needs the kernel tarball's location here; write \
             file:///path/to/linux.tar.xz (forge builds the kernel from a file on this machine)"
            .to_string());
    }
    match text.strip_prefix("file://") {
        Some(path) => paths(path),
        None => Err(format!(
            "forge builds the kernel from a tarball or tree on this machine, not a download: \
             fetch {text} and write its file:// URL, or set LINUX_SOURCE_PATH"
        )),
    }
}
