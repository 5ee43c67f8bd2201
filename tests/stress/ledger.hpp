// The stress test's book of record: every submission (accepted or refused),
// every outcome the library delivered and every port event, so that the end
// of a round can prove "exactly one outcome per accepted job, none for a
// refused one" without trusting any pointer the library handed back.
#pragma once

// mingw's "printf" format is msvcrt's (no %zu); the build uses mingw's C99 printf.
#ifdef __MINGW32__
#define LEDGER_PRINTF_FORMAT __attribute__((format(gnu_printf, 2, 3)))
#else
#define LEDGER_PRINTF_FORMAT __attribute__((format(printf, 2, 3)))
#endif

#include <lane/lane.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stress {

// ------------------------------------------------------------- failure log

class FailureLog {
 public:
  LEDGER_PRINTF_FORMAT void add(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    if (messages_.size() < kKept) messages_.emplace_back(buf);
  }
  std::uint64_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  void print(std::FILE *f) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto &m : messages_) std::fprintf(f, "  FAIL: %s\n", m.c_str());
    if (count_ > messages_.size()) {
      std::fprintf(f, "  ... and %llu more\n", static_cast<unsigned long long>(count_ - messages_.size()));
    }
  }

 private:
  static constexpr std::size_t kKept = 60;
  mutable std::mutex mu_;
  std::vector<std::string> messages_;
  std::uint64_t count_ = 0;
};

inline FailureLog &failures() {
  static FailureLog log;
  return log;
}

#define STRESS_FAIL(...) ::stress::failures().add(__VA_ARGS__)

// ------------------------------------------------------------------ ledger

enum class Kind : std::uint8_t { Callback, CallbackPort, HostRun };
// Unknown: lane_submit_wait said LANE_ERR_CLOSED, which is either a refusal
// (closed at submit) or an outcome; decided at the end by whether on_done came.
enum class Acc : std::uint8_t { Pending, Accepted, Refused, Unknown };

inline bool names_port(Kind k) { return k != Kind::Callback; }

inline bool is_outcome_status(lane_status_t s) {
  return s == LANE_OK || s == LANE_ERR_JOB_FAILED || s == LANE_ERR_CANCELLED || s == LANE_ERR_PREEMPTED ||
         s == LANE_ERR_CLOSED || s == LANE_ERR_TIMEOUT;
}

struct Entry {
  int glane = -1;  // lane number across rounds
  Kind kind = Kind::Callback;
  bool via_wait = false;
  bool nested = false;
  Acc acc = Acc::Pending;
  lane_status_t submit_status = LANE_OK;
  std::uint64_t ticket_token = 0;
  int on_done = 0;
  lane_status_t outcome = LANE_OK;
  std::uint64_t outcome_token = 0;
  void *owned = nullptr;  // Unknown: the job record, freed at the end if no outcome came
};

struct EventCount {
  int grant = 0, cancel = 0, done = 0;
  lane_status_t done_status = LANE_OK;
};

// Per-lane totals at a quiet moment, to compare with lane_stats.
struct Tally {
  std::uint64_t accepted = 0, refused = 0, invalid = 0, pending = 0;
  std::uint64_t ok = 0, failed = 0, cancelled = 0, preempted = 0, timed_out = 0, closed = 0;
  std::uint64_t outcomes = 0;
};

using EventKey = std::pair<int, std::uint64_t>;  // (glane, job token)

class Ledger {
 public:
  void add(std::uint64_t serial, const Entry &e) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.emplace(serial, e);
  }
  void submitted(std::uint64_t serial, lane_status_t st, Acc acc, std::uint64_t token) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry &e = entries_.at(serial);
    e.submit_status = st;
    e.acc = acc;
    e.ticket_token = token;
  }
  void unknown(std::uint64_t serial, void *owned) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry &e = entries_.at(serial);
    e.submit_status = LANE_ERR_CLOSED;
    e.acc = Acc::Unknown;
    e.owned = owned;
  }
  void outcome(std::uint64_t serial, lane_status_t st, std::uint64_t token) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(serial);
    if (it == entries_.end()) {
      STRESS_FAIL("on_done for unknown job serial %llu", static_cast<unsigned long long>(serial));
      return;
    }
    Entry &e = it->second;
    ++e.on_done;
    e.outcome = st;
    e.outcome_token = token;
  }

  void grant(const EventKey &k) {
    std::lock_guard<std::mutex> lock(mu_);
    ++events_[k].grant;
  }
  void cancel(const EventKey &k) {
    std::lock_guard<std::mutex> lock(mu_);
    ++events_[k].cancel;
  }
  void done(const EventKey &k, lane_status_t st) {
    std::lock_guard<std::mutex> lock(mu_);
    EventCount &c = events_[k];
    ++c.done;
    c.done_status = st;
  }
  // DONE events received so far for lanes [lo, hi).
  std::uint64_t done_seen(int lo, int hi) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t n = 0;
    for (auto it = events_.lower_bound({lo, 0}); it != events_.end() && it->first.first < hi; ++it) {
      n += static_cast<std::uint64_t>(it->second.done);
    }
    return n;
  }

  Tally tally(int glane) const {
    std::lock_guard<std::mutex> lock(mu_);
    Tally t;
    for (const auto &[serial, e] : entries_) {
      if (e.glane != glane) continue;
      const bool accepted = e.acc == Acc::Accepted || (e.acc == Acc::Unknown && e.on_done > 0);
      if (e.acc == Acc::Pending) ++t.pending;
      if (accepted) ++t.accepted;
      if (e.acc == Acc::Refused || (e.acc == Acc::Unknown && e.on_done == 0)) {
        if (e.submit_status == LANE_ERR_INVALID) {
          ++t.invalid;
        } else {
          ++t.refused;
        }
      }
      if (e.on_done == 0) continue;
      t.outcomes += static_cast<std::uint64_t>(e.on_done);
      switch (e.outcome) {
        case LANE_OK: ++t.ok; break;
        case LANE_ERR_JOB_FAILED: ++t.failed; break;
        case LANE_ERR_CANCELLED: ++t.cancelled; break;
        case LANE_ERR_PREEMPTED: ++t.preempted; break;
        case LANE_ERR_TIMEOUT: ++t.timed_out; break;
        case LANE_ERR_CLOSED: ++t.closed; break;
        default: break;
      }
    }
    return t;
  }

  // How many DONE events the accepted jobs of lanes [lo, hi) are owed.
  std::uint64_t done_owed(int lo, int hi) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t n = 0;
    for (const auto &[serial, e] : entries_) {
      if (e.glane < lo || e.glane >= hi || !names_port(e.kind)) continue;
      if (e.acc == Acc::Accepted || (e.acc == Acc::Unknown && e.on_done > 0)) ++n;
    }
    return n;
  }

  // Everything is quiet (the round's lanes are destroyed, their events
  // drained): check each entry and each event of lanes [lo, hi), free the
  // records whose ambiguous refusal turned out to be a refusal, and forget
  // the round. `free_rec` deletes one job record. Returns entries checked.
  template <class FreeRec>
  std::uint64_t settle(int lo, int hi, FreeRec free_rec) {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t checked = 0;
    std::set<EventKey> expected;  // keys that are owed events
    for (auto it = entries_.begin(); it != entries_.end();) {
      const auto serial = static_cast<unsigned long long>(it->first);
      Entry &e = it->second;
      if (e.glane < lo || e.glane >= hi) {
        ++it;
        continue;
      }
      ++checked;
      if (e.acc == Acc::Unknown) {
        if (e.on_done == 0) {
          free_rec(e.owned);
          e.acc = Acc::Refused;
        } else {
          e.acc = Acc::Accepted;
          e.submit_status = e.outcome;
        }
      }
      switch (e.acc) {
        case Acc::Pending:
          STRESS_FAIL("job %llu: submit never returned", serial);
          break;
        case Acc::Refused:
          if (e.on_done != 0) {
            STRESS_FAIL("job %llu (lane %d) refused with %s but got %d outcome(s), last %s", serial, e.glane,
                        lane_status_name(e.submit_status), e.on_done, lane_status_name(e.outcome));
          }
          break;
        case Acc::Accepted:
        case Acc::Unknown:
          if (e.on_done != 1) {
            STRESS_FAIL("job %llu (lane %d, %s, %s) accepted but got %d outcomes (want 1)", serial, e.glane,
                        kind_name(e.kind), e.via_wait ? "submit_wait" : "submit", e.on_done);
          } else if (e.via_wait && e.outcome != e.submit_status) {
            STRESS_FAIL("job %llu: lane_submit_wait returned %s but on_done said %s", serial,
                        lane_status_name(e.submit_status), lane_status_name(e.outcome));
          } else if (!e.via_wait && e.outcome_token != e.ticket_token) {
            STRESS_FAIL("job %llu: ticket token %llu but outcome token %llu", serial,
                        static_cast<unsigned long long>(e.ticket_token),
                        static_cast<unsigned long long>(e.outcome_token));
          }
          if (names_port(e.kind) && e.on_done == 1) {
            const EventKey k{e.glane, e.outcome_token};
            expected.insert(k);
            const auto ev = events_.find(k);
            const EventCount c = ev == events_.end() ? EventCount{} : ev->second;
            if (c.done != 1) {
              STRESS_FAIL("job %llu (lane %d, token %llu, %s, outcome %s): %d DONE events (want 1)", serial,
                          e.glane, static_cast<unsigned long long>(e.outcome_token), kind_name(e.kind),
                          lane_status_name(e.outcome), c.done);
            } else if (c.done_status != e.outcome) {
              STRESS_FAIL("job %llu: DONE says %s, on_done said %s", serial, lane_status_name(c.done_status),
                          lane_status_name(e.outcome));
            }
            if (e.kind == Kind::CallbackPort && (c.grant != 0 || c.cancel != 0)) {
              STRESS_FAIL("callback job %llu got %d GRANT / %d CANCEL events (want only DONE)", serial, c.grant,
                          c.cancel);
            }
            if (e.kind == Kind::HostRun && (e.outcome == LANE_OK || e.outcome == LANE_ERR_JOB_FAILED) &&
                c.grant == 0) {
              STRESS_FAIL("host-run job %llu ended %s without a GRANT", serial, lane_status_name(e.outcome));
            }
          }
          break;
      }
      it = entries_.erase(it);
    }
    for (auto it = events_.begin(); it != events_.end();) {
      if (it->first.first < lo || it->first.first >= hi) {
        ++it;
        continue;
      }
      if (expected.find(it->first) == expected.end()) {
        STRESS_FAIL("events for lane %d token %llu that no accepted port job owns (grant %d cancel %d done %d)",
                    it->first.first, static_cast<unsigned long long>(it->first.second), it->second.grant,
                    it->second.cancel, it->second.done);
      }
      it = events_.erase(it);
    }
    return checked;
  }

  static const char *kind_name(Kind k) {
    switch (k) {
      case Kind::Callback: return "callback";
      case Kind::CallbackPort: return "callback+port";
      case Kind::HostRun: return "host-run";
    }
    return "?";
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::map<EventKey, EventCount> events_;
};

}  // namespace stress
