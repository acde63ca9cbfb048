//! The built system at run time: the qemu launch (`forge run`) and the
//! runtime tests over its serial console (`forge test`). Never builds.

pub mod boardtest;
pub mod hostfwd;
pub mod qemu;
