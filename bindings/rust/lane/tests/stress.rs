//! Randomized stress: threads submitting, cancelling and waiting, plus
//! tokio tasks running and abandoning async jobs, on one lane that is
//! resized and paused meanwhile. Every accepted job gets exactly one outcome.
//! LANE_TEST_SEED repeats a run; LANE_STRESS_JOBS scales it.

mod common;

use common::Rng;
use lane::{CancelScope, Job, Lane, Options, Policy, Status};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Ledger {
    accepted: Mutex<HashMap<u64, String>>,
    outcomes: Mutex<HashMap<u64, Vec<Status>>>,
    refused: AtomicU64,
}

impl Ledger {
    fn job(self: &Arc<Self>, id: String, rng: &mut Rng) -> Job {
        let me = self.clone();
        let mut j = Job::new(id)
            .tenant(["alice", "bob", "carol"][rng.below(3) as usize])
            .priority(rng.below(4) as i32)
            .on_done(move |o| me.outcomes.lock().unwrap().entry(o.token).or_default().push(o.status));
        if rng.below(3) == 0 {
            j = j.preemptible();
        }
        if rng.below(10) == 0 {
            j = j.queue_timeout(Duration::from_millis(rng.below(5) + 1));
        }
        j
    }
    fn accepted(&self, token: u64, id: &str) {
        assert!(
            self.accepted.lock().unwrap().insert(token, id.to_string()).is_none(),
            "token reused"
        );
    }
}

fn jobs_per_worker() -> u64 {
    std::env::var("LANE_STRESS_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

#[test]
fn every_accepted_job_gets_exactly_one_outcome() {
    let mut seed_rng = Rng::from_env();
    let lane = Lane::new(
        "stress",
        Options::new()
            .max_concurrent(3)
            .policy(Policy::FairShare)
            .preempt_min_runtime(Duration::ZERO),
    )
    .unwrap();
    let ledger = Arc::new(Ledger::default());
    let n = jobs_per_worker();

    let mut threads = Vec::new();
    for w in 0..4u64 {
        let (lane, ledger) = (lane.clone(), ledger.clone());
        let mut rng = Rng::with_seed(seed_rng.next());
        threads.push(std::thread::spawn(move || {
            let mut mine = Vec::new();
            for i in 0..n {
                // Ids collide on purpose now and then (duplicates are refused).
                let id = format!("t{w}-{}", rng.below(n * 3 / 4));
                let job = ledger.job(id.clone(), &mut rng);
                let work = rng.below(3);
                let body = move |ctx: &lane::Ctx<'_>| -> Result<(), String> {
                    match work {
                        0 => Ok(()),
                        1 => {
                            ctx.wait(Some(Duration::from_micros(200)));
                            Ok(())
                        }
                        _ => Err("failed on purpose".into()),
                    }
                };
                if i % 17 == 0 {
                    match lane.submit_wait(job, Some(Duration::from_millis(50)), body) {
                        Ok(o) => ledger.accepted(o.token, &id),
                        Err(_) => {
                            ledger.refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    continue;
                }
                match lane.submit(job, body) {
                    Ok(t) => {
                        ledger.accepted(t.token, &id);
                        mine.push(t.token);
                    }
                    Err(e) => {
                        assert!(
                            matches!(e.status(), Status::Duplicate | Status::Busy | Status::QueueFull),
                            "{e}"
                        );
                        ledger.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
                match rng.below(8) {
                    0 if !mine.is_empty() => {
                        let t = mine[rng.below(mine.len() as u64) as usize];
                        let _ = lane.cancel_token(t, CancelScope::QueuedOrRunning);
                    }
                    1 => {
                        let _ = lane.cancel(&format!("t{w}-{}", rng.below(n)), CancelScope::Queued);
                    }
                    _ => {}
                }
            }
        }));
    }

    // A controller resizes and pauses the lane meanwhile.
    let ctl = {
        let lane = lane.clone();
        let mut rng = Rng::with_seed(seed_rng.next());
        std::thread::spawn(move || {
            for _ in 0..40 {
                match rng.below(4) {
                    0 => lane.set_max_concurrent(1 + rng.below(4) as u32).unwrap(),
                    1 => lane.pause().unwrap(),
                    _ => lane.resume().unwrap(),
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            lane.resume().unwrap();
        })
    };

    #[cfg(feature = "tokio")]
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut tasks = Vec::new();
            for w in 0..4u64 {
                let (lane, ledger) = (lane.clone(), ledger.clone());
                let mut rng = Rng::with_seed(seed_rng.next());
                tasks.push(tokio::spawn(async move {
                    for i in 0..n / 2 {
                        let id = format!("a{w}-{i}");
                        let job = ledger.job(id.clone(), &mut rng);
                        let fate = rng.below(4);
                        let h = match lane.run(job, async move |ctx| -> Result<(), String> {
                            if fate == 1 {
                                tokio::select! {
                                    _ = tokio::time::sleep(Duration::from_micros(300)) => {}
                                    c = ctx.cancelled() => return Err(c.to_string()),
                                }
                            }
                            Ok(())
                        }) {
                            Ok(h) => h,
                            Err(e) => {
                                assert!(matches!(e.status(), Status::Busy | Status::QueueFull), "{e}");
                                ledger.refused.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                        };
                        ledger.accepted(h.ticket().token, &id);
                        match fate {
                            // Abandoned at once (withdrawn or cancelled).
                            2 => drop(h),
                            // Abandoned after a moment, maybe while running.
                            3 => {
                                let _ = tokio::time::timeout(Duration::from_micros(100), h).await;
                            }
                            _ => {
                                let o = h.await;
                                assert_ne!(o.status, Status::JobFailed, "{o:?}");
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        drop(rt);
    }

    for t in threads {
        t.join().unwrap();
    }
    ctl.join().unwrap();
    lane.resume().unwrap();
    lane.wait_idle(Some(Duration::from_secs(30))).unwrap();

    let accepted = ledger.accepted.lock().unwrap();
    // on_done precedes wait_idle's return for callback jobs; give async
    // DONEs a moment (they are delivered by on_done too, on a library thread).
    for _ in 0..1000 {
        if ledger.outcomes.lock().unwrap().len() >= accepted.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let outcomes = ledger.outcomes.lock().unwrap();
    for (token, id) in accepted.iter() {
        let got = outcomes.get(token).map_or(0, Vec::len);
        assert_eq!(
            got,
            1,
            "job {id} (token {token}) got {got} outcomes: {:?}",
            outcomes.get(token)
        );
    }
    assert_eq!(outcomes.len(), accepted.len(), "outcomes for jobs never accepted");
    let s = lane.stats().unwrap();
    assert_eq!(s.submitted, accepted.len() as u64);
    assert_eq!(
        s.submitted,
        s.completed
            + s.failed
            + s.cancelled
            + s.preempted
            + s.timed_out
            + s.closed
            + s.running as u64
            + s.queued as u64,
        "{s:?}"
    );
    assert_eq!((s.running, s.queued), (0, 0));
    eprintln!(
        "stress: {} accepted, {} refused, {} completed, {} failed, {} cancelled, {} timed out",
        accepted.len(),
        ledger.refused.load(Ordering::Relaxed),
        s.completed,
        s.failed,
        s.cancelled,
        s.timed_out
    );
}
