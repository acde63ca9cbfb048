//! The verdict on each setting of a Buildroot defconfig — translated,
//! noted (accepted, no meaning for forge) or refused (with the reason) —
//! and the report `forge import` prints: the counts, then one line per
//! noted or refused setting with its `file:line`.

use std::fmt;
use std::path::PathBuf;

/// What became of one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Translated to forge options (possibly none, e.g. a gate whose
    /// meaning lives in the symbols it enables).
    Translated,
    /// Accepted with a note: what forge does instead.
    Noted(String),
    /// Not honoured: why.
    Refused(String),
}

/// One setting: of the file (with its line), or a Buildroot default the
/// file does not state (no line; only listed when noted or refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: Option<usize>,
    /// The line as written, or `SYM=value` for a default.
    pub setting: String,
    pub verdict: Verdict,
}

/// Translated, noted and refused settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub translated: usize,
    pub noted: usize,
    pub refused: usize,
}

impl Counts {
    fn of<'a>(entries: impl Iterator<Item = &'a Entry>) -> Counts {
        let mut c = Counts::default();
        for e in entries {
            match e.verdict {
                Verdict::Translated => c.translated += 1,
                Verdict::Noted(_) => c.noted += 1,
                Verdict::Refused(_) => c.refused += 1,
            }
        }
        c
    }

    pub fn total(&self) -> usize {
        self.translated + self.noted + self.refused
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} translated, {} noted, {} refused",
            self.translated, self.noted, self.refused
        )
    }
}

/// Every verdict of one import.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub file: PathBuf,
    /// In line order, the file's settings first, then the defaults.
    pub entries: Vec<Entry>,
}

impl Summary {
    /// The counts over the file's own settings.
    pub fn counts(&self) -> Counts {
        Counts::of(self.entries.iter().filter(|e| e.line.is_some()))
    }

    /// The counts over Buildroot defaults the file does not state that
    /// forge notes or refuses.
    pub fn default_counts(&self) -> Counts {
        Counts::of(self.entries.iter().filter(|e| e.line.is_none()))
    }

    /// Refused settings, file and defaults.
    pub fn refused(&self) -> usize {
        self.counts().refused + self.default_counts().refused
    }

    pub fn sort(&mut self) {
        self.entries
            .sort_by_key(|e| (e.line.is_none(), e.line.unwrap_or(0), e.setting.clone()));
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        let counts = self.counts();
        write!(f, "{file}: {} settings: {counts}", counts.total())?;
        let defaults = self.default_counts();
        if defaults.total() > 0 {
            write!(f, "; Buildroot defaults it does not state: {defaults}")?;
        }
        for e in &self.entries {
            let (tag, why) = match &e.verdict {
                Verdict::Translated => continue,
                Verdict::Noted(why) => ("noted", why),
                Verdict::Refused(why) => ("refused", why),
            };
            let at = match e.line {
                Some(l) => format!("{file}:{l}"),
                None => format!("{file}: (Buildroot's default)"),
            };
            write!(f, "\n  {at}: {tag}: {}: {why}", e.setting)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: Option<usize>, verdict: Verdict) -> Entry {
        Entry {
            line,
            setting: "BR2_X=y".into(),
            verdict,
        }
    }

    #[test]
    fn counts_separate_the_files_settings_from_defaults() {
        let s = Summary {
            file: "b_defconfig".into(),
            entries: vec![
                entry(Some(1), Verdict::Translated),
                entry(Some(2), Verdict::Noted("n".into())),
                entry(Some(3), Verdict::Refused("r".into())),
                entry(Some(4), Verdict::Translated),
                entry(None, Verdict::Noted("d".into())),
            ],
        };
        let c = s.counts();
        assert_eq!((c.translated, c.noted, c.refused, c.total()), (2, 1, 1, 4));
        assert_eq!(s.default_counts().noted, 1);
        assert_eq!(s.refused(), 1);
        let text = s.to_string();
        assert!(
            text.starts_with("b_defconfig: 4 settings: 2 translated, 1 noted, 1 refused; "),
            "{text}"
        );
        assert!(
            text.contains("\n  b_defconfig:3: refused: BR2_X=y: r"),
            "{text}"
        );
        assert!(
            text.contains("\n  b_defconfig: (Buildroot's default): noted: BR2_X=y: d"),
            "{text}"
        );
        assert!(
            !text.contains(":1:"),
            "translated lines are not listed:\n{text}"
        );
    }
}
