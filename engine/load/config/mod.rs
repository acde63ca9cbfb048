//! Options and defconfigs: the option schema, the Kconfig-syntax defconfig
//! reader, resolution of values, the full `.config` writer and
//! `savedefconfig`, and reading Buildroot (`BR2_*`) defconfigs ([`br2`]).

pub mod br2;
pub mod check;
pub mod defconfig;
pub mod dotconfig;
pub mod error;
pub mod resolve;
pub mod savedefconfig;
pub mod schema;
pub mod text;
mod typecheck;

#[cfg(test)]
mod tests;

pub use defconfig::{
    Assignment, Defconfig, Line, LineKind, RawValue, format_assignment, parse_defconfig,
    parse_defconfig_str,
};
pub use dotconfig::{parse_dotconfig, parse_dotconfig_str, write_dotconfig};
pub use error::ConfigError;
pub use resolve::{Resolved, resolve};
pub use savedefconfig::savedefconfig;
pub use schema::{Common, Declared, OptionDecl, Schema, Value};
