//! Loading liblane at run time (feature `dynamic`).
//!
//! One symbol is looked up, `lane_get_api`, and asked for the table of
//! [`crate::LANE_ABI_VERSION`]; every function of this
//! crate then calls through that table. The library is loaded once per
//! process and never unloaded (function pointers into it are handed out).

use crate::types::{LANE_ABI_VERSION, lane_api_t};
use core::ffi::{CStr, c_char};
use std::ffi::OsString;
use std::string::{String, ToString};
use std::sync::OnceLock;
use std::{format, vec};

/// Why liblane could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    message: String,
}

impl LoadError {
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

struct Loaded {
    // Kept so the library stays mapped for the life of the process.
    _lib: libloading::Library,
    api: &'static lane_api_t,
}

static LOADED: OnceLock<Result<Loaded, LoadError>> = OnceLock::new();

/// The file names tried when `LANE_LIBRARY` is not set.
pub const DEFAULT_NAMES: [&str; 2] = ["liblane.so.0", "liblane.so"];

/// Loads liblane once per process: the path in the environment variable
/// `LANE_LIBRARY` if set, else `liblane.so.0` then `liblane.so` through the
/// dynamic loader's search path (`LD_LIBRARY_PATH`, the cache, rpath).
pub fn load() -> Result<&'static lane_api_t, LoadError> {
    let loaded = LOADED.get_or_init(|| {
        let candidates: std::vec::Vec<OsString> = match std::env::var_os("LANE_LIBRARY").filter(|p| !p.is_empty()) {
            Some(p) => vec![p],
            None => DEFAULT_NAMES.iter().map(OsString::from).collect(),
        };
        let mut errors = std::vec::Vec::new();
        for c in &candidates {
            match open(c, LANE_ABI_VERSION) {
                Ok(l) => return Ok(l),
                Err(e) => errors.push(e.message),
            }
        }
        Err(LoadError {
            message: errors.join("; "),
        })
    });
    match loaded {
        Ok(l) => Ok(l.api),
        Err(e) => Err(e.clone()),
    }
}

/// Opens the library at `path` and asks it for the table of `abi_version`,
/// without touching the process-wide one [`load`] keeps. For tools and
/// tests: the library stays loaded for the life of the process.
pub fn load_from(path: impl AsRef<std::ffi::OsStr>, abi_version: u32) -> Result<&'static lane_api_t, LoadError> {
    let l = open(path.as_ref(), abi_version)?;
    let api = l.api;
    core::mem::forget(l._lib);
    Ok(api)
}

fn open(path: &std::ffi::OsStr, abi_version: u32) -> Result<Loaded, LoadError> {
    let shown = path.to_string_lossy().into_owned();
    // SAFETY: loading a shared library runs its initialisers; liblane's
    // only set up thread-local error state and are safe to run.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| LoadError {
        message: format!("liblane: cannot load {shown}: {e}"),
    })?;
    type GetApi = unsafe extern "C" fn(u32) -> *const lane_api_t;
    type LastError = unsafe extern "C" fn() -> *const c_char;
    // SAFETY: the symbol has this signature in lane.h.
    let get_api: GetApi = unsafe { lib.get::<GetApi>(b"lane_get_api\0") }
        .map(|s| *s)
        .map_err(|e| LoadError {
            message: format!("liblane: {shown} has no symbol lane_get_api: {e}"),
        })?;
    // SAFETY: lane_get_api takes any value and returns NULL or a table that
    // lives as long as the library.
    let api = unsafe { get_api(abi_version) };
    if api.is_null() {
        // SAFETY: lane_last_error has this signature; its string is valid
        // until the next liblane call on this thread, and is copied at once.
        let detail = unsafe { lib.get::<LastError>(b"lane_last_error\0") }
            .ok()
            .map(|f| unsafe { f() })
            .filter(|p| !p.is_null())
            .map(|p| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(LoadError {
            message: format!(
                "liblane: {shown} does not provide ABI version {}.{} (lane_get_api returned NULL: {detail})",
                abi_version >> 16,
                abi_version & 0xffff
            ),
        });
    }
    // SAFETY: non-NULL pointers from lane_get_api point to a table that
    // lives as long as the library, which is never unloaded.
    let api: &'static lane_api_t = unsafe { &*api };
    let need = core::mem::size_of::<lane_api_t>();
    if (api.struct_size as usize) < need {
        return Err(LoadError {
            message: format!(
                "liblane: {shown}'s lane_api_t has {} bytes, this binding needs {need}",
                api.struct_size
            ),
        });
    }
    Ok(Loaded { _lib: lib, api })
}

/// The loaded table; loads on first use and panics with the loader's message
/// if that fails. Code that wants the failure as an error calls [`load`] first.
pub fn api() -> &'static lane_api_t {
    match load() {
        Ok(api) => api,
        Err(e) => panic!("{}", e.to_string()),
    }
}
