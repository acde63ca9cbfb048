//! Every field of every step kind's spec enters its key: each leaf of a
//! sample spec's serialized form is changed in turn, the spec rebuilt from
//! it, and its key must differ. The unkeyed fields are locations only.

use super::*;
use crate::image::cpio::Compression;
use crate::image::ext4::ExtType;
use crate::image::squashfs::SquashfsCompression;
use crate::image::ubi::UbiGeometry;
use serde_json::Value as J;
use std::collections::BTreeMap;

fn file(name: &str) -> FileInput {
    FileInput {
        name: name.into(),
        digest: format!("digest-of-{name}"),
        path: PathBuf::from(format!("/somewhere/{name}")),
    }
}

fn package(kind: KindSpec, source: SourceId) -> StepSpec {
    let mut options = BTreeMap::new();
    options.insert("HELLO_GREETING".to_string(), "hi".to_string());
    StepSpec::Package(Box::new(PackageSpec {
        name: "hello".into(),
        version: "1.0".into(),
        kind,
        source,
        strip_components: 1,
        patches: vec![file("0001.patch")],
        options,
        option_files: vec![file("OPT a.txt")],
        package_dir: file("package folder"),
        env: PackageEnv {
            arch: "arm".into(),
            cross_compile: "arm-linux-gnueabihf-".into(),
            source_date_epoch: 1,
            paths: "fixed".into(),
            host: false,
        },
        keep_work_tree: false,
        recipe_file: PathBuf::from("/somewhere/hello.ron"),
    }))
}

fn hook(option: &str) -> HookSpec {
    HookSpec {
        option: option.into(),
        scripts: vec![file("post.sh")],
        args: vec!["-c".into(), "genimage.cfg".into()],
        arg_files: vec![file("genimage.cfg")],
        config: "config-digest".into(),
        source_date_epoch: 1,
        paths: "fixed".into(),
        cwd: PathBuf::from("/project"),
    }
}

fn geometry() -> UbiGeometry {
    UbiGeometry {
        min_io_size: 2048,
        leb_size: 126_976,
        peb_size: 131_072,
        max_leb_count: 2048,
        sub_page_size: 512,
        vid_hdr_offset: Some(512),
    }
}

fn image(writer: ImageWriter) -> StepSpec {
    StepSpec::Image(ImageSpec {
        writer,
        source_date_epoch: 1,
        device_tables: vec![Table {
            owner: "skeleton".into(),
            file: file("device_table.txt"),
        }],
    })
}

/// A sample of every step kind, with every variant of the enums in it.
fn samples() -> Vec<StepSpec> {
    let generic = KindSpec::Generic {
        build: vec!["make".into()],
        install: vec!["make install".into()],
    };
    vec![
        package(generic.clone(), SourceId::None),
        package(
            generic.clone(),
            SourceId::Url {
                sha256: "ab".into(),
                file_name: "hello-1.0.tar.gz".into(),
                urls: vec!["https://example.invalid/hello-1.0.tar.gz".into()],
                sites: Sites {
                    primary: "file:///mirror".into(),
                    backup: String::new(),
                },
            },
        ),
        package(
            generic.clone(),
            SourceId::Git {
                tree: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
                submodules: false,
                url: "https://example.invalid/hello.git".into(),
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
            },
        ),
        package(generic.clone(), SourceId::Local { file: file("src") }),
        package(
            generic.clone(),
            SourceId::Deb {
                package: "busybox-static".into(),
                arch: "armhf".into(),
                version: Some("1:1.35.0-4".into()),
                identity: "busybox-static:armhf=1:1.35.0-4 sha256:cd".into(),
            },
        ),
        package(generic, SourceId::Override { dir: file("tree") }),
        package(
            KindSpec::Configured {
                system: crate::spec::BuildSystem::CMake,
                conf_opts: "-DX=1".into(),
                autoreconf: false,
                make_opts: "V=1".into(),
            },
            SourceId::None,
        ),
        package(
            KindSpec::Kconfig {
                defconfig: "defconfig".into(),
                config: vec![file("busybox.config")],
                fragments: vec![file("frag.config")],
                make_opts: "V=1".into(),
                install: "install".into(),
            },
            SourceId::None,
        ),
        package(
            KindSpec::Linux {
                defconfig: "vexpress_defconfig".into(),
                config_file: vec![file("linux.config")],
                fragments: vec![file("frag.config")],
                image: "zImage".into(),
                dts: vec!["vexpress-v2p-ca9".into()],
                install_target: false,
                make_opts: "V=1".into(),
            },
            SourceId::None,
        ),
        package(
            KindSpec::UBoot {
                defconfig: "qemu_arm64_defconfig".into(),
                config_file: vec![file("uboot.config")],
                fragments: vec![file("uboot.fragment")],
                files: vec!["u-boot.bin".into(), "spl/u-boot-spl.bin".into()],
                env_image: Some(crate::spec::EnvImage {
                    source: file("uboot-env.txt"),
                    size: 0x20000,
                    redundant: true,
                }),
                boot_script: Some(file("boot.cmd")),
                make_opts: "V=1".into(),
            },
            SourceId::None,
        ),
        package(
            KindSpec::KernelModule {
                subdirs: vec!["driver".into()],
                make_opts: "CONFIG_HELLO=m".into(),
            },
            SourceId::None,
        ),
        package(KindSpec::LinuxHeaders, SourceId::None),
        package(
            KindSpec::Python {
                python: "3.11".into(),
                platforms: vec!["manylinux_2_36_x86_64".into()],
                site: "/usr/lib/python3/dist-packages".into(),
                pip: file("pip/__init__.py"),
            },
            SourceId::PyPI {
                requirements: file("requirements.txt"),
            },
        ),
        package(
            KindSpec::ExternalToolchain {
                prefix: "arm-linux-gnueabihf-".into(),
                runtime: vec!["libc.so*".into()],
                compiler: file("arm-linux-gnueabihf-gcc"),
            },
            SourceId::None,
        ),
        StepSpec::Debian(Box::new(debian::DebianSpec {
            request: debian::Request {
                suite: "bookworm".into(),
                architecture: "armhf".into(),
                variant: "minbase".into(),
                components: vec!["main".into()],
                include: vec!["sudo".into()],
            },
            lock_file: file("debian.lock"),
            lock: debian::Lock::default(),
            customize: vec![
                debian::Customize {
                    place: debian::Place::Target,
                    script: file("inside.sh"),
                },
                debian::Customize {
                    place: debian::Place::Host,
                    script: file("outside.sh"),
                },
            ],
            files: Some(file("files")),
            source_date_epoch: 1,
        })),
        StepSpec::Rootfs(RootfsSpec {
            packages: vec![PackagePart {
                step: "hello".into(),
                replaces: vec!["busybox".into()],
            }],
            overlays: vec![file("overlay")],
            users_tables: vec![Table {
                owner: "board".into(),
                file: file("users.table"),
            }],
            root_password: "secret".into(),
            hostname: "forge".into(),
            source_date_epoch: 1,
            post_build: Some(hook("POST_BUILD_SCRIPT")),
        }),
        image(ImageWriter::Cpio {
            compression: Compression::Gzip,
        }),
        image(ImageWriter::Tar),
        image(ImageWriter::Ext4 {
            fs_type: ExtType::Ext4,
            size_mb: 64,
            label: "rootfs".into(),
            inodes: Some(1000),
            reserved_percent: 5,
        }),
        image(ImageWriter::Squashfs {
            compression: SquashfsCompression::Xz,
        }),
        image(ImageWriter::Ubifs {
            geometry: geometry(),
        }),
        image(ImageWriter::Ubi {
            geometry: geometry(),
            volume: "rootfs".into(),
        }),
        StepSpec::Disk(DiskSpec {
            layout_file: file("sdcard.ron"),
            source_date_epoch: 1,
            layout: None,
        }),
        StepSpec::PostImage(hook("POST_IMAGE_SCRIPT")),
    ]
}

fn key(spec: &StepSpec) -> String {
    spec.inputs(&[("dep", "out")]).key()
}

/// Replacement values for a leaf: a changed string (or another variant
/// name of a unit enum), a changed number, the other bool.
fn changed(leaf: &J) -> Vec<J> {
    match leaf {
        J::String(s) => {
            let mut out = vec![J::String(format!("{s}x"))];
            for variant in [
                "None", "Gzip", "Xz", "Zstd", "Ext2", "Ext3", "Ext4", "Tar", "Target", "Host",
            ] {
                if variant != s {
                    out.push(J::String(variant.into()));
                }
            }
            out
        }
        J::Number(n) => vec![J::from(n.as_u64().map_or(7, |v| v + 1))],
        J::Bool(b) => vec![J::Bool(!b)],
        _ => Vec::new(),
    }
}

/// Paths to every leaf of `v` (object keys and array indices).
fn leaves(v: &J, path: Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        J::Object(m) => m
            .iter()
            .for_each(|(k, x)| leaves(x, [path.clone(), vec![k.clone()]].concat(), out)),
        J::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, [path.clone(), vec![i.to_string()]].concat(), out)),
        _ => out.push(path),
    }
}

fn at<'a>(v: &'a mut J, path: &[String]) -> &'a mut J {
    path.iter().fold(v, |v, p| match v {
        J::Array(a) => &mut a[p.parse::<usize>().unwrap()],
        other => &mut other[p.as_str()],
    })
}

#[test]
fn every_field_of_every_spec_changes_the_key() {
    for spec in samples() {
        let original = key(&spec);
        let value = serde_json::to_value(&spec).unwrap();
        let mut paths = Vec::new();
        leaves(&value, Vec::new(), &mut paths);
        assert!(paths.len() >= 3, "{value}");
        for path in paths {
            let leaf = at(&mut value.clone(), &path).clone();
            let rebuilt = changed(&leaf).into_iter().find_map(|new| {
                let mut v = value.clone();
                *at(&mut v, &path) = new;
                serde_json::from_value::<StepSpec>(v).ok()
            });
            let Some(rebuilt) = rebuilt else {
                // A unit variant with no other unit variant beside it
                // (`SourceId::None`): the other variants are samples of
                // their own, whose keys all differ (see below).
                assert!(
                    leaf.as_str()
                        .is_some_and(|s| s.starts_with(char::is_uppercase)),
                    "cannot change {path:?} of {value}"
                );
                continue;
            };
            assert_ne!(
                key(&rebuilt),
                original,
                "changing {path:?} of {value} kept the key"
            );
        }
        // A list one longer is a different spec too.
        let mut lists = Vec::new();
        find_lists(&value, Vec::new(), &mut lists);
        for path in lists {
            let mut v = value.clone();
            if let J::Array(a) = at(&mut v, &path)
                && let Some(last) = a.last().cloned()
            {
                a.push(last);
            }
            let rebuilt: StepSpec = serde_json::from_value(v).unwrap();
            assert_ne!(key(&rebuilt), original, "growing {path:?} kept the key");
        }
    }
}

fn find_lists(v: &J, path: Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        J::Object(m) => m
            .iter()
            .for_each(|(k, x)| find_lists(x, [path.clone(), vec![k.clone()]].concat(), out)),
        J::Array(a) => {
            out.push(path.clone());
            a.iter().enumerate().for_each(|(i, x)| {
                find_lists(x, [path.clone(), vec![i.to_string()]].concat(), out)
            });
        }
        _ => {}
    }
}

#[test]
fn every_sample_has_its_own_key() {
    let keys: std::collections::BTreeSet<String> = samples().iter().map(key).collect();
    assert_eq!(keys.len(), samples().len());
}

#[test]
fn dependency_outputs_change_the_key() {
    let spec = &samples()[0];
    assert_ne!(
        spec.inputs(&[("dep", "out")]).key(),
        spec.inputs(&[("dep", "other")]).key()
    );
    assert_ne!(
        spec.inputs(&[("dep", "out")]).key(),
        spec.inputs(&[("dep2", "out")]).key()
    );
}

#[test]
fn locations_are_not_keyed() {
    let StepSpec::Package(spec) = &samples()[1] else {
        unreachable!()
    };
    let mut moved = spec.clone();
    moved.recipe_file = PathBuf::from("/elsewhere/hello.ron");
    moved.patches[0].path = PathBuf::from("/elsewhere/0001.patch");
    if let SourceId::Url { urls, .. } = &mut moved.source {
        urls.push("file:///mirror/hello-1.0.tar.gz".into());
    }
    assert_eq!(
        key(&StepSpec::Package(spec.clone())),
        key(&StepSpec::Package(moved))
    );
}

#[test]
fn file_inputs_are_every_keyed_file_with_its_path() {
    for spec in samples() {
        let found = spec.file_inputs().unwrap();
        let keyed: Vec<String> = spec
            .inputs(&[])
            .pairs()
            .into_iter()
            .filter(|(k, _)| k.starts_with("file "))
            .map(|(_, digest)| digest)
            .collect();
        assert_eq!(found.len(), keyed.len(), "{}", spec.procedure());
        for (path, digest) in &found {
            assert!(keyed.contains(digest), "{digest}");
            let name = digest.trim_start_matches("digest-of-");
            assert_eq!(path, &PathBuf::from(format!("/somewhere/{name}")));
        }
    }
    // Outside file_inputs, paths stay out of the serialized form.
    let plain = serde_json::to_string(&samples()[0]).unwrap();
    assert!(!plain.contains("/somewhere/0001.patch"), "{plain}");
}

#[test]
fn kernel_architectures_of_the_targets() {
    assert_eq!(kernel_arch("arm"), "arm");
    assert_eq!(kernel_arch("aarch64"), "arm64");
    // x86_64 builds in arch/x86 (bzImage in arch/x86/boot) with 64BIT.
    assert_eq!(kernel_arch("x86_64"), "x86");
}
