//! Assembly: the root filesystem (package trees merged, overlays, accounts,
//! the modules' index from `depmod`, post-build scripts), the image steps written from it, the disk image,
//! and the post-image hooks. Users and device tables live here too.

pub mod depmod;
pub mod devtable;
pub mod diskimage;
pub mod hooks;
pub mod images;
pub mod rootfs;
pub mod users;
