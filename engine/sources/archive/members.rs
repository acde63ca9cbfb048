//! Reading a few named files out of a source archive without unpacking it
//! (a package's license files, for `forge legal-info`): the archive is
//! streamed once, entries matched by their path after `strip` leading
//! components, the way extraction would name them.

use super::{ArchiveError, Format, PipelinedReader, deb_data, decoder, detect_format};
use crate::exec::Executor;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

/// The most of one file read (license texts are small).
const MAX_FILE: u64 = 16 << 20;

/// The contents of the regular files `wanted` (paths as extraction with
/// `strip` components would write them) found in `archive`; a name the
/// archive lacks is absent from the result.
pub fn read_members(
    exec: &dyn Executor,
    archive: &Path,
    strip: usize,
    wanted: &[String],
) -> Result<BTreeMap<String, Vec<u8>>, ArchiveError> {
    let format = detect_format(archive)?;
    let open = |path: &Path| {
        File::open(path).map_err(|e| ArchiveError::Open {
            path: path.to_path_buf(),
            source: e,
        })
    };
    match format {
        Format::Deb => {
            let parent = archive.parent().unwrap_or(Path::new("."));
            let data = deb_data(exec, archive, parent)?;
            scan(BufReader::new(open(data.path())?), archive, strip, wanted)
        }
        _ => {
            let reader = PipelinedReader::spawn(decoder(format, open(archive)?));
            scan(reader, archive, strip, wanted)
        }
    }
}

fn scan<R: Read>(
    reader: R,
    archive: &Path,
    strip: usize,
    wanted: &[String],
) -> Result<BTreeMap<String, Vec<u8>>, ArchiveError> {
    let corrupt = |source| ArchiveError::Corrupt {
        archive: archive.to_path_buf(),
        source,
    };
    let mut found = BTreeMap::new();
    let mut tar = tar::Archive::new(reader);
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(corrupt)?.into_owned();
        let Some(name) = stripped(&path, strip) else {
            continue;
        };
        if !wanted.contains(&name) || found.contains_key(&name) {
            continue;
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_FILE)
            .read_to_end(&mut bytes)
            .map_err(corrupt)?;
        found.insert(name, bytes);
        if found.len() == wanted.len() {
            break;
        }
    }
    Ok(found)
}

/// `path` without its leading `./` and `strip` components, `/`-joined.
fn stripped(path: &Path, strip: usize) -> Option<String> {
    let parts: Vec<&std::ffi::OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p),
            _ => None,
        })
        .collect();
    let rest: PathBuf = parts.into_iter().skip(strip).collect();
    (!rest.as_os_str().is_empty()).then(|| rest.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_those_extraction_writes() {
        assert_eq!(
            stripped(Path::new("./linux-6.1/COPYING"), 1).as_deref(),
            Some("COPYING")
        );
        assert_eq!(
            stripped(Path::new("usr/share/doc/x/copyright"), 0).as_deref(),
            Some("usr/share/doc/x/copyright")
        );
        assert_eq!(stripped(Path::new("linux-6.1/"), 1), None);
    }
}
