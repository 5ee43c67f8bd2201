// Randomized stress of session queues: many sessions in every mode over a
// few lanes, threads that enqueue (callback and host-run messages), cancel
// one, cancel all, reset, resize, and runs that read their batch, mailbox
// and dropped ids; some sessions are destroyed mid-flight and lanes are
// closed underneath at the end. Checked: every accepted message gets exactly
// one outcome (on_done or a DONE event, never both missing, never twice), a
// refused one none; statuses are ones a message may end with; a strict
// session never runs more bodies at once than its cap; nothing hangs.
//
// Seeded: LANE_STRESS_SEED replays a run, LANE_STRESS_SCALE lengthens it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lane/lane.h"

namespace {

std::atomic<int> g_failures{0};
#define FAIL_IF(cond, ...)                          \
  do {                                              \
    if (cond) {                                     \
      if (g_failures.fetch_add(1) < 20) {           \
        std::fprintf(stderr, "FAIL: " __VA_ARGS__); \
        std::fputc('\n', stderr);                   \
      }                                             \
    }                                               \
  } while (0)

using Clock = std::chrono::steady_clock;

struct Rng {
  std::mt19937_64 g;
  explicit Rng(std::uint64_t s) : g(s) {}
  std::uint64_t below(std::uint64_t n) { return n ? g() % n : 0; }
  bool chance(int pct) { return static_cast<int>(below(100)) < pct; }
};

constexpr int kLanes = 3;
constexpr int kSessions = 12;
constexpr int kThreads = 4;
constexpr int kPorts = 2;

struct SessionSlot;

// One message: accepted or refused, and every outcome seen.
struct MsgRec {
  std::string id;
  SessionSlot *slot = nullptr;
  bool host = false;
  std::int32_t code = 0;
  std::int64_t sleep_us = 0;
  std::atomic<int> outcomes{0};
  std::atomic<int> accepted{-1};  // -1 unknown, 0 refused, 1 accepted
  std::atomic<int> status{0};
};

struct SessionSlot {
  int index = 0;
  lane_session_t *s = nullptr;
  lane_t *lane = nullptr;
  lane_session_mode_t mode = LANE_SESSION_QUEUE;
  bool strict = false;  // never reset or resized: its cap must hold
  std::uint32_t cap_runs = 1;
  std::atomic<int> bodies{0};
  std::atomic<int> max_bodies{0};
  std::atomic<bool> alive{false};
  std::mutex mu;  // guards destruction against operations of other threads
};

struct World {
  std::uint64_t seed = 1;
  lane_t *lanes[kLanes] = {};
  SessionSlot slots[kSessions];
  lane_port_t *ports[kPorts] = {};
  std::atomic<bool> stop{false};
  std::atomic<bool> pollers_stop{false};
  std::mutex recs_mu;
  std::vector<std::unique_ptr<MsgRec>> recs;
  std::atomic<std::uint64_t> next_id{0};
  std::atomic<std::uint64_t> enq{0}, refused{0}, runs{0}, steered{0}, cancels{0}, resets{0}, grants{0};
  std::atomic<std::uint32_t> tokens{0};
  std::atomic<bool> lane0_closing{false};
};
World *W = nullptr;

bool allowed_outcome(int st) {
  switch (st) {
    case LANE_OK:
    case LANE_ERR_JOB_FAILED:
    case LANE_ERR_CANCELLED:
    case LANE_ERR_CLOSED:
    case LANE_ERR_DROPPED:
    case LANE_ERR_STALE:
    case LANE_ERR_CLEARED: return true;
    default: return false;
  }
}

void record(MsgRec *m, lane_status_t st) {
  const int n = m->outcomes.fetch_add(1) + 1;
  FAIL_IF(n != 1, "message %s got outcome #%d (%s)", m->id.c_str(), n, lane_status_name(st));
  FAIL_IF(!allowed_outcome(st), "message %s ended %s", m->id.c_str(), lane_status_name(st));
  m->status.store(st);
}

extern "C" void on_done(const lane_outcome_t *o, void *ud) {
  auto *m = static_cast<MsgRec *>(ud);
  FAIL_IF(o->job_id == nullptr || m->id != o->job_id, "outcome id differs for %s", m->id.c_str());
  record(m, o->status);
}

void body(lane_ctx_t *ctx, MsgRec *first) {
  SessionSlot *sl = first->slot;
  const int b = sl->bodies.fetch_add(1) + 1;
  int mx = sl->max_bodies.load();
  while (b > mx && !sl->max_bodies.compare_exchange_weak(mx, b)) {
  }
  W->runs.fetch_add(1);
  const std::uint32_t n = lane_ctx_batch_count(ctx);
  FAIL_IF(n < 1, "batch count %u", n);
  FAIL_IF(n > 1 && sl->mode != LANE_SESSION_COLLECT, "batch of %u outside COLLECT", n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const char *id = nullptr;
    void *ud = nullptr;
    FAIL_IF(lane_ctx_batch_item(ctx, i, &id, &ud) != LANE_OK, "batch item %u", i);
    auto *m = static_cast<MsgRec *>(ud);
    FAIL_IF(m == nullptr || id == nullptr || m->id != id, "batch item %u id/user_data mismatch", i);
    FAIL_IF(i == 0 && m != first, "batch item 0 is not the run's own message");
  }
  for (std::uint32_t i = 0; i < lane_ctx_dropped_count(ctx); ++i) {
    FAIL_IF(lane_ctx_dropped_id(ctx, i) == nullptr, "dropped id %u NULL", i);
  }
  const auto until = Clock::now() + std::chrono::microseconds(first->sleep_us);
  while (Clock::now() < until) {
    const char *id = nullptr;
    void *ud = nullptr;
    if (lane_ctx_next_message(ctx, &id, &ud) == 1) {
      W->steered.fetch_add(1);
      FAIL_IF(sl->mode != LANE_SESSION_STEER, "mailbox message outside STEER");
      FAIL_IF(ud == nullptr || static_cast<MsgRec *>(ud)->id != id, "mailbox id/user_data mismatch");
    }
    if (lane_ctx_cancelled(ctx)) break;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  sl->bodies.fetch_sub(1);
}

extern "C" std::int32_t run_fn(lane_ctx_t *ctx, void *ud) {
  auto *m = static_cast<MsgRec *>(ud);
  body(ctx, m);
  return m->code;
}

extern "C" std::int32_t tokens_fn(const char *, std::int64_t *tokens, std::int64_t *window, void *) {
  *tokens = W->tokens.load() % 100;
  *window = 100;
  return 0;
}

// Drains one port: runs host-run session runs on this thread.
void poller(int pi) {
  lane_event_t ev[16];
  while (!W->pollers_stop.load()) {
    std::memset(ev, 0, sizeof ev);
    ev[0].struct_size = sizeof(lane_event_t);
    const std::int32_t n = lane_port_poll(W->ports[pi], ev, 16, 20'000'000);
    FAIL_IF(n < 0, "lane_port_poll: %s", lane_status_name(static_cast<lane_status_t>(n)));
    for (std::int32_t i = 0; i < n; ++i) {
      auto *m = static_cast<MsgRec *>(ev[i].user_data);
      if (ev[i].kind == LANE_EVENT_GRANT) {
        W->grants.fetch_add(1);
        FAIL_IF(ev[i].ctx == nullptr, "GRANT without a context");
        if (ev[i].ctx) body(ev[i].ctx, m);
        FAIL_IF(lane_job_finish(ev[i].lane, ev[i].job_token, m->code) != LANE_OK, "lane_job_finish: %s",
                lane_last_error());
      } else if (ev[i].kind == LANE_EVENT_DONE) {
        record(m, ev[i].status);
      }
    }
  }
}

lane_session_options_t random_options(Rng &r, SessionSlot &sl) {
  lane_session_options_t o = LANE_SESSION_OPTIONS_INIT;
  o.mode = static_cast<lane_session_mode_t>(r.below(5));
  o.cap = static_cast<std::uint32_t>(1 + r.below(6));
  o.drop = static_cast<lane_drop_t>(r.below(3));
  const std::uint64_t d = r.below(3);
  o.debounce_ns = d == 0 ? -1 : static_cast<std::int64_t>(r.below(3'000'000) + 1);
  o.max_concurrent = static_cast<std::uint32_t>(1 + r.below(3));
  if (r.chance(30)) {
    o.token_estimate = tokens_fn;
    o.throttle_ratio = 0.5;
  }
  sl.mode = o.mode;
  sl.cap_runs = o.mode == LANE_SESSION_FOLLOWUP ? 1 : o.max_concurrent;
  return o;
}

void open_session(Rng &r, SessionSlot &sl) {
  sl.lane = W->lanes[r.below(kLanes)];
  lane_session_options_t o = random_options(r, sl);
  sl.bodies = 0;
  sl.max_bodies = 0;
  const std::string key = "sess-" + std::to_string(sl.index) + "-" + std::to_string(r.below(1000));
  const lane_status_t st = lane_session_create(sl.lane, key.c_str(), &o, &sl.s);
  const bool closed_ok = st == LANE_ERR_CLOSED && sl.lane == W->lanes[0] && W->lane0_closing.load();
  FAIL_IF(st != LANE_OK && !closed_ok, "lane_session_create: %s %s", lane_status_name(st), lane_last_error());
  sl.alive = st == LANE_OK;
}

void close_session(SessionSlot &sl) {
  if (!sl.alive.exchange(false)) return;
  lane_session_destroy(sl.s);
  FAIL_IF(sl.strict && sl.max_bodies.load() > static_cast<int>(sl.cap_runs),
          "strict session %d (mode %d) ran %d bodies at once, cap %u", sl.index, sl.mode, sl.max_bodies.load(),
          sl.cap_runs);
  sl.s = nullptr;
}

void enqueue_one(Rng &r, SessionSlot &sl) {
  auto m = std::make_unique<MsgRec>();
  MsgRec *mp = m.get();
  mp->slot = &sl;
  mp->host = r.chance(30);
  mp->code = r.chance(15) ? 1 + static_cast<std::int32_t>(r.below(5)) : 0;
  mp->sleep_us = static_cast<std::int64_t>(r.below(r.chance(10) ? 3000 : 300));
  const bool dup = r.chance(3);
  mp->id = dup ? "dup-" + std::to_string(r.below(4)) : "m" + std::to_string(W->next_id.fetch_add(1));
  {
    std::lock_guard lk(W->recs_mu);
    W->recs.push_back(std::move(m));
  }
  lane_job_t j = LANE_JOB_INIT;
  j.id = mp->id.c_str();
  j.user_data = mp;
  j.flags = r.chance(60) ? LANE_JOB_STEERABLE : 0;
  if (mp->host) {
    j.port = W->ports[r.below(kPorts)];
  } else {
    j.run = run_fn;
    j.on_done = on_done;
  }
  if (r.chance(20)) j.tenant = "shared";
  const lane_status_t st = lane_session_enqueue(sl.s, &j);
  W->enq.fetch_add(1);
  if (st == LANE_OK) {
    mp->accepted = 1;
  } else {
    W->refused.fetch_add(1);
    mp->accepted = 0;
    FAIL_IF(st != LANE_ERR_QUEUE_FULL && st != LANE_ERR_DUPLICATE && st != LANE_ERR_CLOSED,
            "enqueue refused with %s: %s", lane_status_name(st), lane_last_error());
    FAIL_IF(st == LANE_ERR_DUPLICATE && !dup, "fresh id %s refused as duplicate", mp->id.c_str());
  }
}

void worker(std::uint64_t seed) {
  Rng r(seed);
  while (!W->stop.load()) {
    SessionSlot &sl = W->slots[r.below(kSessions)];
    std::unique_lock lk(sl.mu);
    if (!sl.alive.load()) {
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    const std::uint64_t op = r.below(1000);
    if (op < 700) {
      enqueue_one(r, sl);
    } else if (op < 760) {
      W->cancels.fetch_add(1);
      lane_session_cancel_one(sl.s);
    } else if (op < 790) {
      W->cancels.fetch_add(1);
      lane_session_cancel_all(sl.s);
    } else if (op < 810 && !sl.strict) {
      W->resets.fetch_add(1);
      FAIL_IF(lane_session_reset(sl.s) != LANE_OK, "reset: %s", lane_last_error());
    } else if (op < 830 && !sl.strict) {
      FAIL_IF(lane_session_set_max_concurrent(sl.s, static_cast<std::uint32_t>(1 + r.below(3))) != LANE_OK,
              "set_max_concurrent: %s", lane_last_error());
    } else if (op < 900) {
      const std::uint32_t a = lane_session_active(sl.s);
      FAIL_IF(sl.strict && a > sl.cap_runs, "strict session %d has %u active runs, cap %u", sl.index, a,
              sl.cap_runs);
      FAIL_IF(lane_session_queued(sl.s) > 6, "session %d queues more than its cap", sl.index);
    } else if (op < 910) {
      W->tokens.fetch_add(static_cast<std::uint32_t>(r.below(50)));
    } else if (op < 915) {
      // Destroy mid-flight and open a new session in its place.
      close_session(sl);
      open_session(r, sl);
    } else {
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(r.below(400)));
    }
  }
}

std::uint64_t env_u64(const char *name, std::uint64_t def) {
  const char *v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : def;
}

}  // namespace

int main() {
  World w;
  W = &w;
  w.seed = env_u64("LANE_STRESS_SEED", static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
  const std::uint64_t scale = std::max<std::uint64_t>(1, env_u64("LANE_STRESS_SCALE", 1));
  std::printf("session stress: seed %" PRIu64 " (LANE_STRESS_SEED to replay), scale %" PRIu64 "\n", w.seed, scale);
  std::fflush(stdout);
  Rng r(w.seed);

  for (int i = 0; i < kLanes; ++i) {
    lane_options_t o = LANE_OPTIONS_INIT;
    o.max_concurrent = static_cast<std::uint32_t>(1 + r.below(3));
    o.policy = r.chance(50) ? LANE_POLICY_FAIR_SHARE : LANE_POLICY_FIFO;
    const std::string name = "lane-" + std::to_string(i);
    if (lane_create(name.c_str(), &o, &w.lanes[i]) != LANE_OK) return 2;
  }
  for (auto &p : w.ports) {
    if (lane_port_create(&p) != LANE_OK) return 2;
  }
  std::vector<std::thread> pollers;
  for (int i = 0; i < kPorts; ++i) pollers.emplace_back(poller, i);
  for (int i = 0; i < kSessions; ++i) {
    w.slots[i].index = i;
    w.slots[i].strict = i % 3 == 0;
    open_session(r, w.slots[i]);
  }

  // A watchdog: a hang is a failure with a message, not a CI timeout.
  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    const auto until = Clock::now() + std::chrono::seconds(120 * scale);
    while (!finished.load()) {
      if (Clock::now() > until) {
        std::fprintf(stderr, "FAIL: session stress hung (seed %" PRIu64 ")\n", w.seed);
        std::_Exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i) ts.emplace_back(worker, w.seed * 31 + static_cast<std::uint64_t>(i));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500 * scale));
  // The end: close one lane underneath its sessions while work is in flight.
  w.lane0_closing = true;
  lane_close(w.lanes[0], r.chance(50) ? LANE_CLOSE_CANCEL : LANE_CLOSE_DRAIN);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  w.stop = true;
  for (auto &t : ts) t.join();
  for (auto &sl : w.slots) {
    std::lock_guard lk(sl.mu);
    close_session(sl);
  }
  // Every accepted message has its outcome once destroy returned, except
  // DONE events still on their way through a port.
  const auto until = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    std::size_t missing = 0;
    {
      std::lock_guard lk(w.recs_mu);
      for (auto &m : w.recs) {
        if (m->accepted.load() == 1 && m->outcomes.load() == 0) ++missing;
      }
    }
    if (missing == 0) break;
    if (Clock::now() > until) {
      FAIL_IF(true, "%zu accepted messages have no outcome", missing);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  w.pollers_stop = true;
  for (auto &t : pollers) t.join();
  std::size_t accepted = 0;
  int counts[32] = {};
  for (auto &m : w.recs) {
    FAIL_IF(m->accepted.load() == -1, "message %s never returned from enqueue", m->id.c_str());
    if (m->accepted.load() == 0) {
      FAIL_IF(m->outcomes.load() != 0, "refused message %s got an outcome", m->id.c_str());
      continue;
    }
    ++accepted;
    const int st = -m->status.load();
    if (st >= 0 && st < 32) ++counts[st];
  }
  for (auto *l : w.lanes) {
    lane_stats_t s{};
    s.struct_size = sizeof s;
    lane_stats(l, &s);
    FAIL_IF(s.running != 0 || s.queued != 0, "%s not idle after the sessions were destroyed", s.name);
    FAIL_IF(s.submitted != s.completed + s.failed + s.cancelled + s.preempted + s.timed_out + s.closed,
            "%s stats do not add up", s.name);
    lane_destroy(l);
  }
  for (auto *p : w.ports) lane_port_destroy(p);
  finished = true;
  watchdog.join();
  std::printf("session stress: %" PRIu64 " enqueues (%" PRIu64 " refused), %zu accepted; runs %" PRIu64
              ", host grants %" PRIu64 ", steered %" PRIu64 ", cancels %" PRIu64 ", resets %" PRIu64 "\n",
              w.enq.load(), w.refused.load(), accepted, w.runs.load(), w.grants.load(), w.steered.load(),
              w.cancels.load(), w.resets.load());
  std::printf("session stress: outcomes ok %d failed %d cancelled %d closed %d dropped %d stale %d cleared %d\n",
              counts[0], counts[-LANE_ERR_JOB_FAILED], counts[-LANE_ERR_CANCELLED], counts[-LANE_ERR_CLOSED],
              counts[-LANE_ERR_DROPPED], counts[-LANE_ERR_STALE], counts[-LANE_ERR_CLEARED]);
  const int f = g_failures.load();
  std::printf("session stress: %s (seed %" PRIu64 ")\n", f ? "FAILED" : "PASS", w.seed);
  return f ? 1 : 0;
}
