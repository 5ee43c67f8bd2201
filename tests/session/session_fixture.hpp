// Helpers for the session queue tests: lane.h only, like any outside host.
// A Sess owns a lane (through capi_test::LaneFixture), one or more sessions
// in front of it, and the probes of every message; it destroys the sessions
// before the lane, opening every gate first so blocked runs can return.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../capi/capi_fixture.hpp"

namespace session_test {

using namespace capi_test;

// What one run saw of its batch, mailbox and dropped ids.
struct Seen {
  std::vector<std::string> batch;
  std::vector<void *> batch_ud;
  std::vector<std::string> steered;
  std::vector<std::string> dropped;
};

inline Seen look(lane_ctx_t *ctx) {
  Seen s;
  const uint32_t n = lane_ctx_batch_count(ctx);
  for (uint32_t i = 0; i < n; ++i) {
    const char *id = nullptr;
    void *ud = nullptr;
    CHECK(lane_ctx_batch_item(ctx, i, &id, &ud) == LANE_OK);
    s.batch.emplace_back(id ? id : "");
    s.batch_ud.push_back(ud);
  }
  const uint32_t d = lane_ctx_dropped_count(ctx);
  for (uint32_t i = 0; i < d; ++i) {
    const char *id = lane_ctx_dropped_id(ctx, i);
    s.dropped.emplace_back(id ? id : "");
  }
  return s;
}

inline lane_session_options_t opts(lane_session_mode_t mode, uint32_t max_concurrent = 1) {
  lane_session_options_t o = LANE_SESSION_OPTIONS_INIT;
  o.mode = mode;
  o.max_concurrent = max_concurrent;
  o.debounce_ns = -1;  // off unless a test wants it
  return o;
}

class Sess {
 public:
  // A session in front of a fresh FIFO lane with `lane_cap` slots.
  explicit Sess(const lane_session_options_t &o, uint32_t lane_cap = 8, FakeClock *clock = nullptr,
                lane_policy_t policy = LANE_POLICY_FIFO)
      : lf_("sess", lane_opts(lane_cap, clock, policy)) {
    session = add("chat-1", o);
  }
  Sess(const Sess &) = delete;
  Sess &operator=(const Sess &) = delete;
  ~Sess() {
    for (auto &g : gates_) g->open();
    for (auto *s : sessions_) lane_session_destroy(s);
    // A test's own lane jobs may still be polling a gate: they must end
    // before the gates and records below are destroyed (members go before
    // lf_, whose destructor would wait for them only after that).
    lane_wait_idle(lf_.lane, -1);
  }

  lane_session_t *add(const char *key, const lane_session_options_t &o) {
    lane_session_t *s = nullptr;
    const lane_status_t st = lane_session_create(lf_.lane, key, &o, &s);
    REQUIRE_MESSAGE(st == LANE_OK, "lane_session_create: " << lane_status_name(st) << " " << lane_last_error());
    sessions_.push_back(s);
    return s;
  }
  // Destroys one session now (the destructor skips it).
  void destroy(lane_session_t *s) {
    sessions_.erase(std::find(sessions_.begin(), sessions_.end(), s));
    lane_session_destroy(s);
  }

  Gate &gate() {
    gates_.push_back(std::make_unique<Gate>());
    return *gates_.back();
  }
  Probe &probe(const std::string &id, std::function<std::int32_t(lane_ctx_t *)> body = nullptr) {
    return lf_.probe(id, std::move(body));
  }
  // A message whose run records what it saw, then blocks on `g` (nullptr:
  // returns at once) and returns rc.
  Probe &msg(const std::string &id, Gate *g = nullptr, std::int32_t rc = 0) {
    Probe &p = lf_.probe(id);
    p.body = [this, g, rc, id](lane_ctx_t *ctx) -> std::int32_t {
      Seen s = look(ctx);
      {
        std::lock_guard lk(mu_);
        seen_[id] = s;
        run_order_.push_back(id);
      }
      if (g) block(ctx, *g);
      return rc;
    };
    return p;
  }
  lane_job_t job(Probe &p, uint32_t flags = 0) {
    lane_job_t j = lf_.job_for(p);
    j.flags = flags;
    return j;
  }
  lane_status_t enqueue(Probe &p, uint32_t flags = 0, lane_session_t *s = nullptr) {
    lane_job_t j = job(p, flags);
    return lane_session_enqueue(s ? s : session, &j);
  }
  void enqueue_ok(Probe &p, uint32_t flags = 0, lane_session_t *s = nullptr) {
    const lane_status_t st = enqueue(p, flags, s);
    REQUIRE_MESSAGE(st == LANE_OK, "enqueue " << p.id << ": " << lane_status_name(st) << " " << lane_last_error());
  }

  Seen seen(const std::string &id) {
    std::lock_guard lk(mu_);
    auto it = seen_.find(id);
    return it == seen_.end() ? Seen{} : it->second;
  }
  // Waits until the run of `id` has recorded what it saw (a run is counted
  // as started just before its body records).
  bool wait_seen(const std::string &id) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    for (;;) {
      {
        std::lock_guard lk(mu_);
        if (seen_.count(id)) return true;
      }
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(1ms);
    }
  }
  std::vector<std::string> run_order() {
    std::lock_guard lk(mu_);
    return run_order_;
  }
  // Waits until n runs have recorded themselves in run_order: a run counts
  // as started (Recorder) a moment before its body records.
  bool wait_runs(std::size_t n) {
    const auto until = std::chrono::steady_clock::now() + capi_test::kDeadline;
    while (run_order().size() < n) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  lane_status_t status(const std::string &id) { return rec().outcome(id).status; }

  Recorder &rec() { return lf_.rec; }
  lane_t *lane() { return lf_.lane; }
  lane_session_t *session = nullptr;

 private:
  static lane_options_t lane_opts(uint32_t cap, FakeClock *clock, lane_policy_t policy) {
    lane_options_t o = LANE_OPTIONS_INIT;
    o.max_concurrent = cap;
    o.policy = policy;
    if (clock) {
      o.clock = fake_clock_fn;
      o.clock_ud = clock;
    }
    return o;
  }

  LaneFixture lf_;
  std::vector<lane_session_t *> sessions_;
  std::deque<std::unique_ptr<Gate>> gates_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;
  std::vector<std::string> run_order_;
};

}  // namespace session_test
