//! The sampler: the SQLite history written and queried back, and a Rust sink.

use lane::{Registry, Sampler, SamplerOptions, Status, sqlite_query};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

fn temp_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("lane-rs-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn samples_land_in_sqlite_and_query_back() {
    let path = temp_path("history");
    let reg = Registry::from_env().unwrap();
    let llm = reg.get_or_create("llm").unwrap();
    llm.pause().unwrap();
    llm.submit(lane::Job::new("q"), |_| Ok::<(), String>(())).unwrap();
    let before = SystemTime::now() - Duration::from_secs(1);
    let s = Sampler::new(&reg, SamplerOptions::sqlite(&path)).unwrap();
    s.sample_once().unwrap();
    llm.resume().unwrap();
    llm.wait_idle(Some(Duration::from_secs(5))).unwrap();
    s.sample_once().unwrap();
    s.purge_once().unwrap();
    let rows = sqlite_query(&path, "llm", before, SystemTime::now() + Duration::from_secs(1)).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].running, rows[0].queued), (0, 1));
    assert_eq!((rows[1].running, rows[1].queued), (0, 0));
    assert!(rows[0].sampled_at <= rows[1].sampled_at);
    assert!(
        sqlite_query(&path, "other", before, SystemTime::now())
            .unwrap()
            .is_empty()
    );
    s.start().unwrap();
    s.stop().unwrap();
    drop(s);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_rust_sink_gets_every_lane() {
    let rows = Arc::new(Mutex::new(Vec::new()));
    let r = rows.clone();
    let reg = Registry::from_env().unwrap();
    let _a = reg.get_or_create("a").unwrap();
    let _b = reg.get_or_create("b").unwrap();
    let s = Sampler::new(
        &reg,
        SamplerOptions::sink(move |lane, running, queued, _at| {
            r.lock().unwrap().push((lane.to_string(), running, queued));
            Ok(())
        })
        .purger(|_| Ok(0)),
    )
    .unwrap();
    s.sample_once().unwrap();
    s.purge_once().unwrap();
    let mut got = rows.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, [("a".to_string(), 0, 0), ("b".to_string(), 0, 0)]);
}

#[test]
fn a_failing_sink_is_an_io_error() {
    let reg = Registry::builder().log(|_, _| {}).build().unwrap();
    let _a = reg.get_or_create("a").unwrap();
    let s = Sampler::new(&reg, SamplerOptions::sink(|_, _, _, _| Err("disk full".into()))).unwrap();
    assert_eq!(s.sample_once().unwrap_err().status(), Status::Io);
}

#[test]
fn querying_a_missing_file_is_an_error() {
    let e = sqlite_query(
        "/nonexistent/dir/h.db",
        "llm",
        SystemTime::UNIX_EPOCH,
        SystemTime::now(),
    )
    .unwrap_err();
    assert_ne!(e.status(), Status::Ok);
    assert!(!e.message().is_empty());
    let e = sqlite_query("h\0.db", "llm", SystemTime::UNIX_EPOCH, SystemTime::now()).unwrap_err();
    assert_eq!(e.status(), Status::Invalid);
}

#[test]
fn the_sampler_clock_stamps_rows() {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let path = temp_path("clock");
    let reg = Registry::from_env().unwrap();
    let _l = reg.get_or_create("llm").unwrap();
    let s = Sampler::new(&reg, SamplerOptions::sqlite(&path).clock(move || at)).unwrap();
    s.sample_once().unwrap();
    let rows = sqlite_query(&path, "llm", at, at + Duration::from_secs(1)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sampled_at, at);
    drop(s);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn the_registry_clock_is_its_lanes_clock() {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    let reg = Registry::builder().clock(move || at).build().unwrap();
    let l = reg.get_or_create("llm").unwrap();
    let o = l
        .submit_wait(lane::Job::new("a"), None, |_| Ok::<(), String>(()))
        .unwrap();
    assert_eq!(o.finished_at, Some(at));
}
