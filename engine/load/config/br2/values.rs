//! Translating one Buildroot string value into the forge value it means:
//! make-style variables (`$(ARCH)`, `$(TOPDIR)`), paths, device tree names
//! and `file://` URLs. A value forge cannot translate comes back as the
//! reason, phrased for the "not honoured" report.

use super::table::How;

/// What a translation may depend on besides the value.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// forge's TARGET_ARCH, which is also Buildroot's ARCH for arm and aarch64.
    pub arch: &'a str,
    /// Version of the kernel forge builds, e.g. "6.1".
    pub linux_version: Option<&'a str>,
}

/// The forge value for Buildroot value `text` translated by `how`.
pub fn translate(how: &How, text: &str, target: Target) -> Result<String, String> {
    let text = text
        .replace("$(ARCH)", target.arch)
        .replace("${ARCH}", target.arch);
    match how {
        How::Same => plain(&text).map(str::to_string),
        How::Suffix(_) if text.is_empty() => Ok(String::new()),
        How::Suffix(suffix) => plain(&text).map(|t| format!("{t}{suffix}")),
        How::Paths => paths(&text),
        How::Dts => dts(&text, target),
        How::FileUrl => file_url(&text),
        How::MiB => mib(&text),
    }
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
