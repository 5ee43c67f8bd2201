//! Sessions whose runs are futures (feature `tokio`).
#![cfg(feature = "tokio")]

use lane::{Job, Lane, Mode, Options, Session, SessionOptions, Status};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn opts(mode: Mode) -> SessionOptions {
    SessionOptions::new().mode(mode).debounce(Duration::ZERO)
}

async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..5000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn collect_merges_into_one_async_run() {
    let lane = Lane::new("as-collect", Options::new().max_concurrent(2)).unwrap();
    let release = Arc::new(tokio::sync::Notify::new());
    let runs = Arc::new(Mutex::new(Vec::new()));
    let (r, rel) = (runs.clone(), release.clone());
    let s = Session::new_async(&lane, "chat", opts(Mode::Collect), move |ctx| {
        let (r, rel) = (r.clone(), rel.clone());
        async move {
            let batch: Vec<_> = ctx.batch().iter().map(|b| (b.id.clone(), b.text.clone())).collect();
            let first = batch[0].0 == "m1";
            r.lock().unwrap().push(batch);
            if first {
                rel.notified().await;
            }
            Ok::<(), String>(())
        }
    })
    .unwrap();
    let h1 = s.enqueue_async(Job::new("m1"), "hello").unwrap();
    until("m1 runs", || s.active() == 1).await;
    let h2 = s.enqueue_async(Job::new("m2"), "and").unwrap();
    let h3 = s.enqueue_async(Job::new("m3"), "more").unwrap();
    assert_eq!(s.enqueue(Job::new("sync"), "").unwrap_err().status(), Status::Invalid);
    release.notify_one();
    for h in [h1, h2, h3] {
        assert_eq!(h.await.status, Status::Ok);
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[1], vec![("m2".into(), "and".into()), ("m3".into(), "more".into())]);
}

#[tokio::test]
async fn interrupt_reaches_the_running_future_as_its_cause() {
    let lane = Lane::new("as-interrupt", Options::new().max_concurrent(2)).unwrap();
    let causes = Arc::new(Mutex::new(Vec::new()));
    let c = causes.clone();
    let s = Session::new_async(&lane, "chat", opts(Mode::Interrupt), move |ctx| {
        let c = c.clone();
        async move {
            if ctx.batch()[0].id == "first" {
                let cause = ctx.cancelled().await;
                c.lock().unwrap().push(cause);
                return Err(format!("interrupted: {cause}"));
            }
            Ok::<(), String>(())
        }
    })
    .unwrap();
    let first = s.enqueue_async(Job::new("first"), "long").unwrap();
    until("first runs", || s.active() == 1).await;
    let second = s.enqueue_async(Job::new("second"), "never mind").unwrap();
    assert_eq!(first.await.status, Status::Cancelled);
    assert_eq!(second.await.status, Status::Ok);
    assert_eq!(*causes.lock().unwrap(), [Status::Cancelled]);
}

#[tokio::test]
async fn steer_messages_reach_the_async_run() {
    let lane = Lane::new("as-steer", Options::new()).unwrap();
    let s = Session::new_async(&lane, "chat", opts(Mode::Steer), |ctx| async move {
        for _ in 0..5000 {
            if let Some(m) = ctx.next_message() {
                return if m.text == "in French" {
                    Ok(())
                } else {
                    Err(format!("got {m:?}"))
                };
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Err("no steer message".to_string())
    })
    .unwrap();
    let task = s.enqueue_async(Job::new("task").steerable(), "write").unwrap();
    until("the run is active", || s.active() == 1).await;
    let steer = s.enqueue_async(Job::new("steer").steerable(), "in French").unwrap();
    assert_eq!(task.await.status, Status::Ok);
    assert_eq!(steer.await.status, Status::Ok);
}

#[tokio::test]
async fn a_panicking_async_run_fails_its_messages_and_drop_ends_the_queue() {
    let lane = Lane::new("as-panic", Options::new()).unwrap();
    let s = Session::new_async(&lane, "chat", opts(Mode::Queue), |ctx| async move {
        if ctx.batch()[0].id == "boom" {
            panic!("async session boom");
        }
        ctx.cancelled().await;
        Ok::<(), String>(())
    })
    .unwrap();
    let o = s.enqueue_async(Job::new("boom"), "").unwrap().await;
    assert_eq!(o.status, Status::JobFailed);
    assert!(o.error.unwrap().contains("async session boom"));
    let running = s.enqueue_async(Job::new("r"), "").unwrap();
    until("r runs", || s.active() == 1).await;
    let queued = s.enqueue_async(Job::new("q"), "").unwrap();
    drop(s);
    assert_eq!(running.await.status, Status::Cancelled);
    assert_eq!(queued.await.status, Status::Cancelled);
    let sync = Session::new(&lane, "sync", SessionOptions::new(), |_| Ok::<(), String>(())).unwrap();
    assert_eq!(
        sync.enqueue_async(Job::new("x"), "").err().unwrap().status(),
        Status::Invalid
    );
}

#[test]
fn a_runtime_shut_down_mid_run_still_ends_the_run_and_frees_the_slot() {
    let lane = Lane::new("as-shutdown", Options::new().max_concurrent(1)).unwrap();
    let outcome = Arc::new(Mutex::new(None));
    let o = outcome.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let session = rt.block_on(async {
        let s = Session::new_async(&lane, "chat", opts(Mode::Queue), |_ctx| async move {
            std::future::pending::<()>().await;
            Ok::<(), String>(())
        })
        .unwrap();
        let job = Job::new("stuck").on_done(move |out| *o.lock().unwrap() = Some(out.status));
        let _h = s.enqueue_async(job, "").unwrap();
        until("the run is active", || s.active() == 1).await;
        s
    });
    drop(rt); // drops the run's task unfinished
    eprintln!("after rt drop: {:?}", lane.stats().unwrap());
    lane.wait_idle(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(*outcome.lock().unwrap(), Some(Status::JobFailed));
    drop(session);
    lane.submit_wait(Job::new("after"), None, |_| Ok::<(), String>(()))
        .unwrap()
        .result()
        .unwrap();
}
