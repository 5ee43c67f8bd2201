// Allocation failure, injected: this program replaces the global operator
// new so that the Nth allocation made by the calling thread after arm(N)
// fails (std::bad_alloc, or nullptr for the nothrow forms). Each scenario
// makes one C API call with N = 1, 2, 3, ... until the call gets through
// without meeting the failure, and checks every time that
//  - the call answers LANE_OK or LANE_ERR_NOMEM ("out of memory" in
//    lane_last_error), never anything else and never a crash;
//  - a job the call accepted gets exactly one outcome and a refused one none;
//  - the lane still works afterwards: every earlier job ends, lane_wait_idle
//    returns, lane_destroy returns (each wait is bounded: a hang fails).
// Only the armed thread's allocations fail: workers and the timer thread run
// as usual, so what is checked is the call's own all-or-nothing answer.
//
// Built only without sanitizers (they replace operator new themselves).
// LANE_ALLOC_TRACE=1 prints the scenario and N of each injected failure, 2
// the stack of each.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <execinfo.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "lane/lane.h"

// ------------------------------------------------------------ the allocator
namespace {
thread_local long t_countdown = 0;  // > 0: the allocation that brings it to 0 fails
thread_local bool t_hit = false;    // the armed failure happened

void arm(long n) {
  t_hit = false;
  t_countdown = n;
}
bool disarm() {
  t_countdown = 0;
  return t_hit;
}

void *allocate(std::size_t n, std::size_t align, bool nothrow) {
  if (t_countdown > 0 && --t_countdown == 0) {
    t_hit = true;
    if (const char *v = std::getenv("LANE_ALLOC_TRACE"); v && *v == '2') {
      void *frames[32];
      backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
      std::fputs("--\n", stderr);
    }
    if (nothrow) return nullptr;
    throw std::bad_alloc();
  }
  if (n == 0) n = 1;
  void *p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                               : std::malloc(n);
  if (!p && !nothrow) throw std::bad_alloc();
  return p;
}
}  // namespace

void *operator new(std::size_t n) { return allocate(n, 0, false); }
void *operator new[](std::size_t n) { return allocate(n, 0, false); }
void *operator new(std::size_t n, const std::nothrow_t &) noexcept { return allocate(n, 0, true); }
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept { return allocate(n, 0, true); }
void *operator new(std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a), false); }
void *operator new[](std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a), false); }
void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return allocate(n, static_cast<std::size_t>(a), true);
}
void *operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return allocate(n, static_cast<std::size_t>(a), true);
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }
void operator delete(void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }

// ------------------------------------------------------------ fixtures
namespace {

constexpr long kMaxN = 400;  // no single call here allocates anywhere near this often
constexpr auto kBound = std::chrono::seconds(20);

struct Count {
  std::atomic<int> done{0};
  std::atomic<int> last_status{0};
};

void on_done(const lane_outcome_t *o, void *ud) {
  auto *c = static_cast<Count *>(ud);
  c->last_status.store(o->status);
  c->done.fetch_add(1);
}

std::atomic<bool> g_release{false};
int32_t run_ok(lane_ctx_t *, void *) { return 0; }
int32_t run_blocker(lane_ctx_t *ctx, void *) {
  // Holds its slot until released or cancelled (bounded either way).
  const auto until = std::chrono::steady_clock::now() + kBound;
  while (!g_release.load() && !lane_ctx_cancelled(ctx) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 0;
}

bool eventually(const std::atomic<int> &v, int want) {
  const auto until = std::chrono::steady_clock::now() + kBound;
  while (v.load() < want) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return v.load() == want;
}

std::atomic<std::int64_t> g_now{1'000'000'000};
long g_n = 0;                  // the sweep's N, for messages
const char *g_scenario = "";  // and its scenario
std::int64_t fake_clock(void *) { return g_now.load(); }

bool trace() {
  const char *v = std::getenv("LANE_ALLOC_TRACE");
  return v && *v == '1';
}

// The answer of one armed call: OK, or NOMEM saying so.
void check_answer(const char *scenario, long n, lane_status_t s, bool hit) {
  INFO(scenario << " with allocation " << n << " failing: " << lane_status_name(s) << " " << lane_last_error());
  if (trace() && hit) std::fprintf(stderr, "%s: allocation %ld failed -> %s\n", scenario, n, lane_status_name(s));
  CHECK((s == LANE_OK || s == LANE_ERR_NOMEM));
  if (s == LANE_ERR_NOMEM) {
    CHECK(hit);
    CHECK(std::strstr(lane_last_error(), "out of memory") != nullptr);
  }
  if (!hit) CHECK(s == LANE_OK);
}

lane_job_t job_of(const char *id, lane_run_fn run, Count *c) {
  lane_job_t j = LANE_JOB_INIT;
  j.id = id;
  j.run = run;
  j.on_done = on_done;
  j.user_data = c;
  return j;
}

// Drives one scenario: setup() outside the armed window, call() armed,
// then the checks. Returns when a call got through without the failure.
// Whether the call needs memory: always (a sweep that meets no failure at
// N = 1 is wrong), never (the first run must get through), or only on some
// runs (a worker thread to start, effects beyond the inline few).
enum class Needs { Memory, None, Maybe };

template <class Setup, class Call, class After>
void sweep(const char *scenario, Setup setup, Call call, After after, Needs needs = Needs::Memory) {
  long n = 1;
  for (; n <= kMaxN; ++n) {
    auto state = setup();
    g_n = n;
    g_scenario = scenario;
    arm(n);
    const lane_status_t s = call(state);
    const bool hit = disarm();
    check_answer(scenario, n, s, hit);
    after(state, s);
    if (!hit) break;
  }
  INFO(std::string(scenario));
  if (needs == Needs::Memory) CHECK(n > 1);  // the sweep met at least one failure
  if (needs == Needs::None) CHECK(n == 1);   // the call took no memory
  CHECK(n <= kMaxN);  // and a run got through
}

// A lane for one scenario, with a count per job id it will see.
struct LaneFix {
  lane_t *lane = nullptr;
  lane_port_t *port = nullptr;
  lane_session_t *session = nullptr;
  std::vector<Count *> counts;
  Count *count() {
    counts.push_back(new Count);
    return counts.back();
  }
};

lane_t *make_lane(uint32_t slots, lane_policy_t policy, bool fake) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = slots;
  o.policy = policy;
  o.preempt_min_runtime_ns = -1;
  if (fake) {
    o.clock = fake_clock;
  }
  lane_t *l = nullptr;
  REQUIRE(lane_create("alloc", &o, &l) == LANE_OK);
  return l;
}

// Ends a scenario's lane: releases blockers, waits for every outcome
// (bounded) and checks each accepted job got exactly one.
void finish(LaneFix &f, const std::vector<int> &want) {
  INFO(g_scenario << ", allocation " << g_n << " failing");
  g_release.store(true);
  REQUIRE(f.lane != nullptr);
  if (f.port) {
    // Host-run jobs: finish each one granted, until the lane is idle.
    const auto until = std::chrono::steady_clock::now() + kBound;
    lane_event_t ev[16] = {};
    for (lane_event_t &e : ev) e.struct_size = sizeof e;
    while (lane_wait_idle(f.lane, 0) != LANE_OK && std::chrono::steady_clock::now() < until) {
      const int32_t got = lane_port_poll(f.port, ev, 16, 10'000'000);
      for (int32_t i = 0; i < got; ++i) {
        // (A scenario may have finished a granted job itself: then this
        // finish is refused, and the outcome counts say whether all ended.)
        if (ev[i].kind == LANE_EVENT_GRANT) (void)lane_job_finish(f.lane, ev[i].job_token, 0);
      }
    }
  }
  CHECK(lane_wait_idle(f.lane, std::chrono::nanoseconds(kBound).count()) == LANE_OK);
  for (std::size_t i = 0; i < f.counts.size() && i < want.size(); ++i) {
    INFO("job " << i << " of the run with allocation " << g_n << " failing: " << f.counts[i]->done.load()
                  << " outcomes, want " << want[i]);
    CHECK(eventually(f.counts[i]->done, want[i]));
  }
  CHECK(lane_destroy(f.lane) == LANE_OK);
  if (f.port) CHECK(lane_port_destroy(f.port) == LANE_OK);
  for (Count *c : f.counts) delete c;
  g_release.store(false);
}

// A scenario on one lane (and a port when `port`): setup submits the jobs
// already there, each of which must end exactly once; call makes the armed
// call, for the job counted by `armed` when `submits` (else armed is null).
// That job must end once if the call answered LANE_OK, and never if not.
struct LaneScenario {
  uint32_t slots = 1;
  lane_policy_t policy = LANE_POLICY_FIFO;
  bool fake_clock = false;
  bool port = false;
  bool submits = true;
  Needs needs = Needs::Memory;
};

template <class Setup, class Call>
void sweep_lane(const char *scenario, LaneScenario sc, Setup setup, Call call) {
  sweep(
      scenario,
      [&] {
        auto *f = new LaneFix;
        f->lane = make_lane(sc.slots, sc.policy, sc.fake_clock);
        if (sc.port) REQUIRE(lane_port_create(&f->port) == LANE_OK);
        setup(*f);
        if (sc.submits) f->count();
        return f;
      },
      [&](LaneFix *f) { return call(*f, sc.submits ? f->counts.back() : nullptr); },
      [&](LaneFix *f, lane_status_t s) {
        std::vector<int> want(f->counts.size(), 1);
        if (sc.submits) want.back() = s == LANE_OK ? 1 : 0;
        finish(*f, want);
        delete f;
      },
      sc.needs);
}

// A job that holds the lane's one slot until the scenario ends.
void submit_blocker(LaneFix &f, const char *id, uint32_t flags = 0) {
  lane_job_t b = job_of(id, run_blocker, f.count());
  b.flags = flags;
  REQUIRE(lane_submit(f.lane, &b, nullptr) == LANE_OK);
}

}  // namespace

TEST_CASE("lane_create and lane_port_create answer NOMEM or make the handle") {
  sweep(
      "lane_create", [] { return static_cast<lane_t *>(nullptr); },
      [](lane_t *&l) {
        lane_options_t o = LANE_OPTIONS_INIT;
        o.policy = LANE_POLICY_FAIR_SHARE;
        return lane_create("created", &o, &l);
      },
      [](lane_t *&l, lane_status_t s) {
        CHECK((s == LANE_OK) == (l != nullptr));
        if (l) CHECK(lane_destroy(l) == LANE_OK);
      });
  sweep(
      "lane_port_create", [] { return static_cast<lane_port_t *>(nullptr); },
      [](lane_port_t *&p) { return lane_port_create(&p); },
      [](lane_port_t *&p, lane_status_t s) {
        CHECK((s == LANE_OK) == (p != nullptr));
        if (p) CHECK(lane_port_destroy(p) == LANE_OK);
      });
}

// Callback jobs: dispatched at once, or queued behind a full lane (FIFO and
// fair share, a new tenant, a queue timeout on).
TEST_CASE("lane_submit of a callback job is all or nothing") {
  struct Case {
    const char *name;
    lane_policy_t policy;
    bool queued;
  };
  for (const Case c : {Case{"submit dispatched fifo", LANE_POLICY_FIFO, false},
                       Case{"submit dispatched fair", LANE_POLICY_FAIR_SHARE, false},
                       Case{"submit queued fifo", LANE_POLICY_FIFO, true},
                       Case{"submit queued fair", LANE_POLICY_FAIR_SHARE, true}}) {
    sweep_lane(
        c.name, {.policy = c.policy},
        [&](LaneFix &f) {
          if (c.queued) submit_blocker(f, "blocker");
        },
        [](LaneFix &f, Count *armed) {
          lane_job_t j = job_of("armed", run_ok, armed);
          j.tenant = "tenant-new";
          j.queue_timeout_ns = 60'000'000'000;
          lane_ticket_t t = LANE_TICKET_INIT;
          return lane_submit(f.lane, &j, &t);
        });
  }
}

TEST_CASE("lane_submit of a host-run job is all or nothing") {
  for (const bool queued : {false, true}) {
    sweep_lane(
        queued ? "host-run queued" : "host-run granted", {.policy = LANE_POLICY_FAIR_SHARE, .port = true},
        [&](LaneFix &f) {
          if (queued) submit_blocker(f, "blocker");
        },
        [](LaneFix &f, Count *armed) {
          lane_job_t j = job_of("host", nullptr, armed);
          j.port = f.port;
          j.tenant = "host-tenant";
          return lane_submit(f.lane, &j, nullptr);
        });
  }
}

// A submit first carries out what fell due: here six queue timeouts at once
// (more outcomes than fit without allocating), then the armed job.
TEST_CASE("a submit that first times out six queued jobs loses none of them") {
  sweep_lane(
      "submit after timeouts", {.fake_clock = true},
      [](LaneFix &f) {
        submit_blocker(f, "blocker");
        for (int i = 0; i < 6; ++i) {
          std::string id = "due-" + std::to_string(i);
          lane_job_t j = job_of(id.c_str(), run_ok, f.count());
          j.queue_timeout_ns = 1000;
          REQUIRE(lane_submit(f.lane, &j, nullptr) == LANE_OK);
        }
        g_now.fetch_add(1'000'000);  // all six are due now
      },
      [](LaneFix &f, Count *armed) {
        lane_job_t j = job_of("armed", run_ok, armed);
        return lane_submit(f.lane, &j, nullptr);
      });
}

TEST_CASE("a preempting submit is all or nothing") {
  sweep_lane(
      "preempting submit", {}, [](LaneFix &f) { submit_blocker(f, "victim", LANE_JOB_PREEMPTIBLE); },
      [](LaneFix &f, Count *armed) {
        lane_job_t j = job_of("urgent", run_ok, armed);
        j.priority = 10;
        return lane_submit(f.lane, &j, nullptr);
      });
}

TEST_CASE("lane_submit_wait answers NOMEM or the job's own outcome") {
  sweep_lane(
      "submit_wait", {}, [](LaneFix &) {},
      [](LaneFix &f, Count *armed) {
        lane_job_t j = job_of("waited", run_ok, armed);
        lane_outcome_t o{};
        o.struct_size = sizeof o;
        return lane_submit_wait(f.lane, &j, -1, &o);
      });
}

TEST_CASE("lane_cancel of a queued job takes no memory") {
  sweep_lane(
      "cancel queued", {.policy = LANE_POLICY_FAIR_SHARE, .submits = false, .needs = Needs::None},
      [](LaneFix &f) {
        submit_blocker(f, "blocker");
        lane_job_t q = job_of("queued", run_ok, f.count());
        q.tenant = "t";
        REQUIRE(lane_submit(f.lane, &q, nullptr) == LANE_OK);
      },
      [](LaneFix &f, Count *) {
        const lane_status_t s = lane_cancel(f.lane, "queued", LANE_CANCEL_QUEUED);
        if (s == LANE_OK) CHECK(f.counts[1]->last_status.load() == LANE_ERR_CANCELLED);
        return s;
      });
}

TEST_CASE("session create and enqueue are all or nothing") {
  sweep_lane(
      "session enqueue", {.slots = 2, .policy = LANE_POLICY_FAIR_SHARE}, [](LaneFix &) {},
      [](LaneFix &f, Count *armed) {
        lane_session_t *s = nullptr;
        lane_status_t st = lane_session_create(f.lane, "user-1", nullptr, &s);
        if (st != LANE_OK) {
          CHECK(s == nullptr);
          return st;
        }
        lane_job_t j = job_of("msg-1", run_ok, armed);
        st = lane_session_enqueue(s, &j);
        const bool hit = disarm();  // the destroy is not part of the answer
        CHECK(lane_session_destroy(s) == LANE_OK);
        if (hit) t_hit = true;
        return st;
      });
}

TEST_CASE("registry create and get_or_create are all or nothing") {
  sweep(
      "registry",
      [] { return static_cast<lane_registry_t *>(nullptr); },
      [](lane_registry_t *&reg) {
        lane_status_t s = lane_registry_create(nullptr, &reg);
        if (s != LANE_OK) return s;
        lane_t *l = nullptr;
        s = lane_registry_get_or_create(reg, "llm", &l);
        if (s == LANE_OK) CHECK(l != nullptr);
        return s;
      },
      [](lane_registry_t *&reg, lane_status_t) {
        if (reg) {
          lane_t *l = nullptr;
          CHECK(lane_registry_get_or_create(reg, "llm", &l) == LANE_OK);  // still usable, unarmed
          CHECK(lane_registry_destroy(reg) == LANE_OK);
        }
      });
}

// Control calls: each one either takes effect or answers NOMEM, and the jobs
// it moves (dispatched by a wider lane or a resume, ended by a close) each
// end once.
TEST_CASE("lane control calls are all or nothing") {
  const auto queue_six = [](LaneFix &f) {
    submit_blocker(f, "blocker");
    for (int i = 0; i < 6; ++i) {
      std::string id = "q-" + std::to_string(i);
      lane_job_t j = job_of(id.c_str(), run_ok, f.count());
      j.tenant = i % 2 ? "odd" : "even";
      REQUIRE(lane_submit(f.lane, &j, nullptr) == LANE_OK);
    }
  };
  const LaneScenario fair{.policy = LANE_POLICY_FAIR_SHARE, .submits = false};
  const LaneScenario fair_maybe{.policy = LANE_POLICY_FAIR_SHARE, .submits = false, .needs = Needs::Maybe};
  sweep_lane("set_max_concurrent", fair, queue_six, [](LaneFix &f, Count *) {
    return lane_set_max_concurrent(f.lane, 4);
  });
  sweep_lane("set_tenant_weight", fair, queue_six, [](LaneFix &f, Count *) {
    return lane_set_tenant_weight(f.lane, "a-new-tenant", 3);
  });
  sweep_lane("close cancel with six queued", fair, queue_six, [](LaneFix &f, Count *) {
    return lane_close(f.lane, LANE_CLOSE_CANCEL);
  });
  sweep_lane(
      "resume with six queued", fair_maybe,
      [&](LaneFix &f) {
        queue_six(f);
        REQUIRE(lane_pause(f.lane) == LANE_OK);
        g_release.store(true);  // the blocker ends; the paused lane dispatches nothing
        CHECK(eventually(f.counts[0]->done, 1));
        g_release.store(false);
      },
      [](LaneFix &f, Count *) { return lane_resume(f.lane); });
  sweep_lane("stats", fair, queue_six, [](LaneFix &f, Count *) {
    lane_stats_t st{};
    st.struct_size = sizeof st;
    return lane_stats(f.lane, &st);
  });
}

TEST_CASE("lane_job_finish of a host-run job hands over its one outcome") {
  static uint64_t token = 0;
  sweep_lane(
      "job_finish", {.port = true, .submits = false, .needs = Needs::Maybe},
      [](LaneFix &f) {
        lane_job_t j = job_of("host", nullptr, f.count());
        j.port = f.port;
        lane_ticket_t t = LANE_TICKET_INIT;
        REQUIRE(lane_submit(f.lane, &j, &t) == LANE_OK);
        token = t.job_token;
        lane_job_t q = job_of("next", run_ok, f.count());
        REQUIRE(lane_submit(f.lane, &q, nullptr) == LANE_OK);  // dispatched by the finish
      },
      [](LaneFix &f, Count *) { return lane_job_finish(f.lane, token, 0); });
}

TEST_CASE("session cancel and reset are all or nothing") {
  for (const bool reset : {false, true}) {
    sweep_lane(
        reset ? "session reset" : "session cancel_all", {.submits = false},
        [](LaneFix &f) {
          submit_blocker(f, "blocker");  // the session's messages stay queued
          lane_session_t *s = nullptr;
          REQUIRE(lane_session_create(f.lane, "user-2", nullptr, &s) == LANE_OK);
          for (int i = 0; i < 5; ++i) {
            std::string id = "m-" + std::to_string(i);
            lane_job_t j = job_of(id.c_str(), run_ok, f.count());
            REQUIRE(lane_session_enqueue(s, &j) == LANE_OK);
          }
          f.session = s;
        },
        [reset](LaneFix &f, Count *) {
          lane_status_t st = LANE_OK;
          if (reset) {
            st = lane_session_reset(f.session);
          } else if (lane_session_cancel_all(f.session) < 0) {
            st = LANE_ERR_NOMEM;  // a negative count is the status
          }
          const bool hit = disarm();
          CHECK(lane_session_destroy(f.session) == LANE_OK);
          if (hit) t_hit = true;
          f.session = nullptr;
          return st;
        });
  }
}

TEST_CASE("registry reload, remove and metrics are all or nothing") {
  struct Reg {
    lane_registry_t *reg = nullptr;
    lane_t *lane = nullptr;
    Count count;
  };
  const auto make = [] {
    auto *r = new Reg;
    REQUIRE(lane_registry_create(nullptr, &r->reg) == LANE_OK);
    REQUIRE(lane_registry_get_or_create(r->reg, "llm", &r->lane) == LANE_OK);
    lane_job_t j = job_of("in-flight", run_blocker, &r->count);
    REQUIRE(lane_submit(r->lane, &j, nullptr) == LANE_OK);
    return r;
  };
  const auto end = [](Reg *r, lane_status_t) {
    g_release.store(true);
    CHECK(lane_registry_destroy(r->reg) == LANE_OK);  // waits for the job
    CHECK(r->count.done.load() == 1);
    g_release.store(false);
    delete r;
  };
  sweep("registry reload", make, [](Reg *r) { return lane_registry_reload(r->reg); }, end);
  sweep("registry metrics", make, [](Reg *r) {
    char buf[8192];
    size_t len = 0;
    return lane_registry_metrics(r->reg, buf, sizeof buf, &len);
  }, end);
  sweep("registry remove", make, [](Reg *r) {
    const lane_status_t s = lane_registry_remove(r->reg, "llm");
    return s == LANE_ERR_BUSY ? LANE_OK : s;  // a lane with a job running is kept: that answer is fine too
  }, end);
}

namespace {
std::atomic<int> g_samples{0};
int32_t count_sample(const char *, uint32_t, uint32_t, int64_t, void *) {
  g_samples.fetch_add(1);
  return 0;
}
}  // namespace

TEST_CASE("sampler create and sample_once are all or nothing") {
  struct Samp {
    lane_registry_t *reg = nullptr;
    lane_sampler_t *s = nullptr;
  };
  const auto make = [] {
    auto *x = new Samp;
    REQUIRE(lane_registry_create(nullptr, &x->reg) == LANE_OK);
    lane_t *l = nullptr;
    REQUIRE(lane_registry_get_or_create(x->reg, "gpu", &l) == LANE_OK);
    return x;
  };
  const auto end = [](Samp *x, lane_status_t) {
    if (x->s) CHECK(lane_sampler_destroy(x->s) == LANE_OK);
    CHECK(lane_registry_destroy(x->reg) == LANE_OK);
    delete x;
  };
  sweep("sampler create and sample", make, [](Samp *x) {
    lane_sampler_options_t o = LANE_SAMPLER_OPTIONS_INIT;
    o.sink = count_sample;
    lane_status_t st = lane_sampler_create(x->reg, &o, &x->s);
    if (st != LANE_OK) {
      CHECK(x->s == nullptr);
      return st;
    }
    const int before = g_samples.load();
    st = lane_sampler_sample_once(x->s);
    if (st == LANE_OK) CHECK(g_samples.load() == before + 1);
    return st;
  }, end);
}
