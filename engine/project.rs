//! The project tree: finding its root, loading forge's own option
//! declarations (`configs/*.ron`) and every recipe (`packages/*/*.ron`),
//! and merging them into one option [`Schema`].

use crate::config::{Common, Declared, OptionDecl, Schema};
use crate::error::{Error, Result};
use crate::location::Location;
use crate::recipe::{self, Loaded, RecipeError};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Everything loaded from a project tree.
pub struct Project {
    pub root: PathBuf,
    pub recipes: BTreeMap<String, Loaded>,
    pub schema: Schema,
}

/// The nearest ancestor of `start` holding both `packages/` and `configs/`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("packages").is_dir() && d.join("configs").is_dir())
        .map(Path::to_path_buf)
}

impl Project {
    pub fn load(root: &Path) -> Result<Project> {
        let mut schema = Schema::default();
        for file in sorted_files(&root.join("configs"), "ron")? {
            let text = fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            let decls: BTreeMap<String, OptionDecl> = ron::Options::default()
                .from_str(&text)
                .map_err(|e| RecipeError::Syntax {
                    location: Location::new(&file, e.span.start.line, Some(e.span.start.col)),
                    message: e.code.to_string(),
                })?;
            for (name, decl) in decls {
                declare(&mut schema, name, decl, &file, root, None, &text)?;
            }
        }
        let mut recipes = BTreeMap::new();
        let pkgs = root.join("packages");
        let mut dirs: Vec<PathBuf> = fs::read_dir(&pkgs)
            .map_err(|e| Error::io(&pkgs, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let file = dir.join(format!("{name}.ron"));
            if !file.is_file() {
                continue;
            }
            let loaded = recipe::load(&file)?;
            let symbol = loaded.enabled_by();
            if !loaded.recipe.options.contains_key(&symbol) {
                let decl = OptionDecl::Bool {
                    default: false,
                    select: Vec::new(),
                    common: Common {
                        help: loaded.recipe.description.clone(),
                        prompt: Some(name.clone()),
                        menu: Some("Packages".into()),
                        depends: Vec::new(),
                    },
                };
                declare(
                    &mut schema,
                    symbol,
                    decl,
                    &file,
                    root,
                    Some(&name),
                    &loaded.text,
                )?;
            }
            for (opt, decl) in &loaded.recipe.options {
                declare(
                    &mut schema,
                    opt.clone(),
                    decl.clone(),
                    &file,
                    root,
                    Some(&name),
                    &loaded.text,
                )?;
            }
            recipes.insert(name, loaded);
        }
        Ok(Project {
            root: root.to_path_buf(),
            recipes,
            schema,
        })
    }
}

fn declare(
    schema: &mut Schema,
    name: String,
    decl: OptionDecl,
    file: &Path,
    tree: &Path,
    package: Option<&str>,
    text: &str,
) -> Result<()> {
    if let Some(prev) = schema.options.get(&name) {
        let location = recipe::locate_in(file, text, &format!("\"{name}\""));
        return Err(Error::Other(format!(
            "{location}: option {name} is already declared in {}; rename one of them",
            prev.origin.display()
        )));
    }
    let declared = Declared {
        decl,
        origin: file.to_path_buf(),
        tree: tree.to_path_buf(),
        package: package.map(str::to_string),
    };
    schema.options.insert(name, declared);
    Ok(())
}

fn sorted_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}
