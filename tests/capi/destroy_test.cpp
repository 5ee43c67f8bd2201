// Destroy, from everywhere a host might call it: from inside the object's own
// callbacks it is refused with LANE_ERR_DEADLOCK (it would wait for itself or
// free what the caller runs) and the object goes on working; with sessions
// still in front of a lane it succeeds and the sessions find a closed lane.
// Every case runs under a watchdog: a hang fails the test instead of the
// whole suite timing out without a word.
#include <cstdio>
#include <cstdlib>

#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

// Aborts the process, naming the case, if it is still alive after `limit`.
class Watchdog {
 public:
  explicit Watchdog(const char *what, std::chrono::seconds limit = 60s) : what_(what) {
    t_ = std::thread([this, limit] {
      std::unique_lock lk(m_);
      if (!cv_.wait_for(lk, limit, [this] { return done_; })) {
        std::fprintf(stderr, "watchdog: '%s' hung\n", what_);
        std::abort();
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard lk(m_);
      done_ = true;
    }
    cv_.notify_all();
    t_.join();
  }

 private:
  const char *what_;
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread t_;
};

struct Seen {
  std::atomic<int> status{1};
  std::string message;
  void note(lane_status_t s) {
    message = lane_last_error();
    status = s;
  }
};

int32_t quiet_sink(const char *, uint32_t, uint32_t, int64_t, void *) { return 0; }

}  // namespace

TEST_CASE("lane_destroy from inside the lane's own run is refused and the lane keeps working") {
  Watchdog w("lane_destroy from a run");
  LaneFixture fx(1);
  Seen seen;
  Probe &p = fx.probe("self", [&](lane_ctx_t *ctx) -> std::int32_t {
    seen.note(lane_destroy(lane_ctx_lane(ctx)));
    return 0;
  });
  fx.submit_ok(p);
  REQUIRE(fx.rec.wait_outcomes(1));
  CHECK(seen.status == LANE_ERR_DEADLOCK);
  CHECK(seen.message.find("would wait for itself") != std::string::npos);
  CHECK(fx.rec.outcome("self").status == LANE_OK);
  Probe &after = fx.probe("after");
  fx.submit_ok(after);
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(fx.rec.outcome("after").status == LANE_OK);
}

TEST_CASE("lane_destroy from the lane's own on_done is refused; from another lane's job it works") {
  Watchdog w("lane_destroy from on_done");
  LaneFixture fx(1);
  Seen seen;
  Probe &p = fx.probe("done-destroys");
  p.on_done_extra = [&](const lane_outcome_t *) { seen.note(lane_destroy(fx.lane)); };
  fx.submit_ok(p);
  REQUIRE(fx.rec.wait_outcomes(1));
  CHECK(seen.status == LANE_ERR_DEADLOCK);

  // A job of lane A may destroy lane B (it waits only for B's jobs).
  lane_t *b = nullptr;
  REQUIRE(lane_create("other", nullptr, &b) == LANE_OK);
  Seen other;
  Probe &q = fx.probe("destroys-other", [&](lane_ctx_t *) -> std::int32_t {
    other.note(lane_destroy(b));
    return 0;
  });
  fx.submit_ok(q);
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(other.status == LANE_OK);
}

TEST_CASE("lane_destroy refuses a second destroy of the same handle, a registry lane and other kinds") {
  lane_registry_t *reg = nullptr;
  REQUIRE(lane_registry_create(nullptr, &reg) == LANE_OK);
  lane_t *rl = nullptr;
  REQUIRE(lane_registry_get_or_create(reg, "owned", &rl) == LANE_OK);
  CHECK(lane_destroy(rl) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("registry") != std::string::npos);
  CHECK(lane_destroy(reinterpret_cast<lane_t *>(reg)) == LANE_ERR_INVALID);
  CHECK(lane_registry_destroy(reg) == LANE_OK);
  CHECK(lane_destroy(nullptr) == LANE_OK);

  lane_port_t *port = nullptr;
  REQUIRE(lane_port_create(&port) == LANE_OK);
  CHECK(lane_registry_destroy(reinterpret_cast<lane_registry_t *>(port)) == LANE_ERR_INVALID);
  CHECK(lane_sampler_destroy(reinterpret_cast<lane_sampler_t *>(port)) == LANE_ERR_INVALID);
  CHECK(lane_session_destroy(reinterpret_cast<lane_session_t *>(port)) == LANE_ERR_INVALID);
  CHECK(lane_port_destroy(port) == LANE_OK);
}

TEST_CASE("a lane destroyed before its sessions: the sessions end their messages CLOSED and free it last") {
  Watchdog w("lane destroyed under a session");
  lane_t *lane = nullptr;
  REQUIRE(lane_create("under-sessions", nullptr, &lane) == LANE_OK);
  Recorder rec;
  lane_session_options_t so = LANE_SESSION_OPTIONS_INIT;
  so.debounce_ns = 3600 * kSec;  // the message waits in the session
  lane_session_t *s = nullptr;
  REQUIRE(lane_session_create(lane, "chat", &so, &s) == LANE_OK);
  lane_job_t m = LANE_JOB_INIT;
  m.id = "m1";
  m.run = [](lane_ctx_t *, void *) -> int32_t { return 0; };
  m.on_done = [](const lane_outcome_t *o, void *ud) { static_cast<Recorder *>(ud)->record(o); };
  m.user_data = &rec;
  REQUIRE(lane_session_enqueue(s, &m) == LANE_OK);

  CHECK(lane_destroy(lane) == LANE_OK);
  REQUIRE(rec.wait_outcomes(1));
  CHECK(rec.outcome("m1").status == LANE_ERR_CLOSED);
  m.id = "m2";
  CHECK(lane_session_enqueue(s, &m) == LANE_ERR_CLOSED);
  CHECK(lane_submit(lane, &m, nullptr) == LANE_ERR_INVALID);  // the host's handle is dead
  CHECK(lane_session_destroy(s) == LANE_OK);  // frees the lane (LeakSanitizer checks it)
  CHECK(rec.total_outcomes() == 1);
}

TEST_CASE("a registry destroyed before the sessions on its lanes") {
  Watchdog w("registry destroyed under a session");
  lane_registry_t *reg = nullptr;
  REQUIRE(lane_registry_create(nullptr, &reg) == LANE_OK);
  lane_t *lane = nullptr;
  REQUIRE(lane_registry_get_or_create(reg, "chat", &lane) == LANE_OK);
  lane_session_t *s = nullptr;
  REQUIRE(lane_session_create(lane, "u1", nullptr, &s) == LANE_OK);
  CHECK(lane_registry_remove(reg, "chat") == LANE_ERR_BUSY);  // a lane with sessions is not idle
  CHECK(lane_registry_destroy(reg) == LANE_OK);
  lane_job_t m = LANE_JOB_INIT;
  m.id = "late";
  m.run = [](lane_ctx_t *, void *) -> int32_t { return 0; };
  CHECK(lane_session_enqueue(s, &m) == LANE_ERR_CLOSED);
  CHECK(lane_session_destroy(s) == LANE_OK);
}

TEST_CASE("lane_registry_destroy from a run or on_done of one of its lanes is refused") {
  Watchdog w("registry destroy from a run");
  lane_registry_t *reg = nullptr;
  REQUIRE(lane_registry_create(nullptr, &reg) == LANE_OK);
  lane_t *lane = nullptr;
  REQUIRE(lane_registry_get_or_create(reg, "llm", &lane) == LANE_OK);
  struct Ctx {
    lane_registry_t *reg;
    Seen in_run, in_done;
  } c{reg, {}, {}};
  lane_job_t j = LANE_JOB_INIT;
  j.id = "job";
  j.user_data = &c;
  j.run = [](lane_ctx_t *ctx, void *) -> int32_t {
    auto *cc = static_cast<Ctx *>(lane_ctx_user_data(ctx));
    cc->in_run.note(lane_registry_destroy(cc->reg));
    return 0;
  };
  j.on_done = [](const lane_outcome_t *, void *ud) {
    auto *cc = static_cast<Ctx *>(ud);
    cc->in_done.note(lane_registry_destroy(cc->reg));
  };
  lane_outcome_t out = {};
  out.struct_size = sizeof out;
  REQUIRE(lane_submit_wait(lane, &j, -1, &out) == LANE_OK);
  CHECK(c.in_run.status == LANE_ERR_DEADLOCK);
  CHECK(c.in_done.status == LANE_ERR_DEADLOCK);
  CHECK(lane_registry_destroy(reg) == LANE_OK);
}

TEST_CASE("lane_registry_destroy from the registry's own config callback is refused") {
  Watchdog w("registry destroy from config_int");
  struct Ctx {
    lane_registry_t *reg = nullptr;
    Seen seen;
  } c;
  lane_registry_options_t o = LANE_REGISTRY_OPTIONS_INIT;
  o.config_ud = &c;
  o.config_int = [](const char *, int64_t def, void *ud) -> int64_t {
    auto *cc = static_cast<Ctx *>(ud);
    cc->seen.note(lane_registry_destroy(cc->reg));
    return def;
  };
  REQUIRE(lane_registry_create(&o, &c.reg) == LANE_OK);
  lane_t *lane = nullptr;
  CHECK(lane_registry_get_or_create(c.reg, "cfg", &lane) == LANE_OK);
  CHECK(c.seen.status == LANE_ERR_DEADLOCK);
  CHECK(lane_registry_reload(c.reg) == LANE_OK);
  CHECK(lane_registry_destroy(c.reg) == LANE_OK);
}

TEST_CASE("a sampler's sink cannot destroy its sampler or its registry, but may stop the sampler") {
  Watchdog w("destroy from a sampler sink");
  struct Ctx {
    lane_registry_t *reg = nullptr;
    lane_sampler_t *smp = nullptr;
    Seen sampler_destroy, registry_destroy, stop;
  } c;
  REQUIRE(lane_registry_create(nullptr, &c.reg) == LANE_OK);
  lane_t *lane = nullptr;
  REQUIRE(lane_registry_get_or_create(c.reg, "sampled", &lane) == LANE_OK);
  lane_sampler_options_t so = LANE_SAMPLER_OPTIONS_INIT;
  so.interval_ns = 1 * kMs;
  so.sink_ud = &c;
  so.sink = [](const char *, uint32_t, uint32_t, int64_t, void *ud) -> int32_t {
    auto *cc = static_cast<Ctx *>(ud);
    if (cc->stop.status != 1) return 0;  // once
    cc->sampler_destroy.note(lane_sampler_destroy(cc->smp));
    cc->registry_destroy.note(lane_registry_destroy(cc->reg));
    cc->stop.note(lane_sampler_stop(cc->smp));
    return 0;
  };
  REQUIRE(lane_sampler_create(c.reg, &so, &c.smp) == LANE_OK);
  REQUIRE(lane_sampler_start(c.smp) == LANE_OK);  // the sink runs on the sampler's thread
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (c.stop.status == 1 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  CHECK(c.sampler_destroy.status == LANE_ERR_DEADLOCK);
  CHECK(c.registry_destroy.status == LANE_ERR_DEADLOCK);
  CHECK(c.stop.status == LANE_OK);
  // Also from sample_once on the host's own thread.
  c.stop.status = 1;
  CHECK(lane_sampler_sample_once(c.smp) == LANE_OK);
  CHECK(c.sampler_destroy.status == LANE_ERR_DEADLOCK);
  CHECK(lane_sampler_destroy(c.smp) == LANE_OK);
  CHECK(lane_registry_destroy(c.reg) == LANE_OK);
  (void)quiet_sink;
}

TEST_CASE("lane_last_error stays bounded whatever the host passed") {
  LaneFixture fx(1);
  const std::string huge(1 << 20, 'x');
  // Held running by a gate, so the id is still live at the second submit.
  Gate &g = fx.gate();
  lane_job_t j = fx.job_for(fx.blocker(huge, g));
  REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  CHECK(lane_submit(fx.lane, &j, nullptr) == LANE_ERR_DUPLICATE);  // id quoted in the message
  CHECK(std::strlen(lane_last_error()) <= 1024);
  CHECK(std::string(lane_last_error()).find("bytes") != std::string::npos);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
}
