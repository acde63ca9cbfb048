//! Unit tests of the Buildroot import against the project's real alias
//! table and option schema: each translation, Buildroot's defaults, the
//! report of what forge does not honour, and writing forge names back.

use super::*;
use crate::load::config::{parse_defconfig_str, resolve, savedefconfig};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        crate::load::project::Project::load(root(), &[])
            .unwrap()
            .schema
    })
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| load_table(root()).unwrap().unwrap())
}

/// A Buildroot defconfig header forge honours: arm, custom glibc toolchain.
const BASE: &str = "BR2_arm=y\nBR2_TOOLCHAIN_EXTERNAL=y\nBR2_TOOLCHAIN_EXTERNAL_CUSTOM=y\n\
                    BR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y\n# BR2_TARGET_ROOTFS_TAR is not set\n";
const KERNEL: &str = "BR2_LINUX_KERNEL=y\nBR2_LINUX_KERNEL_CUSTOM_TARBALL=y\n\
                      BR2_LINUX_KERNEL_CUSTOM_TARBALL_LOCATION=\"file:///src/linux.tar.xz\"\n";

fn import_with(text: &str, linux: Option<&str>) -> Result<Imported, Br2Error> {
    let d = parse_defconfig_str(Path::new("b_defconfig"), text).unwrap();
    let ctx = Context {
        table: table(),
        schema: schema(),
        linux_version: linux,
    };
    import(&ctx, d)
}

fn values(text: &str) -> BTreeMap<String, Value> {
    let imported = import_with(text, Some("6.1")).unwrap_or_else(|e| panic!("{e}"));
    resolve(schema(), &imported.for_resolve()).unwrap().values
}

fn text_of(values: &BTreeMap<String, Value>, name: &str) -> String {
    values[name].as_text()
}

fn problems(text: &str) -> Vec<Problem> {
    match import_with(text, Some("6.1")) {
        Err(Br2Error::Import { problems, .. }) => problems,
        other => panic!("expected problems, got {other:?}"),
    }
}

/// (line, setting) of every unsupported problem.
fn unsupported(text: &str) -> Vec<(Option<usize>, String)> {
    let all = problems(text);
    all.into_iter()
        .filter_map(|p| match p {
            Problem::Unsupported { line, setting, .. } => Some((line, setting)),
            Problem::Invalid { .. } => None,
        })
        .collect()
}

fn invalid(text: &str) -> Vec<String> {
    let all = problems(text);
    all.into_iter()
        .filter_map(|p| match p {
            Problem::Invalid { line, message } => Some(format!("{line:?}: {message}")),
            Problem::Unsupported { .. } => None,
        })
        .collect()
}

#[test]
fn a_forge_file_is_left_exactly_as_it_is() {
    let text = "# board\nPACKAGE_SKELETON=y\n\nSYSTEM_HOSTNAME=\"x\"\n";
    let d = parse_defconfig_str(Path::new("b_defconfig"), text).unwrap();
    let imported = import_from_tree(root(), schema(), Some("6.1"), d).unwrap();
    assert_eq!(imported.layout.to_text(), text);
    assert!(imported.implied.is_empty());
}

#[test]
fn architecture_members() {
    let v = values(BASE);
    assert_eq!(text_of(&v, "TARGET_ARCH"), "arm");
    assert_eq!(text_of(&v, "TARGET_DEB_ARCH"), "armhf");
    assert!(v["PACKAGE_TOOLCHAIN_EXTERNAL"].is_true());
    let v = values(&format!(
        "{}{KERNEL}",
        BASE.replace("BR2_arm=y", "BR2_aarch64=y")
    ));
    assert_eq!(text_of(&v, "TARGET_ARCH"), "aarch64");
    assert_eq!(text_of(&v, "TARGET_DEB_ARCH"), "arm64");
    assert_eq!(text_of(&v, "TOOLCHAIN_EXTERNAL_PREFIX"), "aarch64-linux-");
    assert_eq!(text_of(&v, "LINUX_IMAGE"), "Image");
}

#[test]
fn toolchain_prefix_gets_its_dash_and_arch() {
    let with = |line: &str| values(&format!("{BASE}{line}\n"));
    let prefix = |line: &str| text_of(&with(line), "TOOLCHAIN_EXTERNAL_PREFIX");
    assert_eq!(
        prefix(""),
        "arm-linux-",
        "Buildroot's default $(ARCH)-linux"
    );
    assert_eq!(
        prefix("BR2_TOOLCHAIN_EXTERNAL_CUSTOM_PREFIX=\"arm-linux-gnueabihf\""),
        "arm-linux-gnueabihf-"
    );
    assert_eq!(
        prefix("BR2_TOOLCHAIN_EXTERNAL_CUSTOM_PREFIX=\"$(ARCH)-none-linux-gnueabihf\""),
        "arm-none-linux-gnueabihf-"
    );
    assert_eq!(
        prefix("BR2_TOOLCHAIN_EXTERNAL_PREFIX=\"armv7-x\""),
        "armv7-x-"
    );
    // Version declarations are accepted; forge runs the compiler it finds.
    let v = with("BR2_TOOLCHAIN_EXTERNAL_GCC_12=y\nBR2_TOOLCHAIN_EXTERNAL_HEADERS_6_1=y");
    assert!(v["PACKAGE_TOOLCHAIN_EXTERNAL"].is_true());
    assert_eq!(
        unsupported(&format!("{BASE}BR2_TOOLCHAIN_EXTERNAL_PATH=\"/opt/x\"\n")).len(),
        1
    );
    values(&format!("{BASE}BR2_TOOLCHAIN_EXTERNAL_PATH=\"\"\n"));
}

#[test]
fn kernel_source_defconfig_and_image() {
    let v = values(&format!(
        "{BASE}{KERNEL}BR2_LINUX_KERNEL_DEFCONFIG=\"vexpress\"\n"
    ));
    assert!(v["PACKAGE_LINUX"].is_true());
    assert_eq!(text_of(&v, "LINUX_SOURCE"), "tarball");
    assert_eq!(text_of(&v, "LINUX_TARBALL_URL"), "file:///src/linux.tar.xz");
    assert_eq!(text_of(&v, "LINUX_DEFCONFIG"), "vexpress_defconfig");
    assert_eq!(text_of(&v, "LINUX_IMAGE"), "zImage");
    let image = |member: &str| {
        let v = values(&format!("{BASE}{KERNEL}BR2_LINUX_KERNEL_{member}=y\n"));
        text_of(&v, "LINUX_IMAGE")
    };
    assert_eq!(image("ZIMAGE"), "zImage");
    assert_eq!(image("UIMAGE"), "uImage");
    let v = values(&format!(
        "{BASE}{KERNEL}BR2_LINUX_KERNEL_USE_ARCH_DEFAULT_CONFIG=y\n"
    ));
    assert_eq!(text_of(&v, "LINUX_DEFCONFIG"), "defconfig");
    // A download URL is a tarball source now (its sha256 is asked for
    // when the kernel's source is resolved).
    let url = "BR2_LINUX_KERNEL_CUSTOM_TARBALL_LOCATION=\"https://x/linux.tar.xz\"";
    let v = values(&format!(
        "{BASE}{}{url}\n",
        &KERNEL[..KERNEL.rfind("BR2_").unwrap()]
    ));
    assert_eq!(text_of(&v, "LINUX_TARBALL_URL"), "https://x/linux.tar.xz");
}

#[test]
fn kernel_config_file_and_fragments_are_project_paths() {
    let v = values(&format!(
        "{BASE}{KERNEL}BR2_LINUX_KERNEL_USE_CUSTOM_CONFIG=y\n\
         BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE=\"$(TOPDIR)/board/x/linux.config\"\n\
         BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES=\"board/x/a.fragment $(TOPDIR)/board/x/b.fragment\"\n"
    ));
    assert_eq!(text_of(&v, "LINUX_CONFIG_FILE"), "board/x/linux.config");
    assert_eq!(
        text_of(&v, "LINUX_CONFIG_FRAGMENTS"),
        "board/x/a.fragment board/x/b.fragment"
    );
    let ext = "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES=\"$(BR2_EXTERNAL_ACME_PATH)/k.fragment\"";
    let all = problems(&format!("{BASE}{KERNEL}{ext}\n"));
    assert!(
        matches!(&all[..], [Problem::Unsupported { line: Some(9), why: Some(w), .. }]
            if w.contains("which tree `$(BR2_EXTERNAL_ACME_PATH)` is")),
        "{all:?}"
    );
}

#[test]
fn device_trees_follow_the_kernel_forge_builds() {
    let text = format!(
        "{BASE}{KERNEL}BR2_LINUX_KERNEL_DTS_SUPPORT=y\n\
         BR2_LINUX_KERNEL_INTREE_DTS_NAME=\"arm/vexpress-v2p-ca9 arm/vexpress-v2p-ca15-tc1\"\n"
    );
    let dts = |text: &str, linux| {
        let imported = import_with(text, linux).unwrap();
        let d = imported.for_resolve();
        let v = resolve(schema(), &d).unwrap().values;
        text_of(&v, "LINUX_DTS")
    };
    // Linux 6.1 still keeps 32-bit arm device trees flat.
    assert_eq!(
        dts(&text, Some("6.1")),
        "vexpress-v2p-ca9 vexpress-v2p-ca15-tc1"
    );
    assert_eq!(
        dts(&text, Some("6.6.30")),
        "arm/vexpress-v2p-ca9 arm/vexpress-v2p-ca15-tc1"
    );
    assert_eq!(
        dts(&text, None),
        "arm/vexpress-v2p-ca9 arm/vexpress-v2p-ca15-tc1"
    );
    let arm64 = text.replace("BR2_arm=y", "BR2_aarch64=y").replace(
        "vexpress-v2p-ca9 arm/vexpress-v2p-ca15-tc1",
        "foundation-v8",
    );
    assert_eq!(dts(&arm64, Some("6.1")), "arm/foundation-v8");
    assert_eq!(values::major_minor("6.18.7"), Some((6, 18)));
    assert_eq!(values::major_minor("6.1"), Some((6, 1)));
    assert_eq!(values::major_minor("debian"), None);
}

#[test]
fn busybox_is_on_by_default_and_takes_a_config() {
    assert!(values(BASE)["PACKAGE_BUSYBOX"].is_true());
    let v = values(&format!("{BASE}# BR2_PACKAGE_BUSYBOX is not set\n"));
    assert!(!v["PACKAGE_BUSYBOX"].is_true());
    let v = values(&format!(
        "{BASE}BR2_PACKAGE_BUSYBOX_CONFIG=\"board/x/busybox.config\"\n"
    ));
    assert_eq!(text_of(&v, "BUSYBOX_CONFIG"), "board/x/busybox.config");
}

#[test]
fn cpio_is_off_by_default_and_uncompressed_unless_chosen() {
    assert!(!values(BASE)["ROOTFS_CPIO"].is_true());
    let cpio = |extra: &str| {
        let v = values(&format!("{BASE}BR2_TARGET_ROOTFS_CPIO=y\n{extra}"));
        assert!(v["ROOTFS_CPIO"].is_true());
        text_of(&v, "ROOTFS_CPIO_COMPRESSION")
    };
    assert_eq!(cpio(""), "none");
    assert_eq!(cpio("BR2_TARGET_ROOTFS_CPIO_GZIP=y\n"), "gzip");
    assert_eq!(cpio("BR2_TARGET_ROOTFS_CPIO_XZ=y\n"), "xz");
    let lz4 = format!("{BASE}BR2_TARGET_ROOTFS_CPIO=y\nBR2_TARGET_ROOTFS_CPIO_LZ4=y\n");
    assert_eq!(
        unsupported(&lz4),
        [(Some(7), "BR2_TARGET_ROOTFS_CPIO_LZ4=y".into())]
    );
}

#[test]
fn accounts_overlays_hooks_and_getty() {
    let v = values(BASE);
    assert_eq!(text_of(&v, "SYSTEM_GETTY_PORT"), "console");
    assert_eq!(text_of(&v, "SYSTEM_GETTY_BAUDRATE"), "0");
    let v = values(&format!(
        "{BASE}BR2_TARGET_GENERIC_GETTY_PORT=\"ttyAMA0\"\n\
         BR2_TARGET_GENERIC_GETTY_BAUDRATE_115200=y\n\
         BR2_TARGET_GENERIC_ROOT_PASSWD=\"secret\"\n\
         BR2_ROOTFS_USERS_TABLES=\"$(TOPDIR)/board/x/users.txt\"\n\
         BR2_ROOTFS_OVERLAY=\"board/x/overlay board/y/overlay\"\n\
         BR2_ROOTFS_POST_BUILD_SCRIPT=\"board/x/post-build.sh\"\n\
         BR2_ROOTFS_POST_IMAGE_SCRIPT=\"board/x/post-image.sh\"\n\
         BR2_ROOTFS_POST_SCRIPT_ARGS=\"-c board/x/genimage.cfg\"\n"
    ));
    for (option, value) in [
        ("SYSTEM_GETTY_PORT", "ttyAMA0"),
        ("SYSTEM_GETTY_BAUDRATE", "115200"),
        ("ROOT_PASSWORD", "secret"),
        ("ROOTFS_USERS_TABLES", "board/x/users.txt"),
        ("ROOTFS_OVERLAY", "board/x/overlay board/y/overlay"),
        ("POST_BUILD_SCRIPT", "board/x/post-build.sh"),
        ("POST_IMAGE_SCRIPT", "board/x/post-image.sh"),
        ("POST_SCRIPT_ARGS", "-c board/x/genimage.cfg"),
    ] {
        assert_eq!(text_of(&v, option), value, "{option}");
    }
}

#[test]
fn system_settings_and_download_sites() {
    let v = values(BASE);
    assert_eq!(text_of(&v, "SYSTEM_HOSTNAME"), "buildroot");
    assert_eq!(text_of(&v, "SYSTEM_BANNER"), "Welcome to Buildroot");
    assert_eq!(text_of(&v, "BACKUP_SITE"), "https://sources.buildroot.net");
    assert!(v["PACKAGE_SKELETON"].is_true());
    let v = values(&format!(
        "{BASE}BR2_TARGET_GENERIC_HOSTNAME=\"vexpress\"\nBR2_TARGET_GENERIC_ISSUE=\"hi\"\n\
         BR2_ROOTFS_DEVICE_TABLE=\"$(TOPDIR)/board/x/perms.txt board/x/more.txt\"\n\
         BR2_PRIMARY_SITE=\"http://mirror/dl\"\nBR2_BACKUP_SITE=\"\"\n"
    ));
    assert_eq!(text_of(&v, "SYSTEM_HOSTNAME"), "vexpress");
    assert_eq!(text_of(&v, "SYSTEM_BANNER"), "hi");
    assert_eq!(
        text_of(&v, "ROOTFS_DEVICE_TABLE"),
        "board/x/perms.txt board/x/more.txt"
    );
    assert_eq!(text_of(&v, "PRIMARY_SITE"), "http://mirror/dl");
    assert_eq!(text_of(&v, "BACKUP_SITE"), "");
}

#[test]
fn every_unsupported_setting_is_listed_with_its_line_and_defaults_last() {
    // An ARMv5 CPU: forge's armhf toolchain cannot build for it.
    let text = "BR2_arm=y\nBR2_arm926t=y\n# BR2_TARGET_ROOTFS_TAR is not set\n\
                BR2_TARGET_ROOTFS_JFFS2=y\n# BR2_TARGET_ROOTFS_SQUASHFS is not set\n\
                BR2_ROOTFS_OVERLAY=\"board/x/overlay\"\n";
    assert_eq!(
        unsupported(text),
        [
            (Some(2), "BR2_arm926t=y".to_string()),
            (Some(4), "BR2_TARGET_ROOTFS_JFFS2=y".to_string()),
        ]
    );
    // Without an architecture, Buildroot builds for i386 (and, without the
    // tar line, makes a tar image, which forge does too).
    let got = unsupported(
        "BR2_TOOLCHAIN_EXTERNAL=y\nBR2_TOOLCHAIN_EXTERNAL_CUSTOM=y\nBR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y\n",
    );
    assert_eq!(got, [(None, "BR2_i386=y".into())]);
    let e = import_with(&format!("{text}BR2_TOOLCHAIN_EXTERNAL=y\nBR2_TOOLCHAIN_EXTERNAL_CUSTOM=y\nBR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y\n"), None)
        .unwrap_err()
        .to_string();
    assert_eq!(e.matches("forge does not honour").count(), 1, "{e}");
    assert!(e.contains("\n  b_defconfig:2: BR2_arm926t=y\n"), "{e}");
    let e = import_with("BR2_TOOLCHAIN_EXTERNAL=y\n", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("b_defconfig: BR2_i386=y (not in the file: Buildroot's default for \"Target Architecture\")"), "{e}");
    assert!(e.contains("Remove those lines"), "{e}");
}

#[test]
fn a_buildroot_package_is_the_recipe_declaring_its_option() {
    // No table entry: the busybox-static recipe declares PACKAGE_BUSYBOX_STATIC.
    let v = values(&format!("{BASE}BR2_PACKAGE_BUSYBOX_STATIC=y\n"));
    assert!(v["PACKAGE_BUSYBOX_STATIC"].is_true());
    // Another symbol named like a forge option gets a hint, not a guess.
    let all = problems(&format!("{BASE}BR2_SYSTEM_HOSTNAME=\"x\"\n"));
    assert!(
        matches!(&all[..], [Problem::Unsupported { why: Some(w), .. }] if w.contains("write SYSTEM_HOSTNAME instead")),
        "{all:?}"
    );
}

#[test]
fn wrong_lines_are_reported_with_the_unsupported_ones() {
    let got = invalid(&format!(
        "{BASE}BR2_aarch64=y\nBR2_LINUX_KERNEL=maybe\nBR2_TARGET_GENERIC_HOSTNAME=\"a\"\n\
         SYSTEM_HOSTNAME=\"b\"\nBR2_LINUX_KERNEL_DEFCONFIG=\"vexpress\"\n"
    ));
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(
        got[0].contains("BR2_aarch64 and BR2_arm (line 1) are both chosen"),
        "{got:#?}"
    );
    assert!(got[1].contains("PACKAGE_LINUX, which accepts"), "{got:#?}");
    assert!(
        got[2].contains("line 9 sets SYSTEM_HOSTNAME=\"b\""),
        "{got:#?}"
    );
    assert!(
        got[3].contains("BR2_LINUX_KERNEL_DEFCONFIG has no effect unless"),
        "{got:#?}"
    );
}

#[test]
fn kernel_version_and_git_choices_translate() {
    let v = values(&format!("{BASE}BR2_LINUX_KERNEL=y\n"));
    assert_eq!(text_of(&v, "LINUX_SOURCE"), "version", "Buildroot's latest");
    let v = values(&format!(
        "{BASE}BR2_LINUX_KERNEL=y\nBR2_LINUX_KERNEL_CUSTOM_VERSION=y\n\
         BR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE=\"6.6.93\"\n"
    ));
    assert_eq!(text_of(&v, "LINUX_SOURCE"), "version");
    assert_eq!(text_of(&v, "LINUX_VERSION"), "6.6.93");
    let v = values(&format!(
        "{BASE}BR2_LINUX_KERNEL=y\nBR2_LINUX_KERNEL_CUSTOM_GIT=y\n\
         BR2_LINUX_KERNEL_CUSTOM_REPO_URL=\"https://example.org/linux.git\"\n\
         BR2_LINUX_KERNEL_CUSTOM_REPO_VERSION=\"v6.12\"\n\
         BR2_LINUX_KERNEL_CUSTOM_REPO_GIT_SUBMODULES=y\n"
    ));
    assert_eq!(text_of(&v, "LINUX_SOURCE"), "git");
    assert_eq!(
        text_of(&v, "LINUX_GIT_URL"),
        "https://example.org/linux.git"
    );
    assert_eq!(text_of(&v, "LINUX_GIT_COMMIT"), "v6.12");
    assert!(v["LINUX_GIT_SUBMODULES"].is_true());
    // Mercurial is not something forge fetches.
    assert_eq!(
        unsupported(&format!(
            "{BASE}BR2_LINUX_KERNEL=y\nBR2_LINUX_KERNEL_CUSTOM_HG=y\n"
        ))
        .len(),
        1
    );
}

#[test]
fn forge_names_win_over_buildroot_defaults() {
    let v = values(&format!("{BASE}SYSTEM_HOSTNAME=\"mine\"\nROOTFS_CPIO=y\n"));
    assert_eq!(text_of(&v, "SYSTEM_HOSTNAME"), "mine");
    assert!(v["ROOTFS_CPIO"].is_true());
    // TARGET_ARCH by its forge name decides the architecture choice.
    let v = values(
        "TARGET_ARCH=\"aarch64\"\nPACKAGE_TOOLCHAIN_EXTERNAL=y\n# BR2_TARGET_ROOTFS_TAR is not set\n",
    );
    assert_eq!(text_of(&v, "TARGET_ARCH"), "aarch64");
}

#[test]
fn savedefconfig_writes_forge_names_in_the_files_layout() {
    let text = format!(
        "# my board\n{BASE}\n# kernel\n{KERNEL}BR2_LINUX_KERNEL_DEFCONFIG=\"vexpress\"\n\
         BR2_TARGET_ROOTFS_CPIO=y\nBR2_TARGET_ROOTFS_CPIO_GZIP=y\n"
    );
    let imported = import_with(&text, Some("6.1")).unwrap();
    let resolved = resolve(schema(), &imported.for_resolve()).unwrap();
    let saved = savedefconfig(schema(), &resolved, Some(&imported.layout));
    assert_eq!(
        saved,
        "# my board\nPACKAGE_TOOLCHAIN_EXTERNAL=y\n\n# kernel\nPACKAGE_LINUX=y\n\
         LINUX_SOURCE=\"tarball\"\nLINUX_TARBALL_URL=\"file:///src/linux.tar.xz\"\n\
         LINUX_DEFCONFIG=\"vexpress_defconfig\"\n\
         BACKUP_SITE=\"https://sources.buildroot.net\"\nPACKAGE_BUSYBOX=y\nPACKAGE_SKELETON=y\n\
         SYSTEM_BANNER=\"Welcome to Buildroot\"\nSYSTEM_GETTY_BAUDRATE=\"0\"\nSYSTEM_GETTY_PORT=\"console\"\nSYSTEM_HOSTNAME=\"buildroot\"\n\
         TOOLCHAIN_EXTERNAL_PREFIX=\"arm-linux-\"\n"
    );
    // The saved file means the same configuration.
    let again = parse_defconfig_str(Path::new("b_defconfig"), &saved).unwrap();
    assert_eq!(resolve(schema(), &again).unwrap().values, resolved.values);
}

#[test]
fn the_shipped_table_names_only_declared_forge_options() {
    let t = table();
    let mut named: Vec<&str> = t.choices.values().flat_map(Choice::forge_options).collect();
    named.extend(t.symbols.values().filter_map(|r| match r {
        Rule::Value { to, .. } => Some(to.as_str()),
        _ => None,
    }));
    for opt in named {
        assert!(schema().options.contains_key(opt), "{opt} is not declared");
    }
}

#[test]
fn table_mistakes_name_file_and_line() {
    let text = "BuildrootAliases(\n  choices: {\n    \"X\": Choice(\n      members: {\"BR2_a\": None},\n      default: [(\"BR2_b\", [])],\n    ),\n  },\n  symbols: {},\n)\n";
    let e = parse_table(Path::new("aliases.ron"), text)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("aliases.ron:5:"), "{e}");
    assert!(e.contains("BR2_b is not a member"), "{e}");
    let e = parse_table(
        Path::new("aliases.ron"),
        "BuildrootAliases(choices: {}, symbols: {\"BR2_X\": Nope})",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("aliases.ron:1:"), "{e}");
}

#[path = "image_tests.rs"]
mod images;

#[path = "uboot_tests.rs"]
mod uboot;

#[path = "import_tests.rs"]
mod imports;
