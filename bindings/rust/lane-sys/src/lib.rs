//! Raw declarations of liblane's C ABI, `include/lane/lane.h`, written by
//! hand in header order. Nothing here is safe to call without reading the
//! header's contract; the `lane` crate is the safe API.
//!
//! Linking: by default the build script links `liblane` found through
//! `LANE_LIB_DIR` or pkg-config (`lane.pc`). With the feature `dynamic`
//! nothing is linked: `dynamic::load` opens `liblane.so` at run time and
//! takes every function from one symbol, `lane_get_api(LANE_ABI_VERSION)`.
//!
//! The tests check every struct's size, alignment and field offsets against
//! the C compiler's view of the header (compiled by the build script) and
//! that every `LANE_API` function of the header is declared here.
#![no_std]
#![deny(clippy::undocumented_unsafe_blocks)]
#![allow(non_camel_case_types)]

#[cfg(feature = "dynamic")]
extern crate std;

mod functions;
mod types;

pub use functions::*;
pub use types::*;

#[cfg(feature = "dynamic")]
pub mod dynamic;

/// Sizes, alignments, offsets and constants of `lane.h` as the C compiler
/// sees them (from `csrc/layout.c`, compiled by the build script); the
/// layout tests compare them with this crate's declarations.
#[doc(hidden)]
pub mod c_layout {
    use core::ffi::c_char;

    /// One fact about the header: `field` empty = the type's own size and
    /// alignment; `type_` "const" = a constant's value in `a`.
    #[repr(C)]
    pub struct Entry {
        pub type_: *const c_char,
        pub field: *const c_char,
        pub a: i64,
        pub b: i64,
    }

    unsafe extern "C" {
        pub fn lanesys_layout(n: *mut usize) -> *const Entry;
    }
}
