//! Provider budgets through the safe API: rate and tenant limits, slots,
//! run timeouts, cost, adaptive width, release and reacquire.

mod common;

use common::{Gate, Outcomes, eventually};
use lane::{BlockedBy, Job, Lane, OVERLOADED, Options, RateKinds, Status};
use std::sync::mpsc;
use std::time::Duration;

type R = Result<(), String>;

#[test]
fn a_rate_limit_holds_the_front_and_counts_its_waits() {
    let lane = Lane::new("rate", Options::new().max_concurrent(4)).unwrap();
    lane.set_rate_limit(RateKinds::REQUESTS, 1, Duration::from_secs(1000), 2)
        .unwrap();
    let out = Outcomes::default();
    for id in ["r1", "r2"] {
        assert_eq!(lane.submit(out.job(id), |_| R::Ok(())).unwrap().position, 0);
    }
    let t = lane.submit(out.job("r3"), |_| R::Ok(())).unwrap();
    assert_eq!(t.blocked_by, BlockedBy::Rate);
    assert!(t.eta > Duration::from_secs(900), "eta {:?}", t.eta);
    let busy = lane.submit(Job::new("r4").max_wait(Duration::from_secs(1)), |_| R::Ok(()));
    assert_eq!(busy.unwrap_err().status(), Status::Busy);
    out.wait_for(2);
    let s = lane.stats().unwrap();
    assert_eq!(s.rate_waits, 1);
    assert!(s.rate_ready_at.is_some());
    lane.set_rate_limit(RateKinds::REQUESTS | RateKinds::COST, 0, Duration::ZERO, 0)
        .unwrap();
    assert_eq!(out.wait_for(3)[2].status, Status::Ok);
}

#[test]
fn a_tenant_at_its_limit_does_not_block_others() {
    let lane = Lane::new("tenants", Options::new().max_concurrent(4)).unwrap();
    lane.set_tenant_limit("alice", 1).unwrap();
    let gate = Gate::default();
    let out = Outcomes::default();
    for (id, tenant) in [("a1", "alice"), ("a2", "alice"), ("b1", "bob")] {
        let g = gate.clone();
        let t = lane
            .submit(out.job(id).tenant(tenant), move |_| {
                g.wait();
                R::Ok(())
            })
            .unwrap();
        match id {
            "a2" => assert_eq!(t.blocked_by, BlockedBy::TenantLimit),
            _ => assert_eq!(t.position, 0, "{id} waits"),
        }
    }
    assert_eq!(lane.tenant_running("alice").unwrap(), 1);
    gate.open();
    assert!(out.wait_for(3).iter().all(|o| o.status == Status::Ok));
}

#[test]
fn a_two_slot_job_waits_for_two_free_slots_and_a_run_timeout_ends_a_run() {
    let lane = Lane::new("slots", Options::new().max_concurrent(3)).unwrap();
    let gate = Gate::default();
    let out = Outcomes::default();
    for id in ["one", "two"] {
        let g = gate.clone();
        lane.submit(out.job(id), move |_| {
            g.wait();
            R::Ok(())
        })
        .unwrap();
    }
    let t = lane.submit(out.job("big").slots(2), |_| R::Ok(())).unwrap();
    assert!(t.position > 0);
    assert_eq!(lane.stats().unwrap().slots_in_use, 2);
    gate.open();
    out.wait_for(3);
    let o = lane
        .submit_wait(Job::new("slow").run_timeout(Duration::from_millis(20)), None, |ctx| {
            ctx.wait(Some(Duration::from_secs(10)));
            R::Ok(())
        })
        .unwrap();
    assert_eq!(o.status, Status::Timeout);
}

#[test]
fn overloaded_halves_an_adaptive_lane_and_set_cost_is_counted() {
    let lane = Lane::new("adaptive", Options::new().max_concurrent(8).adaptive(1, 8)).unwrap();
    assert_eq!(lane.stats().unwrap().width, 8);
    let o = lane
        .submit_wait(Job::new("call").cost(500), None, |ctx| {
            ctx.set_cost(1234).map_err(|e| e.to_string())?;
            ctx.overloaded().map_err(|e| e.to_string())
        })
        .unwrap();
    assert_eq!(o.status, Status::Ok);
    let s = lane.stats().unwrap();
    assert_eq!((s.width, s.overloads, s.cost_used), (4, 1, 1234));
    assert_eq!(OVERLOADED, 429);
}

#[test]
fn release_frees_the_slot_and_reacquire_takes_it_back() {
    let lane = Lane::new("release", Options::new().max_concurrent(1)).unwrap();
    let out = Outcomes::default();
    let (released_tx, released_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    lane.submit(out.job("agent"), move |ctx| {
        ctx.release().map_err(|e| e.to_string())?;
        released_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        ctx.reacquire(Some(Duration::from_secs(10))).map_err(|e| e.to_string())
    })
    .unwrap();
    released_rx.recv().unwrap();
    let gate = Gate::default();
    let g = gate.clone();
    let t = lane
        .submit(out.job("other"), move |_| {
            g.wait();
            R::Ok(())
        })
        .unwrap();
    assert_eq!(t.position, 0, "the freed slot runs it");
    go_tx.send(()).unwrap();
    eventually("the reacquire queues", || lane.stats().unwrap().reacquiring == 1);
    gate.open();
    assert!(out.wait_for(2).iter().all(|o| o.status == Status::Ok));
    let s = lane.stats().unwrap();
    assert_eq!((s.released, s.reacquiring, s.slots_in_use), (0, 0, 0));
}

#[test]
fn budget_bad_inputs_are_errors_with_a_message() {
    let lane = Lane::new("bad", Options::new().max_concurrent(2)).unwrap();
    let errs = [
        lane.submit(Job::new("neg").cost(-1), |_| R::Ok(())).map(|_| ()),
        lane.submit(Job::new("wide").slots(3), |_| R::Ok(())).map(|_| ()),
        lane.set_rate_limit(RateKinds(0), 1, Duration::from_secs(1), 1),
        lane.set_rate_limit(RateKinds(8), 1, Duration::from_secs(1), 1),
        lane.set_rate_limit(RateKinds::REQUESTS, -1, Duration::from_secs(1), 1),
        lane.tenant_running("a\0b").map(|_| ()),
        Lane::new("bad-adaptive", Options::new().adaptive(3, 2)).map(|_| ()),
    ];
    for (i, e) in errs.into_iter().enumerate() {
        let e = e.expect_err("a bad input is refused");
        assert_eq!(e.status(), Status::Invalid, "case {i}: {e}");
        assert!(!e.to_string().is_empty());
    }
    // Reacquiring a slot it holds, and a zero cost, are refused inside the run.
    let o = lane
        .submit_wait(Job::new("greedy"), None, |ctx| {
            let r = ctx.reacquire(Some(Duration::ZERO));
            let c = ctx.set_cost(0);
            match (r, c) {
                (Err(a), Err(b)) if a.status() == Status::Invalid && b.status() == Status::Invalid => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .unwrap();
    assert_eq!(o.status, Status::Ok, "{o:?}");
}
