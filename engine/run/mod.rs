//! Running a build: the output dir and its `.config` (`session`), the
//! scheduler (`sched`), one build's steps answered from the cache or run
//! (`build`), the progress display, the build record, the output-dir lock,
//! where an option was set (`origin`) and the delivery of `images/`.

pub mod build;
pub mod debianlock;
pub mod deliver;
pub mod lock;
pub mod noop;
pub mod origin;
pub mod record;
pub mod sched;
pub mod session;
pub mod ui;
