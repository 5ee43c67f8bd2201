//! The feature `dynamic`: liblane is found at run time through one symbol,
//! and a missing library, a library without lane_get_api, or an ABI version
//! the library does not have are clear errors.
#![cfg(feature = "dynamic")]

use lane_sys::dynamic;

#[test]
fn loads_through_lane_get_api() {
    let api = dynamic::load().expect("set LD_LIBRARY_PATH or LANE_LIBRARY to find liblane.so");
    assert_eq!(api.abi_version >> 16, lane_sys::LANE_ABI_MAJOR);
    // SAFETY: no arguments; returns the library's ABI version.
    assert_eq!(unsafe { lane_sys::lane_abi_version() } >> 16, lane_sys::LANE_ABI_MAJOR);
}

#[test]
fn a_missing_library_is_an_error_naming_it() {
    let e = dynamic::load_from("/nonexistent/liblane.so", lane_sys::LANE_ABI_VERSION).unwrap_err();
    assert!(e.message().contains("cannot load /nonexistent/liblane.so"), "{e}");
}

#[test]
fn a_library_without_lane_get_api_is_an_error() {
    let e = dynamic::load_from("libc.so.6", lane_sys::LANE_ABI_VERSION).unwrap_err();
    assert!(e.message().contains("no symbol lane_get_api"), "{e}");
}

#[test]
fn an_abi_version_the_library_lacks_is_an_error() {
    dynamic::load().expect("liblane loads");
    let path = std::env::var("LANE_LIBRARY")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| dynamic::DEFAULT_NAMES[0].to_string());
    let future_major = (lane_sys::LANE_ABI_MAJOR + 1) << 16;
    let e = dynamic::load_from(&path, future_major).unwrap_err();
    assert!(e.message().contains("does not provide ABI version 1.0"), "{e}");
    let newer_minor = lane_sys::LANE_ABI_VERSION + 0x100;
    let e = dynamic::load_from(&path, newer_minor).unwrap_err();
    assert!(e.message().contains("does not provide ABI version"), "{e}");
}
