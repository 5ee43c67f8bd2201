//! Host-run jobs as futures (feature `tokio`).
#![cfg(feature = "tokio")]

mod common;

use common::Outcomes;
use lane::{CancelScope, CloseMode, Job, Lane, Options, Policy, Status};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

type R = Result<(), String>;

async fn settle(lane: &Lane, what: &str, f: impl Fn(&lane::Stats) -> bool) {
    for _ in 0..5000 {
        if f(&lane.stats().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("timed out waiting for {what}: {:?}", lane.stats().unwrap());
}

#[tokio::test]
async fn an_async_job_runs_and_returns_its_outcome() {
    let lane = Lane::new("async", Options::new().max_concurrent(2)).unwrap();
    let h = lane
        .run(Job::new("a1").tenant("alice"), async move |ctx| -> R {
            assert_eq!(ctx.job_id(), "a1");
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert!(!ctx.is_cancelled());
            Ok(())
        })
        .unwrap();
    assert_eq!(h.ticket().position, 0);
    let o = h.await;
    assert_eq!(o.status, Status::Ok, "{o:?}");
    assert_eq!(o.job_id, "a1");
    assert!(o.finished_at.unwrap() >= o.started_at.unwrap());
    let o = lane
        .run(Job::new("a2"), |_ctx| async move { Err::<(), _>("nope") })
        .unwrap()
        .await;
    assert_eq!(o.status, Status::JobFailed);
    assert_eq!(o.error.as_deref(), Some("nope"));
}

#[tokio::test(flavor = "current_thread")]
async fn works_on_a_current_thread_runtime_and_queues_in_order() {
    let lane = Lane::new("async-ct", Options::new().max_concurrent(1)).unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut hs = Vec::new();
    for i in 0..5 {
        let order = order.clone();
        hs.push(
            lane.spawn(Job::new(format!("j{i}")), move |ctx| async move {
                order.lock().unwrap().push(ctx.job_id().to_string());
                tokio::task::yield_now().await;
                Ok::<(), String>(())
            })
            .unwrap(),
        );
    }
    for h in hs {
        assert!(h.await.unwrap().is_ok());
    }
    assert_eq!(*order.lock().unwrap(), ["j0", "j1", "j2", "j3", "j4"]);
}

#[tokio::test]
async fn preemption_reaches_the_future_as_its_cause() {
    let lane = Lane::new(
        "async-preempt",
        Options::new()
            .max_concurrent(1)
            .policy(Policy::FairShare)
            .preempt_min_runtime(Duration::ZERO),
    )
    .unwrap();
    let victim = lane
        .spawn(Job::new("victim").preemptible(), async move |ctx| -> R {
            let cause = tokio::time::timeout(Duration::from_secs(10), ctx.cancelled())
                .await
                .unwrap();
            assert_eq!(ctx.cause(), Some(cause));
            Err(format!("stopped: {cause}"))
        })
        .unwrap();
    settle(&lane, "victim runs", |s| s.running == 1).await;
    let urgent = lane
        .run(Job::new("urgent").priority(10), async |_ctx| -> R { Ok(()) })
        .unwrap();
    let o = victim.await.unwrap();
    assert_eq!(o.status, Status::Preempted);
    assert_eq!(o.error.as_deref(), Some("stopped: LANE_ERR_PREEMPTED"));
    assert!(urgent.await.is_ok());
}

#[tokio::test]
async fn dropping_the_future_before_it_starts_withdraws_the_job() {
    let lane = Lane::new("async-drop", Options::new().max_concurrent(1)).unwrap();
    let out = Outcomes::default();
    let release = Arc::new(tokio::sync::Notify::new());
    let r = release.clone();
    let blocker = lane
        .spawn(Job::new("blocker"), async move |_| -> R {
            r.notified().await;
            Ok(())
        })
        .unwrap();
    settle(&lane, "blocker runs", |s| s.running == 1).await;
    let ran = Arc::new(AtomicBool::new(false));
    let ran2 = ran.clone();
    let queued = lane
        .run(out.job("queued"), async move |_| -> R {
            ran2.store(true, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    assert_eq!(queued.ticket().position, 1);
    drop(queued);
    assert_eq!(out.get("queued").status, Status::Cancelled);
    release.notify_one();
    assert!(blocker.await.unwrap().is_ok());
    lane.wait_idle(Some(Duration::from_secs(5))).unwrap();
    assert!(!ran.load(Ordering::SeqCst), "a withdrawn job never runs");
}

#[tokio::test]
async fn dropping_the_future_after_it_started_cancels_the_job() {
    let lane = Lane::new("async-drop-running", Options::new().max_concurrent(1)).unwrap();
    let out = Outcomes::default();
    let started = Arc::new(tokio::sync::Notify::new());
    let s = started.clone();
    let h = lane
        .run(out.job("long"), async move |_| -> R {
            s.notify_one();
            std::future::pending::<()>().await;
            Ok(())
        })
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        tokio::select! { _ = h => {}, _ = rx => {} } // dropping h on rx
    });
    started.notified().await;
    tx.send(()).unwrap();
    task.await.unwrap();
    let o = out.get("long");
    assert_eq!(o.status, Status::Cancelled);
    assert_eq!(o.job_code, lane::JOB_CODE_ABANDONED);
    // The slot is free again.
    assert!(
        lane.run(Job::new("next"), async |_| -> R { Ok(()) })
            .unwrap()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn cancel_and_close_are_seen_inside() {
    let lane = Lane::new("async-cancel", Options::new().max_concurrent(2)).unwrap();
    let a = lane
        .spawn(Job::new("a"), async move |ctx| -> R {
            let c = ctx.cancel_token();
            Err(c.cancelled().await.to_string())
        })
        .unwrap();
    let b = lane
        .spawn(Job::new("b"), async move |ctx| -> R {
            Err(ctx.cancelled().await.to_string())
        })
        .unwrap();
    settle(&lane, "both run", |s| s.running == 2).await;
    lane.cancel("a", CancelScope::QueuedOrRunning).unwrap();
    let o = a.await.unwrap();
    assert_eq!(
        (o.status, o.error.as_deref()),
        (Status::Cancelled, Some("LANE_ERR_CANCELLED"))
    );
    lane.close(CloseMode::Cancel).unwrap();
    let o = b.await.unwrap();
    assert_eq!(
        (o.status, o.error.as_deref()),
        (Status::Closed, Some("LANE_ERR_CLOSED"))
    );
    let e = lane.run(Job::new("late"), async |_| -> R { Ok(()) }).err().unwrap();
    assert_eq!(e.status(), Status::Closed);
}

#[tokio::test]
async fn a_panicking_future_ends_failed_with_its_message() {
    let lane = Lane::new("async-panic", Options::new()).unwrap();
    let o = lane
        .run(Job::new("p"), async |_| -> R {
            tokio::task::yield_now().await;
            panic!("async boom")
        })
        .unwrap()
        .await;
    assert_eq!(o.status, Status::JobFailed);
    assert!(o.error.unwrap().contains("async boom"));
    assert!(
        lane.run(Job::new("after"), async |_| -> R { Ok(()) })
            .unwrap()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn refusals_come_back_at_once() {
    let lane = Lane::new(
        "async-refuse",
        Options::new()
            .max_concurrent(1)
            .eta_default_runtime(Duration::from_secs(10)),
    )
    .unwrap();
    let h = lane
        .run(Job::new("x"), async |ctx| -> R {
            Err(ctx.cancelled().await.to_string())
        })
        .unwrap();
    let e = lane.run(Job::new("x"), async |_| -> R { Ok(()) }).err().unwrap();
    assert_eq!(e.status(), Status::Duplicate);
    let e = lane
        .run(Job::new("y").max_wait(Duration::from_millis(1)), async |_| -> R {
            Ok(())
        })
        .err()
        .unwrap();
    assert_eq!(e.status(), Status::Busy);
    assert!(e.ticket().unwrap().eta > Duration::from_millis(1));
    let e = lane.run(Job::new("z\0"), async |_| -> R { Ok(()) }).err().unwrap();
    assert_eq!(e.status(), Status::Invalid);
    drop(h);
    lane.wait_idle(Some(Duration::from_secs(5))).unwrap();
    let s = lane.stats().unwrap();
    assert_eq!((s.submitted, s.cancelled), (1, 1));
}

#[test]
fn run_outside_a_runtime_is_an_error() {
    let lane = Lane::new("async-none", Options::new()).unwrap();
    let e = lane.run(Job::new("x"), async |_| -> R { Ok(()) }).err().unwrap();
    assert!(e.message().contains("tokio runtime"), "{e}");
    assert_eq!(lane.stats().unwrap().submitted, 0);
}

#[test]
fn a_lane_outlives_runtimes() {
    let lane = Lane::new("async-rts", Options::new()).unwrap();
    for i in 0..3 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let o = rt.block_on(async {
            lane.run(Job::new(format!("r{i}")), async |_| -> R { Ok(()) })
                .unwrap()
                .await
        });
        assert!(o.is_ok());
        drop(rt);
    }
}
