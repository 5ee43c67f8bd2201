//! Safe Rust API for liblane: named concurrency lanes (bounded, fair,
//! priority-aware, preemptible job queues) for agent harnesses.
//!
//! - [`Lane`]: a lane; [`Lane::submit`] runs a closure on a library worker,
//!   [`Lane::submit_wait`] waits for its [`Outcome`]; with the feature
//!   `tokio`, `Lane::run` runs a future as a host-run job.
//! - [`Registry`]: named lanes sized from a config source, with metrics.
//! - [`Session`]: a per-conversation front queue in front of a lane.
//! - [`Sampler`] and [`sqlite_query`]: the occupancy history.
//!
//! Closures given to liblane are entered through `extern "C"` trampolines
//! that catch panics: a panicking job ends `JobFailed` with its message,
//! and no panic ever unwinds into C.
#![deny(clippy::undocumented_unsafe_blocks)]

/// The top-level README's "From Rust" example (and every other Rust block
/// of it) runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../../../README.md")]
mod readme_top {}

/// bindings/rust/README.md's examples run as doc tests (one needs tokio).
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../../README.md")]
mod readme_crate {}

mod clock;
mod cluster;
mod defer;
mod error;
mod job;
mod lane;
mod port;
mod registry;
mod sampler;
mod session;

#[cfg(feature = "tokio")]
mod asyncio;

pub use clock::ClockFn;
pub use cluster::{Cluster, ClusterOptions};
pub use error::{Error, Result, Status, last_error_message};
pub use job::{BatchItem, BlockedBy, Ctx, JOB_CODE_ERROR, JOB_CODE_PANIC, Job, Outcome, Ticket};
pub use lane::{CancelScope, CloseMode, Lane, OVERLOADED, Options, Policy, RateKinds, Stats};
pub use port::{Event, EventKind, Port};
pub use registry::{LogLevel, Registry, RegistryBuilder};
pub use sampler::{Sample, Sampler, SamplerOptions, sqlite_query};
pub use session::{DropPolicy, Mode, Session, SessionOptions};

#[cfg(feature = "tokio")]
pub use asyncio::{AsyncCtx, CancelToken, JOB_CODE_ABANDONED, MessageHandle, RunHandle};

/// The loaded library's ABI version: major in the high 16 bits, minor in
/// the low 16 (compare with [`lane_sys::LANE_ABI_VERSION`], this binding's).
pub fn abi_version() -> Result<u32> {
    error::ensure_loaded()?;
    // SAFETY: no arguments; returns a value.
    Ok(unsafe { lane_sys::lane_abi_version() })
}

/// liblane's version string (the loaded library's, not this crate's).
pub fn version() -> Result<String> {
    error::ensure_loaded()?;
    // SAFETY: returns a static string.
    Ok(unsafe { error::cstr_to_string_pub(lane_sys::lane_version_string()) })
}
