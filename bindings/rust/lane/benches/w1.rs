//! W1 through the Rust binding: many no-op jobs through a lane of 4 slots,
//! beside a `tokio::sync::Semaphore` pool of 4 permits doing the same work
//! in the same run. Medians of several runs; prints a markdown table.
//!
//!   cargo bench --features tokio --bench w1 [-- JOBS RUNS]

use lane::{Job, Lane, Options};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const SLOTS: u32 = 4;

/// (median, min, max)
fn median(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn per_job(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n as f64
}

/// Callback jobs: submit n no-op closures, wait until all ended.
fn lane_callbacks(lane: &Lane, n: u64, run: u64) -> Duration {
    let t0 = Instant::now();
    for i in 0..n {
        lane.submit(Job::new(format!("c{run}-{i}")), |_| Ok::<(), String>(()))
            .unwrap();
    }
    lane.wait_idle(None).unwrap();
    t0.elapsed()
}

/// Async jobs: n no-op futures as host-run jobs on tasks of their own, all awaited.
async fn lane_async(lane: &Lane, n: u64, run: u64) -> Duration {
    let t0 = Instant::now();
    let mut hs = Vec::with_capacity(n as usize);
    for i in 0..n {
        hs.push(
            lane.spawn(Job::new(format!("a{run}-{i}")), async |_| Ok::<(), String>(()))
                .unwrap(),
        );
    }
    for h in hs {
        assert!(h.await.unwrap().is_ok());
    }
    t0.elapsed()
}

/// The baseline: a permit per job, the job a tokio task that returns it.
async fn semaphore_pool(sem: &Arc<Semaphore>, n: u64) -> Duration {
    let done = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut hs = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let done = done.clone();
        hs.push(tokio::spawn(async move {
            done.fetch_add(1, Ordering::Relaxed);
            drop(permit);
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), n);
    t0.elapsed()
}

/// Serial round trip: one job at a time, waiting for each outcome.
fn lane_submit_wait(lane: &Lane, n: u64, run: u64) -> Duration {
    let t0 = Instant::now();
    for i in 0..n {
        lane.submit_wait(Job::new(format!("w{run}-{i}")), None, |_| Ok::<(), String>(()))
            .unwrap();
    }
    t0.elapsed()
}

async fn semaphore_serial(sem: &Arc<Semaphore>, n: u64) -> Duration {
    let t0 = Instant::now();
    for _ in 0..n {
        let permit = sem.clone().acquire_owned().await.unwrap();
        tokio::spawn(async move { drop(permit) }).await.unwrap();
    }
    t0.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let runs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(7);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let lane = Lane::new("w1", Options::new().max_concurrent(SLOTS)).unwrap();
    let sem = Arc::new(Semaphore::new(SLOTS as usize));

    let (mut cb, mut asy, mut pool, mut sw, mut ss) = (vec![], vec![], vec![], vec![], vec![]);
    // One warm-up round, then interleaved runs so that drift hits both sides.
    for run in 0..=runs {
        let a = lane_callbacks(&lane, n, run);
        let b = rt.block_on(lane_async(&lane, n, run));
        let c = rt.block_on(semaphore_pool(&sem, n));
        let d = lane_submit_wait(&lane, n / 4, run);
        let e = rt.block_on(semaphore_serial(&sem, n / 4));
        if run > 0 {
            cb.push(a);
            asy.push(b);
            pool.push(c);
            sw.push(d);
            ss.push(e);
        }
    }
    let (cb, asy, pool, sw, ss) = (median(cb), median(asy), median(pool), median(sw), median(ss));
    let base = per_job(pool.0, n);
    let sbase = per_job(ss.0, n / 4);
    println!(
        "W1: {n} no-op jobs, {SLOTS} slots, median of {runs} runs (serial: {} jobs)\n",
        n / 4
    );
    println!("| workload | ns/job (median) | min - max | jobs/s | vs semaphore pool |");
    println!("|---|---|---|---|---|");
    for (name, d, jobs, b) in [
        ("lane: callback jobs (submit + wait_idle)", cb, n, base),
        ("lane: async jobs (spawn + await each)", asy, n, base),
        ("tokio Semaphore pool (acquire + spawn)", pool, n, base),
        ("lane: submit_wait, serial", sw, n / 4, sbase),
        ("tokio Semaphore, serial (acquire + spawn + await)", ss, n / 4, sbase),
    ] {
        let ns = per_job(d.0, jobs);
        let (lo, hi) = (per_job(d.1, jobs), per_job(d.2, jobs));
        println!(
            "| {name} | {ns:.0} | {lo:.0} - {hi:.0} | {:.0} | {:.2}x |",
            1e9 / ns,
            ns / b
        );
    }
}
