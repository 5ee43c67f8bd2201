//! End-to-end scenarios of callback jobs on standalone lanes.

mod common;

use common::{Gate, Outcomes, eventually};
use lane::{BlockedBy, CancelScope, CloseMode, Job, Lane, Options, Policy, Status};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type R = Result<(), String>;

fn ok() -> R {
    Ok(())
}

/// A lane of one slot whose slot is held by a job "blocker" until the gate opens.
fn blocked_lane(opts: Options, out: &Outcomes) -> (Lane, Gate) {
    let lane = Lane::new("test", opts.max_concurrent(1)).unwrap();
    let gate = Gate::default();
    let g = gate.clone();
    let t = lane
        .submit(out.job("blocker").tenant("x"), move |_| {
            g.wait();
            ok()
        })
        .unwrap();
    assert_eq!(t.position, 0);
    eventually("the blocker runs", || lane.stats().unwrap().running == 1);
    (lane, gate)
}

fn recorder(order: &Arc<Mutex<Vec<String>>>) -> impl FnMut(&lane::Ctx<'_>) -> R + Send + 'static {
    let order = order.clone();
    move |ctx| {
        order.lock().unwrap().push(ctx.job_id());
        ok()
    }
}

#[test]
fn a_free_slot_runs_the_job_at_once() {
    let lane = Lane::new("free", Options::new().max_concurrent(2)).unwrap();
    let out = Outcomes::default();
    let t = lane.submit(out.job("a"), |_| ok()).unwrap();
    assert_eq!(t.position, 0);
    assert_eq!(t.blocked_by, BlockedBy::None);
    assert_ne!(t.token, 0);
    let o = &out.wait_for(1)[0];
    assert_eq!(o.status, Status::Ok);
    assert_eq!(o.job_id, "a");
    assert_eq!(o.lane, "free");
    assert_eq!(o.token, t.token);
    assert!(o.started_at.is_some() && o.finished_at >= o.started_at);
}

#[test]
fn fifo_runs_in_arrival_order() {
    let out = Outcomes::default();
    let (lane, gate) = blocked_lane(Options::new().policy(Policy::Fifo), &out);
    let order = Arc::new(Mutex::new(Vec::new()));
    for (i, id) in ["j1", "j2", "j3"].iter().enumerate() {
        let t = lane
            .submit(out.job(id).priority(i as i32 * 10), recorder(&order))
            .unwrap();
        assert_eq!(t.position, i as u32 + 1, "{id}");
        assert_eq!(t.blocked_by, BlockedBy::Full);
        assert!(t.eta > Duration::ZERO);
    }
    gate.open();
    out.wait_for(4);
    assert_eq!(*order.lock().unwrap(), ["j1", "j2", "j3"]);
}

#[test]
fn fair_share_alternates_tenants() {
    let out = Outcomes::default();
    let (lane, gate) = blocked_lane(Options::new().policy(Policy::FairShare), &out);
    let order = Arc::new(Mutex::new(Vec::new()));
    for id in ["a1", "a2", "a3"] {
        lane.submit(out.job(id).tenant("alice"), recorder(&order)).unwrap();
    }
    lane.submit(out.job("b1").tenant("bob"), recorder(&order)).unwrap();
    gate.open();
    out.wait_for(5);
    let order = order.lock().unwrap().clone();
    assert_eq!(order[0], "a1", "{order:?}");
    assert_eq!(order[1], "b1", "bob's first job goes before alice's second: {order:?}");
}

#[test]
fn higher_priority_goes_first() {
    let out = Outcomes::default();
    let (lane, gate) = blocked_lane(Options::new().policy(Policy::FairShare), &out);
    let order = Arc::new(Mutex::new(Vec::new()));
    lane.submit(out.job("low").priority(0), recorder(&order)).unwrap();
    let t = lane.submit(out.job("high").priority(9), recorder(&order)).unwrap();
    assert_eq!(t.position, 1, "high jumps the queue");
    gate.open();
    out.wait_for(3);
    assert_eq!(*order.lock().unwrap(), ["high", "low"]);
}

#[test]
fn preemption_is_seen_inside_the_job_with_its_cause() {
    let lane = Lane::new(
        "preempt",
        Options::new()
            .max_concurrent(1)
            .policy(Policy::FairShare)
            .preempt_min_runtime(Duration::ZERO),
    )
    .unwrap();
    let out = Outcomes::default();
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    lane.submit(out.job("victim").preemptible(), move |ctx| {
        *s.lock().unwrap() = ctx.wait(Some(Duration::from_secs(10)));
        Err::<(), _>("stopped early")
    })
    .unwrap();
    eventually("the victim runs", || lane.stats().unwrap().running == 1);
    lane.submit(out.job("urgent").priority(10), |_| ok()).unwrap();
    let v = out.get("victim");
    assert_eq!(v.status, Status::Preempted);
    assert_eq!(*seen.lock().unwrap(), Some(Status::Preempted));
    assert_eq!(out.get("urgent").status, Status::Ok);
    assert!(lane.stats().unwrap().preemptions >= 1);
}

#[test]
fn max_wait_refuses_with_busy_and_the_eta() {
    let out = Outcomes::default();
    let (lane, gate) = blocked_lane(Options::new().eta_default_runtime(Duration::from_secs(10)), &out);
    let e = lane
        .submit(Job::new("impatient").max_wait(Duration::from_millis(1)), |_| ok())
        .unwrap_err();
    assert_eq!(e.status(), Status::Busy);
    assert!(!e.message().is_empty(), "lane_last_error() gave a message");
    let t = e.ticket().expect("a busy refusal carries the ticket");
    assert!(t.eta > Duration::from_millis(1), "{t:?}");
    assert_eq!(lane.stats().unwrap().refused, 1);
    gate.open();
    out.wait_for(1);
}

#[test]
fn a_live_id_is_refused_as_duplicate() {
    let out = Outcomes::default();
    let (lane, gate) = blocked_lane(Options::new(), &out);
    let e = lane.submit(Job::new("blocker"), |_| ok()).unwrap_err();
    assert_eq!(e.status(), Status::Duplicate);
    assert!(e.to_string().contains("LANE_ERR_DUPLICATE"), "{e}");
    gate.open();
    out.wait_for(1);
    // Ended, the id may be used again.
    lane.submit_wait(Job::new("blocker"), None, |_| ok())
        .unwrap()
        .result()
        .unwrap();
}

#[test]
fn cancel_removes_a_queued_job_and_stops_a_running_one() {
    let lane = Lane::new("cancel", Options::new().max_concurrent(1)).unwrap();
    let out = Outcomes::default();
    let cause = Arc::new(Mutex::new(None));
    let c = cause.clone();
    let running = lane
        .submit(out.job("running"), move |ctx| {
            *c.lock().unwrap() = ctx.wait(Some(Duration::from_secs(10)));
            ok()
        })
        .unwrap();
    eventually("it runs", || lane.stats().unwrap().running == 1);
    lane.submit(out.job("q1"), |_| ok()).unwrap();
    let q2 = lane.submit(out.job("q2"), |_| ok()).unwrap();
    lane.cancel("q1", CancelScope::Queued).unwrap();
    lane.cancel_token(q2.token, CancelScope::Queued).unwrap();
    assert_eq!(out.get("q1").status, Status::Cancelled);
    assert_eq!(out.get("q2").status, Status::Cancelled);
    let e = lane.cancel("running", CancelScope::Queued).unwrap_err();
    assert_eq!(e.status(), Status::NotQueued);
    assert!(e.message().contains("running"), "{e}");
    lane.cancel_token(running.token, CancelScope::QueuedOrRunning).unwrap();
    assert_eq!(out.get("running").status, Status::Cancelled);
    assert_eq!(*cause.lock().unwrap(), Some(Status::Cancelled));
    assert_eq!(
        lane.cancel("nobody", CancelScope::Queued).unwrap_err().status(),
        Status::NotQueued
    );
}

#[test]
fn a_panicking_job_ends_failed_with_its_message() {
    let lane = Lane::new("panics", Options::new()).unwrap();
    let o = lane
        .submit_wait(Job::new("boom"), None, |_| -> R { panic!("the model said no") })
        .unwrap();
    assert_eq!(o.status, Status::JobFailed);
    assert_eq!(o.job_code, lane::JOB_CODE_PANIC);
    assert!(o.error.as_deref().unwrap().contains("the model said no"), "{o:?}");
    let e = o.result().unwrap_err();
    assert!(e.to_string().contains("the model said no"));
    // The lane goes on.
    lane.submit_wait(Job::new("after"), None, |_| ok())
        .unwrap()
        .result()
        .unwrap();
}

#[test]
fn an_err_ends_the_job_failed_with_its_text() {
    let lane = Lane::new("errs", Options::new()).unwrap();
    let o = lane.submit_wait(Job::new("e"), None, |_| Err("rate limited")).unwrap();
    assert_eq!(o.status, Status::JobFailed);
    assert_eq!(o.job_code, lane::JOB_CODE_ERROR);
    assert_eq!(o.error.as_deref(), Some("rate limited"));
    assert_eq!(lane.stats().unwrap().failed, 1);
}

#[test]
fn a_panicking_on_done_is_caught() {
    let lane = Lane::new("done-panics", Options::new()).unwrap();
    let o = lane
        .submit_wait(Job::new("x").on_done(|_| panic!("in on_done")), None, |_| ok())
        .unwrap();
    assert!(o.is_ok());
}

#[test]
fn submit_wait_runs_inline_and_times_out_a_queued_job() {
    let out = Outcomes::default();
    let free = Lane::new("inline", Options::new()).unwrap();
    let here = std::thread::current().id();
    let ran_on = Arc::new(Mutex::new(None));
    let r = ran_on.clone();
    free.submit_wait(Job::new("i"), None, move |_| {
        *r.lock().unwrap() = Some(std::thread::current().id());
        ok()
    })
    .unwrap();
    assert_eq!(*ran_on.lock().unwrap(), Some(here), "a free slot runs it on the caller");

    let (lane, gate) = blocked_lane(Options::new(), &out);
    let o = lane
        .submit_wait(Job::new("late"), Some(Duration::from_millis(20)), |_| ok())
        .unwrap();
    assert_eq!(o.status, Status::Timeout);
    gate.open();
}

#[test]
fn submit_wait_from_inside_a_job_of_the_full_lane_is_a_deadlock_error() {
    let lane = Lane::new("self", Options::new().max_concurrent(1)).unwrap();
    let inner = lane.clone();
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    lane.submit_wait(Job::new("outer"), None, move |_| {
        *s.lock().unwrap() = Some(inner.submit_wait(Job::new("inner"), None, |_| ok()).map(|o| o.status));
        ok()
    })
    .unwrap();
    let got = seen.lock().unwrap().clone().unwrap();
    assert_eq!(got.unwrap_err().status(), Status::Deadlock);
}

#[test]
fn close_drain_runs_the_queue_and_refuses_new_work() {
    let out = Outcomes::default();
    let (lane, gate) = blocked_lane(Options::new(), &out);
    lane.submit(out.job("queued"), |_| ok()).unwrap();
    lane.close(CloseMode::Drain).unwrap();
    let e = lane.submit(Job::new("new"), |_| ok()).unwrap_err();
    assert_eq!(e.status(), Status::Closed);
    assert_eq!(
        lane.wait_idle(Some(Duration::from_millis(10))).unwrap_err().status(),
        Status::Timeout
    );
    gate.open();
    lane.wait_idle(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(out.get("queued").status, Status::Ok);
    let s = lane.stats().unwrap();
    assert_eq!(s.completed, 2);
    assert_eq!(
        s.submitted,
        s.completed + s.failed + s.cancelled + s.preempted + s.timed_out + s.closed
    );
}

#[test]
fn close_cancel_ends_the_queue_and_cancels_running_jobs() {
    let lane = Lane::new("close", Options::new().max_concurrent(1)).unwrap();
    let out = Outcomes::default();
    let cause = Arc::new(Mutex::new(None));
    let c = cause.clone();
    lane.submit(out.job("r"), move |ctx| {
        *c.lock().unwrap() = ctx.wait(Some(Duration::from_secs(10)));
        ok()
    })
    .unwrap();
    eventually("it runs", || lane.stats().unwrap().running == 1);
    lane.submit(out.job("q"), |_| ok()).unwrap();
    lane.close(CloseMode::Cancel).unwrap();
    lane.wait_idle(None).unwrap();
    assert_eq!(out.get("q").status, Status::Closed);
    assert_eq!(*cause.lock().unwrap(), Some(Status::Closed));
}

#[test]
fn pause_resume_cooldown_and_resizing() {
    let lane = Lane::new("ctl", Options::new().max_concurrent(1).policy(Policy::FairShare)).unwrap();
    let out = Outcomes::default();
    lane.pause().unwrap();
    let t = lane.submit(out.job("p"), |_| ok()).unwrap();
    assert_eq!(t.blocked_by, BlockedBy::Paused);
    let s = lane.stats().unwrap();
    assert!(s.paused && s.queued == 1 && s.oldest_queued_at.is_some());
    lane.resume().unwrap();
    out.wait_for(1);

    lane.cooldown(Duration::from_secs(60)).unwrap();
    let t = lane.submit(out.job("c"), |_| ok()).unwrap();
    assert_eq!(t.blocked_by, BlockedBy::Cooldown);
    assert!(lane.stats().unwrap().cooldown_until.unwrap() > std::time::SystemTime::now());
    lane.cooldown(Duration::ZERO).unwrap();
    out.wait_for(2);

    lane.set_max_concurrent(3).unwrap();
    lane.set_eta_window(4).unwrap();
    lane.set_preemption(false, Duration::ZERO).unwrap();
    lane.set_tenant_weight("alice", 3).unwrap();
    let s = lane.stats().unwrap();
    assert_eq!((s.max_concurrent, s.eta_window), (3, 4));
    let e = lane.set_max_concurrent(0).unwrap_err();
    assert_eq!(e.status(), Status::Invalid);
    assert!(!e.message().is_empty());
    assert_eq!(lane.set_tenant_weight("bob", 0).unwrap_err().status(), Status::Invalid);
    let fifo = Lane::new("ctl-fifo", Options::new()).unwrap();
    let e = fifo.set_tenant_weight("alice", 2).unwrap_err();
    assert!(e.message().contains("FAIR_SHARE"), "{e}");
    assert_eq!(e.to_string().matches("LANE_ERR_INVALID").count(), 1, "{e}");
}

#[test]
fn stats_give_durations_and_times() {
    let lane = Lane::new("stats", Options::new()).unwrap();
    for i in 0..3 {
        lane.submit_wait(Job::new(format!("s{i}")), None, |_| {
            std::thread::sleep(Duration::from_millis(2));
            ok()
        })
        .unwrap();
    }
    let s = lane.stats().unwrap();
    assert_eq!(s.name, "stats");
    assert_eq!((s.submitted, s.completed, s.running, s.queued), (3, 3, 0, 0));
    assert!(s.run_p50 >= Duration::from_millis(1), "{s:?}");
    assert!(s.mean_runtime >= Duration::from_millis(1));
    assert_eq!(s.throughput_1m, 3);
    assert_eq!(s.oldest_queued_at, None);
}

#[test]
fn a_job_queued_too_long_times_out() {
    let out = Outcomes::default();
    let (lane, gate) = blocked_lane(Options::new(), &out);
    lane.submit(out.job("slow").queue_timeout(Duration::from_millis(10)), |_| ok())
        .unwrap();
    assert_eq!(out.get("slow").status, Status::Timeout);
    gate.open();
}

#[test]
fn a_full_queue_refuses() {
    let out = Outcomes::default();
    let (lane, gate) = blocked_lane(Options::new().max_queued(1), &out);
    lane.submit(out.job("one"), |_| ok()).unwrap();
    assert_eq!(
        lane.submit(Job::new("two"), |_| ok()).unwrap_err().status(),
        Status::QueueFull
    );
    gate.open();
    out.wait_for(2);
}

#[test]
fn bad_inputs_are_errors_never_cut_or_panics() {
    let lane = Lane::new("bad", Options::new()).unwrap();
    let e = lane.submit(Job::new("a\0b"), |_| ok()).unwrap_err();
    assert_eq!(e.status(), Status::Invalid);
    assert!(e.message().contains("NUL"), "{e}");
    let e = lane.submit(Job::new("t").tenant("al\0ice"), |_| ok()).unwrap_err();
    assert_eq!(e.status(), Status::Invalid);
    assert_eq!(
        lane.submit_wait(Job::new("x\0"), None, |_| ok()).unwrap_err().status(),
        Status::Invalid
    );
    assert_eq!(
        lane.cancel("x\0", CancelScope::Queued).unwrap_err().status(),
        Status::Invalid
    );
    let e = lane.submit(Job::new(""), |_| ok()).unwrap_err();
    assert_eq!(e.status(), Status::Invalid);
    assert!(!e.message().is_empty(), "liblane's own message: {e}");
    assert_eq!(Lane::new("", Options::new()).unwrap_err().status(), Status::Invalid);
    assert_eq!(Lane::new("n\0", Options::new()).unwrap_err().status(), Status::Invalid);
    assert_eq!(lane.stats().unwrap().submitted, 0, "nothing was accepted");
}

#[test]
fn a_requeued_job_runs_again() {
    let lane = Lane::new(
        "requeue",
        Options::new()
            .max_concurrent(1)
            .policy(Policy::FairShare)
            .preempt_min_runtime(Duration::ZERO),
    )
    .unwrap();
    let out = Outcomes::default();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let r = runs.clone();
    lane.submit(out.job("long").requeue_on_preempt(), move |ctx| {
        let first = r.lock().unwrap().is_empty();
        let cause = if first {
            ctx.wait(Some(Duration::from_secs(10)))
        } else {
            None
        };
        r.lock().unwrap().push(cause);
        if first { Err("preempted".to_string()) } else { ok() }
    })
    .unwrap();
    eventually("long runs", || lane.stats().unwrap().running == 1);
    lane.submit(out.job("urgent").priority(10), |_| ok()).unwrap();
    assert_eq!(out.get("long").status, Status::Ok);
    assert_eq!(*runs.lock().unwrap(), [Some(Status::Preempted), None]);
}

/// Sets its flag when dropped: after whatever was dropped before it returned.
struct Sentinel(Arc<std::sync::atomic::AtomicBool>);
impl Drop for Sentinel {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn the_last_lane_handle_dropped_inside_its_own_job_does_not_deadlock() {
    let out = Outcomes::default();
    let gate = Gate::default();
    let after = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let lane = Lane::new("self-owned", Options::new()).unwrap();
        // Tuple fields drop in order: the lane first, then the sentinel.
        let held = (lane.clone(), Sentinel(after.clone()));
        let g = gate.clone();
        lane.submit(out.job("holder"), move |ctx| {
            let held = &held; // the whole tuple, not only the field used
            g.wait();
            // The closure holds the last handle once the test's is gone; it
            // is dropped in on_done, inside the lane's own callback.
            assert_eq!(held.0.name(), ctx.lane_name());
            ok()
        })
        .unwrap();
    }
    gate.open();
    assert_eq!(out.get("holder").status, Status::Ok);
    eventually("dropping the last lane handle in on_done returned", || {
        after.load(std::sync::atomic::Ordering::SeqCst)
    });
}

#[test]
fn a_session_dropped_inside_its_own_on_done_is_destroyed() {
    let out = Outcomes::default();
    let reg = lane::Registry::from_env().unwrap();
    let lane = reg.get_or_create("self-session").unwrap();
    let session = Arc::new(Mutex::new(None::<lane::Session>));
    let s = lane::Session::new(&lane, "k", lane::SessionOptions::new().debounce(Duration::ZERO), |_| {
        Ok::<(), String>(())
    })
    .unwrap();
    *session.lock().unwrap() = Some(s);
    let holder = session.clone();
    let after = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = after.clone();
    let done = out.clone();
    let job = Job::new("m").on_done(move |o| {
        done.push(o.clone());
        // Drops the Session (and with it the last Lane handle, the test's
        // being gone) inside the message's on_done.
        let s = holder.lock().unwrap().take();
        drop(s);
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    session.lock().unwrap().as_ref().unwrap().enqueue(job, "").unwrap();
    drop(lane);
    assert_eq!(out.get("m").status, Status::Ok);
    eventually("dropping the session in on_done returned", || {
        after.load(std::sync::atomic::Ordering::SeqCst)
    });
    // Destroyed for real (liblane refuses a destroy from inside its own
    // on_done, so it runs on a thread of its own): the lane can go.
    eventually("the session is destroyed", || reg.remove("self-session").is_ok());
}

#[test]
fn host_run_jobs_through_a_port_by_hand() {
    let lane = Lane::new("host", Options::new().max_concurrent(1)).unwrap();
    let port = lane::Port::new().unwrap();
    assert!(port.fd() >= 0);
    let out = Outcomes::default();
    let a = lane.submit_host(out.job("a"), &port).unwrap();
    let b = lane.submit_host(out.job("b"), &port).unwrap();
    assert_eq!(b.position, 1);
    let ev = port.poll(8, Some(Duration::from_secs(5))).unwrap();
    assert_eq!((ev[0].kind, ev[0].token), (lane::EventKind::Grant, a.token));
    lane.cancel_token(a.token, CancelScope::QueuedOrRunning).unwrap();
    let ev = port.poll(8, Some(Duration::from_secs(5))).unwrap();
    assert_eq!((ev[0].kind, ev[0].status), (lane::EventKind::Cancel, Status::Cancelled));
    lane.finish(a.token, 0).unwrap();
    assert_eq!(out.get("a").status, Status::Cancelled);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e: &lane::Event| e.kind == lane::EventKind::Grant && e.token == b.token)
    {
        seen.extend(port.poll(8, Some(Duration::from_secs(5))).unwrap());
    }
    assert!(
        seen.iter()
            .any(|e| e.kind == lane::EventKind::Done && e.token == a.token)
    );
    lane.finish(b.token, 7).unwrap();
    let o = out.get("b");
    assert_eq!((o.status, o.job_code), (Status::JobFailed, 7));
    assert_eq!(lane.finish(b.token, 0).unwrap_err().status(), Status::Invalid);
    port.wake().unwrap();
    assert!(
        port.poll(8, None)
            .unwrap()
            .iter()
            .all(|e| e.kind == lane::EventKind::Done)
    );
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct FakeClock(Arc<Mutex<std::time::SystemTime>>);
impl FakeClock {
    fn new() -> FakeClock {
        FakeClock(Arc::new(Mutex::new(
            std::time::UNIX_EPOCH + Duration::from_secs(1_000_000),
        )))
    }
    fn now(&self) -> std::time::SystemTime {
        *self.0.lock().unwrap()
    }
    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

#[test]
fn an_injected_clock_stamps_outcomes_and_ends_a_cooldown() {
    let clock = FakeClock::new();
    let c = clock.clone();
    let lane = Lane::new("clocked", Options::new().clock(move || c.now())).unwrap();
    let o = lane.submit_wait(Job::new("a"), None, |_| ok()).unwrap();
    assert_eq!(o.enqueued_at, Some(clock.now()), "stamped by the fake clock");
    clock.advance(Duration::from_secs(5));
    let o = lane.submit_wait(Job::new("b"), None, |_| ok()).unwrap();
    assert_eq!(o.finished_at, Some(clock.now()));
    lane.cooldown(Duration::from_secs(60)).unwrap();
    assert_eq!(
        lane.stats().unwrap().cooldown_until,
        Some(clock.now() + Duration::from_secs(60))
    );
}

#[test]
fn a_panicking_clock_falls_back_to_the_real_time() {
    let lane = Lane::new("bad-clock", Options::new().clock(|| panic!("no time"))).unwrap();
    let o = lane.submit_wait(Job::new("a"), None, |_| ok()).unwrap();
    let t = o.enqueued_at.unwrap();
    assert!(t > std::time::SystemTime::now() - Duration::from_secs(60));
}

#[test]
fn the_library_reports_its_versions() {
    assert_eq!(lane::abi_version().unwrap() >> 16, lane_sys::LANE_ABI_MAJOR);
    assert!(lane::abi_version().unwrap() >= lane_sys::LANE_ABI_VERSION);
    assert_eq!(lane::version().unwrap(), lane_sys::LANE_VERSION_STRING);
}
