//! Finds liblane and compiles csrc/layout.c (the C compiler's view of
//! lane.h, for the layout tests).
//!
//! Where lane.h comes from: LANE_INCLUDE_DIR, else pkg-config's include
//! paths for `lane`, else the repository's include/ beside this crate.
//! Where liblane comes from (not with the feature `dynamic`): LANE_LIB_DIR
//! (links -llane from there), else pkg-config (`lane.pc`, or the build tree's
//! `lane-uninstalled.pc` when PKG_CONFIG_PATH names meson-uninstalled/).
use std::path::PathBuf;

fn main() {
    for v in ["LANE_LIB_DIR", "LANE_INCLUDE_DIR", "PKG_CONFIG_PATH"] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    println!("cargo:rerun-if-changed=csrc/layout.c");
    let dynamic = std::env::var_os("CARGO_FEATURE_DYNAMIC").is_some();
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let repo_include = manifest.join("../../../include");

    let mut includes: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("LANE_INCLUDE_DIR") {
        includes.push(dir.into());
    }
    let lib_dir = std::env::var_os("LANE_LIB_DIR").map(PathBuf::from);
    let mut pc = pkg_config::Config::new();
    pc.cargo_metadata(!dynamic && lib_dir.is_none());
    match pc.probe("lane") {
        Ok(lib) => includes.extend(lib.include_paths),
        Err(e) if !dynamic && lib_dir.is_none() => {
            panic!(
                "lane-sys: liblane not found. Set LANE_LIB_DIR to the directory of liblane.so, \
                 or PKG_CONFIG_PATH to one with lane.pc (a build tree's meson-uninstalled/), \
                 or enable the feature `dynamic`. pkg-config said: {e}"
            );
        }
        Err(_) => {}
    }
    includes.push(repo_include);
    for dir in &includes {
        println!("cargo:rerun-if-changed={}", dir.join("lane/lane.h").display());
    }
    if let Some(dir) = &lib_dir {
        if !dynamic {
            println!("cargo:rustc-link-search=native={}", dir.display());
            println!("cargo:rustc-link-lib=dylib=lane");
        }
    }
    let mut build = cc::Build::new();
    build.file("csrc/layout.c").flag_if_supported("-std=c11").warnings(true);
    for dir in &includes {
        build.include(dir);
    }
    build.compile("lanesys_layout");
}
