//! Helpers shared by the integration tests.
#![allow(dead_code)]

use lane::{Job, Outcome};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Outcomes collected through Job::on_done.
#[derive(Clone, Default)]
pub struct Outcomes(Arc<(Mutex<Vec<Outcome>>, Condvar)>);

impl Outcomes {
    pub fn job(&self, id: &str) -> Job {
        let me = self.clone();
        Job::new(id).on_done(move |o| me.push(o.clone()))
    }
    pub fn push(&self, o: Outcome) {
        self.0.0.lock().unwrap().push(o);
        self.0.1.notify_all();
    }
    /// Waits (up to 10 s) until n outcomes came; returns them.
    pub fn wait_for(&self, n: usize) -> Vec<Outcome> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut v = self.0.0.lock().unwrap();
        while v.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "only {} of {n} outcomes after 10 s: {:?}", v.len(), *v);
            v = self.0.1.wait_timeout(v, left).unwrap().0;
        }
        v.clone()
    }
    pub fn get(&self, id: &str) -> Outcome {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(o) = self.0.0.lock().unwrap().iter().find(|o| o.job_id == id) {
                return o.clone();
            }
            assert!(Instant::now() < deadline, "no outcome for {id} after 10 s");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    pub fn len(&self) -> usize {
        self.0.0.lock().unwrap().len()
    }
}

/// A latch a job waits on until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }
    pub fn wait(&self) {
        let mut g = self.0.0.lock().unwrap();
        while !*g {
            g = self.0.1.wait_timeout(g, Duration::from_secs(10)).unwrap().0;
        }
    }
}

/// Waits (up to 10 s) until f() holds.
pub fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A small xorshift generator (no dependency); the seed is printed so a
/// failing run can be repeated with LANE_TEST_SEED.
pub struct Rng(u64);

impl Rng {
    pub fn from_env() -> Rng {
        let seed = std::env::var("LANE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("LANE_TEST_SEED={seed}");
        Rng(seed)
    }
    pub fn with_seed(s: u64) -> Rng {
        Rng(s | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
