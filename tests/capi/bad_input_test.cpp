// Bad input through the C API: every refusal has the right status and a
// lane_last_error() message, nothing crashes and no accepted job is lost.
#include "capi_fixture.hpp"

using namespace capi_test;

// Checks a call's status and that it left a message on this thread.
#define CHECK_FAILS(call, expected)                                                              \
  do {                                                                                           \
    lane_status_t st_ = (call);                                                                  \
    CHECK_MESSAGE(st_ == (expected), #call " gave " << lane_status_name(st_));                   \
    CHECK_MESSAGE(has_message(), #call " left no lane_last_error() message");                    \
  } while (0)

namespace {

lane_t *const kNoLane = nullptr;

}  // namespace

TEST_CASE("lane_create refuses a NULL or empty name, a NULL out and bad options") {
  lane_t *lane = nullptr;
  lane_options_t o = LANE_OPTIONS_INIT;
  CHECK_FAILS(lane_create(nullptr, &o, &lane), LANE_ERR_INVALID);
  CHECK(lane == nullptr);
  CHECK_FAILS(lane_create("", &o, &lane), LANE_ERR_INVALID);
  CHECK(lane == nullptr);
  CHECK_FAILS(lane_create("x", &o, nullptr), LANE_ERR_INVALID);

  lane_options_t zero{};
  CHECK_FAILS(lane_create("x", &zero, &lane), LANE_ERR_INVALID);
  CHECK(lane == nullptr);
  lane_options_t small = LANE_OPTIONS_INIT;
  small.struct_size = offsetof(lane_options_t, clock_ud);  // the first release's last field is cut
  CHECK_FAILS(lane_create("x", &small, &lane), LANE_ERR_INVALID);
  small.struct_size = sizeof(std::uint32_t);
  CHECK_FAILS(lane_create("x", &small, &lane), LANE_ERR_INVALID);
  CHECK(lane == nullptr);
  // An unknown policy or close mode is checked from C (tests/abi/header_c11.c),
  // where any int is a valid value of an enum type.
}

TEST_CASE("lane_create with NULL options or a zeroed struct gives the documented defaults") {
  lane_t *lane = nullptr;
  REQUIRE(lane_create("defaults", nullptr, &lane) == LANE_OK);
  lane_stats_t s = stats_of(lane);
  CHECK(s.max_concurrent == 1);
  CHECK(s.eta_window == 16);
  CHECK(s.paused == 0);
  lane_destroy(lane);

  lane_options_t o{};
  o.struct_size = sizeof o;
  lane = nullptr;
  REQUIRE(lane_create("zeroed", &o, &lane) == LANE_OK);
  s = stats_of(lane);
  CHECK(s.max_concurrent == 1);
  CHECK(s.eta_window == 16);
  lane_destroy(lane);
}

TEST_CASE("lane_destroy(NULL) and lane_port_destroy(NULL) are no-ops") {
  lane_destroy(nullptr);
  lane_port_destroy(nullptr);
  CHECK(true);
}

TEST_CASE("lane_submit refuses NULL pointers and bad struct sizes, leaving a message and no outcome") {
  LaneFixture fx;
  Probe &p = fx.probe("p");
  lane_job_t j = fx.job_for(p);
  lane_ticket_t t = LANE_TICKET_INIT;

  CHECK_FAILS(lane_submit(kNoLane, &j, &t), LANE_ERR_INVALID);
  CHECK_FAILS(lane_submit(fx.lane, nullptr, &t), LANE_ERR_INVALID);

  lane_job_t zero = j;
  zero.struct_size = 0;
  CHECK_FAILS(lane_submit(fx.lane, &zero, &t), LANE_ERR_INVALID);
  lane_job_t small = j;
  small.struct_size = offsetof(lane_job_t, queue_timeout_ns);
  CHECK_FAILS(lane_submit(fx.lane, &small, &t), LANE_ERR_INVALID);
  small.struct_size = sizeof(std::uint32_t) + sizeof(void *);
  CHECK_FAILS(lane_submit(fx.lane, &small, &t), LANE_ERR_INVALID);

  lane_ticket_t bad_ticket = LANE_TICKET_INIT;
  bad_ticket.struct_size = 0;
  CHECK_FAILS(lane_submit(fx.lane, &j, &bad_ticket), LANE_ERR_INVALID);
  bad_ticket.struct_size = offsetof(lane_ticket_t, blocked_by);  // below the first release's fields
  CHECK_FAILS(lane_submit(fx.lane, &j, &bad_ticket), LANE_ERR_INVALID);

  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(p.runs == 0);
  CHECK(p.dones == 0);
  CHECK(stats_of(fx.lane).submitted == 0);
  // The same job, now well formed, is accepted and ends once.
  CHECK(lane_submit(fx.lane, &j, &t) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("p"));
  CHECK(fx.rec.outcome("p").status == LANE_OK);
}

TEST_CASE("lane_submit refuses a NULL or empty id and a callback-less job without a port") {
  LaneFixture fx;
  Probe &p = fx.probe("p");
  lane_job_t j = fx.job_for(p);
  j.id = nullptr;
  CHECK_FAILS(lane_submit(fx.lane, &j, nullptr), LANE_ERR_INVALID);
  j.id = "";
  CHECK_FAILS(lane_submit(fx.lane, &j, nullptr), LANE_ERR_INVALID);

  lane_job_t host = make_job("host-no-port");
  host.run = nullptr;
  host.port = nullptr;
  CHECK_FAILS(lane_submit(fx.lane, &host, nullptr), LANE_ERR_INVALID);
  CHECK(p.dones == 0);
  CHECK(stats_of(fx.lane).submitted == 0);
}

TEST_CASE("lane_submit refuses negative max_wait_ns and queue_timeout_ns") {
  LaneFixture fx;
  Probe &p = fx.probe("p");
  lane_job_t j = fx.job_for(p);
  j.max_wait_ns = -1;
  CHECK_FAILS(lane_submit(fx.lane, &j, nullptr), LANE_ERR_INVALID);
  j.max_wait_ns = 0;
  j.queue_timeout_ns = -5;
  CHECK_FAILS(lane_submit(fx.lane, &j, nullptr), LANE_ERR_INVALID);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(p.runs == 0);
  CHECK(p.dones == 0);
}

TEST_CASE("a duplicate id is refused with LANE_ERR_DUPLICATE while the first job is live") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &first = fx.blocker("dup", g);
  fx.submit_ok(first);
  REQUIRE(fx.rec.wait_started("dup"));
  Probe &second = fx.probe("dup");
  CHECK_FAILS(fx.submit(second), LANE_ERR_DUPLICATE);  // running

  Probe &q = fx.probe("queued-dup");
  fx.submit_ok(q);
  Probe &q2 = fx.probe("queued-dup");
  CHECK_FAILS(fx.submit(q2), LANE_ERR_DUPLICATE);  // queued

  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.refused == 2);
  CHECK(s.submitted == 2);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(first.dones == 1);
  CHECK(second.runs == 0);
  CHECK(second.dones == 0);
  CHECK(q.dones == 1);
  CHECK(q2.dones == 0);
  CHECK(fx.rec.outcome_count("dup") == 1);
  CHECK(fx.rec.outcome_count("queued-dup") == 1);
}

TEST_CASE("lane_submit_wait refuses NULL pointers") {
  LaneFixture fx;
  Probe &p = fx.probe("p");
  lane_job_t j = fx.job_for(p);
  CHECK_FAILS(lane_submit_wait(kNoLane, &j, -1, nullptr), LANE_ERR_INVALID);
  CHECK_FAILS(lane_submit_wait(fx.lane, nullptr, -1, nullptr), LANE_ERR_INVALID);
  lane_job_t zero = j;
  zero.struct_size = 0;
  CHECK_FAILS(lane_submit_wait(fx.lane, &zero, -1, nullptr), LANE_ERR_INVALID);
  CHECK(p.runs == 0);
}

TEST_CASE("lane_cancel refuses NULL arguments and unknown flag bits, and the job stays queued") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &q = fx.probe("q");
  fx.submit_ok(q);

  CHECK_FAILS(lane_cancel(kNoLane, "q", 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_cancel(fx.lane, nullptr, 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_cancel(fx.lane, "", 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_cancel(fx.lane, "q", 1u << 7), LANE_ERR_INVALID);
  CHECK_FAILS(lane_cancel(fx.lane, "q", LANE_CANCEL_QUEUED | (1u << 30)), LANE_ERR_INVALID);

  CHECK(stats_of(fx.lane).queued == 1);
  CHECK(fx.rec.outcome_count("q") == 0);
  g.open();
  REQUIRE(fx.rec.wait_outcome("q"));
  CHECK(fx.rec.outcome("q").status == LANE_OK);
}

TEST_CASE("lane_stats refuses NULL and too-small structs") {
  LaneFixture fx;
  lane_stats_t s{};
  s.struct_size = sizeof s;
  CHECK_FAILS(lane_stats(kNoLane, &s), LANE_ERR_INVALID);
  CHECK_FAILS(lane_stats(fx.lane, nullptr), LANE_ERR_INVALID);
  s.struct_size = 0;
  CHECK_FAILS(lane_stats(fx.lane, &s), LANE_ERR_INVALID);
  s.struct_size = offsetof(lane_stats_t, mean_runtime_ns);
  CHECK_FAILS(lane_stats(fx.lane, &s), LANE_ERR_INVALID);
}

TEST_CASE("lane setters refuse zero sizes, zero weights and negative durations") {
  LaneFixture fx;
  CHECK_FAILS(lane_set_max_concurrent(fx.lane, 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_set_max_concurrent(kNoLane, 2), LANE_ERR_INVALID);
  CHECK(stats_of(fx.lane).max_concurrent == 1);
  CHECK_FAILS(lane_set_eta_window(fx.lane, 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_set_eta_window(kNoLane, 4), LANE_ERR_INVALID);
  CHECK(stats_of(fx.lane).eta_window == 16);
  CHECK_FAILS(lane_set_preemption(fx.lane, 1, -1), LANE_ERR_INVALID);
  CHECK_FAILS(lane_set_preemption(kNoLane, 1, 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_cooldown(fx.lane, -1), LANE_ERR_INVALID);
  CHECK_FAILS(lane_cooldown(kNoLane, 1), LANE_ERR_INVALID);
  CHECK(stats_of(fx.lane).cooldown_until_ns == 0);
  CHECK_FAILS(lane_pause(kNoLane), LANE_ERR_INVALID);
  CHECK_FAILS(lane_resume(kNoLane), LANE_ERR_INVALID);
  CHECK_FAILS(lane_close(kNoLane, LANE_CLOSE_DRAIN), LANE_ERR_INVALID);
  CHECK_FAILS(lane_wait_idle(kNoLane, 0), LANE_ERR_INVALID);
  CHECK(lane_name(kNoLane) == nullptr);
  // The lane still works.
  Probe &p = fx.probe("after");
  fx.submit_ok(p);
  REQUIRE(fx.rec.wait_outcome("after"));
}

TEST_CASE("lane_set_tenant_weight refuses weight 0 and a FIFO lane") {
  lane_options_t fs = LANE_OPTIONS_INIT;
  fs.policy = LANE_POLICY_FAIR_SHARE;
  LaneFixture fair("fair", fs);
  CHECK(lane_set_tenant_weight(fair.lane, "alice", 3) == LANE_OK);
  CHECK_FAILS(lane_set_tenant_weight(fair.lane, "alice", 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_set_tenant_weight(kNoLane, "alice", 1), LANE_ERR_INVALID);

  LaneFixture fifo(1, "fifo");
  CHECK_FAILS(lane_set_tenant_weight(fifo.lane, "alice", 2), LANE_ERR_INVALID);
}

TEST_CASE("calls on a closed lane are refused with LANE_ERR_CLOSED or still answer") {
  LaneFixture fx;
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_CANCEL) == LANE_OK);
  Probe &p = fx.probe("p");
  lane_ticket_t t = LANE_TICKET_INIT;
  CHECK_FAILS(fx.submit(p, &t), LANE_ERR_CLOSED);
  lane_job_t j = fx.job_for(p);
  CHECK_FAILS(lane_submit_wait(fx.lane, &j, -1, nullptr), LANE_ERR_CLOSED);
  CHECK_FAILS(lane_cancel(fx.lane, "p", 0), LANE_ERR_NOT_QUEUED);
  CHECK(lane_close(fx.lane, LANE_CLOSE_DRAIN) == LANE_OK);
  CHECK(lane_wait_idle(fx.lane, 0) == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.submitted == 0);
  CHECK(s.refused == 2);
  CHECK(p.runs == 0);
  CHECK(p.dones == 0);
}

TEST_CASE("lane_job_finish refuses a NULL lane, an unknown token, a queued job and a callback job") {
  LaneFixture fx(1);
  PortFixture port;
  Gate &g = fx.gate();
  Probe &cb = fx.blocker("cb", g);
  lane_ticket_t tcb = fx.submit_ok(cb);
  REQUIRE(fx.rec.wait_started("cb"));

  lane_job_t hj = host_job("queued-host", port.port);
  lane_ticket_t th = LANE_TICKET_INIT;
  REQUIRE(lane_submit(fx.lane, &hj, &th) == LANE_OK);
  fx.host_tokens.push_back(th.job_token);
  CHECK(th.position == 1);

  CHECK_FAILS(lane_job_finish(kNoLane, th.job_token, 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_job_finish(fx.lane, 0, 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_job_finish(fx.lane, 0xFFFFFFFFFFFFULL, 0), LANE_ERR_INVALID);
  CHECK_FAILS(lane_job_finish(fx.lane, th.job_token, 0), LANE_ERR_INVALID);   // queued, not granted
  CHECK_FAILS(lane_job_finish(fx.lane, tcb.job_token, 0), LANE_ERR_INVALID);  // a callback job
  CHECK(cb.seen_cancelled == 0);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.running == 1);
  CHECK(s.queued == 1);

  // Nothing was lost: the callback job finishes, the host job is granted.
  g.open();
  REQUIRE(fx.rec.wait_outcome("cb"));
  CHECK(fx.rec.outcome("cb").status == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, th.job_token));
  CHECK(lane_job_finish(fx.lane, th.job_token, 5) == LANE_OK);
  CHECK_FAILS(lane_job_finish(fx.lane, th.job_token, 0), LANE_ERR_INVALID);  // already finished
  REQUIRE(port.wait_event(LANE_EVENT_DONE, th.job_token));
  CHECK(port.find(LANE_EVENT_DONE, th.job_token)->status == LANE_ERR_JOB_FAILED);
  CHECK(port.find(LANE_EVENT_DONE, th.job_token)->job_code == 5);
  CHECK(port.count(LANE_EVENT_DONE, th.job_token) == 1);
}

TEST_CASE("port calls refuse NULL and bad event arrays") {
  CHECK_FAILS(lane_port_create(nullptr), LANE_ERR_INVALID);
  CHECK(lane_port_fd(nullptr) == -1);
  CHECK_FAILS(lane_port_wake(nullptr), LANE_ERR_INVALID);

  lane_event_t ev[2]{};
  ev[0].struct_size = sizeof(lane_event_t);
  int32_t n = lane_port_poll(nullptr, ev, 2, 0);
  CHECK(n == LANE_ERR_INVALID);
  CHECK(has_message());

  PortFixture port;
  n = lane_port_poll(port.port, nullptr, 2, 0);
  CHECK(n == LANE_ERR_INVALID);
  CHECK(has_message());
  ev[0].struct_size = 0;
  n = lane_port_poll(port.port, ev, 2, 0);
  CHECK(n == LANE_ERR_INVALID);
  CHECK(has_message());
  ev[0].struct_size = offsetof(lane_event_t, ctx);
  n = lane_port_poll(port.port, ev, 2, 0);
  CHECK(n == LANE_ERR_INVALID);
  CHECK(has_message());
  ev[0].struct_size = sizeof(lane_event_t);
  n = lane_port_poll(port.port, ev, -1, 0);
  CHECK(n == LANE_ERR_INVALID);
  CHECK(has_message());
}

TEST_CASE("a handle of the wrong kind is refused with LANE_ERR_INVALID") {
  LaneFixture fx;
  PortFixture port;
  lane_stats_t s{};
  s.struct_size = sizeof s;
  CHECK_FAILS(lane_stats(reinterpret_cast<lane_t *>(port.port), &s), LANE_ERR_INVALID);
  CHECK_FAILS(lane_pause(reinterpret_cast<lane_t *>(port.port)), LANE_ERR_INVALID);
  CHECK_FAILS(lane_port_wake(reinterpret_cast<lane_port_t *>(fx.lane)), LANE_ERR_INVALID);
  lane_event_t ev[1]{};
  ev[0].struct_size = sizeof(lane_event_t);
  CHECK(lane_port_poll(reinterpret_cast<lane_port_t *>(fx.lane), ev, 1, 0) == LANE_ERR_INVALID);
  CHECK(stats_of(fx.lane).paused == 0);
}

TEST_CASE("context functions given NULL do not crash") {
  CHECK(lane_ctx_cause(nullptr) == LANE_ERR_INVALID);
  CHECK(lane_ctx_wait(nullptr, 0) == LANE_ERR_INVALID);
  CHECK(lane_ctx_user_data(nullptr) == nullptr);
  CHECK(lane_ctx_lane(nullptr) == nullptr);
  const char *id = lane_ctx_job_id(nullptr);
  CHECK((id == nullptr || id[0] == '\0'));
  (void)lane_ctx_cancelled(nullptr);
}

TEST_CASE("lane_status_name names every status and LANE_ERR_UNKNOWN for other values") {
  const std::pair<lane_status_t, const char *> names[] = {
      {LANE_OK, "LANE_OK"},
      {LANE_ERR_INVALID, "LANE_ERR_INVALID"},
      {LANE_ERR_CLOSED, "LANE_ERR_CLOSED"},
      {LANE_ERR_BUSY, "LANE_ERR_BUSY"},
      {LANE_ERR_NOT_QUEUED, "LANE_ERR_NOT_QUEUED"},
      {LANE_ERR_CANCELLED, "LANE_ERR_CANCELLED"},
      {LANE_ERR_PREEMPTED, "LANE_ERR_PREEMPTED"},
      {LANE_ERR_DUPLICATE, "LANE_ERR_DUPLICATE"},
      {LANE_ERR_QUEUE_FULL, "LANE_ERR_QUEUE_FULL"},
      {LANE_ERR_DROPPED, "LANE_ERR_DROPPED"},
      {LANE_ERR_STALE, "LANE_ERR_STALE"},
      {LANE_ERR_CLEARED, "LANE_ERR_CLEARED"},
      {LANE_ERR_TIMEOUT, "LANE_ERR_TIMEOUT"},
      {LANE_ERR_NOMEM, "LANE_ERR_NOMEM"},
      {LANE_ERR_JOB_FAILED, "LANE_ERR_JOB_FAILED"},
      {LANE_ERR_INTERNAL, "LANE_ERR_INTERNAL"},
      {LANE_ERR_DEADLOCK, "LANE_ERR_DEADLOCK"},
      {LANE_ERR_IO, "LANE_ERR_IO"},
      {LANE_ERR_UNSUPPORTED, "LANE_ERR_UNSUPPORTED"},
      {LANE_ERR_UNAVAILABLE, "LANE_ERR_UNAVAILABLE"},
  };
  for (const auto &[s, name] : names) {
    const char *got = lane_status_name(s);
    REQUIRE(got != nullptr);
    CHECK(std::string(got) == name);
  }
  for (int v : {1, -20, -100, 12345}) {
    const char *got = lane_status_name(static_cast<lane_status_t>(v));
    REQUIRE(got != nullptr);
    CHECK(std::string(got) == "LANE_ERR_UNKNOWN");
  }
}

TEST_CASE("lane_last_error is per thread: a fresh thread sees an empty message") {
  CHECK_FAILS(lane_set_max_concurrent(kNoLane, 0), LANE_ERR_INVALID);
  std::string other = "unset";
  std::thread t([&] {
    const char *m = lane_last_error();
    other = m ? m : "(null)";
  });
  t.join();
  CHECK(other.empty());
  CHECK(has_message());  // this thread's message is still there
}

TEST_CASE("lane_get_api returns a full table for LANE_ABI_VERSION and NULL for another major") {
  const lane_api_t *api = lane_get_api(LANE_ABI_VERSION);
  REQUIRE(api != nullptr);
  CHECK(api->struct_size == sizeof(lane_api_t));
  CHECK(api->abi_version == LANE_ABI_VERSION);
  CHECK_MESSAGE((api->status_name == &lane_status_name), "lane_api_t.status_name");
  CHECK_MESSAGE((api->last_error == &lane_last_error), "lane_api_t.last_error");
  CHECK_MESSAGE((api->abi_version_fn == &lane_abi_version), "lane_api_t.abi_version_fn");
  CHECK_MESSAGE((api->version_string == &lane_version_string), "lane_api_t.version_string");
  CHECK_MESSAGE((api->create == &lane_create), "lane_api_t.create");
  CHECK_MESSAGE((api->destroy == &lane_destroy), "lane_api_t.destroy");
  CHECK_MESSAGE((api->submit == &lane_submit), "lane_api_t.submit");
  CHECK_MESSAGE((api->submit_wait == &lane_submit_wait), "lane_api_t.submit_wait");
  CHECK_MESSAGE((api->cancel == &lane_cancel), "lane_api_t.cancel");
  CHECK_MESSAGE((api->stats == &lane_stats), "lane_api_t.stats");
  CHECK_MESSAGE((api->set_max_concurrent == &lane_set_max_concurrent), "lane_api_t.set_max_concurrent");
  CHECK_MESSAGE((api->set_preemption == &lane_set_preemption), "lane_api_t.set_preemption");
  CHECK_MESSAGE((api->set_eta_window == &lane_set_eta_window), "lane_api_t.set_eta_window");
  CHECK_MESSAGE((api->set_tenant_weight == &lane_set_tenant_weight), "lane_api_t.set_tenant_weight");
  CHECK_MESSAGE((api->pause == &lane_pause), "lane_api_t.pause");
  CHECK_MESSAGE((api->resume == &lane_resume), "lane_api_t.resume");
  CHECK_MESSAGE((api->cooldown == &lane_cooldown), "lane_api_t.cooldown");
  CHECK_MESSAGE((api->close == &lane_close), "lane_api_t.close");
  CHECK_MESSAGE((api->wait_idle == &lane_wait_idle), "lane_api_t.wait_idle");
  CHECK_MESSAGE((api->name == &lane_name), "lane_api_t.name");
  CHECK_MESSAGE((api->ctx_cancelled == &lane_ctx_cancelled), "lane_api_t.ctx_cancelled");
  CHECK_MESSAGE((api->ctx_cause == &lane_ctx_cause), "lane_api_t.ctx_cause");
  CHECK_MESSAGE((api->ctx_wait == &lane_ctx_wait), "lane_api_t.ctx_wait");
  CHECK_MESSAGE((api->ctx_job_id == &lane_ctx_job_id), "lane_api_t.ctx_job_id");
  CHECK_MESSAGE((api->ctx_user_data == &lane_ctx_user_data), "lane_api_t.ctx_user_data");
  CHECK_MESSAGE((api->ctx_lane == &lane_ctx_lane), "lane_api_t.ctx_lane");
  CHECK_MESSAGE((api->port_create == &lane_port_create), "lane_api_t.port_create");
  CHECK_MESSAGE((api->port_destroy == &lane_port_destroy), "lane_api_t.port_destroy");
  CHECK_MESSAGE((api->port_fd == &lane_port_fd), "lane_api_t.port_fd");
  CHECK_MESSAGE((api->port_poll == &lane_port_poll), "lane_api_t.port_poll");
  CHECK_MESSAGE((api->port_wake == &lane_port_wake), "lane_api_t.port_wake");
  CHECK_MESSAGE((api->port_handle == &lane_port_handle), "lane_api_t.port_handle");
  CHECK_MESSAGE((api->job_finish == &lane_job_finish), "lane_api_t.job_finish");
  CHECK_MESSAGE((api->get_api == &lane_get_api), "lane_api_t.get_api");

  // Every slot is set (also any this test does not name one by one).
  const auto *slots = reinterpret_cast<const unsigned char *>(api);
  const std::size_t first = offsetof(lane_api_t, status_name);
  for (std::size_t off = first; off + sizeof(void *) <= sizeof(lane_api_t); off += sizeof(void *)) {
    void *fp = nullptr;
    std::memcpy(&fp, slots + off, sizeof fp);
    CHECK_MESSAGE(fp != nullptr, "lane_api_t slot at offset " << off << " is NULL");
  }

  // Through the table, the library works.
  lane_t *lane = nullptr;
  REQUIRE(api->create("via-table", nullptr, &lane) == LANE_OK);
  CHECK(std::string(api->name(lane)) == "via-table");
  api->destroy(lane);

  // An older minor of the same major is fine.
  CHECK(lane_get_api(static_cast<uint32_t>(LANE_ABI_MAJOR << 16)) != nullptr);
}

TEST_CASE("lane_get_api refuses another major or a newer minor, with a message") {
  CHECK(lane_get_api(static_cast<uint32_t>((LANE_ABI_MAJOR + 1) << 16) | LANE_ABI_MINOR) == nullptr);
  CHECK(has_message());
  CHECK(lane_get_api(0xFFFF0000u) == nullptr);
  CHECK(has_message());
  CHECK(lane_get_api(LANE_ABI_VERSION + 1) == nullptr);
  CHECK(has_message());
}

TEST_CASE("a burst of bad calls around live jobs loses none of them") {
  LaneFixture fx(2);
  Gate &g = fx.gate();
  std::vector<Probe *> ps;
  for (int i = 0; i < 6; ++i) {
    Probe &p = i < 2 ? fx.blocker("live" + std::to_string(i), g) : fx.probe("live" + std::to_string(i));
    ps.push_back(&p);
    fx.submit_ok(p);
  }
  lane_stats_t s{};
  for (int round = 0; round < 50; ++round) {
    lane_job_t bad = make_job("");
    lane_submit(fx.lane, &bad, nullptr);
    lane_job_t dup = fx.job_for(*ps[round % 6]);
    lane_submit(fx.lane, &dup, nullptr);
    lane_cancel(fx.lane, "live3", 1u << 9);
    lane_cancel(fx.lane, nullptr, 0);
    lane_job_finish(fx.lane, 999999, 0);
    lane_set_max_concurrent(fx.lane, 0);
    s.struct_size = 1;
    lane_stats(fx.lane, &s);
  }
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  for (Probe *p : ps) {
    CHECK(p->dones == 1);
    CHECK(fx.rec.outcome(p->id).status == LANE_OK);
  }
  lane_stats_t after = stats_of(fx.lane);
  CHECK(after.submitted == 6);
  CHECK(after.completed == 6);
  check_invariant(after);
}
