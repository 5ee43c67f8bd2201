//! Feature `dynamic`: a liblane that cannot be loaded makes the first call
//! that needs it fail with a clear error (never a panic or an abort).
#![cfg(feature = "dynamic")]

use lane::{Lane, Options, Registry, Status};

#[test]
fn a_missing_library_is_a_clear_error() {
    // SAFETY: the only test of this binary; no other thread reads the
    // environment, and liblane has not been loaded yet.
    unsafe { std::env::set_var("LANE_LIBRARY", "/nonexistent/liblane.so") };
    let e = Lane::new("x", Options::new()).unwrap_err();
    assert_eq!(e.status(), Status::NotLoaded);
    assert!(e.message().contains("cannot load /nonexistent/liblane.so"), "{e}");
    let e = Registry::from_env().err().unwrap();
    assert_eq!(e.status(), Status::NotLoaded);
    assert!(lane::version().is_err());
}
