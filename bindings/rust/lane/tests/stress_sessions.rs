//! Randomized stress of sessions, callback and async, in every mode: many
//! messages from threads and tokio tasks, with cancel_all, cancel_one and
//! reset meanwhile. Every accepted message gets exactly one outcome.
//! LANE_TEST_SEED repeats a run.

mod common;

use common::Rng;
use lane::{DropPolicy, Job, Lane, Mode, Options, Policy, Session, SessionOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MODES: [Mode; 5] = [Mode::Queue, Mode::Followup, Mode::Collect, Mode::Interrupt, Mode::Steer];
const DROPS: [DropPolicy; 3] = [DropPolicy::Old, DropPolicy::New, DropPolicy::Summarize];

#[derive(Default)]
struct Ledger {
    accepted: Mutex<Vec<String>>,
    outcomes: Mutex<HashMap<String, u32>>,
}

impl Ledger {
    fn job(self: &Arc<Self>, id: &str) -> Job {
        let me = self.clone();
        Job::new(id)
            .steerable()
            .on_done(move |o| *me.outcomes.lock().unwrap().entry(o.job_id.clone()).or_default() += 1)
    }
}

fn options(rng: &mut Rng) -> SessionOptions {
    let debounce = if rng.below(2) == 0 {
        Duration::ZERO
    } else {
        Duration::from_micros(200)
    };
    SessionOptions::new()
        .mode(MODES[rng.below(5) as usize])
        .drop_policy(DROPS[rng.below(3) as usize])
        .cap(1 + rng.below(4) as u32)
        .max_concurrent(1 + rng.below(2) as u32)
        .debounce(debounce)
}

fn check(ledger: &Ledger) {
    let accepted = ledger.accepted.lock().unwrap();
    for _ in 0..2000 {
        if ledger.outcomes.lock().unwrap().len() >= accepted.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let outcomes = ledger.outcomes.lock().unwrap();
    for id in accepted.iter() {
        assert_eq!(outcomes.get(id).copied(), Some(1), "message {id}");
    }
    assert_eq!(outcomes.len(), accepted.len(), "outcomes for messages never accepted");
}

#[test]
fn every_accepted_session_message_gets_exactly_one_outcome() {
    let mut seed = Rng::from_env();
    let lane = Lane::new("s-stress", Options::new().max_concurrent(3).policy(Policy::FairShare)).unwrap();
    let ledger = Arc::new(Ledger::default());
    let mut threads = Vec::new();
    for w in 0..3u64 {
        let (lane, ledger) = (lane.clone(), ledger.clone());
        let mut rng = Rng::with_seed(seed.next());
        threads.push(std::thread::spawn(move || {
            let s = Session::new(&lane, &format!("k{w}"), options(&mut rng), |ctx| {
                let _ = ctx.batch();
                while ctx.next_message().is_some() {}
                ctx.wait(Some(Duration::from_micros(100)));
                Ok::<(), String>(())
            })
            .unwrap();
            for i in 0..200 {
                let id = format!("t{w}-{i}");
                if s.enqueue(ledger.job(&id), "x").is_ok() {
                    ledger.accepted.lock().unwrap().push(id);
                }
                match rng.below(20) {
                    0 => {
                        s.cancel_all();
                    }
                    1 => {
                        s.cancel_one();
                    }
                    2 => s.reset().unwrap(),
                    _ => {}
                }
            }
            drop(s); // ends what is left
        }));
    }
    #[cfg(feature = "tokio")]
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut tasks = Vec::new();
            for w in 0..3u64 {
                let (lane, ledger) = (lane.clone(), ledger.clone());
                let mut rng = Rng::with_seed(seed.next());
                tasks.push(tokio::spawn(async move {
                    let s = Session::new_async(&lane, &format!("a{w}"), options(&mut rng), |ctx| async move {
                        while ctx.next_message().is_some() {}
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_micros(100)) => {}
                            _ = ctx.cancelled() => {}
                        }
                        Ok::<(), String>(())
                    })
                    .unwrap();
                    let mut handles = Vec::new();
                    for i in 0..150 {
                        let id = format!("a{w}-{i}");
                        if let Ok(h) = s.enqueue_async(ledger.job(&id), "y") {
                            ledger.accepted.lock().unwrap().push(id);
                            if rng.below(2) == 0 {
                                handles.push(h);
                            }
                        }
                        match rng.below(20) {
                            0 => {
                                s.cancel_all();
                            }
                            1 => s.reset().unwrap(),
                            2 => tokio::task::yield_now().await,
                            _ => {}
                        }
                    }
                    for h in handles.drain(..handles.len() / 2) {
                        h.await;
                    }
                    drop(s);
                    for h in handles {
                        h.await; // every message ends once its session is gone
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
    for t in threads {
        t.join().unwrap();
    }
    lane.wait_idle(Some(Duration::from_secs(30))).unwrap();
    check(&ledger);
    eprintln!(
        "session stress: {} messages accepted",
        ledger.accepted.lock().unwrap().len()
    );
}
