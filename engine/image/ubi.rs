//! The UBI writer: a UBIFS filesystem made by `mkfs.ubifs` from a staged
//! tree (owners squashed to root, exceptions and device nodes from a
//! generated makedevs-style device table), made reproducible by rewriting
//! what `mkfs.ubifs` takes from the clock or the staging files (superblock
//! UUID, inode atime/ctime/mtime) and re-sealing those nodes' CRCs, then
//! wrapped in a one-volume UBI image by `ubinize` with a fixed image
//! sequence number. The UBIFS image can be written alone ([`write_ubifs`]),
//! as Buildroot's `rootfs.ubifs`, and wrapped later ([`write_ubi`]).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::entries::{EntryKind, ImageEntry};
use super::stage::{ImageError, entry_err, find_tool, io_err, needs_fixup, run_tool};
use super::stage::{seeded_uuid, stage_tree, tool_cmd, validate, write_atomically};
use crate::exec::{Executor, local::PLAIN};

const MTD_UTILS: &str = "mtd-utils";
const NODE_MAGIC: u32 = 0x0610_1831;
const INO_NODE: u8 = 0;
const PAD_NODE: u8 = 5;
const SB_NODE: u8 = 6;

/// The flash geometry both tools need (see `mkfs.ubifs`/`ubinize --help`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UbiGeometry {
    pub min_io_size: u32,
    /// Logical erase block size: `peb_size` minus the UBI headers.
    pub leb_size: u32,
    pub peb_size: u32,
    pub max_leb_count: u32,
    pub sub_page_size: u32,
    /// VID header offset; `None` lets ubinize choose.
    pub vid_hdr_offset: Option<u32>,
}

/// The makedevs table for entries a root-squashed tree gets wrong.
fn device_table(image: &Path, entries: &[ImageEntry]) -> Result<String, ImageError> {
    let mut s = String::new();
    for e in entries.iter().filter(|e| needs_fixup(e, (0, 0))) {
        if e.path.contains(char::is_whitespace) {
            return Err(entry_err(
                image,
                e,
                "UBIFS device tables cannot name paths with whitespace",
            ));
        }
        let (p, m, u, g) = (&e.path, e.mode, e.uid, e.gid);
        let (t, maj, min) = match &e.kind {
            EntryKind::Dir => ('d', None, None),
            EntryKind::CharDev { major, minor } => ('c', Some(major), Some(minor)),
            EntryKind::BlockDev { major, minor } => ('b', Some(major), Some(minor)),
            EntryKind::Fifo => ('p', None, None),
            EntryKind::File { .. } => ('f', None, None),
            EntryKind::Symlink { .. } => {
                return Err(entry_err(
                    image,
                    e,
                    "UBIFS device tables cannot set a symlink's owner",
                ));
            }
        };
        let dash = |v: Option<&u32>| v.map_or("-".to_string(), u32::to_string);
        let _ = writeln!(
            s,
            "/{p} {t} {m:o} {u} {g} {} {} - - -",
            dash(maj),
            dash(min)
        );
    }
    Ok(s)
}

/// UBIFS's CRC: CRC-32 (IEEE, reflected) seeded with all ones, no final xor.
fn ubifs_crc(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// UBIFS_PADDING_BYTE: fills a LEB's tail too short for a padding node.
const PAD_BYTE: u8 = 0xce;

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Rewrites the superblock UUID and every inode node's times in a
/// `mkfs.ubifs` image, re-sealing the CRCs. Only the main area is walked,
/// node by node using each node's length, so file data is never mistaken
/// for a header.
fn pin_ubifs(img: &mut [u8], leb_size: usize, uuid: &[u8; 16], mtime: u32) -> Result<(), String> {
    let seal = |node: &mut [u8]| {
        let crc = ubifs_crc(&node[8..]);
        node[4..8].copy_from_slice(&crc.to_le_bytes());
    };
    if img.len() < 128 || le32(img, 0) != NODE_MAGIC || img[20] != SB_NODE {
        return Err("no UBIFS superblock at the start of the mkfs.ubifs output".into());
    }
    let sb_len = le32(img, 16) as usize;
    let (log, lpt, orph) = (le32(img, 56), le32(img, 60), le32(img, 64));
    img[108..124].copy_from_slice(uuid);
    seal(&mut img[..sb_len]);
    let main_first = 3 + (log + lpt + orph) as usize;
    let t = u64::from(mtime).to_le_bytes();
    for leb in img.chunks_mut(leb_size).skip(main_first) {
        let mut off = 0usize;
        while off + 24 <= leb.len() {
            if le32(leb, off) != NODE_MAGIC {
                // Erased flash, or the pad bytes (0xce) mkfs.ubifs writes
                // where less than a padding node is left of the LEB.
                if leb[off..].iter().all(|&b| b == 0xff)
                    || leb[off..].iter().all(|&b| b == PAD_BYTE)
                {
                    break;
                }
                return Err(format!(
                    "unexpected bytes at offset {off} of a main-area LEB"
                ));
            }
            let len = le32(leb, off + 16) as usize;
            if len < 24 || off + len > leb.len() {
                return Err(format!(
                    "node of length {len} at offset {off} overruns its LEB"
                ));
            }
            match leb[off + 20] {
                INO_NODE if len >= 92 => {
                    let node = &mut leb[off..off + len];
                    for at in [56, 64, 72] {
                        node[at..at + 8].copy_from_slice(&t);
                    }
                    node[80..92].fill(0);
                    seal(node);
                }
                PAD_NODE => off += le32(leb, off + 24) as usize,
                _ => {}
            }
            off += len.div_ceil(8) * 8;
        }
    }
    Ok(())
}

/// Write a UBIFS image of `entries`, with `mkfs.ubifs` run through `exec`.
pub fn write_ubifs_with(
    exec: &dyn Executor,
    entries: &[ImageEntry],
    geometry: &UbiGeometry,
    uuid_seed: &str,
    mtime: u32,
    path: &Path,
) -> Result<(), ImageError> {
    validate(path, entries)?;
    let mkfs = find_tool(path, "mkfs.ubifs", MTD_UTILS)?;
    let dir =
        tempfile::tempdir().map_err(io_err(path, "creating a staging directory for", path))?;
    let root = dir.path().join("root");
    fs::create_dir(&root).map_err(io_err(path, "staging", &root))?;
    stage_tree(path, entries, mtime, &root)?;
    let table = dir.path().join("devtable");
    fs::write(&table, device_table(path, entries)?).map_err(io_err(path, "writing", &table))?;
    let g = geometry;
    let uuid = seeded_uuid_bytes(path, uuid_seed)?;
    write_atomically(path, |tmp| {
        let cmd = tool_cmd(&mkfs)
            .arg("-r")
            .arg(&root)
            .arg("-o")
            .arg(tmp)
            .arg("-D")
            .arg(&table)
            .args([
                "-U",
                "-y",
                "-m",
                &g.min_io_size.to_string(),
                "-e",
                &g.leb_size.to_string(),
            ])
            .args(["-c", &g.max_leb_count.to_string()])
            .input(&root)
            .input(&table)
            .output(tmp);
        run_tool(exec, path, "mkfs.ubifs", MTD_UTILS, cmd)?;
        let mut img = fs::read(tmp).map_err(io_err(path, "reading", tmp))?;
        pin_ubifs(&mut img, g.leb_size as usize, &uuid, mtime).map_err(|reason| {
            ImageError::ToolFailed {
                image: path.into(),
                tool: "mkfs.ubifs".into(),
                status: "wrote an image forge cannot make reproducible".into(),
                stderr: reason,
            }
        })?;
        fs::write(tmp, &img).map_err(io_err(path, "writing", tmp))
    })
}

/// The 16 UUID bytes `uuid_seed` gives; the UBI image sequence number is
/// taken from them too.
fn seeded_uuid_bytes(path: &Path, uuid_seed: &str) -> Result<[u8; 16], ImageError> {
    let uuid_text = seeded_uuid(uuid_seed, "ubifs uuid").replace('-', "");
    let mut uuid = [0u8; 16];
    hex::decode_to_slice(&uuid_text, &mut uuid).map_err(|e| ImageError::Invalid {
        image: path.into(),
        reason: format!("internal: bad uuid: {e}"),
    })?;
    Ok(uuid)
}

/// Wrap a UBIFS image into a UBI image, with `ubinize` run through `exec`.
pub fn write_ubi_with(
    exec: &dyn Executor,
    ubifs: &Path,
    geometry: &UbiGeometry,
    volume_name: &str,
    uuid_seed: &str,
    path: &Path,
) -> Result<(), ImageError> {
    if volume_name.is_empty()
        || volume_name.len() > 127
        || !volume_name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | '#'))
    {
        return Err(ImageError::Invalid {
            image: path.into(),
            reason: format!(
                "volume name `{volume_name}` must be 1 to 127 printable ASCII characters, without `;` or `#`"
            ),
        });
    }
    let ubinize = find_tool(path, "ubinize", MTD_UTILS)?;
    let dir =
        tempfile::tempdir().map_err(io_err(path, "creating a scratch directory for", path))?;
    let ini = dir.path().join("ubinize.ini");
    let text = format!(
        "[volume]\nmode=ubi\nimage={}\nvol_id=0\nvol_type=dynamic\nvol_name={volume_name}\nvol_flags=autoresize\n",
        ubifs.display()
    );
    fs::write(&ini, text).map_err(io_err(path, "writing", &ini))?;
    let uuid = seeded_uuid_bytes(path, uuid_seed)?;
    let seq = u32::from_le_bytes([uuid[0], uuid[1], uuid[2], uuid[3]]) & 0x7fff_ffff;
    let g = geometry;
    write_atomically(path, |tmp| {
        let mut cmd = tool_cmd(&ubinize)
            .arg("-o")
            .arg(tmp)
            .args([
                "-m",
                &g.min_io_size.to_string(),
                "-p",
                &g.peb_size.to_string(),
            ])
            .args([
                "-s",
                &g.sub_page_size.to_string(),
                "-Q",
                &seq.max(1).to_string(),
            ]);
        if let Some(off) = g.vid_hdr_offset {
            cmd = cmd.args(["-O", &off.to_string()]);
        }
        let cmd = cmd.arg(&ini).input(&ini).input(ubifs).output(tmp);
        run_tool(exec, path, "ubinize", MTD_UTILS, cmd).map(|_| ())
    })
}

/// [`write_ubifs`] then [`write_ubi`]: `entries` as a UBIFS volume named
/// `volume_name` inside a UBI image at `path`.
pub fn write_ubifs_ubi(
    entries: &[ImageEntry],
    geometry: &UbiGeometry,
    volume_name: &str,
    uuid_seed: &str,
    mtime: u32,
    path: &Path,
) -> Result<(), ImageError> {
    write_ubifs_ubi_with(
        &PLAIN,
        entries,
        geometry,
        volume_name,
        uuid_seed,
        mtime,
        path,
    )
}

/// [`write_ubifs_ubi`] with the tools run through `exec`.
pub fn write_ubifs_ubi_with(
    exec: &dyn Executor,
    entries: &[ImageEntry],
    geometry: &UbiGeometry,
    volume_name: &str,
    uuid_seed: &str,
    mtime: u32,
    path: &Path,
) -> Result<(), ImageError> {
    let dir =
        tempfile::tempdir().map_err(io_err(path, "creating a staging directory for", path))?;
    let ubifs = dir.path().join("volume.ubifs");
    write_ubifs_with(exec, entries, geometry, uuid_seed, mtime, &ubifs)
        .map_err(|e| e.for_image(path))?;
    write_ubi_with(exec, &ubifs, geometry, volume_name, uuid_seed, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::stage::sample_entries;
    use std::process::Command;

    fn geometry() -> UbiGeometry {
        UbiGeometry {
            min_io_size: 2048,
            leb_size: 126_976,
            peb_size: 128 << 10,
            max_leb_count: 64,
            sub_page_size: 2048,
            vid_hdr_offset: None,
        }
    }

    #[test]
    fn pad_bytes_end_a_leb_and_other_bytes_are_refused() {
        let leb = 256;
        let mut img = vec![0u8; 4 * leb];
        img[..4].copy_from_slice(&NODE_MAGIC.to_le_bytes());
        img[16..20].copy_from_slice(&128u32.to_le_bytes());
        img[20] = SB_NODE;
        // No log, LPT or orphan LEBs: the main area starts at LEB 3, here
        // all pad bytes, as mkfs.ubifs leaves a tail too short for a
        // padding node.
        img[3 * leb..].fill(PAD_BYTE);
        pin_ubifs(&mut img.clone(), leb, &[7; 16], 1).unwrap();
        img[3 * leb + 5] = 0;
        assert!(pin_ubifs(&mut img, leb, &[7; 16], 1).is_err());
    }

    #[test]
    fn crc_matches_the_reference_value() {
        // CRC-32 of "123456789" without the final inversion.
        assert_eq!(ubifs_crc(b"123456789"), !0xcbf4_3926);
    }

    #[test]
    fn ubi_image_is_reproducible_and_well_formed() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample_entries(dir.path());
        let (a, b) = (dir.path().join("a.ubi"), dir.path().join("b.ubi"));
        write_ubifs_ubi(&entries, &geometry(), "rootfs", "seed", 1_700_000_000, &a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write_ubifs_ubi(&entries, &geometry(), "rootfs", "seed", 1_700_000_000, &b).unwrap();
        let (ba, bb) = (fs::read(&a).unwrap(), fs::read(&b).unwrap());
        assert!(ba == bb, "not reproducible");
        assert_eq!(ba.len() % (128 << 10), 0);
        assert_eq!(&ba[..4], b"UBI#", "EC header magic");
        let vid = u32::from_be_bytes([ba[16], ba[17], ba[18], ba[19]]) as usize;
        assert_eq!(&ba[vid..vid + 4], b"UBI!", "VID header magic");
        // Volume table (layout volume, PEBs 0 and 1): record 0 names "rootfs".
        let data = u32::from_be_bytes([ba[20], ba[21], ba[22], ba[23]]) as usize;
        let rec = &ba[data..data + 172];
        let name_len = u16::from_be_bytes([rec[14], rec[15]]) as usize;
        assert_eq!(&rec[16..16 + name_len], b"rootfs");
        // Optional deep check with ubi_reader (`pip install ubi_reader`).
        let list = |d: &str| {
            Command::new("ubireader_list_files")
                .args(["-P", d])
                .arg(&a)
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        };
        if let (Some(bin), Some(dev), Some(etc)) = (list("/bin"), list("/dev"), list("/etc")) {
            let all = format!("{bin}{dev}{etc}");
            for want in [
                "104755  1 0 0      20 Nov 14 22:13 busybox",
                "120777  1 0 0       0 Nov 14 22:13 sh -> busybox",
                " 20600  1 0 5       0 Nov 14 22:13 console",
                " 60660  1 0 6       0 Nov 14 22:13 sda",
                " 10600  1 0 0       0 Nov 14 22:13 initctl",
                "100644  1 1000 100       6 Nov 14 22:13 hostname",
            ] {
                assert!(all.contains(want), "{want:?} not in\n{all}");
            }
        }
    }
}
