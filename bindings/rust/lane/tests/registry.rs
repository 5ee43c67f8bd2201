//! Registries: config from a closure, reload in place, metrics, removal.

mod common;

use common::Outcomes;
use lane::{Job, LogLevel, Registry, Status};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

#[test]
fn config_sizes_lanes_and_reload_resizes_them() {
    let size = Arc::new(AtomicI64::new(2));
    let s = size.clone();
    let reg = Registry::builder()
        .config(move |key, def| {
            if key == "lanes.llm.max_concurrent" {
                s.load(Ordering::SeqCst)
            } else {
                def
            }
        })
        .build()
        .unwrap();
    let llm = reg.get_or_create("llm").unwrap();
    assert_eq!(llm.stats().unwrap().max_concurrent, 2);
    assert_eq!(reg.get_or_create("tools").unwrap().stats().unwrap().max_concurrent, 1);
    size.store(5, Ordering::SeqCst);
    reg.reload().unwrap();
    assert_eq!(llm.stats().unwrap().max_concurrent, 5);
    assert_eq!(reg.names(), ["llm", "tools"]);
    let out = Outcomes::default();
    llm.submit(out.job("j"), |_| Ok::<(), String>(())).unwrap();
    assert_eq!(out.get("j").status, Status::Ok);
}

#[test]
fn metrics_are_prometheus_text() {
    let reg = Registry::builder().default_max_concurrent(3).build().unwrap();
    let a = reg.get_or_create("a.b-c:d_e").unwrap();
    a.submit_wait(Job::new("x"), None, |_| Ok::<(), String>(())).unwrap();
    let m = reg.metrics().unwrap();
    assert!(m.contains("a.b-c:d_e"), "{m}");
    assert!(m.contains("# TYPE"), "{m}");
}

#[test]
fn remove_refuses_a_lane_still_held_and_takes_it_once_dropped() {
    let reg = Registry::from_env().unwrap();
    let l = reg.get_or_create("tmp").unwrap();
    let again = reg.get("tmp").unwrap();
    assert_eq!(again.name(), "tmp");
    let e = reg.remove("tmp").unwrap_err();
    assert_eq!(e.status(), Status::Busy);
    drop((l, again));
    reg.remove("tmp").unwrap();
    assert!(reg.get("tmp").is_none());
    assert_eq!(reg.remove("tmp").unwrap_err().status(), Status::Invalid);
}

#[test]
fn bad_names_are_refused() {
    let reg = Registry::from_env().unwrap();
    for bad in ["", "has space", "x\0y", &"n".repeat(129)] {
        let e = reg.get_or_create(bad).unwrap_err();
        assert_eq!(e.status(), Status::Invalid, "{bad:?}");
    }
    assert!(reg.get("nope").is_none());
}

#[test]
fn a_bad_config_value_is_logged_and_falls_back() {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let l = logs.clone();
    let reg = Registry::builder()
        .config(|_, _| -7)
        .log(move |level, msg| l.lock().unwrap().push((level, msg.to_string())))
        .build()
        .unwrap();
    let lane = reg.get_or_create("neg").unwrap();
    assert_eq!(lane.stats().unwrap().max_concurrent, 1);
    let logs = logs.lock().unwrap();
    assert!(!logs.is_empty(), "the bad value was logged");
    assert!(
        logs.iter().any(|(lv, m)| *lv != LogLevel::Info && m.contains("neg")),
        "{logs:?}"
    );
}

#[test]
fn a_registry_lane_keeps_its_registry_alive() {
    let lane = {
        let reg = Registry::from_env().unwrap();
        reg.get_or_create("kept").unwrap()
    };
    let o = lane.submit_wait(Job::new("x"), None, |_| Ok::<(), String>(())).unwrap();
    assert!(o.is_ok());
}
