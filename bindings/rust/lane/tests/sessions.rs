//! Session queues: COLLECT merges, INTERRUPT cancels, STEER delivers into a
//! running run's mailbox, SUMMARIZE reports dropped ids.

mod common;

use common::{Gate, Outcomes, eventually};
use lane::{DropPolicy, Lane, Mode, Options, Session, SessionOptions, Status};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn opts(mode: Mode) -> SessionOptions {
    SessionOptions::new().mode(mode).debounce(Duration::ZERO)
}

#[test]
fn collect_merges_what_queued_while_a_run_was_active() {
    let lane = Lane::new("s-collect", Options::new().max_concurrent(2)).unwrap();
    let out = Outcomes::default();
    let gate = Gate::default();
    let runs = Arc::new(Mutex::new(Vec::<Vec<(String, String)>>::new()));
    let (g, r) = (gate.clone(), runs.clone());
    let s = Session::new(&lane, "chat-1", opts(Mode::Collect), move |ctx| {
        let batch: Vec<_> = ctx.batch().into_iter().map(|b| (b.id, b.text)).collect();
        let first = batch[0].0 == "m1";
        r.lock().unwrap().push(batch);
        if first {
            g.wait();
        }
        Ok::<(), String>(())
    })
    .unwrap();
    assert_eq!(s.key(), "chat-1");
    s.enqueue(out.job("m1"), "hello").unwrap();
    eventually("m1 runs", || s.active() == 1);
    s.enqueue(out.job("m2"), "and").unwrap();
    s.enqueue(out.job("m3"), "more").unwrap();
    assert_eq!(s.queued(), 2);
    gate.open();
    let all = out.wait_for(3);
    assert!(all.iter().all(|o| o.status == Status::Ok), "{all:?}");
    let runs = runs.lock().unwrap().clone();
    assert_eq!(
        runs,
        vec![
            vec![("m1".to_string(), "hello".to_string())],
            vec![
                ("m2".to_string(), "and".to_string()),
                ("m3".to_string(), "more".to_string())
            ],
        ]
    );
}

#[test]
fn interrupt_cancels_the_active_run_and_runs_the_new_message() {
    let lane = Lane::new("s-interrupt", Options::new().max_concurrent(2)).unwrap();
    let out = Outcomes::default();
    let causes = Arc::new(Mutex::new(Vec::new()));
    let c = causes.clone();
    let s = Session::new(&lane, "chat-2", opts(Mode::Interrupt), move |ctx| {
        let id = ctx.batch()[0].id.clone();
        if id == "first" {
            let cause = ctx.wait(Some(Duration::from_secs(10)));
            c.lock().unwrap().push((id, cause));
            return Err("interrupted".to_string());
        }
        c.lock().unwrap().push((id, ctx.cause()));
        Ok(())
    })
    .unwrap();
    s.enqueue(out.job("first"), "long question").unwrap();
    eventually("first runs", || s.active() == 1);
    s.enqueue(out.job("second"), "never mind").unwrap();
    assert_eq!(out.get("first").status, Status::Cancelled);
    assert_eq!(out.get("second").status, Status::Ok);
    assert_eq!(
        *causes.lock().unwrap(),
        vec![
            ("first".to_string(), Some(Status::Cancelled)),
            ("second".to_string(), None)
        ]
    );
}

#[test]
fn steer_delivers_into_the_running_runs_mailbox() {
    let lane = Lane::new("s-steer", Options::new()).unwrap();
    let out = Outcomes::default();
    let taken = Arc::new(Mutex::new(Vec::new()));
    let t = taken.clone();
    let s = Session::new(&lane, "chat-3", opts(Mode::Steer), move |ctx| {
        for _ in 0..5000 {
            if let Some(m) = ctx.next_message() {
                t.lock().unwrap().push((m.id, m.text));
                return Ok::<(), String>(());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err("no steer message came".into())
    })
    .unwrap();
    s.enqueue(out.job("task").steerable(), "write the report").unwrap();
    eventually("the run is active", || s.active() == 1);
    s.enqueue(out.job("steer").steerable(), "in French").unwrap();
    let all = out.wait_for(2);
    assert!(all.iter().all(|o| o.status == Status::Ok), "{all:?}");
    assert_eq!(
        *taken.lock().unwrap(),
        vec![("steer".to_string(), "in French".to_string())]
    );
}

#[test]
fn summarize_drops_the_oldest_and_tells_the_next_run() {
    let lane = Lane::new("s-summarize", Options::new()).unwrap();
    let out = Outcomes::default();
    let gate = Gate::default();
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let (g, d) = (gate.clone(), dropped.clone());
    let s = Session::new(
        &lane,
        "chat-4",
        opts(Mode::Queue).cap(1).drop_policy(DropPolicy::Summarize),
        move |ctx| {
            if ctx.batch()[0].id == "m1" {
                g.wait();
            } else {
                d.lock().unwrap().push((ctx.batch()[0].id.clone(), ctx.dropped_ids()));
            }
            Ok::<(), String>(())
        },
    )
    .unwrap();
    s.enqueue(out.job("m1"), "").unwrap();
    eventually("m1 runs", || s.active() == 1);
    s.enqueue(out.job("m2"), "").unwrap();
    s.enqueue(out.job("m3"), "").unwrap(); // the queue holds one: m2 is dropped
    assert_eq!(out.get("m2").status, Status::Dropped);
    gate.open();
    out.wait_for(3);
    assert_eq!(
        *dropped.lock().unwrap(),
        vec![("m3".to_string(), vec!["m2".to_string()])]
    );
}

#[test]
fn drop_new_refuses_and_reset_clears() {
    let lane = Lane::new("s-reset", Options::new()).unwrap();
    let out = Outcomes::default();
    let gate = Gate::default();
    let g = gate.clone();
    let s = Session::new(
        &lane,
        "chat-5",
        opts(Mode::Queue).cap(1).drop_policy(DropPolicy::New),
        move |_| {
            g.wait();
            Ok::<(), String>(())
        },
    )
    .unwrap();
    s.enqueue(out.job("a"), "").unwrap();
    eventually("a runs", || s.active() == 1);
    s.enqueue(out.job("b"), "").unwrap();
    let e = s.enqueue(out.job("c"), "").unwrap_err();
    assert_eq!(e.status(), Status::QueueFull);
    assert_eq!(s.enqueue(out.job("a"), "").unwrap_err().status(), Status::Duplicate);
    assert_eq!(s.enqueue(out.job("x\0y"), "").unwrap_err().status(), Status::Invalid);
    s.reset().unwrap();
    assert_eq!(out.get("b").status, Status::Cleared);
    gate.open();
    assert_eq!(out.get("a").status, Status::Ok);
    s.set_max_concurrent(2).unwrap();
    assert_eq!(s.set_max_concurrent(0).unwrap_err().status(), Status::Invalid);
    assert_eq!(out.len(), 2, "refused messages get no outcome");
}

#[test]
fn dropping_a_session_ends_its_queued_messages() {
    let lane = Lane::new("s-drop", Options::new()).unwrap();
    let out = Outcomes::default();
    let s = Session::new(&lane, "chat-6", opts(Mode::Queue), |ctx| {
        ctx.wait(Some(Duration::from_secs(10)));
        Ok::<(), String>(())
    })
    .unwrap();
    s.enqueue(out.job("r"), "").unwrap();
    eventually("r runs", || s.active() == 1);
    s.enqueue(out.job("q"), "").unwrap();
    assert!(s.cancel_one());
    assert_eq!(out.get("r").status, Status::Cancelled);
    drop(s);
    assert_eq!(out.get("q").status, Status::Cancelled);
    assert_eq!(out.len(), 2);
}

#[test]
fn a_session_key_with_a_nul_is_refused() {
    let lane = Lane::new("s-bad", Options::new()).unwrap();
    let e = Session::new(&lane, "a\0b", SessionOptions::new(), |_| Ok::<(), String>(()))
        .err()
        .unwrap();
    assert_eq!(e.status(), Status::Invalid);
    let e = Session::new(&lane, "", SessionOptions::new(), |_| Ok::<(), String>(()))
        .err()
        .unwrap();
    assert_eq!(e.status(), Status::Invalid);
}

#[test]
fn the_token_estimate_is_asked() {
    let lane = Lane::new("s-tokens", Options::new().max_concurrent(4)).unwrap();
    let out = Outcomes::default();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let a = asked.clone();
    let s = Session::new(
        &lane,
        "chat-7",
        opts(Mode::Queue).max_concurrent(2).token_estimate(move |key| {
            a.lock().unwrap().push(key.to_string());
            Some((900, 1000))
        }),
        |_| Ok::<(), String>(()),
    )
    .unwrap();
    s.enqueue(out.job("a"), "").unwrap();
    out.wait_for(1);
    assert!(asked.lock().unwrap().iter().any(|k| k == "chat-7"));
}

#[test]
fn followup_runs_one_after_another_in_order() {
    let lane = Lane::new("s-followup", Options::new().max_concurrent(4)).unwrap();
    let out = Outcomes::default();
    let log = Arc::new(Mutex::new(Vec::new()));
    let active = Arc::new(std::sync::atomic::AtomicI32::new(0));
    let (l, a) = (log.clone(), active.clone());
    let s = Session::new(&lane, "chat-8", opts(Mode::Followup).max_concurrent(3), move |ctx| {
        let now = a.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        std::thread::sleep(Duration::from_millis(2));
        l.lock().unwrap().push((ctx.batch()[0].id.clone(), now));
        a.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        Ok::<(), String>(())
    })
    .unwrap();
    for id in ["f1", "f2", "f3"] {
        s.enqueue(out.job(id), "").unwrap();
    }
    out.wait_for(3);
    let log = log.lock().unwrap().clone();
    let ids: Vec<_> = log.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["f1", "f2", "f3"]);
    assert!(log.iter().all(|(_, n)| *n == 1), "never two runs at once: {log:?}");
}
