//! `GLOBAL_PATCH_DIR` (Buildroot's `BR2_GLOBAL_PATCH_DIR`) through the real
//! CLI on a small fixture package that only copies a text file: the
//! directories' `<package>/*.patch` and `<package>/<version>/*.patch` are
//! applied after the recipe's own patches, directory by directory; a
//! patch edited or added there rebuilds the package (and nothing that does
//! not depend on it); a patch that does not apply names its file; and a
//! directory that does not exist is reported at the defconfig line that
//! named it.

mod common;

use common::{Tree, steps_with};

/// The fixture: `notes.txt` (one line) copied into the target, with one
/// patch of its own.
const RECIPE: &str = r#"Recipe(
    name: "notes",
    version: "1.0",
    source: Local(path: "src"),
    strip_components: Some(0),
    patches: ["0001-recipe.patch"],
    kind: Generic(install: ["cp notes.txt \"$TARGET_DIR/notes.txt\""]),
)
"#;

const BOARD: &str = "boards/p_defconfig";

/// A unified diff of `notes.txt` adding `line` after `context` (the whole
/// file before the patch).
fn patch(context: &[&str], line: &str) -> String {
    let n = context.len();
    let mut p = format!(
        "--- a/notes.txt\n+++ b/notes.txt\n@@ -1,{n} +1,{} @@\n",
        n + 1
    );
    for c in context {
        p.push_str(&format!(" {c}\n"));
    }
    p.push_str(&format!("+{line}\n"));
    p
}

/// The fixture package, two patch directories and a board using both.
/// Each patch's context is what the previous ones left, so `notes.txt`
/// only comes out whole when they apply in the order forge promises.
fn fixture() -> Tree {
    let t = Tree::new();
    t.write("packages/notes/notes.ron", RECIPE);
    t.write("packages/notes/src/notes.txt", "one\n");
    t.write(
        "packages/notes/0001-recipe.patch",
        &patch(&["one"], "recipe"),
    );
    let dir = "boards/p/patches/notes";
    t.write(
        &format!("{dir}/0001-global.patch"),
        &patch(&["one", "recipe"], "global"),
    );
    t.write(
        &format!("{dir}/0002-global.patch"),
        &patch(&["one", "recipe", "global"], "global 2"),
    );
    // Not a patch: ignored.
    t.write(&format!("{dir}/README"), "not applied\n");
    // The package's version folder, after the package folder.
    t.write(
        &format!("{dir}/1.0/0001-versioned.patch"),
        &patch(&["one", "recipe", "global", "global 2"], "global 1.0"),
    );
    // Another version's folder: never applied (it would not apply).
    t.write(
        &format!("{dir}/2.0/0001-other-version.patch"),
        &patch(&["nothing like it"], "2.0"),
    );
    // The second directory comes after the first.
    t.write(
        "boards/p/more/notes/0001-more.patch",
        &patch(
            &["one", "recipe", "global", "global 2", "global 1.0"],
            "more",
        ),
    );
    t.write(
        BOARD,
        "PACKAGE_SKELETON=y\nPACKAGE_NOTES=y\n\
         GLOBAL_PATCH_DIR=\"boards/p/patches boards/p/more\"\n",
    );
    t
}

fn notes(t: &Tree) -> String {
    String::from_utf8(t.read("output/p/build/notes/out/target/notes.txt")).expect("utf8")
}

const WHOLE: &str = "one\nrecipe\nglobal\nglobal 2\nglobal 1.0\nmore\n";

#[test]
fn global_patches_apply_after_the_recipes_and_their_edits_rebuild_the_package() {
    let t = fixture();
    t.ok(&[BOARD]);
    assert_eq!(notes(&t), WHOLE);
    assert!(steps_with(&t.record("p"), "built").contains(&"notes".to_string()));

    // Nothing changed: nothing runs.
    t.ok(&[]);
    assert!(steps_with(&t.record("p"), "built").is_empty());

    // An edited patch rebuilds the package, and only what depends on it.
    t.write(
        "boards/p/more/notes/0001-more.patch",
        &patch(
            &["one", "recipe", "global", "global 2", "global 1.0"],
            "more, edited",
        ),
    );
    t.ok(&[]);
    let built = steps_with(&t.record("p"), "built");
    assert!(built.contains(&"notes".to_string()), "{built:?}");
    assert!(!built.contains(&"skeleton".to_string()), "{built:?}");
    assert_eq!(notes(&t), WHOLE.replace("more\n", "more, edited\n"));

    // A patch added to a directory is seen and applied in name order.
    t.write(
        "boards/p/more/notes/0002-added.patch",
        &patch(
            &[
                "one",
                "recipe",
                "global",
                "global 2",
                "global 1.0",
                "more, edited",
            ],
            "added",
        ),
    );
    t.ok(&[]);
    assert!(steps_with(&t.record("p"), "built").contains(&"notes".to_string()));
    assert_eq!(notes(&t), WHOLE.replace("more\n", "more, edited\nadded\n"));

    // Back to what the first build had: its cached output, nothing built.
    std::fs::remove_file(t.root.join("boards/p/more/notes/0002-added.patch")).expect("rm");
    t.write(
        "boards/p/more/notes/0001-more.patch",
        &patch(
            &["one", "recipe", "global", "global 2", "global 1.0"],
            "more",
        ),
    );
    t.ok(&[]);
    assert!(
        steps_with(&t.record("p"), "built").is_empty(),
        "{}",
        t.record("p")
    );

    // A patch that does not apply names its own file.
    t.write(
        "boards/p/patches/notes/0003-broken.patch",
        &patch(&["not", "there"], "x"),
    );
    let err = t.fails(&[]);
    assert!(
        err.contains("boards/p/patches/notes/0003-broken.patch") && err.contains("does not apply"),
        "{err}"
    );
}

#[test]
fn a_missing_patch_dir_is_reported_at_its_defconfig_line() {
    let t = fixture();
    t.write(
        "boards/pm_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_NOTES=y\n\
         GLOBAL_PATCH_DIR=\"boards/p/patches boards/nowhere\"\n",
    );
    let err = t.fails(&["boards/pm_defconfig"]);
    assert!(
        err.contains(
            "boards/pm_defconfig:3: option GLOBAL_PATCH_DIR: boards/nowhere does not exist"
        ),
        "{err}"
    );
    // A file is not a directory either.
    t.write(
        "boards/pf_defconfig",
        "PACKAGE_SKELETON=y\nPACKAGE_NOTES=y\n\
         GLOBAL_PATCH_DIR=\"boards/p/more/notes/0001-more.patch\"\n",
    );
    let err = t.fails(&["boards/pf_defconfig"]);
    assert!(
        err.contains("boards/pf_defconfig:3: option GLOBAL_PATCH_DIR: boards/p/more/notes/0001-more.patch is not a directory"),
        "{err}"
    );
}
