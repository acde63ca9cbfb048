//! Verbs beside the build itself: `show-info`/`why`/`graph-depends`, the
//! package configuration flows, `forge config`, the option TUI,
//! `forge import` of Buildroot defconfigs, `forge shell` and
//! `forge legal-info`.

pub mod br2import;
pub mod configcmd;
pub mod inspect;
pub mod kconfigflow;
pub mod legalinfo;
pub mod menuconfig;
pub mod shell;
pub mod whyremote;
