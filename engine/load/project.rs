//! The project trees: the main tree (found from the working directory) and
//! any external trees (`FORGE_EXTERNAL`, `--external`), each with its own
//! `configs/`, `packages/` and `boards/`. Loads forge's option declarations
//! and every recipe into one option [`Schema`]; a package in a later tree
//! overrides one of the same name in an earlier tree.

use crate::error::{Error, Result};
use crate::load::config::{Common, Declared, OptionDecl, Schema};
use crate::load::recipe::{self, Loaded, RecipeError};
use crate::load::watch::Watch;
use crate::location::Location;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything loaded from the project trees.
pub struct Project {
    /// The main tree.
    pub root: PathBuf,
    /// The main tree, then the external trees, in order.
    pub trees: Vec<PathBuf>,
    pub recipes: BTreeMap<String, Loaded>,
    /// Package name → the recipe file an external tree's recipe replaced.
    pub overridden: BTreeMap<String, PathBuf>,
    pub schema: Schema,
    /// Every file and directory loading and planning read, by stat.
    pub watch: Arc<Watch>,
}

/// The nearest ancestor of `start` holding both `packages/` and `configs/`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("packages").is_dir() && d.join("configs").is_dir())
        .map(Path::to_path_buf)
}

impl Project {
    /// Load the main tree `root` and the external trees, in order.
    pub fn load(root: &Path, externals: &[PathBuf]) -> Result<Project> {
        let mut trees = vec![root.to_path_buf()];
        for ext in externals {
            if !ext.join("packages").is_dir()
                && !ext.join("boards").is_dir()
                && !ext.join("configs").is_dir()
            {
                return Err(Error::Other(format!(
                    "external tree {} has no packages/, boards/ or configs/; check FORGE_EXTERNAL or --external",
                    ext.display()
                )));
            }
            trees.push(ext.clone());
        }
        let watch = Arc::new(Watch::default());
        let mut schema = Schema::default();
        for tree in &trees {
            for file in sorted_entries(&watch, &tree.join("configs"), |p| {
                p.extension().is_some_and(|x| x == "ron")
            })? {
                watch.probe(&file);
                load_declarations(&mut schema, &file, tree)?;
            }
        }
        // Recipe folders by package name; a later tree wins.
        let mut chosen: BTreeMap<String, (PathBuf, PathBuf)> = BTreeMap::new();
        let mut overridden = BTreeMap::new();
        for tree in &trees {
            for dir in sorted_entries(&watch, &tree.join("packages"), |p| p.is_dir())? {
                watch.probe(&dir);
                let name = dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let file = dir.join(format!("{name}.ron"));
                if watch.is_file(&file)
                    && let Some((old, _)) = chosen.insert(name.clone(), (file, tree.clone()))
                {
                    overridden.insert(name, old);
                }
            }
        }
        let mut recipes = BTreeMap::new();
        for (name, (file, tree)) in chosen {
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
                    &tree,
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
                    &tree,
                    Some(&name),
                    &loaded.text,
                )?;
            }
            recipes.insert(name, loaded);
        }
        // Only now is every option known that a `${NAME}` may name.
        for loaded in recipes.values() {
            recipe::vars::check(loaded, schema.options.keys()).map_err(RecipeError::from)?;
        }
        Ok(Project {
            root: root.to_path_buf(),
            trees,
            recipes,
            overridden,
            schema,
            watch,
        })
    }

    /// A path a user wrote (option value, board file): absolute, or relative
    /// to the first tree that has it. One no tree has yet (a lock a build
    /// will write) belongs to the first tree holding its folder, so an
    /// external board's `boards/<board>/debian.lock` lands beside the board;
    /// else to the main tree.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        if let Some(found) = self
            .trees
            .iter()
            .map(|t| t.join(p))
            .find(|c| self.watch.probe(c))
        {
            return found;
        }
        let folder = p.parent().filter(|f| !f.as_os_str().is_empty());
        folder
            .and_then(|f| self.trees.iter().find(|t| self.watch.probe(&t.join(f))))
            .unwrap_or(&self.root)
            .join(p)
    }

    /// Every `boards/*_defconfig` of every tree.
    pub fn defconfigs(&self) -> Result<Vec<PathBuf>> {
        let mut all = Vec::new();
        for tree in &self.trees {
            all.extend(sorted_entries(&self.watch, &tree.join("boards"), |p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with("_defconfig"))
            })?);
        }
        Ok(all)
    }
}

fn load_declarations(schema: &mut Schema, file: &Path, tree: &Path) -> Result<()> {
    let text = fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    let decls: BTreeMap<String, OptionDecl> =
        ron::Options::default()
            .from_str(&text)
            .map_err(|e| RecipeError::Syntax {
                location: Location::new(file, e.span.start.line, Some(e.span.start.col)),
                message: e.code.to_string(),
            })?;
    for (name, decl) in decls {
        declare(schema, name, decl, file, tree, None, &text)?;
    }
    Ok(())
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

/// Entries of `dir` matching `keep`, sorted; a missing dir has none.
pub(crate) fn sorted_entries(
    watch: &Watch,
    dir: &Path,
    keep: impl Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>> {
    watch.probe(dir);
    let list = match fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut files: Vec<PathBuf> = list
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| keep(p))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_belongs_to_the_tree_holding_its_folder() {
        let main = tempfile::tempdir().unwrap();
        let ext = tempfile::tempdir().unwrap();
        for d in ["packages", "configs", "boards/demo"] {
            fs::create_dir_all(main.path().join(d)).unwrap();
        }
        fs::create_dir_all(ext.path().join("boards/ipa")).unwrap();
        fs::write(main.path().join("boards/demo/a.txt"), "").unwrap();
        let project = Project::load(main.path(), &[ext.path().to_path_buf()]).unwrap();
        let at = |p: &str| project.resolve(p);
        assert_eq!(
            at("boards/demo/a.txt"),
            main.path().join("boards/demo/a.txt")
        );
        assert_eq!(
            at("boards/ipa/debian.lock"),
            ext.path().join("boards/ipa/debian.lock")
        );
        assert_eq!(
            at("boards/demo/new.lock"),
            main.path().join("boards/demo/new.lock")
        );
        assert_eq!(at("nowhere/x"), main.path().join("nowhere/x"));
        assert_eq!(at("/abs/x"), PathBuf::from("/abs/x"));
    }
}
