//! Resolving the specs of the assembly steps: the root filesystem
//! (packages, overlays, users tables, accounts settings, post-build hooks),
//! each image format with its parsed and checked settings and the device
//! tables, the disk image's layout, and the post-image hooks.

use super::{ImageFormat, Plan, Resolver, StepKind};
use crate::error::{Error, Result};
use crate::image::cpio::Compression;
use crate::image::ext4::ExtType;
use crate::image::squashfs::SquashfsCompression;
use crate::load::recipe::Recipe;
use crate::spec::{
    DiskSpec, FileInput, HookSpec, ImageSpec, ImageWriter, PackagePart, RootfsSpec, Table,
};
use std::os::unix::fs::PermissionsExt;

impl Resolver<'_> {
    pub(super) fn rootfs(&self, plan: &Plan, deps: &[usize]) -> Result<RootfsSpec> {
        let packages = deps
            .iter()
            .map(|d| {
                let step = plan.steps[*d].name.clone();
                let replaces = match &plan.steps[*d].kind {
                    StepKind::Package(name) => self.project.recipes[name].recipe.replaces.clone(),
                    _ => Vec::new(),
                };
                PackagePart { step, replaces }
            })
            .collect();
        let post_build = if self.value("POST_BUILD_SCRIPT").trim().is_empty() {
            None
        } else {
            Some(self.hook("POST_BUILD_SCRIPT")?)
        };
        Ok(RootfsSpec {
            packages,
            overlays: self.option_paths("ROOTFS_OVERLAY")?,
            users_tables: self.tables(plan, |r| &r.users_table, "ROOTFS_USERS_TABLES")?,
            root_password: self.value("ROOT_PASSWORD"),
            hostname: self.value("SYSTEM_HOSTNAME"),
            source_date_epoch: self.value("SOURCE_DATE_EPOCH").parse().unwrap_or(0),
            post_build,
        })
    }

    pub(super) fn image(&self, plan: &Plan, format: ImageFormat) -> Result<ImageSpec> {
        let int = |n: &str| self.value(n).trim().parse::<u64>().unwrap_or(0);
        let writer = match format {
            ImageFormat::Cpio => ImageWriter::Cpio {
                compression: match self.value("ROOTFS_CPIO_COMPRESSION").as_str() {
                    "none" => Compression::None,
                    "xz" => Compression::Xz,
                    "zstd" => Compression::Zstd,
                    _ => Compression::Gzip,
                },
            },
            ImageFormat::Tar => ImageWriter::Tar,
            ImageFormat::Ext4 => ImageWriter::Ext4 {
                fs_type: match self.value("ROOTFS_EXT4_TYPE").as_str() {
                    "ext2" => ExtType::Ext2,
                    "ext3" => ExtType::Ext3,
                    _ => ExtType::Ext4,
                },
                size_mb: int("ROOTFS_EXT4_SIZE_MB"),
                label: self.value("ROOTFS_EXT4_LABEL"),
                inodes: Some(int("ROOTFS_EXT4_INODES")).filter(|n| *n > 0),
                reserved_percent: u8::try_from(int("ROOTFS_EXT4_RESERVED")).unwrap_or(0),
            },
            ImageFormat::Squashfs => ImageWriter::Squashfs {
                compression: match self.value("ROOTFS_SQUASHFS_COMPRESSION").as_str() {
                    "xz" => SquashfsCompression::Xz,
                    "zstd" => SquashfsCompression::Zstd,
                    _ => SquashfsCompression::Gzip,
                },
            },
            ImageFormat::Ubifs => ImageWriter::Ubifs {
                geometry: super::imageopts::ubi_geometry(self.values)?,
            },
            ImageFormat::Ubi => ImageWriter::Ubi {
                geometry: super::imageopts::ubi_geometry(self.values)?,
                volume: super::imageopts::ubi_volume_name(self.values)?,
            },
        };
        let device_tables = if format.from_rootfs() {
            self.tables(plan, |r| &r.device_table, "ROOTFS_DEVICE_TABLE")?
        } else {
            Vec::new()
        };
        Ok(ImageSpec {
            writer,
            source_date_epoch: u32::try_from(int("SOURCE_DATE_EPOCH")).unwrap_or(0),
            device_tables,
        })
    }

    pub(super) fn disk(&self) -> Result<DiskSpec> {
        let (written, path, layout) = super::imageopts::disk_layout(self.project, self.values)?
            .ok_or_else(|| {
                Error::Other("internal: disk-image step without DISK_IMAGE_LAYOUT".into())
            })?;
        Ok(DiskSpec {
            layout_file: self.input(&written, path)?,
            source_date_epoch: self.value("SOURCE_DATE_EPOCH").trim().parse().unwrap_or(0),
            layout: Some(layout),
        })
    }

    /// The hook scripts `option` names, each an executable file, with their
    /// arguments, the files among those, and the configuration they may read.
    pub(super) fn hook(&self, option: &str) -> Result<HookSpec> {
        let mut scripts = Vec::new();
        for f in self.value(option).split_whitespace() {
            let path = self.project.resolve(f);
            let meta = std::fs::metadata(&path).map_err(|_| Error::BadOption {
                option: option.to_string(),
                at: None,
                message: format!(
                    "{} does not exist (paths are relative to {} or an external tree)",
                    path.display(),
                    self.project.root.display()
                ),
            })?;
            if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
                return Err(Error::BadOption {
                    option: option.to_string(),
                    at: None,
                    message: format!(
                        "{} is not an executable file; make it one with `chmod +x {}`",
                        path.display(),
                        path.display()
                    ),
                });
            }
            scripts.push(self.input(f, path)?);
        }
        let args: Vec<String> = self
            .value("POST_SCRIPT_ARGS")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let mut arg_files = Vec::new();
        for arg in &args {
            let path = self.project.resolve(arg);
            if !arg.starts_with('-') && self.project.watch.probe(&path) {
                arg_files.push(self.input(arg, path)?);
            }
        }
        let mut config = blake3::Hasher::new();
        for (name, v) in self.values {
            config.update(format!("{name}={}\n", v.as_text()).as_bytes());
        }
        Ok(HookSpec {
            option: option.to_string(),
            scripts,
            args,
            arg_files,
            config: config.finalize().to_hex().to_string(),
            source_date_epoch: self.value("SOURCE_DATE_EPOCH").parse().unwrap_or(0),
            paths: self.paths.to_string(),
            cwd: self.project.root.clone(),
        })
    }

    /// The table files a recipe field names in the selected packages (with
    /// the package name), then those the board option names (`board`).
    fn tables(
        &self,
        plan: &Plan,
        field: impl Fn(&Recipe) -> &Option<String>,
        option: &str,
    ) -> Result<Vec<Table>> {
        let mut tables = Vec::new();
        for s in &plan.steps {
            if let StepKind::Package(name) = &s.kind {
                let l = &self.project.recipes[name];
                if let Some(t) = field(&l.recipe) {
                    let path = l.dir.join(t);
                    let digest = self.stats.path(&path)?;
                    let file = FileInput {
                        name: t.clone(),
                        digest,
                        path,
                    };
                    tables.push(Table {
                        owner: name.clone(),
                        file,
                    });
                }
            }
        }
        for file in self.option_paths(option)? {
            tables.push(Table {
                owner: "board".into(),
                file,
            });
        }
        Ok(tables)
    }
}
