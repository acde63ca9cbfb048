//! Verbs beside the build itself: `show-info`/`why`/`graph-depends`, the
//! package configuration flows, `forge config` and the option TUI.

pub mod configcmd;
pub mod inspect;
pub mod kconfigflow;
pub mod menuconfig;
