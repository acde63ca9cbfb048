//! Image settings read from option values: the UBI flash geometry
//! (`ROOTFS_UBI_*`; sizes in decimal or 0x-hex, checked against each other
//! the way ubinize and UBIFS need them, errors naming the option) and the
//! disk layout file `DISK_IMAGE_LAYOUT` names. Planning calls these so a
//! bad setting fails before anything builds; the image steps use the
//! results.

use crate::error::{Error, Result};
use crate::image::disk::{DiskLayout, parse_layout};
use crate::image::ubi::UbiGeometry;
use crate::load::config::Value;
use crate::load::project::Project;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Size of UBI's erase counter and volume identifier headers.
const UBI_HEADER: u32 = 64;

fn text(values: &BTreeMap<String, Value>, name: &str) -> String {
    values.get(name).map(Value::as_text).unwrap_or_default()
}

/// A size option: bytes in decimal or 0x-hex; `None` when empty.
fn size(values: &BTreeMap<String, Value>, name: &str) -> Result<Option<u32>> {
    let t = text(values, name);
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map(Some).map_err(|_| {
        bad(
            name,
            format!(
                "`{t}` is not a size in bytes: write it in decimal or 0x-hex, e.g. {name}=\"0x20000\""
            ),
        )
    })
}

fn bad(name: &str, why: String) -> Error {
    Error::BadOption {
        option: name.to_string(),
        at: None,
        message: why,
    }
}

/// A size option that must be set, positive and a power of two.
fn power_of_two(values: &BTreeMap<String, Value>, name: &str) -> Result<u32> {
    match size(values, name)? {
        Some(v) if v.is_power_of_two() => Ok(v),
        Some(v) => Err(bad(name, format!("{v:#x} is not a power of two"))),
        None => Err(bad(name, "is empty; it needs a size in bytes".into())),
    }
}

/// The flash geometry of the `ROOTFS_UBI_*` options, checked: the minimum
/// I/O size and sub-page size are powers of two (sub-page 0 means the
/// minimum I/O size), the PEB a multiple of the minimum I/O size, and, when
/// `ROOTFS_UBI` wraps the filesystem, the LEB size what ubinize gives for
/// them, since UBIFS refuses to mount a filesystem whose LEB size differs
/// from its volume's. An empty LEB size is derived that way.
pub fn ubi_geometry(values: &BTreeMap<String, Value>) -> Result<UbiGeometry> {
    let min_io = power_of_two(values, "ROOTFS_UBI_MIN_IO_SIZE")?;
    let peb_name = "ROOTFS_UBI_PEB_SIZE";
    let peb = size(values, peb_name)?.unwrap_or(0);
    if peb == 0 || !peb.is_multiple_of(min_io) {
        return Err(bad(
            peb_name,
            format!(
                "{peb:#x} is not a positive multiple of the minimum I/O size {min_io:#x} (ROOTFS_UBI_MIN_IO_SIZE)"
            ),
        ));
    }
    let sub_name = "ROOTFS_UBI_SUB_PAGE_SIZE";
    let sub_page = match size(values, sub_name)?.unwrap_or(0) {
        0 => min_io,
        s if s.is_power_of_two() && s <= min_io => s,
        s => {
            return Err(bad(
                sub_name,
                format!(
                    "{s:#x} is not a power of two up to the minimum I/O size {min_io:#x} (ROOTFS_UBI_MIN_IO_SIZE); 0 means the flash has no sub-pages"
                ),
            ));
        }
    };
    let vid_name = "ROOTFS_UBI_VID_HDR_OFFSET";
    let vid_hdr_offset = size(values, vid_name)?;
    if let Some(v) = vid_hdr_offset
        && (v < UBI_HEADER || !v.is_multiple_of(8))
    {
        return Err(bad(
            vid_name,
            format!("{v:#x} is not a multiple of 8 past the 64-byte erase counter header"),
        ));
    }
    // Where ubinize puts the data: after the VID header, on a min-I/O boundary.
    let vid = vid_hdr_offset.unwrap_or_else(|| UBI_HEADER.next_multiple_of(sub_page));
    let data = u64::from(vid + UBI_HEADER).next_multiple_of(u64::from(min_io));
    let derived = u64::from(peb).checked_sub(data).filter(|l| *l > 0);
    let Some(derived) = derived.and_then(|l| u32::try_from(l).ok()) else {
        return Err(bad(
            peb_name,
            format!("{peb:#x} leaves no room for data after the UBI headers ({data:#x} bytes)"),
        ));
    };
    let leb_name = "ROOTFS_UBI_LEB_SIZE";
    // A UBIFS image alone may be for any volume; one in a UBI image must fit.
    let ubi = values.get("ROOTFS_UBI").is_some_and(Value::is_true);
    let leb_size = match size(values, leb_name)? {
        None => derived,
        Some(l) if l == derived || (!ubi && l > 0) => l,
        Some(l) => {
            return Err(bad(
                leb_name,
                format!(
                    "{l:#x} differs from the LEB size ubinize gives for these PEB, minimum I/O and sub-page sizes, {derived:#x}; set it to {derived:#x} or leave it empty"
                ),
            ));
        }
    };
    let max_name = "ROOTFS_UBI_MAX_LEB_COUNT";
    let max_leb_count = text(values, max_name)
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(max_name, "needs a positive count".into()))?;
    Ok(UbiGeometry {
        min_io_size: min_io,
        leb_size,
        peb_size: peb,
        max_leb_count,
        sub_page_size: sub_page,
        vid_hdr_offset,
    })
}

/// `ROOTFS_UBI_VOLUME_NAME`, checked as ubinize needs it.
pub fn ubi_volume_name(values: &BTreeMap<String, Value>) -> Result<String> {
    let name = text(values, "ROOTFS_UBI_VOLUME_NAME");
    let printable = name
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | '#'));
    if name.is_empty() || name.len() > 127 || !printable {
        return Err(bad(
            "ROOTFS_UBI_VOLUME_NAME",
            format!("`{name}` is not 1 to 127 printable ASCII characters without `;` or `#`"),
        ));
    }
    Ok(name)
}

/// The disk layout `DISK_IMAGE_LAYOUT` names: the file as written, its
/// path, and the layout; `None` when the option is empty. Every file the
/// layout reads must be a relative path inside `images/`.
pub fn disk_layout(
    project: &Project,
    values: &BTreeMap<String, Value>,
) -> Result<Option<(String, PathBuf, DiskLayout)>> {
    let name = "DISK_IMAGE_LAYOUT";
    let written = text(values, name);
    let written = written.trim();
    if written.is_empty() {
        return Ok(None);
    }
    if written.split_whitespace().count() > 1 {
        return Err(bad(name, format!("`{written}` names more than one file")));
    }
    let path = project.resolve(written);
    project.watch.probe(&path);
    let content = std::fs::read_to_string(&path).map_err(|e| {
        bad(
            name,
            format!(
                "cannot read {written}: {e} (paths are relative to {} or an external tree)",
                project.root.display()
            ),
        )
    })?;
    let layout =
        parse_layout(Path::new(written), &content).map_err(|e| bad(name, e.to_string()))?;
    for input in layout.inputs() {
        let plain = input
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !plain || input.as_os_str().is_empty() {
            return Err(Error::Other(format!(
                "{written}: `{}`: a layout names files by their path in images/, without `..` or a leading `/`",
                input.display()
            )));
        }
    }
    Ok(Some((written.to_string(), path, layout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, Value> {
        let mut v: BTreeMap<String, Value> = [
            ("ROOTFS_UBI_PEB_SIZE", "0x20000"),
            ("ROOTFS_UBI_MIN_IO_SIZE", "0x800"),
            ("ROOTFS_UBI_SUB_PAGE_SIZE", "512"),
            ("ROOTFS_UBI_VID_HDR_OFFSET", ""),
            ("ROOTFS_UBI_LEB_SIZE", ""),
            ("ROOTFS_UBI_MAX_LEB_COUNT", "2048"),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_string(), Value::Str(t.to_string())))
        .collect();
        v.insert("ROOTFS_UBI".into(), Value::Bool(true));
        for (k, t) in pairs {
            v.insert(k.to_string(), Value::Str(t.to_string()));
        }
        v
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        ubi_geometry(&values(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn ubi_leb_size_is_derived_as_ubinize_does() {
        let g = ubi_geometry(&values(&[])).unwrap();
        // Buildroot's defaults: 128 KiB PEB, 2 KiB pages, 512-byte sub-pages.
        assert_eq!(
            (g.peb_size, g.leb_size, g.sub_page_size),
            (0x20000, 0x1f800, 512)
        );
        assert_eq!(g.max_leb_count, 2048);
        // No sub-pages: the VID header takes a whole page.
        let g = ubi_geometry(&values(&[("ROOTFS_UBI_SUB_PAGE_SIZE", "0")])).unwrap();
        assert_eq!((g.sub_page_size, g.leb_size), (2048, 126_976));
        // NOR: 1-byte I/O, the headers take 128 bytes.
        let nor = [
            ("ROOTFS_UBI_MIN_IO_SIZE", "1"),
            ("ROOTFS_UBI_SUB_PAGE_SIZE", "1"),
        ];
        assert_eq!(ubi_geometry(&values(&nor)).unwrap().leb_size, 0x20000 - 128);
        let given = [
            ("ROOTFS_UBI_LEB_SIZE", "129024"),
            ("ROOTFS_UBI_VID_HDR_OFFSET", "0x200"),
        ];
        assert_eq!(ubi_geometry(&values(&given)).unwrap().leb_size, 129_024);
    }

    #[test]
    fn bad_ubi_geometry_names_the_option() {
        let e = err(&[("ROOTFS_UBI_PEB_SIZE", "128k")]);
        assert!(
            e.starts_with("option ROOTFS_UBI_PEB_SIZE: `128k` is not a size"),
            "{e}"
        );
        let e = err(&[("ROOTFS_UBI_MIN_IO_SIZE", "2000")]);
        assert!(
            e.contains("ROOTFS_UBI_MIN_IO_SIZE: 0x7d0 is not a power of two"),
            "{e}"
        );
        let e = err(&[("ROOTFS_UBI_PEB_SIZE", "130000")]);
        assert!(
            e.contains("ROOTFS_UBI_PEB_SIZE: 0x1fbd0 is not a positive multiple"),
            "{e}"
        );
        let e = err(&[("ROOTFS_UBI_SUB_PAGE_SIZE", "4096")]);
        assert!(
            e.starts_with("option ROOTFS_UBI_SUB_PAGE_SIZE: 0x1000"),
            "{e}"
        );
        let e = err(&[("ROOTFS_UBI_VID_HDR_OFFSET", "100")]);
        assert!(
            e.starts_with("option ROOTFS_UBI_VID_HDR_OFFSET: 0x64"),
            "{e}"
        );
        let e = err(&[("ROOTFS_UBI_LEB_SIZE", "0x1f000")]);
        assert!(
            e.contains("ROOTFS_UBI_LEB_SIZE: 0x1f000 differs from the LEB size ubinize gives")
                && e.contains("set it to 0x1f800"),
            "{e}"
        );
        // A UBIFS image alone takes the LEB size it is given.
        let mut alone = values(&[("ROOTFS_UBI_LEB_SIZE", "0x1f000")]);
        alone.insert("ROOTFS_UBI".into(), Value::Bool(false));
        assert_eq!(ubi_geometry(&alone).unwrap().leb_size, 0x1f000);
        let e = err(&[("ROOTFS_UBI_PEB_SIZE", "0x800")]);
        assert!(e.contains("leaves no room for data"), "{e}");
        let e = err(&[("ROOTFS_UBI_MAX_LEB_COUNT", "0")]);
        assert!(e.starts_with("option ROOTFS_UBI_MAX_LEB_COUNT"), "{e}");
        let mut v = values(&[]);
        v.insert(
            "ROOTFS_UBI_VOLUME_NAME".into(),
            Value::Str("root fs".into()),
        );
        let e = ubi_volume_name(&v).unwrap_err().to_string();
        assert!(
            e.starts_with("option ROOTFS_UBI_VOLUME_NAME: `root fs`"),
            "{e}"
        );
    }
}
