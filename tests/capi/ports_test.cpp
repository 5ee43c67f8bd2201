// Host-run jobs and ports: GRANT, CANCEL and DONE events, lane_job_finish,
// poll timeouts and wake-ups, the port's wake-up object (an eventfd on Linux,
// an event handle on Windows), the event stride, and a port destroyed while
// jobs still name it.
#include "capi_fixture.hpp"
#include "port_signal.hpp"

using namespace capi_test;

namespace {

lane_ticket_t submit_host(LaneFixture &fx, const lane_job_t &j) {
  lane_ticket_t t = LANE_TICKET_INIT;
  lane_status_t st = lane_submit(fx.lane, &j, &t);
  REQUIRE_MESSAGE(st == LANE_OK, "submit " << j.id << ": " << lane_status_name(st) << " " << lane_last_error());
  REQUIRE(t.job_token != 0);
  fx.host_tokens.push_back(t.job_token);
  return t;
}

}  // namespace

TEST_CASE("a host-run job gets GRANT, and lane_job_finish ends it with DONE and its job_code") {
  LaneFixture fx(1, "host");
  PortFixture port;
  int tag = 0;
  lane_job_t j = host_job("h1", port.port, &tag);
  lane_ticket_t t = submit_host(fx, j);
  CHECK(t.position == 0);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t.job_token));
  const Ev *grant = port.find(LANE_EVENT_GRANT, t.job_token);
  CHECK(grant->user_data == &tag);
  CHECK(grant->lane == fx.lane);
  CHECK(grant->at_ns > 0);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.running == 1);

  REQUIRE(lane_job_finish(fx.lane, t.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t.job_token));
  const Ev *done = port.find(LANE_EVENT_DONE, t.job_token);
  CHECK(done->status == LANE_OK);
  CHECK(done->job_code == 0);
  CHECK(done->user_data == &tag);
  CHECK(done->lane == fx.lane);
  CHECK(port.count(LANE_EVENT_GRANT, t.job_token) == 1);
  CHECK(port.count(LANE_EVENT_CANCEL, t.job_token) == 0);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(port.count(LANE_EVENT_DONE, t.job_token) == 1);
  s = stats_of(fx.lane);
  CHECK(s.completed == 1);
  CHECK(s.running == 0);
}

TEST_CASE("a host-run job finished with a non-zero code ends LANE_ERR_JOB_FAILED with that code") {
  LaneFixture fx(1);
  PortFixture port;
  lane_ticket_t t = submit_host(fx, host_job("h", port.port));
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t.job_token));
  REQUIRE(lane_job_finish(fx.lane, t.job_token, 17) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t.job_token));
  const Ev *done = port.find(LANE_EVENT_DONE, t.job_token);
  CHECK(done->status == LANE_ERR_JOB_FAILED);
  CHECK(done->job_code == 17);
  CHECK(stats_of(fx.lane).failed == 1);
}

TEST_CASE("a host-run job also calls its on_done, then its DONE event is posted") {
  LaneFixture fx(1);
  PortFixture port;
  Probe &p = fx.probe("h");
  p.on_done_extra = [](const lane_outcome_t *) { std::this_thread::sleep_for(10ms); };
  lane_job_t j = host_job("h", port.port, &p);
  j.on_done = probe_done;
  lane_ticket_t t = submit_host(fx, j);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t.job_token));
  REQUIRE(lane_job_finish(fx.lane, t.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t.job_token));
  CHECK(p.done_returned.load());
  REQUIRE(fx.rec.wait_outcome("h"));
  Outcome o = fx.rec.outcome("h");
  CHECK(o.status == LANE_OK);
  CHECK(o.job_token == t.job_token);
}

TEST_CASE("a queued host-run job is granted when the slot frees, in order") {
  LaneFixture fx(1);
  PortFixture port;
  lane_ticket_t t1 = submit_host(fx, host_job("h1", port.port));
  lane_ticket_t t2 = submit_host(fx, host_job("h2", port.port));
  CHECK(t1.position == 0);
  CHECK(t2.position == 1);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t1.job_token));
  port.poll_once(20 * kMs);
  CHECK(port.count(LANE_EVENT_GRANT, t2.job_token) == 0);
  REQUIRE(lane_job_finish(fx.lane, t1.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t2.job_token));
  REQUIRE(lane_job_finish(fx.lane, t2.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t2.job_token));
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t1.job_token));
}

TEST_CASE("cancelling a granted host-run job posts CANCEL and holds the slot until lane_job_finish") {
  LaneFixture fx(1);
  PortFixture port;
  lane_ticket_t t1 = submit_host(fx, host_job("h1", port.port));
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t1.job_token));
  lane_ticket_t t2 = submit_host(fx, host_job("h2", port.port));
  CHECK(t2.position == 1);

  REQUIRE(lane_cancel(fx.lane, "h1", LANE_CANCEL_RUNNING) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_CANCEL, t1.job_token));
  CHECK(port.find(LANE_EVENT_CANCEL, t1.job_token)->status == LANE_ERR_CANCELLED);
  // The slot is still held: h2 is not granted, h1 has no DONE yet.
  port.poll_once(20 * kMs);
  CHECK(port.count(LANE_EVENT_GRANT, t2.job_token) == 0);
  CHECK(port.count(LANE_EVENT_DONE, t1.job_token) == 0);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.running == 1);
  CHECK(s.queued == 1);

  REQUIRE(lane_job_finish(fx.lane, t1.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t1.job_token));
  CHECK(port.find(LANE_EVENT_DONE, t1.job_token)->status == LANE_ERR_CANCELLED);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t2.job_token));
  REQUIRE(lane_job_finish(fx.lane, t2.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t2.job_token));
  CHECK(port.find(LANE_EVENT_DONE, t2.job_token)->status == LANE_OK);
}

TEST_CASE("a queued host-run job that is cancelled gets only a DONE, never a GRANT") {
  LaneFixture fx(1);
  PortFixture port;
  lane_ticket_t t1 = submit_host(fx, host_job("h1", port.port));
  lane_ticket_t t2 = submit_host(fx, host_job("h2", port.port));
  REQUIRE(lane_cancel(fx.lane, "h2", 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t2.job_token));
  CHECK(port.find(LANE_EVENT_DONE, t2.job_token)->status == LANE_ERR_CANCELLED);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t1.job_token));
  REQUIRE(lane_job_finish(fx.lane, t1.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t1.job_token));
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  port.poll_once(0);
  CHECK(port.count(LANE_EVENT_GRANT, t2.job_token) == 0);
  CHECK(port.count(LANE_EVENT_CANCEL, t2.job_token) == 0);
  CHECK(port.count(LANE_EVENT_DONE, t2.job_token) == 1);
}

TEST_CASE("a preempted host-run job gets CANCEL with LANE_ERR_PREEMPTED and keeps its slot until finished") {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = 1;
  o.preempt_min_runtime_ns = -1;
  LaneFixture fx("host-preempt", o);
  PortFixture port;
  lane_job_t low = host_job("low", port.port);
  low.flags = LANE_JOB_PREEMPTIBLE;
  lane_ticket_t tl = submit_host(fx, low);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, tl.job_token));
  lane_job_t high = host_job("high", port.port);
  high.priority = 5;
  lane_ticket_t th = submit_host(fx, high);
  CHECK(th.position >= 1);
  CHECK(th.eta_ns == 0);
  REQUIRE(port.wait_event(LANE_EVENT_CANCEL, tl.job_token));
  CHECK(port.find(LANE_EVENT_CANCEL, tl.job_token)->status == LANE_ERR_PREEMPTED);
  port.poll_once(20 * kMs);
  CHECK(port.count(LANE_EVENT_GRANT, th.job_token) == 0);  // strict cap
  REQUIRE(lane_job_finish(fx.lane, tl.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, tl.job_token));
  CHECK(port.find(LANE_EVENT_DONE, tl.job_token)->status == LANE_ERR_PREEMPTED);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, th.job_token));
  REQUIRE(lane_job_finish(fx.lane, th.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, th.job_token));
  CHECK(port.find(LANE_EVENT_DONE, th.job_token)->status == LANE_OK);
}

TEST_CASE("closing a lane with CANCEL sends CANCEL to granted host-run jobs and DONE CLOSED to queued ones") {
  LaneFixture fx(1);
  PortFixture port;
  lane_ticket_t t1 = submit_host(fx, host_job("granted", port.port));
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t1.job_token));
  lane_ticket_t t2 = submit_host(fx, host_job("queued", port.port));
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_CANCEL) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_CANCEL, t1.job_token));
  CHECK(port.find(LANE_EVENT_CANCEL, t1.job_token)->status == LANE_ERR_CLOSED);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t2.job_token));
  CHECK(port.find(LANE_EVENT_DONE, t2.job_token)->status == LANE_ERR_CLOSED);
  CHECK(lane_wait_idle(fx.lane, 20 * kMs) == LANE_ERR_TIMEOUT);  // slot still held
  REQUIRE(lane_job_finish(fx.lane, t1.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t1.job_token));
  CHECK(port.find(LANE_EVENT_DONE, t1.job_token)->status == LANE_ERR_CLOSED);
  CHECK(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.closed == 2);
  check_invariant(s);
}

TEST_CASE("a callback job that names a port gets only a DONE, after its on_done has returned") {
  LaneFixture fx(1);
  PortFixture port;
  Probe &p = fx.probe("cb");
  p.on_done_extra = [](const lane_outcome_t *) { std::this_thread::sleep_for(15ms); };
  lane_job_t j = fx.job_for(p);
  j.port = port.port;
  lane_ticket_t t = LANE_TICKET_INIT;
  REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t.job_token));
  CHECK(p.done_returned.load());
  CHECK(p.runs == 1);
  const Ev *done = port.find(LANE_EVENT_DONE, t.job_token);
  CHECK(done->status == LANE_OK);
  CHECK(done->user_data == &p);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  port.poll_once(0);
  CHECK(port.count(LANE_EVENT_GRANT, t.job_token) == 0);
  CHECK(port.count(LANE_EVENT_CANCEL, t.job_token) == 0);
  CHECK(port.count(LANE_EVENT_DONE, t.job_token) == 1);
}

TEST_CASE("every job that names a port gets exactly one DONE, whatever its outcome") {
  LaneFixture fx(1);
  PortFixture port;
  Gate &g = fx.gate();
  Probe &hold = fx.blocker("hold", g);
  lane_job_t jh = fx.job_for(hold);
  jh.port = port.port;
  lane_ticket_t th = LANE_TICKET_INIT;
  REQUIRE(lane_submit(fx.lane, &jh, &th) == LANE_OK);
  REQUIRE(fx.rec.wait_started("hold"));

  Probe &fail = fx.probe("fail", [](lane_ctx_t *) { return 4; });
  lane_job_t jf = fx.job_for(fail);
  jf.port = port.port;
  lane_ticket_t tf = LANE_TICKET_INIT;
  REQUIRE(lane_submit(fx.lane, &jf, &tf) == LANE_OK);

  Probe &cancelled = fx.probe("cancelled");
  lane_job_t jc = fx.job_for(cancelled);
  jc.port = port.port;
  lane_ticket_t tc = LANE_TICKET_INIT;
  REQUIRE(lane_submit(fx.lane, &jc, &tc) == LANE_OK);

  lane_ticket_t thost = submit_host(fx, host_job("host", port.port));

  REQUIRE(lane_cancel(fx.lane, "cancelled", 0) == LANE_OK);
  g.open();
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, thost.job_token));
  REQUIRE(lane_job_finish(fx.lane, thost.job_token, 0) == LANE_OK);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  REQUIRE(port.poll_until([&] {
    return port.count(LANE_EVENT_DONE, th.job_token) + port.count(LANE_EVENT_DONE, tf.job_token) +
               port.count(LANE_EVENT_DONE, tc.job_token) + port.count(LANE_EVENT_DONE, thost.job_token) >=
           4;
  }));
  port.poll_once(20 * kMs);
  CHECK(port.count(LANE_EVENT_DONE, th.job_token) == 1);
  CHECK(port.count(LANE_EVENT_DONE, tf.job_token) == 1);
  CHECK(port.count(LANE_EVENT_DONE, tc.job_token) == 1);
  CHECK(port.count(LANE_EVENT_DONE, thost.job_token) == 1);
  CHECK(port.find(LANE_EVENT_DONE, tf.job_token)->status == LANE_ERR_JOB_FAILED);
  CHECK(port.find(LANE_EVENT_DONE, tf.job_token)->job_code == 4);
  CHECK(port.find(LANE_EVENT_DONE, tc.job_token)->status == LANE_ERR_CANCELLED);
}

TEST_CASE("lane_wait_idle returns only after the DONE events have been posted") {
  LaneFixture fx(2);
  PortFixture port;
  std::vector<std::uint64_t> tokens;
  for (int i = 0; i < 4; ++i) {
    std::string id = "cb" + std::to_string(i);
    Probe &p = fx.probe(id);
    lane_job_t j = fx.job_for(p);
    j.port = port.port;
    lane_ticket_t t = LANE_TICKET_INIT;
    REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
    tokens.push_back(t.job_token);
  }
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  port.poll_once(0);  // no wait: every DONE must be there already
  for (auto tok : tokens) CHECK(port.count(LANE_EVENT_DONE, tok) == 1);
}

TEST_CASE("lane_port_poll with a timeout and nothing to deliver returns 0") {
  PortFixture port;
  lane_event_t ev[2]{};
  ev[0].struct_size = sizeof(lane_event_t);
  CHECK(lane_port_poll(port.port, ev, 2, 0) == 0);
  CHECK(lane_port_poll(port.port, ev, 2, 10 * kMs) == 0);
}

TEST_CASE("lane_port_wake makes a blocked poll return 0") {
  PortFixture port;
  std::atomic<int> result{-100};
  std::atomic<bool> polling{false};
  std::thread poller([&] {
    lane_event_t ev[2]{};
    ev[0].struct_size = sizeof(lane_event_t);
    polling = true;
    result = lane_port_poll(port.port, ev, 2, -1);
  });
  while (!polling) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // most likely blocked by now; either way it must return
  REQUIRE(lane_port_wake(port.port) == LANE_OK);
  poller.join();
  CHECK(result == 0);
}

TEST_CASE("lane_port_wake before a poll makes the next poll return at once") {
  PortFixture port;
  REQUIRE(lane_port_wake(port.port) == LANE_OK);
  lane_event_t ev[1]{};
  ev[0].struct_size = sizeof(lane_event_t);
  CHECK(lane_port_poll(port.port, ev, 1, -1) == 0);
}

TEST_CASE("the port's wake-up object is signalled while events wait and not after they are drained") {
  LaneFixture fx(1);
  PortFixture port;
  REQUIRE(port_signal::available(port.port));
  CHECK_FALSE(port_signal::wait(port.port, 0));
  lane_ticket_t t = submit_host(fx, host_job("h", port.port));
  CHECK(port_signal::wait(port.port, 10000));
  CHECK(port_signal::wait(port.port, 0));  // still signalled: nothing drained yet
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t.job_token));
  CHECK_FALSE(port_signal::wait(port.port, 0));
  REQUIRE(lane_job_finish(fx.lane, t.job_token, 0) == LANE_OK);
  CHECK(port_signal::wait(port.port, 10000));
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t.job_token));
  CHECK_FALSE(port_signal::wait(port.port, 0));
}

TEST_CASE("lane_port_wake signals the port's wake-up object until the next poll") {
  PortFixture port;
  CHECK_FALSE(port_signal::wait(port.port, 0));
  REQUIRE(lane_port_wake(port.port) == LANE_OK);
  CHECK(port_signal::wait(port.port, 0));
  lane_event_t ev[1];
  ev[0].struct_size = sizeof ev[0];
  CHECK(lane_port_poll(port.port, ev, 1, -1) == 0);
  CHECK_FALSE(port_signal::wait(port.port, 0));
}

TEST_CASE("lane_port_fd and lane_port_handle: this platform's object, and -1 / NULL with a message otherwise") {
  PortFixture port;
  port_signal::check_platform_contract(port.port);
  CHECK(lane_port_fd(nullptr) == -1);
  CHECK(std::string(lane_last_error()).find("NULL") != std::string::npos);
  CHECK(lane_port_handle(nullptr) == nullptr);
  CHECK(std::string(lane_last_error()).find("NULL") != std::string::npos);
  int not_a_port = 0;
  CHECK(lane_port_handle(reinterpret_cast<lane_port_t *>(&not_a_port)) == nullptr);
  CHECK(std::string(lane_last_error()).find("not a live port") != std::string::npos);
}

TEST_CASE("lane_port_poll uses events[0].struct_size as the element stride and zeroes fields it does not know") {
  struct Wide {
    lane_event_t ev;
    std::uint64_t guard[3];
  };
  static_assert(sizeof(Wide) > sizeof(lane_event_t));
  const std::uint64_t pattern = 0xA5A5A5A5DEADBEEFULL;

  LaneFixture fx(2);
  PortFixture port;
  lane_ticket_t t1 = submit_host(fx, host_job("h1", port.port));
  lane_ticket_t t2 = submit_host(fx, host_job("h2", port.port));

  Wide w[4];
  std::memset(w, 0, sizeof w);
  for (auto &x : w)
    for (auto &g : x.guard) g = pattern;
  w[0].ev.struct_size = sizeof(Wide);

  std::vector<std::uint64_t> granted;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (granted.size() < 2 && std::chrono::steady_clock::now() < until) {
    int32_t n = lane_port_poll(port.port, &w[0].ev, 4, 20 * kMs);
    REQUIRE(n >= 0);
    for (int32_t i = 0; i < n; ++i) {
      CHECK(w[i].ev.kind == LANE_EVENT_GRANT);
      CHECK(w[i].ev.lane == fx.lane);
      granted.push_back(w[i].ev.job_token);
    }
    for (int32_t i = 0; i < 4; ++i)
      for (auto &g : w[i].guard) CHECK(g == (i < n ? 0 : pattern));  // a newer host's fields: not reported
    for (auto &x : w)
      for (auto &g : x.guard) g = pattern;
    w[0].ev.struct_size = sizeof(Wide);
  }
  REQUIRE(granted.size() == 2);
  CHECK(((granted[0] == t1.job_token && granted[1] == t2.job_token) ||
         (granted[0] == t2.job_token && granted[1] == t1.job_token)));
  REQUIRE(lane_job_finish(fx.lane, t1.job_token, 0) == LANE_OK);
  REQUIRE(lane_job_finish(fx.lane, t2.job_token, 0) == LANE_OK);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
}

TEST_CASE("lane_port_poll returns no more events than max and keeps the rest") {
  LaneFixture fx(3);
  PortFixture port;
  lane_ticket_t t[3];
  for (int i = 0; i < 3; ++i) t[i] = submit_host(fx, host_job(("h" + std::to_string(i)).c_str(), port.port));
  REQUIRE(port.poll_until([&] { return port.events.size() >= 1; }));
  // Drain one at a time.
  while (port.events.size() < 3) {
    lane_event_t ev[1]{};
    ev[0].struct_size = sizeof(lane_event_t);
    int32_t n = lane_port_poll(port.port, ev, 1, 10 * kSec);
    REQUIRE(n == 1);
    port.events.push_back(Ev{ev[0].kind, ev[0].status, ev[0].job_code, ev[0].lane, ev[0].job_token,
                             ev[0].user_data, ev[0].at_ns});
  }
  for (auto &tk : t) {
    CHECK(port.count(LANE_EVENT_GRANT, tk.job_token) == 1);
    REQUIRE(lane_job_finish(fx.lane, tk.job_token, 0) == LANE_OK);
  }
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
}

TEST_CASE("destroying a port while jobs still name it is safe and the jobs still end") {
  LaneFixture fx(1);
  lane_port_t *port = nullptr;
  REQUIRE(lane_port_create(&port) == LANE_OK);
  lane_ticket_t t = submit_host(fx, host_job("h", port));
  // Wait for the grant, then destroy the port with the job still running.
  lane_event_t ev[1]{};
  ev[0].struct_size = sizeof(lane_event_t);
  REQUIRE(lane_port_poll(port, ev, 1, 10 * kSec) == 1);
  CHECK(ev[0].kind == LANE_EVENT_GRANT);

  Probe &cb = fx.probe("cb");
  lane_job_t j = fx.job_for(cb);
  j.port = port;
  REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);  // queued, names the port

  lane_port_destroy(port);
  CHECK(lane_job_finish(fx.lane, t.job_token, 0) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("cb"));
  CHECK(fx.rec.outcome("cb").status == LANE_OK);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.completed == 2);
  check_invariant(s);
}

TEST_CASE("lane_destroy ends queued host-run jobs and waits for granted ones to be finished") {
  PortFixture port;
  lane_t *lane = nullptr;
  lane_options_t o = LANE_OPTIONS_INIT;
  REQUIRE(lane_create("host-destroy", &o, &lane) == LANE_OK);
  lane_ticket_t t1 = LANE_TICKET_INIT, t2 = LANE_TICKET_INIT;
  lane_job_t j1 = host_job("granted", port.port);
  lane_job_t j2 = host_job("queued", port.port);
  REQUIRE(lane_submit(lane, &j1, &t1) == LANE_OK);
  REQUIRE(lane_submit(lane, &j2, &t2) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, t1.job_token));

  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    lane_destroy(lane);
    destroyed = true;
  });
  REQUIRE(port.wait_event(LANE_EVENT_CANCEL, t1.job_token));
  CHECK(port.find(LANE_EVENT_CANCEL, t1.job_token)->status == LANE_ERR_CLOSED);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, t2.job_token));
  CHECK(port.find(LANE_EVENT_DONE, t2.job_token)->status == LANE_ERR_CLOSED);
  CHECK_FALSE(destroyed.load());  // still waiting for lane_job_finish
  CHECK(lane_job_finish(lane, t1.job_token, 0) == LANE_OK);
  destroyer.join();
  CHECK(destroyed.load());
  port.poll_once(0);
  CHECK(port.count(LANE_EVENT_DONE, t1.job_token) == 1);
}

TEST_CASE("a preempted host-run job with REQUEUE_ON_PREEMPT is granted again and gets one DONE") {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = 1;
  o.preempt_min_runtime_ns = -1;
  LaneFixture fx("host-requeue", o);
  PortFixture port;
  lane_job_t low = host_job("low", port.port);
  low.flags = LANE_JOB_PREEMPTIBLE | LANE_JOB_REQUEUE_ON_PREEMPT;
  lane_ticket_t tl = submit_host(fx, low);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, tl.job_token));
  lane_job_t high = host_job("high", port.port);
  high.priority = 1;
  lane_ticket_t th = submit_host(fx, high);
  REQUIRE(port.wait_event(LANE_EVENT_CANCEL, tl.job_token));
  CHECK(port.find(LANE_EVENT_CANCEL, tl.job_token)->status == LANE_ERR_PREEMPTED);
  REQUIRE(lane_job_finish(fx.lane, tl.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, th.job_token));
  CHECK(port.count(LANE_EVENT_DONE, tl.job_token) == 0);  // requeued, not ended
  REQUIRE(lane_job_finish(fx.lane, th.job_token, 0) == LANE_OK);
  REQUIRE(port.poll_until([&] { return port.count(LANE_EVENT_GRANT, tl.job_token) == 2; }));
  REQUIRE(lane_job_finish(fx.lane, tl.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, tl.job_token));
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  port.poll_once(0);
  CHECK(port.count(LANE_EVENT_DONE, tl.job_token) == 1);
  CHECK(port.find(LANE_EVENT_DONE, tl.job_token)->status == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.completed == 2);
  CHECK(s.preempted == 0);
  check_invariant(s);
}
