// A coverage-guided fuzzer over sequences of C API calls on one lane with a
// fake clock. Every job is host-run through one port, so the whole run
// happens on this thread and replays the same way from the same bytes (the
// lane's timer thread only posts events for timeouts the fake clock makes
// due). Each input byte picks an operation; the next bytes are its
// arguments. Checked on every input:
//  - every accepted job gets exactly one DONE event, none for a refusal;
//  - a GRANT is never given twice for one job, and never to a refused one;
//  - at the end lane_stats balances: submitted == sum of the outcome counters;
//  - a GRANT never makes more granted, unfinished jobs than the cap, unless
//    overcommit is on (lowering the cap while they run grants nothing new).
// Built as a libFuzzer target with clang (-Dfuzz=true), and in every build
// as a test that replays the corpus in tests/fuzz/corpus.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "lane/lane.h"

namespace {

[[noreturn]] void broken(const char *what, const std::string &detail) {
  std::fprintf(stderr, "api_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

struct Bytes {
  const std::uint8_t *p;
  std::size_t n;
  std::uint8_t next() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  bool empty() const { return n == 0; }
};

// Read by the lane's timer thread too, hence atomic.
std::int64_t fake_now(void *ud) { return static_cast<std::atomic<std::int64_t> *>(ud)->load(); }

constexpr std::int64_t kMs = 1'000'000;
const char *const kIds[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
const char *const kTenants[] = {"", "alice", "bob", "carol"};

struct Run {
  std::atomic<std::int64_t> clock{1'000 * kMs};
  lane_t *lane = nullptr;
  lane_port_t *port = nullptr;
  std::map<std::uint64_t, std::string> live;  // token -> id, accepted and not yet DONE
  std::set<std::uint64_t> granted;            // tokens granted and not yet finished
  std::uint64_t accepted = 0, done = 0;
  bool overcommit = false;
  std::uint32_t cap = 1;  // the lane's cap (lowering it lets running jobs finish)

  void drain(std::int64_t timeout_ns) {
    lane_event_t ev[8] = {};
    ev[0].struct_size = sizeof ev[0];
    for (;;) {
      const std::int32_t n = lane_port_poll(port, ev, 8, timeout_ns);
      if (n < 0) broken("lane_port_poll failed", lane_last_error());
      for (std::int32_t i = 0; i < n; ++i) on_event(ev[i]);
      if (n < 8) return;
      timeout_ns = 0;
    }
  }

  void on_event(const lane_event_t &e) {
    switch (e.kind) {
      case LANE_EVENT_GRANT:
        if (!live.count(e.job_token)) broken("GRANT for a job that is not live", std::to_string(e.job_token));
        if (!granted.insert(e.job_token).second) broken("second GRANT", live[e.job_token]);
        // A strict cap: a grant never makes more jobs hold slots than the cap
        // (lowering the cap lets running jobs finish, but grants none). Exact
        // because every GRANT given under an older cap is read before the cap
        // changes (see the set_max_concurrent step).
        if (!overcommit && granted.size() > cap) {
          broken("a grant beyond the cap", std::to_string(granted.size()));
        }
        break;
      case LANE_EVENT_CANCEL:
        if (!live.count(e.job_token)) broken("CANCEL for a job that is not live", std::to_string(e.job_token));
        break;
      case LANE_EVENT_DONE:
        if (!live.erase(e.job_token)) broken("DONE twice or for a refused job", std::to_string(e.job_token));
        granted.erase(e.job_token);
        ++done;
        break;
      default: broken("unknown event kind", std::to_string(e.kind));
    }
  }

  void check_stats() {
    lane_stats_t s{};
    s.struct_size = sizeof s;
    if (lane_stats(lane, &s) != LANE_OK) broken("lane_stats failed", lane_last_error());
    if (s.running + s.queued > live.size()) broken("stats count jobs that have ended", std::to_string(s.running));
  }

  void step(Bytes &in) {
    const std::uint8_t op = in.next() % 16;
    switch (op) {
      case 0:
      case 1:
      case 2: {  // submit
        lane_job_t j = LANE_JOB_INIT;
        j.id = kIds[in.next() % 8];
        j.tenant = kTenants[in.next() % 4];
        j.priority = static_cast<std::int8_t>(in.next()) % 4;
        j.flags = in.next() % 4;  // preemptible, requeue on preempt
        const std::uint8_t limits = in.next();
        if (limits & 1) j.max_wait_ns = (limits >> 1) * 10 * kMs;
        if (limits & 0x80) j.queue_timeout_ns = (limits & 0x7f) * 5 * kMs;
        if ((limits & 0x7e) == 0x7e) j.queue_timeout_ns = INT64_MAX;
        j.port = port;
        lane_ticket_t t = LANE_TICKET_INIT;
        const lane_status_t s = lane_submit(lane, &j, &t);
        if (s == LANE_OK) {
          if (!live.emplace(t.job_token, j.id).second) broken("token reused while live", j.id);
          ++accepted;
        } else if (*lane_last_error() == '\0') {
          broken("refusal without a message", lane_status_name(s));
        }
        break;
      }
      case 3: {  // finish a granted job
        if (granted.empty()) break;
        auto it = granted.begin();
        std::advance(it, in.next() % granted.size());
        const std::uint64_t tok = *it;
        if (lane_job_finish(lane, tok, in.next() % 3) != LANE_OK) broken("finish of a granted job", lane_last_error());
        granted.erase(tok);  // DONE follows through the port
        break;
      }
      case 4:
        lane_cancel(lane, kIds[in.next() % 8], in.next() % 4);
        break;
      case 5: {
        if (live.empty()) break;
        auto it = live.begin();
        std::advance(it, in.next() % live.size());
        lane_cancel_token(lane, it->first, in.next() % 4);
        break;
      }
      case 6:
        clock += static_cast<std::int64_t>(in.next()) * kMs;
        break;
      case 7:
        lane_pause(lane);
        break;
      case 8:
        lane_resume(lane);
        break;
      case 9: {
        const std::uint8_t d = in.next();
        lane_cooldown(lane, d == 255 ? INT64_MAX : d * kMs);
        break;
      }
      case 10: {
        // Every operation first does what fell due by the clock (a cooldown's
        // end, an unguarded victim), as a punctual timer would have, so the
        // new cap's call may itself grant under the old cap. The lane first
        // catches up at the cap it has, and those GRANTs are read, so that
        // every later GRANT is one given under the new cap.
        if (lane_set_max_concurrent(lane, cap) != LANE_OK) broken("set_max_concurrent", lane_last_error());
        drain(0);
        cap = 1 + in.next() % 4;
        if (lane_set_max_concurrent(lane, cap) != LANE_OK) broken("set_max_concurrent", lane_last_error());
        break;
      }
      case 11:
        lane_set_preemption(lane, in.next() & 1, (in.next() % 4) * 10 * kMs);
        break;
      case 12:
        lane_set_tenant_weight(lane, kTenants[in.next() % 4], in.next() % 5);  // 0 is refused
        break;
      case 13:
        check_stats();
        break;
      case 14:
        lane_close(lane, (in.next() & 1) ? LANE_CLOSE_CANCEL : LANE_CLOSE_DRAIN);
        break;
      case 15:
        lane_wait_idle(lane, 0);
        break;
    }
    drain(0);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  Bytes in{data, size};
  Run r;
  lane_options_t o = LANE_OPTIONS_INIT;
  const std::uint8_t setup = in.next();
  o.policy = (setup & 1) ? LANE_POLICY_FAIR_SHARE : LANE_POLICY_FIFO;
  o.max_concurrent = r.cap = 1 + (setup >> 1) % 3;
  o.preempt_overcommit = r.overcommit = (setup >> 3) & 1;
  o.preempt_min_runtime_ns = (setup & 0x10) ? -1 : 10 * kMs;
  o.aging_ns = (setup & 0x20) ? 50 * kMs : 0;
  o.max_queued = (setup & 0x40) ? 4 : 0;
  o.clock = fake_now;
  o.clock_ud = &r.clock;
  if (lane_create("fuzz", &o, &r.lane) != LANE_OK) broken("lane_create", lane_last_error());
  if (lane_port_create(&r.port) != LANE_OK) broken("lane_port_create", lane_last_error());

  for (int steps = 0; !in.empty() && steps < 4096; ++steps) r.step(in);

  // End: cancel everything, finish what holds a slot, and collect every DONE.
  lane_close(r.lane, LANE_CLOSE_CANCEL);
  for (int round = 0; !r.live.empty(); ++round) {
    if (round > 10'000) broken("jobs never ended", std::to_string(r.live.size()));
    r.drain(round == 0 ? 0 : 1 * kMs);
    for (std::uint64_t tok : std::set<std::uint64_t>(r.granted)) {
      lane_job_finish(r.lane, tok, 0);
      r.granted.erase(tok);
    }
  }
  lane_stats_t s{};
  s.struct_size = sizeof s;
  if (lane_stats(r.lane, &s) != LANE_OK) broken("lane_stats", lane_last_error());
  const std::uint64_t ended = s.completed + s.failed + s.cancelled + s.preempted + s.timed_out + s.closed;
  if (s.submitted != r.accepted || ended != r.accepted || s.running != 0 || s.queued != 0) {
    broken("stats do not balance", "submitted " + std::to_string(s.submitted) + ", ended " + std::to_string(ended) +
                                       ", accepted " + std::to_string(r.accepted));
  }
  if (r.done != r.accepted) broken("DONE count", std::to_string(r.done) + " of " + std::to_string(r.accepted));
  if (lane_destroy(r.lane) != LANE_OK) broken("lane_destroy", lane_last_error());
  if (lane_port_destroy(r.port) != LANE_OK) broken("lane_port_destroy", lane_last_error());
  return 0;
}
