//! The configuration flows of Kconfig-based packages (Linux, U-Boot,
//! BusyBox): `forge <pkg>-menuconfig` / `-nconfig` run the package's own
//! configurator on its kept work tree; `-update-defconfig` /
//! `-update-config` write the result back to the board's files — with
//! fragments, only the difference, into the top (last) fragment;
//! `-diff-config` prints that difference; `-savedefconfig` leaves the
//! minimal form of the work tree's `.config` in its `defconfig`.

use crate::error::{Error, Result};
use crate::kinds::{self, StepCtx};
use crate::run::build::Build;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The verbs, as typed after `<pkg>-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Menuconfig,
    Nconfig,
    UpdateDefconfig,
    UpdateConfig,
    DiffConfig,
    Savedefconfig,
}

impl Flow {
    /// Split `linux-menuconfig` into ("linux", Menuconfig).
    pub fn parse(verb: &str) -> Option<(&str, Flow)> {
        let table = [
            ("-menuconfig", Flow::Menuconfig),
            ("-nconfig", Flow::Nconfig),
            ("-update-defconfig", Flow::UpdateDefconfig),
            ("-update-config", Flow::UpdateConfig),
            ("-diff-config", Flow::DiffConfig),
            ("-savedefconfig", Flow::Savedefconfig),
        ];
        table
            .into_iter()
            .find_map(|(suffix, flow)| verb.strip_suffix(suffix).map(|pkg| (pkg, flow)))
    }
}

/// Run `flow` for package `pkg`.
pub fn run(build: &Build, pkg: &str, flow: Flow) -> Result<()> {
    let spec = build.package_spec(pkg)?;
    if !kinds::is_kconfig(&spec.kind) {
        return Err(Error::Other(format!(
            "{pkg} is not configured by Kconfig, so it has no {pkg}-menuconfig"
        )));
    }
    let mut ctx = build.config_ctx(&spec)?;
    let from_files = prepare(&mut ctx)?;
    match flow {
        Flow::Menuconfig | Flow::Nconfig => {
            let target = if flow == Flow::Menuconfig {
                "menuconfig"
            } else {
                "nconfig"
            };
            interactive(&ctx, &format!("{} {target}", kinds::make_command(&ctx)))?;
            eprintln!(
                "saved {}; write it back with: forge {pkg}-{}",
                ctx.dirs.src.join(".config").display(),
                if kinds::has_savedefconfig(&spec.kind) {
                    "update-defconfig"
                } else {
                    "update-config"
                }
            );
            Ok(())
        }
        Flow::DiffConfig => {
            for (sym, (old, new)) in difference(&mut ctx, &from_files)? {
                println!(
                    "{sym}: {} -> {}",
                    old.as_deref().unwrap_or("(default)"),
                    new.as_deref().unwrap_or("(default)")
                );
            }
            Ok(())
        }
        Flow::UpdateDefconfig | Flow::UpdateConfig => write_back(&mut ctx, &from_files),
        Flow::Savedefconfig => {
            if !kinds::has_savedefconfig(&spec.kind) {
                return Err(Error::Other(format!(
                    "{pkg}'s configurator has no savedefconfig; use forge {pkg}-update-config"
                )));
            }
            let dot = ctx.dirs.src.join(".config");
            let edited = fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
            minimal(&mut ctx, &edited)?;
            eprintln!(
                "wrote {}; save it into the board's files with: forge {pkg}-update-defconfig",
                ctx.dirs.src.join("defconfig").display()
            );
            Ok(())
        }
    }
}

/// Make the work tree's `.config` ready: the configuration the files give,
/// unless the tree holds edits made since the files last produced it.
/// Returns the files' configuration.
fn prepare(ctx: &mut StepCtx) -> Result<String> {
    let dot = ctx.dirs.src.join(".config");
    let saved = ctx.dirs.base.join("config.from-files");
    let edited = fs::read_to_string(&dot).ok();
    let previous = fs::read_to_string(&saved).ok();
    let from_files = kinds::configure(ctx)?;
    fs::write(&saved, &from_files).map_err(|e| Error::io(&saved, e))?;
    if let (Some(edited), Some(previous)) = (edited, previous)
        && previous == from_files
        && edited != from_files
    {
        fs::write(&dot, edited).map_err(|e| Error::io(&dot, e))?;
    }
    Ok(from_files)
}

/// Run the package's configurator on this terminal.
fn interactive(ctx: &StepCtx, command: &str) -> Result<()> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(&ctx.dirs.src)
        .env_clear()
        .envs(ctx.runner.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| Error::Other(format!("cannot run {command}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Other(format!(
            "{command} failed; is libncurses-dev installed?"
        )))
    }
}

type Changes = BTreeMap<String, (Option<String>, Option<String>)>;

/// What the user changed: with savedefconfig, the symbols whose line differs
/// between the minimal forms of the two configurations (so values that only
/// follow from others are left out); without it, every differing symbol.
fn difference(ctx: &mut StepCtx, from_files: &str) -> Result<Changes> {
    let dot = ctx.dirs.src.join(".config");
    let edited = fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
    let (old, new) = if kinds::has_savedefconfig(&ctx.spec.kind) {
        (minimal(ctx, from_files)?, minimal(ctx, &edited)?)
    } else {
        (from_files.to_string(), edited.clone())
    };
    let (old, new) = (symbols(&old), symbols(&new));
    let full = symbols(&edited);
    let mut changes = Changes::new();
    for sym in old.keys().chain(new.keys()) {
        if old.get(sym) != new.get(sym) {
            // The value to write is the edited configuration's own.
            let value = full.get(sym).cloned().or_else(|| Some("n".into()));
            changes.insert(sym.clone(), (old.get(sym).cloned(), value));
        }
    }
    Ok(changes)
}

/// The savedefconfig form of `config` (computed in the work tree).
fn minimal(ctx: &mut StepCtx, config: &str) -> Result<String> {
    let file = ctx.dirs.base.join("config.minimal-input");
    fs::write(&file, config).map_err(|e| Error::io(&file, e))?;
    let make = kinds::make_command(ctx);
    ctx.run(&format!(
        "{make} KCONFIG_CONFIG=\"{}\" savedefconfig >/dev/null",
        file.display()
    ))?;
    let out = ctx.dirs.src.join("defconfig");
    fs::read_to_string(&out).map_err(|e| Error::io(&out, e))
}

/// `CONFIG_X` → value (`y`, `m`, `"text"`, `n` for "is not set").
fn symbols(config: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in config.lines().map(str::trim) {
        if let Some(sym) = line
            .strip_prefix("# ")
            .and_then(|l| l.strip_suffix(" is not set"))
        {
            map.insert(sym.to_string(), "n".to_string());
        } else if let Some((sym, value)) =
            line.split_once('=').filter(|_| line.starts_with("CONFIG_"))
        {
            map.insert(sym.to_string(), value.to_string());
        }
    }
    map
}

fn line_for(sym: &str, value: &str) -> String {
    if value == "n" {
        format!("# {sym} is not set")
    } else {
        format!("{sym}={value}")
    }
}

/// Write the edited configuration back to the board's files.
fn write_back(ctx: &mut StepCtx, from_files: &str) -> Result<()> {
    let spec = ctx.spec;
    let (config_files, fragments) = kinds::config_files(&spec.kind);
    let fragments: Vec<PathBuf> = fragments.iter().map(|f| f.path.clone()).collect();
    let dot = ctx.dirs.src.join(".config");
    let edited = fs::read_to_string(&dot).map_err(|e| Error::io(&dot, e))?;
    if let Some(top) = fragments.last() {
        let changes = difference(ctx, from_files)?;
        if changes.is_empty() {
            eprintln!("no change: {} left as it is", top.display());
            return Ok(());
        }
        update_fragment(top, &changes)?;
        eprintln!("wrote {} change(s) into {}", changes.len(), top.display());
        // The files must now give exactly the edited configuration.
        let regenerated = kinds::configure(ctx)?;
        fs::write(ctx.dirs.base.join("config.from-files"), &regenerated)
            .map_err(|e| Error::io(&dot, e))?;
        if symbols(&regenerated) != symbols(&edited) {
            fs::write(&dot, &edited).map_err(|e| Error::io(&dot, e))?;
            return Err(Error::Other(format!(
                "the configuration files no longer reproduce the edited .config after writing {}; \
                 check the symbols you changed for dependencies set elsewhere (run forge {}-diff-config)",
                top.display(),
                spec.name
            )));
        }
        return Ok(());
    }
    let Some(target) = config_files.first().map(|f| f.path.clone()) else {
        return Err(Error::Other(format!(
            "{}'s configuration comes from an in-tree defconfig; name a board file in its config option \
             (LINUX_CONFIG_FILE, UBOOT_CONFIG_FILE) or add a fragment to save changes into",
            spec.name
        )));
    };
    let text = if kinds::has_savedefconfig(&spec.kind) {
        minimal(ctx, &edited)?
    } else {
        edited
    };
    write_if_changed(&target, &text)
}

/// Set each changed symbol's line in the fragment: replace it where the
/// fragment already has one, else append.
fn update_fragment(path: &Path, changes: &Changes) -> Result<()> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (sym, (_, new)) in changes {
        let new_line = line_for(sym, new.as_deref().unwrap_or("n"));
        let own = |l: &String| {
            l.starts_with(&format!("{sym}=")) || l.trim() == format!("# {sym} is not set")
        };
        match lines.iter().position(own) {
            Some(i) => lines[i] = new_line,
            None => lines.push(new_line),
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    write_if_changed(path, &out)
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|t| t == text) {
        eprintln!("no change: {} left as it is", path.display());
        return Ok(());
    }
    fs::write(path, text).map_err(|e| Error::io(path, e))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verbs() {
        assert_eq!(
            Flow::parse("linux-menuconfig"),
            Some(("linux", Flow::Menuconfig))
        );
        assert_eq!(
            Flow::parse("busybox-update-config"),
            Some(("busybox", Flow::UpdateConfig))
        );
        assert_eq!(
            Flow::parse("linux-update-defconfig"),
            Some(("linux", Flow::UpdateDefconfig))
        );
        assert_eq!(
            Flow::parse("uboot-savedefconfig"),
            Some(("uboot", Flow::Savedefconfig))
        );
        assert_eq!(Flow::parse("linux"), None);
    }

    #[test]
    fn symbols_and_lines() {
        let m = symbols("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x\"\n# comment\n");
        assert_eq!(m["CONFIG_A"], "y");
        assert_eq!(m["CONFIG_B"], "n");
        assert_eq!(m["CONFIG_C"], "\"x\"");
        assert_eq!(line_for("CONFIG_B", "n"), "# CONFIG_B is not set");
    }

    #[test]
    fn fragment_lines_are_replaced_or_appended() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("frag");
        fs::write(&f, "# mine\nCONFIG_A=y\n# CONFIG_B is not set\n").unwrap();
        let mut ch = Changes::new();
        ch.insert("CONFIG_B".into(), (Some("n".into()), Some("y".into())));
        ch.insert("CONFIG_D".into(), (None, Some("n".into())));
        update_fragment(&f, &ch).unwrap();
        assert_eq!(
            fs::read_to_string(&f).unwrap(),
            "# mine\nCONFIG_A=y\nCONFIG_B=y\n# CONFIG_D is not set\n"
        );
    }
}
