//! Every `LANE_API` function of lane.h is declared in src/functions.rs, and
//! nothing there is declared that the header lacks.

use std::collections::BTreeSet;

fn header() -> String {
    let dirs = [
        std::env::var("LANE_INCLUDE_DIR").ok(),
        Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../include").to_string()),
    ];
    for d in dirs.into_iter().flatten() {
        if let Ok(text) = std::fs::read_to_string(format!("{d}/lane/lane.h")) {
            return text;
        }
    }
    panic!("lane.h not found (set LANE_INCLUDE_DIR)");
}

/// The name before the first '(' of each line that starts with LANE_API.
fn header_functions(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("LANE_API "))
        .map(|rest| {
            let head = &rest[..rest.find('(').expect("a LANE_API line names a function")];
            head.rsplit([' ', '*']).next().unwrap().to_string()
        })
        .collect()
}

fn rust_functions(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("fn lane_"))
        .map(|rest| format!("lane_{}", &rest[..rest.find('(').unwrap()]))
        .collect()
}

#[test]
fn every_header_function_is_declared() {
    let h = header_functions(&header());
    let r = rust_functions(include_str!("../src/functions.rs"));
    assert!(h.len() > 60, "parsed only {} functions from lane.h", h.len());
    let missing: Vec<_> = h.difference(&r).collect();
    let extra: Vec<_> = r.difference(&h).collect();
    assert!(
        missing.is_empty(),
        "lane.h functions not declared in lane-sys: {missing:?}"
    );
    assert!(extra.is_empty(), "lane-sys declares functions lane.h lacks: {extra:?}");
}

#[test]
fn the_header_parser_sees_pointer_returns() {
    let h = header_functions("LANE_API const char *lane_x(void);\nLANE_API void lane_y(int a,\n  int b);\n");
    assert_eq!(h, ["lane_x", "lane_y"].iter().map(|s| s.to_string()).collect());
}

/// Linked builds: every declaration resolves to a symbol of liblane (a
/// missing export fails this test at link time).
#[cfg(not(feature = "dynamic"))]
#[test]
fn the_linked_library_answers() {
    // SAFETY: these take no arguments and return static strings / values.
    unsafe {
        assert_eq!(lane_sys::lane_abi_version() >> 16, lane_sys::LANE_ABI_MAJOR);
        let v = std::ffi::CStr::from_ptr(lane_sys::lane_version_string());
        assert!(!v.to_bytes().is_empty());
        let api = lane_sys::lane_get_api(lane_sys::LANE_ABI_VERSION);
        assert!(!api.is_null());
        assert!((*api).struct_size as usize >= std::mem::size_of::<lane_sys::lane_api_t>());
    }
}
