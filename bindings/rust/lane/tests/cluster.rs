//! Shared lanes through the safe API: two members of one lane (two clusters
//! in this process stand for two processes) on a private redis-server on
//! 127.0.0.1, started and stopped by the test.

use lane::{Cluster, ClusterOptions, Job, Lane, Options, Policy, Status};
use std::collections::HashSet;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type R = Result<(), String>;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Redis {
    child: Child,
    url: String,
    _dir: std::path::PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// None (and the test says why) when redis-server is not installed outside CI.
fn redis() -> Option<Redis> {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("lane-rust-redis-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let spawned = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed (scripts/deps.sh installs it): {e}"
            );
            eprintln!("not run: redis-server is not installed (scripts/deps.sh installs it)");
            return None;
        }
    };
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Redis {
                child,
                url: format!("redis://127.0.0.1:{port}/0"),
                _dir: dir,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server did not start");
}

#[test]
fn two_members_share_one_cap() {
    let Some(r) = redis() else { return };
    const CAP: i32 = 2;
    let holding = Arc::new(AtomicI32::new(0));
    let over = Arc::new(AtomicU32::new(0));
    let fences = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicU32::new(0));
    let lanes: Vec<Lane> = (0..2)
        .map(|_| {
            let c = Cluster::new(ClusterOptions::new().url(&r.url).lease(Duration::from_secs(1))).unwrap();
            Lane::new(
                "rust-shared",
                Options::new()
                    .max_concurrent(CAP as u32)
                    .policy(Policy::FairShare)
                    .cluster(&c),
            )
            .unwrap()
        })
        .collect();
    for i in 0..30 {
        let (holding, over, fences, done2) = (holding.clone(), over.clone(), fences.clone(), done.clone());
        let job = Job::new(format!("j{i}"))
            .tenant(format!("t{}", i % 3))
            .on_done(move |o| {
                assert_eq!(o.status, Status::Ok, "{o:?}");
                done2.fetch_add(1, Ordering::SeqCst);
            });
        lanes[i % 2]
            .submit(job, move |ctx| {
                if holding.fetch_add(1, Ordering::SeqCst) + 1 > CAP {
                    over.fetch_add(1, Ordering::SeqCst);
                }
                fences.lock().unwrap().push(ctx.fence());
                std::thread::sleep(Duration::from_millis(2));
                holding.fetch_sub(1, Ordering::SeqCst);
                R::Ok(())
            })
            .unwrap();
    }
    for l in &lanes {
        l.wait_idle(Some(Duration::from_secs(30))).unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 30);
    assert_eq!(
        over.load(Ordering::SeqCst),
        0,
        "more than {CAP} held a slot across both members"
    );
    let f = fences.lock().unwrap();
    assert!(f.iter().all(|&x| x > 0), "a job without a fence: {f:?}");
    assert_eq!(f.iter().collect::<HashSet<_>>().len(), 30, "a fence handed out twice");
    let s = lanes[0].stats().unwrap();
    assert!(s.shared && s.available && s.completed > 0, "{s:?}");
}

#[test]
fn bad_inputs_and_an_unreachable_redis() {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    assert_eq!(
        Cluster::new(ClusterOptions::new().url(&url)).unwrap_err().status(),
        Status::Unavailable
    );
    assert_eq!(
        Cluster::new(ClusterOptions::new().url("http://x"))
            .unwrap_err()
            .status(),
        Status::Invalid
    );
    assert_eq!(
        Cluster::new(ClusterOptions::new().lease(Duration::from_millis(1)))
            .unwrap_err()
            .status(),
        Status::Invalid
    );
    let local = Lane::new("rust-local", Options::new()).unwrap();
    let o = local.submit_wait(Job::new("f"), None, |ctx| {
        if ctx.fence() == 0 {
            R::Ok(())
        } else {
            Err("fence".into())
        }
    });
    assert_eq!(o.unwrap().status, Status::Ok);
    assert!(!local.stats().unwrap().shared);
}

#[test]
fn registry_lanes_are_members() {
    let Some(r) = redis() else { return };
    const CAP: i32 = 2;
    let holding = Arc::new(AtomicI32::new(0));
    let over = Arc::new(AtomicU32::new(0));
    let done = Arc::new(AtomicU32::new(0));
    // Two registries on two clusters: two processes, as far as Redis can tell.
    let regs: Vec<lane::Registry> = (0..2)
        .map(|_| {
            let c = Cluster::new(ClusterOptions::new().url(&r.url).lease(Duration::from_secs(1))).unwrap();
            lane::Registry::builder()
                .cluster(&c)
                .config(|key, def| {
                    if key == "lanes.llm.max_concurrent" {
                        CAP as i64
                    } else {
                        def
                    }
                })
                .build()
                .unwrap()
        })
        .collect();
    for i in 0..30 {
        let (holding, over, done2) = (holding.clone(), over.clone(), done.clone());
        let job = Job::new(format!("j{i}")).on_done(move |o| {
            assert_eq!(o.status, Status::Ok, "{o:?}");
            done2.fetch_add(1, Ordering::SeqCst);
        });
        regs[i % 2]
            .get_or_create("llm")
            .unwrap()
            .submit(job, move |ctx| {
                if holding.fetch_add(1, Ordering::SeqCst) + 1 > CAP {
                    over.fetch_add(1, Ordering::SeqCst);
                }
                let f = ctx.fence();
                std::thread::sleep(Duration::from_millis(2));
                holding.fetch_sub(1, Ordering::SeqCst);
                if f == 0 {
                    return Err("no fence: the job ran on no shared grant".to_string());
                }
                R::Ok(())
            })
            .unwrap();
    }
    for reg in &regs {
        reg.get_or_create("llm")
            .unwrap()
            .wait_idle(Some(Duration::from_secs(30)))
            .unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 30);
    assert_eq!(
        over.load(Ordering::SeqCst),
        0,
        "more than {CAP} held a slot across both registries"
    );
    let s = regs[0].get_or_create("llm").unwrap().stats().unwrap();
    assert!(
        s.shared && s.available,
        "a registry lane on a cluster is not shared: {s:?}"
    );
    // The clusters were dropped above: each registry keeps its own connected.
    drop(regs);
}

/// Async jobs of a shared lane see their grant's fence too, and a local
/// lane's async job sees 0.
#[cfg(feature = "tokio")]
#[tokio::test]
async fn async_jobs_read_their_fence() {
    let Some(r) = redis() else { return };
    let c = Cluster::new(ClusterOptions::new().url(&r.url).lease(Duration::from_secs(1))).unwrap();
    let shared = Lane::new("rust-async-shared", Options::new().max_concurrent(2).cluster(&c)).unwrap();
    let fences = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for i in 0..6 {
        let fences = fences.clone();
        handles.push(
            shared
                .run(Job::new(format!("a{i}")), async move |ctx| -> R {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    fences.lock().unwrap().push(ctx.fence());
                    Ok(())
                })
                .unwrap(),
        );
    }
    for h in handles {
        let o = h.await;
        assert_eq!(o.status, Status::Ok, "{o:?}");
    }
    let f = fences.lock().unwrap().clone();
    assert_eq!(f.len(), 6);
    assert!(
        f.iter().all(|&x| x > 0),
        "an async job of a shared lane ran without a fence: {f:?}"
    );
    assert_eq!(f.iter().collect::<HashSet<_>>().len(), 6, "fences repeat: {f:?}");
    let local = Lane::new("rust-async-local", Options::new()).unwrap();
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let o = local
        .run(Job::new("l"), async move |ctx| -> R {
            *seen2.lock().unwrap() = Some(ctx.fence());
            Ok(())
        })
        .unwrap()
        .await;
    assert_eq!(o.status, Status::Ok, "{o:?}");
    assert_eq!(*seen.lock().unwrap(), Some(0));
}
