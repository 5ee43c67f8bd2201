// Helpers for the C API tests: they use lane.h only, like any outside host.
// Outcomes are recorded under a mutex and waited for with a condition
// variable and a generous deadline, so the tests never depend on how fast
// this (shared, sanitized) machine runs: they wait for events, never measure.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "lane/lane.h"

namespace capi_test {

using namespace std::chrono_literals;

inline constexpr auto kDeadline = 10s;  // generous: sanitizers on a 2-core machine
inline constexpr std::int64_t kMs = 1'000'000;
inline constexpr std::int64_t kSec = 1'000'000'000;

// A copy of one lane_outcome_t (its strings are valid during the callback only).
struct Outcome {
  lane_status_t status = LANE_OK;
  std::int32_t job_code = 0;
  std::string job_id;
  std::string lane;
  std::uint64_t job_token = 0;
  std::int64_t enqueued_at_ns = 0, started_at_ns = 0, finished_at_ns = 0;
  std::thread::id thread;
};

// What the library did with each job: outcomes (all of them, so "exactly
// once" can be checked), runs started, and arbitrary named flags.
class Recorder {
 public:
  void record(const lane_outcome_t *o) {
    Outcome c;
    c.status = o->status;
    c.job_code = o->job_code;
    c.job_id = o->job_id ? o->job_id : "";
    c.lane = o->lane ? o->lane : "";
    c.job_token = o->job_token;
    c.enqueued_at_ns = o->enqueued_at_ns;
    c.started_at_ns = o->started_at_ns;
    c.finished_at_ns = o->finished_at_ns;
    c.thread = std::this_thread::get_id();
    {
      std::lock_guard lk(m_);
      outcomes_[c.job_id].push_back(std::move(c));
      ++total_;
      cv_.notify_all();  // under the lock: a waiter may destroy *this once it sees the change
    }
  }

  void started(const std::string &id) {
    {
      std::lock_guard lk(m_);
      ++starts_[id];
      ++running_;
      if (running_ > max_running_) max_running_ = running_;
      cv_.notify_all();  // under the lock: a waiter may destroy *this once it sees the change
    }
  }
  void stopped() {
    {
      std::lock_guard lk(m_);
      --running_;
      cv_.notify_all();  // under the lock: a waiter may destroy *this once it sees the change
    }
  }

  // Waits until `pred` (called under the lock) holds, or the deadline passes.
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::steady_clock::duration d = kDeadline) {
    std::unique_lock lk(m_);
    return cv_.wait_for(lk, d, [&] { return pred(); });
  }

  bool wait_outcome(const std::string &id) {
    return wait_until([&] { return outcomes_.count(id) != 0; });
  }
  bool wait_outcomes(std::size_t n) {
    return wait_until([&] { return total_ >= n; });
  }
  bool wait_started(const std::string &id, int times = 1) {
    return wait_until([&] {
      auto it = starts_.find(id);
      return it != starts_.end() && it->second >= times;
    });
  }

  // The single outcome of `id` (fails the test if there is not exactly one).
  Outcome outcome(const std::string &id) {
    std::lock_guard lk(m_);
    auto it = outcomes_.find(id);
    if (it == outcomes_.end()) {
      FAIL_CHECK("no outcome for job " << id);
      return {};
    }
    CHECK_MESSAGE(it->second.size() == 1, "job " << id << " got " << it->second.size() << " outcomes");
    return it->second.front();
  }
  std::size_t outcome_count(const std::string &id) {
    std::lock_guard lk(m_);
    auto it = outcomes_.find(id);
    return it == outcomes_.end() ? 0 : it->second.size();
  }
  std::size_t total_outcomes() {
    std::lock_guard lk(m_);
    return total_;
  }
  int starts(const std::string &id) {
    std::lock_guard lk(m_);
    auto it = starts_.find(id);
    return it == starts_.end() ? 0 : it->second;
  }
  int max_running() {
    std::lock_guard lk(m_);
    return max_running_;
  }
  int running_now() {
    std::lock_guard lk(m_);
    return running_;
  }

  void notify() { cv_.notify_all(); }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<Outcome>> outcomes_;
  std::map<std::string, int> starts_;
  std::size_t total_ = 0;
  int running_ = 0, max_running_ = 0;
};

// A one-shot gate that a test opens to let blocked jobs return.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lk(m_);
      open_ = true;
      cv_.notify_all();  // under the lock: a waiter may destroy *this once it sees the change
    }
  }
  bool is_open() {
    std::lock_guard lk(m_);
    return open_;
  }
  bool wait(std::chrono::steady_clock::duration d = kDeadline) {
    std::unique_lock lk(m_);
    return cv_.wait_for(lk, d, [&] { return open_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Inside a run: block until `gate` opens or the job is cancelled (then
// returns the cause). A deadline keeps a broken library from hanging the
// suite: the test then fails on its own checks instead.
inline lane_status_t block(lane_ctx_t *ctx, Gate &gate) {
  const auto until = std::chrono::steady_clock::now() + 2 * kDeadline;
  while (!gate.is_open() && std::chrono::steady_clock::now() < until) {
    lane_status_t st = lane_ctx_wait(ctx, 2 * kMs);
    if (st != LANE_ERR_TIMEOUT) return st;
  }
  return LANE_OK;
}

// Per-job state passed as user_data: what run does, and what it saw.
struct Probe {
  Recorder *rec = nullptr;
  std::string id;
  std::function<std::int32_t(lane_ctx_t *)> body;  // NULL: return 0 at once
  std::function<void(const lane_outcome_t *)> on_done_extra;

  std::atomic<int> runs{0};
  std::atomic<int> dones{0};
  std::thread::id run_thread;
  std::atomic<int> seen_cancelled{0};
  std::atomic<int> seen_cause{LANE_OK};
  std::atomic<int> seen_wait{LANE_OK};
  std::atomic<bool> done_returned{false};
  std::string ctx_job_id;
  void *ctx_user_data = nullptr;
  lane_t *ctx_lane = nullptr;

  // Records what the context says about cancellation (call inside run).
  void observe(lane_ctx_t *ctx) {
    seen_cancelled = lane_ctx_cancelled(ctx);
    seen_cause = lane_ctx_cause(ctx);
    seen_wait = lane_ctx_wait(ctx, 0);
  }
};

extern "C" inline std::int32_t probe_run(lane_ctx_t *ctx, void *ud) {
  auto *p = static_cast<Probe *>(ud);
  p->run_thread = std::this_thread::get_id();
  p->ctx_job_id = lane_ctx_job_id(ctx) ? lane_ctx_job_id(ctx) : "";
  p->ctx_user_data = lane_ctx_user_data(ctx);
  p->ctx_lane = lane_ctx_lane(ctx);
  ++p->runs;
  p->rec->started(p->id);
  std::int32_t rc = p->body ? p->body(ctx) : 0;
  p->rec->stopped();
  return rc;
}

extern "C" inline void probe_done(const lane_outcome_t *o, void *ud) {
  auto *p = static_cast<Probe *>(ud);
  ++p->dones;
  if (p->on_done_extra) p->on_done_extra(o);
  p->done_returned = true;
  p->rec->record(o);
}

inline lane_job_t make_job(const char *id) {
  lane_job_t j = LANE_JOB_INIT;
  j.id = id;
  return j;
}

inline lane_stats_t stats_of(lane_t *lane) {
  lane_stats_t s{};
  s.struct_size = sizeof s;
  lane_status_t st = lane_stats(lane, &s);
  CHECK_MESSAGE(st == LANE_OK, "lane_stats: " << lane_status_name(st) << " " << lane_last_error());
  return s;
}

inline void check_invariant(const lane_stats_t &s) {
  CHECK(s.submitted ==
        s.completed + s.failed + s.cancelled + s.preempted + s.timed_out + s.closed + s.running + s.queued);
}

inline bool has_message() {
  const char *m = lane_last_error();
  return m != nullptr && m[0] != '\0';
}

// An injectable clock the test moves by hand.
struct FakeClock {
  std::atomic<std::int64_t> now{1'700'000'000LL * kSec};
  void advance(std::int64_t d) { now += d; }
};
extern "C" inline std::int64_t fake_clock_fn(void *ud) { return static_cast<FakeClock *>(ud)->now.load(); }

// Owns one lane plus the probes of its jobs. The lane is destroyed first
// (lane_destroy waits for every job), so callbacks never see a dead probe.
class LaneFixture {
 public:
  explicit LaneFixture(std::uint32_t max_concurrent = 1, const char *name = "capi") {
    lane_options_t o = LANE_OPTIONS_INIT;
    o.max_concurrent = max_concurrent;
    open(name, o);
  }
  LaneFixture(const char *name, const lane_options_t &o) { open(name, o); }
  LaneFixture(const LaneFixture &) = delete;
  LaneFixture &operator=(const LaneFixture &) = delete;
  ~LaneFixture() {
    for (auto &g : gates_) g->open();
    if (lane != nullptr && !host_tokens.empty()) {
      // A test that failed half-way may leave a granted host-run job behind:
      // finish it so lane_destroy does not wait forever.
      lane_close(lane, LANE_CLOSE_CANCEL);
      for (auto tok : host_tokens) lane_job_finish(lane, tok, 0);
    }
    lane_destroy(lane);
  }

  // Destroys the lane now (the destructor then has nothing left to do).
  void destroy_now() {
    lane_destroy(lane);
    lane = nullptr;
  }

  // A callback job whose run calls `body` (nullptr: returns 0 at once).
  Probe &probe(const std::string &id, std::function<std::int32_t(lane_ctx_t *)> body = nullptr) {
    auto p = std::make_unique<Probe>();
    p->rec = &rec;
    p->id = id;
    p->body = std::move(body);
    probes_.push_back(std::move(p));
    return *probes_.back();
  }
  lane_job_t job_for(Probe &p) {
    lane_job_t j = make_job(p.id.c_str());
    j.run = probe_run;
    j.on_done = probe_done;
    j.user_data = &p;
    return j;
  }
  // A gate owned by the fixture (opened before the lane is destroyed).
  Gate &gate() {
    gates_.push_back(std::make_unique<Gate>());
    return *gates_.back();
  }
  // A job that blocks until `gate` opens or it is cancelled; it records
  // what its context said afterwards, then returns rc.
  Probe &blocker(const std::string &id, Gate &gate, std::int32_t rc = 0) {
    Probe &p = probe(id);
    Probe *pp = &p;
    p.body = [&gate, rc, pp](lane_ctx_t *ctx) -> std::int32_t {
      block(ctx, gate);
      pp->observe(ctx);
      return rc;
    };
    return p;
  }

  lane_status_t submit(Probe &p, lane_ticket_t *t = nullptr) {
    lane_job_t j = job_for(p);
    return lane_submit(lane, &j, t);
  }
  lane_ticket_t submit_ok(Probe &p) {
    lane_ticket_t t = LANE_TICKET_INIT;
    lane_status_t st = submit(p, &t);
    REQUIRE_MESSAGE(st == LANE_OK, "submit " << p.id << ": " << lane_status_name(st) << " " << lane_last_error());
    return t;
  }

  lane_t *lane = nullptr;
  Recorder rec;
  std::vector<std::uint64_t> host_tokens;  // finished at teardown if still granted

 private:
  void open(const char *name, const lane_options_t &o) {
    lane_status_t st = lane_create(name, &o, &lane);
    REQUIRE_MESSAGE(st == LANE_OK, "lane_create: " << lane_status_name(st) << " " << lane_last_error());
    REQUIRE(lane != nullptr);
  }
  std::deque<std::unique_ptr<Probe>> probes_;
  std::deque<std::unique_ptr<Gate>> gates_;
};

// A copy of one port event.
struct Ev {
  lane_event_kind_t kind{};
  lane_status_t status{};
  std::int32_t job_code = 0;
  lane_t *lane = nullptr;
  std::uint64_t token = 0;
  void *user_data = nullptr;
  std::int64_t at_ns = 0;
};

// Owns a port and everything polled from it so far.
class PortFixture {
 public:
  PortFixture() {
    lane_status_t st = lane_port_create(&port);
    REQUIRE_MESSAGE(st == LANE_OK, "lane_port_create: " << lane_last_error());
    REQUIRE(port != nullptr);
  }
  PortFixture(const PortFixture &) = delete;
  PortFixture &operator=(const PortFixture &) = delete;
  ~PortFixture() { lane_port_destroy(port); }

  // Polls once (up to timeout_ns) and appends what came.
  int32_t poll_once(std::int64_t timeout_ns) {
    lane_event_t evs[8];
    std::memset(evs, 0, sizeof evs);
    evs[0].struct_size = sizeof(lane_event_t);
    int32_t n = lane_port_poll(port, evs, 8, timeout_ns);
    for (int32_t i = 0; i < n; ++i) {
      Ev e;
      e.kind = evs[i].kind;
      e.status = evs[i].status;
      e.job_code = evs[i].job_code;
      e.lane = evs[i].lane;
      e.token = evs[i].job_token;
      e.user_data = evs[i].user_data;
      e.at_ns = evs[i].at_ns;
      events.push_back(e);
    }
    return n;
  }

  // Polls until `pred(events)` holds or the deadline passes.
  template <class Pred>
  bool poll_until(Pred pred) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      if (poll_once(20 * kMs) < 0) return false;
    }
    return true;
  }

  std::size_t count(lane_event_kind_t kind, std::uint64_t token) const {
    std::size_t n = 0;
    for (const auto &e : events) n += (e.kind == kind && e.token == token) ? 1 : 0;
    return n;
  }
  const Ev *find(lane_event_kind_t kind, std::uint64_t token) const {
    for (const auto &e : events)
      if (e.kind == kind && e.token == token) return &e;
    return nullptr;
  }
  bool wait_event(lane_event_kind_t kind, std::uint64_t token) {
    return poll_until([&] { return find(kind, token) != nullptr; });
  }

  lane_port_t *port = nullptr;
  std::vector<Ev> events;
};

// A host-run job (run == NULL) that names `port`.
inline lane_job_t host_job(const char *id, lane_port_t *port, void *ud = nullptr) {
  lane_job_t j = make_job(id);
  j.port = port;
  j.user_data = ud;
  return j;
}

}  // namespace capi_test
