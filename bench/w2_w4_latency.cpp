// W2: lane_submit_wait round trip of a no-op job with a free slot (it runs
// inline on the caller). W4: hand-off latency from the end of a job to the
// start of the next queued one, for callback jobs (the worker keeps the next
// job itself) and host-run jobs (lane_job_finish -> the next GRANT on the
// port). Baselines: a direct call, the naive pool's round trip, the naive
// pool's own end-to-start gap, and the two-thread ping-pong.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "baselines.hpp"
#include "common.hpp"
#include "lane/lane.h"

namespace bench {

namespace {

std::int32_t noop_run(lane_ctx_t *, void *) { return 0; }

// Per-op time of `fn`, as the median over batches of `batch` calls.
template <class F>
double per_op_ns(int batches, int batch, F &&fn) {
  std::vector<double> v;
  for (int b = 0; b < batches; ++b) {
    const std::int64_t t0 = now_ns();
    for (int i = 0; i < batch; ++i) fn();
    v.push_back(static_cast<double>(now_ns() - t0) / batch);
  }
  return median(v);
}

double lane_submit_wait_ns(int batches, int batch) {
  lane_t *lane = nullptr;
  lane_create("w2", nullptr, &lane);
  lane_job_t j = LANE_JOB_INIT;
  j.id = "w2";  // unique among live jobs: the previous one has ended
  j.run = noop_run;
  const double ns = per_op_ns(batches, batch, [&] { lane_submit_wait(lane, &j, -1, nullptr); });
  lane_destroy(lane);
  return ns;
}

struct RoundTrip {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
};
void naive_signal(void *p) {
  auto *rt = static_cast<RoundTrip *>(p);
  // Notified under the lock: the waiter may destroy rt as soon as it can lock.
  std::lock_guard lk(rt->mu);
  rt->done = true;
  rt->cv.notify_one();
}

double naive_round_trip_ns(int batches, int batch) {
  NaivePool pool(2);
  RoundTrip rt;
  return per_op_ns(batches, batch, [&] {
    rt.done = false;
    pool.submit(naive_signal, &rt);
    std::unique_lock lk(rt.mu);
    rt.cv.wait(lk, [&] { return rt.done; });
  });
}

volatile int g_sink = 0;
__attribute__((noinline)) void direct_noop(void *) { g_sink = g_sink + 1; }

// ------------------------------------------------------------------- W4

struct Stamps {
  std::vector<std::int64_t> start, end;
  std::atomic<bool> open{false};
};
struct Slot {
  Stamps *s;
  std::size_t i;
};

std::int32_t stamped_run(lane_ctx_t *, void *ud) {
  auto *slot = static_cast<Slot *>(ud);
  slot->s->start[slot->i] = now_ns();
  slot->s->end[slot->i] = now_ns();
  return 0;
}

std::int32_t gate_run(lane_ctx_t *, void *ud) {
  auto *s = static_cast<Stamps *>(ud);
  while (!s->open.load(std::memory_order_acquire)) std::this_thread::yield();
  return 0;
}

std::vector<std::int64_t> gaps(const Stamps &s) {
  std::vector<std::int64_t> g;
  for (std::size_t i = 0; i + 1 < s.start.size(); ++i) g.push_back(s.start[i + 1] - s.end[i]);
  return g;
}

// Cap 1: a gate job holds the slot while n stamped jobs queue; then the gate
// opens and each end hands the slot to the next.
std::vector<std::int64_t> lane_callback_handoffs(int n) {
  lane_t *lane = nullptr;
  lane_create("w4", nullptr, &lane);
  Stamps s;
  s.start.assign(static_cast<std::size_t>(n) + 1, 0);
  s.end.assign(static_cast<std::size_t>(n) + 1, 0);
  std::vector<Slot> slots(static_cast<std::size_t>(n) + 1);
  std::vector<std::string> ids(static_cast<std::size_t>(n) + 1);
  lane_job_t g = LANE_JOB_INIT;
  g.id = "gate";
  g.run = gate_run;
  g.user_data = &s;
  lane_submit(lane, &g, nullptr);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    slots[i] = {&s, i};
    ids[i] = numbered("h", static_cast<std::size_t>(i));
    lane_job_t j = LANE_JOB_INIT;
    j.id = ids[i].c_str();
    j.run = stamped_run;
    j.user_data = &slots[i];
    lane_submit(lane, &j, nullptr);
  }
  s.open.store(true, std::memory_order_release);
  lane_wait_idle(lane, -1);
  lane_destroy(lane);
  return gaps(s);
}

// Host-run: one host thread holds every grant; the gap is from just before
// lane_job_finish of job i to the GRANT of job i + 1 coming out of the poll.
std::vector<std::int64_t> lane_port_handoffs(int n) {
  lane_t *lane = nullptr;
  lane_port_t *port = nullptr;
  lane_create("w4p", nullptr, &lane);
  lane_port_create(&port);
  std::vector<std::string> ids(static_cast<std::size_t>(n) + 1);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = numbered("p", static_cast<std::size_t>(i));
    lane_job_t j = LANE_JOB_INIT;
    j.id = ids[i].c_str();
    j.port = port;
    lane_submit(lane, &j, nullptr);
  }
  std::vector<std::int64_t> g;
  std::int64_t finished_at = 0;
  std::size_t grants = 0;
  lane_event_t ev[16];
  ev[0].struct_size = sizeof(lane_event_t);
  while (grants < ids.size()) {
    int32_t k = lane_port_poll(port, ev, 16, 1'000'000'000);
    const std::int64_t t = now_ns();
    for (int32_t e = 0; e < k; ++e) {
      if (ev[e].kind != LANE_EVENT_GRANT) continue;
      if (finished_at != 0) g.push_back(t - finished_at);
      ++grants;
      finished_at = now_ns();
      lane_job_finish(lane, ev[e].job_token, 0);
    }
  }
  lane_wait_idle(lane, -1);
  lane_destroy(lane);
  lane_port_destroy(port);
  return g;
}

void naive_stamped(void *ud) {
  auto *slot = static_cast<Slot *>(ud);
  slot->s->start[slot->i] = now_ns();
  slot->s->end[slot->i] = now_ns();
}
void naive_gate(void *ud) {
  auto *s = static_cast<Stamps *>(ud);
  while (!s->open.load(std::memory_order_acquire)) std::this_thread::yield();
}

std::vector<std::int64_t> naive_handoffs(int n) {
  NaivePool pool(1);
  Stamps s;
  s.start.assign(static_cast<std::size_t>(n) + 1, 0);
  s.end.assign(static_cast<std::size_t>(n) + 1, 0);
  std::vector<Slot> slots(static_cast<std::size_t>(n) + 1);
  pool.submit(naive_gate, &s);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    slots[i] = {&s, i};
    pool.submit(naive_stamped, &slots[i]);
  }
  s.open.store(true, std::memory_order_release);
  pool.wait_idle();
  return gaps(s);
}

}  // namespace

void w2_submit_wait(const Options &o, Report &r) {
  const int batches = o.quick ? 20 : 200, batch = o.quick ? 100 : 1000;
  std::vector<double> lane, naive, direct;
  for (int run = 0; run < o.runs; ++run) {
    lane.push_back(lane_submit_wait_ns(batches, batch));
    naive.push_back(naive_round_trip_ns(batches, batch / 10));
    direct.push_back(per_op_ns(batches, batch, [] { direct_noop(nullptr); }));
  }
  const double m = median(lane);
  r.section("W2: submit-and-wait round trip (end to end, lane.h)",
            "lane_submit_wait of a no-op callback job on an idle FIFO lane of cap 1 (it runs inline on the caller). "
            "Per-op time = median over batches of " + std::to_string(batch) + " calls; median of " +
                std::to_string(o.runs) + " runs.");
  r.table({"what", "per op", "vs lane"});
  r.row({"lane_submit_wait, no-op job", fmt_ns(m), "1.00x"});
  r.row({"naive pool: submit to a worker + wait on a condition variable", fmt_ns(median(naive)),
         fmt_ratio(median(naive) / m)});
  r.row({"direct call of the no-op", fmt_ns(median(direct)), fmt_ratio(median(direct) / m)});
  r.verdict("W2", "submit-and-wait < 1 µs median", fmt_ns(m), m < 1000);
}

void w4_handoff(const Options &o, Report &r) {
  const int n = o.quick ? 500 : 10'000;
  std::vector<double> cb50, cb99, p50, p99, nv50, nv99, pp50, pp99;
  for (int run = 0; run < o.runs; ++run) {
    auto a = lane_callback_handoffs(n);
    cb50.push_back(quantile_i(a, 0.5));
    cb99.push_back(quantile_i(a, 0.99));
    auto b = lane_port_handoffs(n);
    p50.push_back(quantile_i(b, 0.5));
    p99.push_back(quantile_i(b, 0.99));
    auto c = naive_handoffs(n);
    nv50.push_back(quantile_i(c, 0.5));
    nv99.push_back(quantile_i(c, 0.99));
    auto d = ping_pong(n);
    pp50.push_back(quantile_i(d, 0.5));
    pp99.push_back(quantile_i(d, 0.99));
  }
  r.section("W4: hand-off latency, a job's end to the next queued job's start (end to end, lane.h)",
            std::to_string(n) + " hand-offs per run on a lane of cap 1 with the queue pre-filled; p50 and p99 are "
                                "medians over " + std::to_string(o.runs) + " runs.");
  r.table({"what", "p50", "p99"});
  r.row({"lane, callback jobs (the finishing worker runs the next job)", fmt_ns(median(cb50)), fmt_ns(median(cb99))});
  r.row({"lane, host-run jobs (lane_job_finish -> next GRANT polled, same host thread)", fmt_ns(median(p50)),
         fmt_ns(median(p99))});
  r.row({"baseline: naive pool, 1 worker (end of task -> start of next)", fmt_ns(median(nv50)), fmt_ns(median(nv99))});
  r.row({"baseline: two-thread ping-pong, one-way wake-up (mutex + condvar)", fmt_ns(median(pp50)),
         fmt_ns(median(pp99))});
  r.verdict("W4", "hand-off p50 < 1 µs (p99 reported)",
            "callback p50 " + fmt_ns(median(cb50)) + ", p99 " + fmt_ns(median(cb99)) + "; host-run p50 " +
                fmt_ns(median(p50)) + ", p99 " + fmt_ns(median(p99)),
            median(cb50) < 1000 && median(p50) < 1000);
}

}  // namespace bench
