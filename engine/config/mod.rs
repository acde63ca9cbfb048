//! Options and defconfigs: the option schema, the Kconfig-syntax defconfig
//! reader, resolution of values, the full `.config` writer and
//! `savedefconfig`.

pub mod schema;

pub use schema::{Common, Declared, OptionDecl, Schema, Value};
