// liblane's C++ wrapper: header-only, over lane.h alone. docs/cpp.md is the
// guide; this file says what each type and call does.
//
// Owners (lane::Lane, lane::Port, lane::Registry, lane::Session,
// lane::Sampler) are move-only and destroy what they own; lane::LaneRef
// borrows. Every member that returns a status or a value that can fail is
// [[nodiscard]] and returns lane::expected<T, lane::Error>. Jobs come from any
// callable taking lane::Context&, std::stop_token or nothing, returning void
// or an integer (0 = success). The wrapper owns a job's callable and on_done
// until the outcome is delivered, catches every exception a callable throws
// (a job body's ends the job LANE_ERR_JOB_FAILED with its text in
// Outcome::error; any other callable's goes to lane::set_report_handler),
// and adds no scheduling of its own: everything is a C API call.
//
// Thread safety: as lane.h: every call may come from any thread; destroying
// (or moving from) an owner that another thread still uses is not allowed.
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lane/lane.h"

// The expected type: tl::expected (tl-expected, Debian libexpected-dev) is
// the default; std::expected (C++23) on request. Define
// LANE_HPP_USE_TL_EXPECTED or LANE_HPP_USE_STD_EXPECTED to choose; with
// neither, tl when <tl/expected.hpp> is found, else std::expected.
#if !defined(LANE_HPP_USE_TL_EXPECTED) && !defined(LANE_HPP_USE_STD_EXPECTED)
#if __has_include(<tl/expected.hpp>)
#define LANE_HPP_USE_TL_EXPECTED 1
#else
#define LANE_HPP_USE_STD_EXPECTED 1
#endif
#endif

#if defined(LANE_HPP_USE_TL_EXPECTED)
#include <tl/expected.hpp>
#else
#if __has_include(<expected>)
#include <expected>
#endif
#if !defined(__cpp_lib_expected)
#error "lane.hpp needs tl-expected (Debian: libexpected-dev) or C++23 std::expected (-std=c++23)"
#define LANE_HPP_NO_EXPECTED 1
#endif
#endif

#if !defined(LANE_HPP_NO_EXPECTED)  // after the #error, nothing else: one clear line

namespace lane {

#if defined(LANE_HPP_USE_TL_EXPECTED)
template <class T, class E>
using expected = tl::expected<T, E>;
template <class E>
using unexpected = tl::unexpected<E>;
#else
template <class T, class E>
using expected = std::expected<T, E>;
template <class E>
using unexpected = std::unexpected<E>;
#endif

using Nanos = std::chrono::nanoseconds;
// Library timestamps: Unix-epoch nanoseconds, which is what system_clock counts.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Nanos>;
// A clock for a lane, registry or sampler (tests inject a fake one). Called
// from any thread, never under a library lock; it must not throw (a throw is
// reported and the real time used instead).
using ClockFn = std::function<TimePoint()>;

// Where a job waits, as the ticket gives it.
struct Ticket {
  std::int32_t position = 0;  // 0 = dispatched now; else 1-based place in the policy's order
  Nanos eta{0};               // estimated wait until dispatch
  std::uint64_t job_token = 0;
  lane_blocked_by_t blocked_by = LANE_BLOCKED_NONE;
};

// A failed call: its status, lane_last_error()'s message, and for a
// LANE_ERR_BUSY refusal of submit the ticket C filled (its ETA is why).
struct Error {
  lane_status_t status = LANE_ERR_INTERNAL;
  std::string message;
  std::optional<Ticket> ticket{};

  [[nodiscard]] const char *name() const noexcept { return lane_status_name(status); }
  // Captures lane_last_error() of this thread: call right after the failing call.
  [[nodiscard]] static Error last(lane_status_t s) { return Error{s, lane_last_error(), std::nullopt}; }
};

template <class T>
using Result = expected<T, Error>;
using Status = expected<void, Error>;

// ------------------------------------------------------------------ reports

// What the wrapper could not return to anyone: an owner's destructor that C
// refused (the object is leaked: destroying it would have waited for itself),
// or an exception thrown by on_done, a clock, config, log, sink or token
// estimate callable (it must not unwind into C).
struct Report {
  std::string_view where;  // "~Lane", "on_done", "clock", ...
  lane_status_t status;    // the refusal, or LANE_ERR_INTERNAL for an exception
  std::string_view message;
};
using ReportHandler = void (*)(const Report &);

namespace detail {
inline void report_to_stderr(const Report &r) {
  std::fprintf(stderr, "liblane C++: %.*s: %s: %.*s\n", static_cast<int>(r.where.size()), r.where.data(),
               lane_status_name(r.status), static_cast<int>(r.message.size()), r.message.data());
}
inline std::atomic<ReportHandler> &report_handler() {
  static std::atomic<ReportHandler> h{&report_to_stderr};
  return h;
}
}  // namespace detail

// Replaces the process-wide report handler (nullptr: back to the default,
// one line on stderr) and returns the previous one. The handler is called on
// whichever thread hit the problem, with no library or wrapper lock held;
// it must not throw. It may call std::terminate to make refusals fatal.
inline ReportHandler set_report_handler(ReportHandler h) noexcept {
  return detail::report_handler().exchange(h ? h : &detail::report_to_stderr);
}

namespace detail {
inline void report(std::string_view where, lane_status_t s, std::string_view message) noexcept {
  try {
    report_handler().load()(Report{where, s, message});
  } catch (...) {
  }
}
inline void report_current_exception(std::string_view where) noexcept {
  try {
    throw;
  } catch (const std::exception &e) {
    report(where, LANE_ERR_INTERNAL, e.what());
  } catch (...) {
    report(where, LANE_ERR_INTERNAL, "unknown exception");
  }
}
inline std::string_view sv(const char *s) noexcept { return s ? std::string_view(s) : std::string_view(); }
inline Status check(lane_status_t s) {
  if (s == LANE_OK) return {};
  return unexpected<Error>(Error::last(s));
}
inline Status fail(lane_status_t s, std::string message) { return unexpected<Error>(Error{s, std::move(message), {}}); }
inline TimePoint tp(std::int64_t ns) { return TimePoint(Nanos(ns)); }
inline std::optional<TimePoint> opt_tp(std::int64_t ns) {
  if (ns == 0) return std::nullopt;
  return tp(ns);
}
// An owner's destructor cannot return C's refusal: it reports it, and the
// object stays alive (leaked) with everything it may still call.
inline void destroy_in_destructor(std::string_view where, lane_status_t s) noexcept {
  if (s != LANE_OK) report(where, s, lane_last_error());
}
template <class T>
void leak(const std::shared_ptr<T> &p) noexcept {
  try {
    (void)new std::shared_ptr<T>(p);
  } catch (...) {
  }
}
}  // namespace detail

// ------------------------------------------------------------------ strings

// A string argument: const char *, std::string or std::string_view. It owns
// a NUL-terminated copy (short strings need no allocation), so a Job may
// outlive the string it was built from. A null const char * is "".
class Str {
 public:
  Str() = default;
  Str(const char *s) : s_(s ? s : "") {}  // NOLINT(google-explicit-constructor)
  Str(std::string s) : s_(std::move(s)) {}  // NOLINT(google-explicit-constructor)
  Str(std::string_view s) : s_(s) {}  // NOLINT(google-explicit-constructor)
  // An integer is not a string: cancel(0) or .id = 0 is a mistake (a job
  // token goes to cancel_token).
  Str(int) = delete;
  [[nodiscard]] const char *c_str() const noexcept { return s_.c_str(); }
  // NULL when empty: C's default for an optional string such as a tenant.
  [[nodiscard]] const char *c_str_or_null() const noexcept { return s_.empty() ? nullptr : s_.c_str(); }
  [[nodiscard]] std::string_view view() const noexcept { return s_; }
  [[nodiscard]] bool empty() const noexcept { return s_.empty(); }

 private:
  std::string s_;
};

namespace detail {

// A move-only callable (std::move_only_function is C++23; this header also
// serves C++20 hosts), so on_done may capture a std::unique_ptr.
template <class Sig>
class UniqueFunction;
template <class R, class... A>
class UniqueFunction<R(A...)> {
 public:
  UniqueFunction() = default;
  UniqueFunction(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, UniqueFunction> && std::is_invocable_r_v<R, std::decay_t<F> &, A...>)
  UniqueFunction(F &&f)  // NOLINT(google-explicit-constructor)
  {
    if constexpr (std::is_pointer_v<std::decay_t<F>> || std::is_member_pointer_v<std::decay_t<F>> ||
                  requires { static_cast<bool>(f); }) {
      if (!static_cast<bool>(f)) return;  // an empty std::function or a null pointer stays empty
    }
    p_ = std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f));
  }
  UniqueFunction(UniqueFunction &&) noexcept = default;
  UniqueFunction &operator=(UniqueFunction &&) noexcept = default;
  explicit operator bool() const noexcept { return p_ != nullptr; }
  R operator()(A... a) const { return p_->call(std::forward<A>(a)...); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual R call(A... a) = 0;
  };
  template <class F>
  struct Impl final : Base {
    template <class G>
    explicit Impl(G &&g) : f(std::forward<G>(g)) {}
    R call(A... a) override { return std::invoke(f, std::forward<A>(a)...); }
    F f;
  };
  std::unique_ptr<Base> p_;
};

}  // namespace detail

// ------------------------------------------------------------------ outcomes

// A job's outcome, copied out of lane_outcome_t (strings owned).
struct Outcome {
  lane_status_t status = LANE_OK;
  std::int32_t job_code = 0;  // what the body returned (-1 when it threw)
  std::string job_id;
  std::string lane;
  std::uint64_t job_token = 0;
  std::optional<TimePoint> enqueued_at, started_at, finished_at;  // empty = never
  std::string error;  // what the job body threw, if it threw (every message of a session run)

  [[nodiscard]] bool ok() const noexcept { return status == LANE_OK; }
  [[nodiscard]] Nanos waited() const noexcept {
    return started_at && enqueued_at ? *started_at - *enqueued_at : Nanos(0);
  }
  [[nodiscard]] Nanos ran() const noexcept { return finished_at && started_at ? *finished_at - *started_at : Nanos(0); }

  [[nodiscard]] static Outcome from(const lane_outcome_t &o) {
    Outcome r;
    r.status = o.status;
    r.job_code = o.job_code;
    r.job_id = detail::sv(o.job_id);
    r.lane = detail::sv(o.lane);
    r.job_token = o.job_token;
    r.enqueued_at = detail::opt_tp(o.enqueued_at_ns);
    r.started_at = detail::opt_tp(o.started_at_ns);
    r.finished_at = detail::opt_tp(o.finished_at_ns);
    return r;
  }
};

// Called exactly once for every accepted job, on a library thread (or the
// thread that cancelled, closed or finished it), with no lock held. Move-only:
// it may own what it captures. A throw is reported (set_report_handler).
using OnDone = detail::UniqueFunction<void(const Outcome &)>;

// A lane's statistics (lane_stats_t in C++ types).
struct Stats {
  std::string name;
  std::uint32_t max_concurrent = 0, running = 0, queued = 0;
  std::optional<TimePoint> oldest_queued_at;  // empty: nothing queued
  std::uint32_t throughput_1m = 0;            // jobs ended in the last 60 s
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0, failed = 0, cancelled = 0, preempted = 0, timed_out = 0, closed = 0;
  std::uint64_t refused = 0;
  Nanos wait_p50{0}, wait_p99{0}, run_p50{0}, run_p99{0};  // recent window (last 1024)
  bool paused = false;
  std::optional<TimePoint> cooldown_until;  // empty: no cooldown was ever set
  lane_blocked_by_t blocked_by = LANE_BLOCKED_NONE;
  std::uint64_t preemptions = 0;
  std::uint32_t eta_window = 0;
  Nanos mean_runtime{0};  // 0: no history
  // Budgets.
  std::uint32_t width = 0;         // the cap in slots now (the adaptive width, else max_concurrent)
  std::uint32_t slots_in_use = 0;  // slots held by running jobs
  std::uint32_t released = 0;      // running jobs that gave their slots back
  std::uint32_t reacquiring = 0;   // running jobs waiting for their slots again
  std::uint64_t rate_waits = 0;    // jobs whose grant a rate limit delayed
  std::optional<TimePoint> rate_ready_at;  // when the rate limits let the front go; empty: not held
  std::int64_t cost_used = 0;      // finished runs' cost (reported, else estimated)
  std::uint64_t overloads = 0;     // overloaded finishes
  // Shared lanes (Options::cluster); all zero for a lane of one process.
  bool shared = false;                // a member of the lane of its name on a cluster
  bool available = false;             // its Redis answered the last time
  std::uint32_t global_running = 0;   // slots granted across every member, as of the last answer
  std::uint32_t global_queued = 0;    // slots the members wait for, as of the last answer
  std::uint64_t leases_lost = 0;      // grants whose lease ran out under this member
  std::uint64_t releases_refused = 0; // late releases refused

  [[nodiscard]] static Stats from(const lane_stats_t &s) {
    Stats r;
    r.name = detail::sv(s.name);
    r.max_concurrent = s.max_concurrent;
    r.running = s.running;
    r.queued = s.queued;
    r.oldest_queued_at = detail::opt_tp(s.oldest_queued_at_ns);
    r.throughput_1m = s.throughput_1m;
    r.submitted = s.submitted;
    r.completed = s.completed;
    r.failed = s.failed;
    r.cancelled = s.cancelled;
    r.preempted = s.preempted;
    r.timed_out = s.timed_out;
    r.closed = s.closed;
    r.refused = s.refused;
    r.wait_p50 = Nanos(s.wait_p50_ns);
    r.wait_p99 = Nanos(s.wait_p99_ns);
    r.run_p50 = Nanos(s.run_p50_ns);
    r.run_p99 = Nanos(s.run_p99_ns);
    r.paused = s.paused != 0;
    r.cooldown_until = detail::opt_tp(s.cooldown_until_ns);
    r.blocked_by = s.blocked_by;
    r.preemptions = s.preemptions;
    r.eta_window = s.eta_window;
    r.mean_runtime = Nanos(s.mean_runtime_ns);
    r.width = s.width;
    r.slots_in_use = s.slots_in_use;
    r.released = s.released;
    r.reacquiring = s.reacquiring;
    r.rate_waits = s.rate_waits;
    r.rate_ready_at = detail::opt_tp(s.rate_ready_at_ns);
    r.cost_used = s.cost_used;
    r.overloads = s.overloads;
    r.shared = s.shared != 0;
    r.available = s.available != 0;
    r.global_running = s.global_running;
    r.global_queued = s.global_queued;
    r.leases_lost = s.leases_lost;
    r.releases_refused = s.releases_refused;
    return r;
  }
};

namespace detail {

class ContextAccess;

// What a LaneRef keeps alive and checks: the callables its lane may call (a
// clock, a registry's config and log) and whether its owner still exists.
struct Owner {
  std::atomic<bool> alive{true};
  ClockFn clock;
  static std::int64_t clock_trampoline(void *ud) {
    try {
      return static_cast<Owner *>(ud)->clock().time_since_epoch().count();
    } catch (...) {
      report_current_exception("clock");
      return TimePoint(std::chrono::system_clock::now()).time_since_epoch().count();
    }
  }
  virtual ~Owner() = default;
};

// Owns a job's callable, its on_done and a session message's data until the
// outcome has been delivered.
struct BoxBase {
  OnDone on_done;
  std::string error;  // what the run threw; written before the outcome, read in it
  std::any data;      // a session message's payload (Context::batch)
  virtual ~BoxBase() = default;
  virtual std::int32_t run(ContextAccess &access, lane_ctx_t *c) = 0;

  static void done_trampoline(const lane_outcome_t *o, void *ud) noexcept;
};

// Turns cancellation of a job into a std::stop_token. C wakes only a thread
// blocked in lane_ctx_wait, and such a thread cannot be released when the job
// ends first; so one watcher thread for the process polls lane_ctx_cancelled
// of the contexts that asked for a stop_token, every millisecond while there
// are any, and calls request_stop (stop_callbacks run on it, no lock held).
struct StopEntry {
  lane_ctx_t *ctx = nullptr;
  std::stop_source source;
  bool fired = false;  // guarded by the watcher's mutex
};
class StopWatcher {
 public:
  static StopWatcher &instance() {
    static StopWatcher w;
    return w;
  }
  void add(const std::shared_ptr<StopEntry> &e) {
    std::lock_guard lk(mu_);
    entries_.push_back(e);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    cv_.notify_one();
  }
  void remove(const std::shared_ptr<StopEntry> &e) {
    std::lock_guard lk(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (*it == e) {
        *it = std::move(entries_.back());
        entries_.pop_back();
        break;
      }
    }
  }
  ~StopWatcher() {
    {
      std::lock_guard lk(mu_);
      quit_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  StopWatcher() = default;
  void loop() {
    std::unique_lock lk(mu_);
    std::vector<std::shared_ptr<StopEntry>> fire;
    while (!quit_) {
      if (entries_.empty()) {
        cv_.wait(lk);
        continue;
      }
      for (const auto &e : entries_) {
        // Registered entries' contexts are live: removal takes this mutex.
        if (!e->fired && lane_ctx_cancelled(e->ctx) != 0) {
          e->fired = true;
          fire.push_back(e);
        }
      }
      if (!fire.empty()) {
        lk.unlock();
        for (const auto &e : fire) e->source.request_stop();
        fire.clear();
        lk.lock();
        continue;
      }
      cv_.wait_for(lk, std::chrono::milliseconds(1));
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<StopEntry>> entries_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace detail

class LaneRef;

// One message of a session run's batch or mailbox. id and data live until the
// run ends.
struct Message {
  std::string_view id;
  const std::any *data = nullptr;  // callback runs: what Session::enqueue was given
  void *user_data = nullptr;       // host-run runs (a GRANT's context): what enqueue_host was given
  template <class T>
  [[nodiscard]] const T *as() const {
    return data ? std::any_cast<T>(data) : nullptr;
  }
};

// What a running job sees. Valid only inside the job body (or, for a
// host-run job, from its GRANT event until finish(); destroy it before then).
class Context {
 public:
  explicit Context(lane_ctx_t *ctx) noexcept : ctx_(ctx) {}
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;
  Context(Context &&o) noexcept
      : ctx_(std::exchange(o.ctx_, nullptr)),
        wrapper_run_(o.wrapper_run_),
        taken_(std::move(o.taken_)),
        stop_(std::move(o.stop_)) {}
  Context &operator=(Context &&) = delete;
  ~Context() {
    if (stop_) detail::StopWatcher::instance().remove(stop_);
  }

  [[nodiscard]] bool cancelled() const noexcept { return lane_ctx_cancelled(ctx_) != 0; }
  // LANE_OK while not cancelled, else the cause (CANCELLED, PREEMPTED, CLOSED, TIMEOUT).
  [[nodiscard]] lane_status_t cause() const noexcept { return lane_ctx_cause(ctx_); }
  // Sleeps until cancelled (returns the cause) or `timeout` passes
  // (LANE_ERR_TIMEOUT). Any duration type; rounded up to nanoseconds; zero
  // or negative does not sleep.
  template <class Rep, class Period>
  lane_status_t wait(std::chrono::duration<Rep, Period> timeout) noexcept {
    const std::chrono::duration<long double, std::nano> exact = timeout;
    if (!(exact.count() > 0)) return lane_ctx_wait(ctx_, 0);
    if (exact.count() >= 9.0e18L) return lane_ctx_wait(ctx_, -1);  // beyond int64 nanoseconds: forever
    return lane_ctx_wait(ctx_, std::chrono::ceil<Nanos>(exact).count());
  }
  // Sleeps until cancelled; returns the cause.
  lane_status_t wait() noexcept { return lane_ctx_wait(ctx_, -1); }
  // wait(deadline - Clock::now()): the deadline is read on its own clock.
  template <class Clock, class Dur>
  lane_status_t wait_until(std::chrono::time_point<Clock, Dur> deadline) noexcept {
    return wait(deadline - Clock::now());
  }
  // A stop_token that is stopped once the job is cancelled, preempted, closed
  // or timed out, detected within about a millisecond by the wrapper's one
  // watcher thread (see detail::StopWatcher for why a thread).
  [[nodiscard]] std::stop_token stop_token() {
    if (!stop_) {
      stop_ = std::make_shared<detail::StopEntry>();
      stop_->ctx = ctx_;
      if (cancelled()) stop_->source.request_stop();
      detail::StopWatcher::instance().add(stop_);
    }
    return stop_->source.get_token();
  }
  [[nodiscard]] std::string_view job_id() const noexcept { return detail::sv(lane_ctx_job_id(ctx_)); }
  [[nodiscard]] inline LaneRef lane() const;
  // Budgets: the run's real cost so far (> 0), which corrects the lane's
  // cost rate limit; an overloaded provider (halves an adaptive lane's width
  // when the run ends); giving the slots back while waiting outside the lane,
  // and taking them again (callback jobs; negative timeout = forever;
  // LANE_ERR_TIMEOUT leaves the run released, a cause says it should return).
  [[nodiscard]] lane_status_t set_cost(std::int64_t cost) noexcept { return lane_ctx_set_cost(ctx_, cost); }
  lane_status_t overloaded() noexcept { return lane_ctx_overloaded(ctx_); }
  [[nodiscard]] lane_status_t release() noexcept { return lane_ctx_release(ctx_); }
  [[nodiscard]] lane_status_t reacquire(Nanos timeout = Nanos(-1)) noexcept {
    return lane_ctx_reacquire(ctx_, timeout.count());
  }
  // A shared lane's run: the fencing number of its grant (0 on a lane of one
  // process, or on a fallback slot); pass it to what the job writes.
  [[nodiscard]] std::uint64_t fence() const noexcept { return lane_ctx_fence(ctx_); }
  [[nodiscard]] lane_ctx_t *capi() const noexcept { return ctx_; }
  // A session run: the messages merged into it, oldest first (COLLECT may
  // merge several; otherwise, and for a plain job, just the one).
  [[nodiscard]] std::vector<Message> batch() const;
  // STEER: the next message delivered into this run's mailbox, if any. It
  // gets this run's outcome.
  [[nodiscard]] std::optional<Message> next_message();
  // SUMMARIZE: ids of the messages dropped since the previous run.
  [[nodiscard]] std::vector<std::string_view> dropped() const {
    std::vector<std::string_view> out;
    const std::uint32_t n = lane_ctx_dropped_count(ctx_);
    for (std::uint32_t i = 0; i < n; ++i) out.emplace_back(detail::sv(lane_ctx_dropped_id(ctx_, i)));
    return out;
  }

 private:
  friend class detail::ContextAccess;
  [[nodiscard]] Message message_of(const char *id, void *ud) const noexcept {
    Message m{detail::sv(id), nullptr, nullptr};
    if (wrapper_run_) {
      if (ud) m.data = &static_cast<const detail::BoxBase *>(ud)->data;
    } else {
      m.user_data = ud;
    }
    return m;
  }
  lane_ctx_t *ctx_;
  bool wrapper_run_ = false;              // every batch item's user_data is a wrapper box
  std::vector<detail::BoxBase *> taken_;  // mailbox messages this run took (they share its outcome)
  std::shared_ptr<detail::StopEntry> stop_;
};

// A job body: invocable with lane::Context&, with std::stop_token, or with
// nothing, returning void or an integer (not bool: 0 is success).
template <class F, class... A>
concept BodyWith = std::invocable<F &, A...> &&
                   (std::is_void_v<std::invoke_result_t<F &, A...>> ||
                    (std::is_integral_v<std::invoke_result_t<F &, A...>> &&
                     !std::is_same_v<std::invoke_result_t<F &, A...>, bool>));
template <class F>
concept JobBody = std::move_constructible<std::decay_t<F>> &&
                  (BodyWith<std::decay_t<F>, Context &> || BodyWith<std::decay_t<F>, std::stop_token> ||
                   BodyWith<std::decay_t<F>>);

#define LANE_HPP_BODY_MESSAGE \
  "lane: a job is a callable taking (lane::Context&), (std::stop_token) or (), returning void or an integer (0 = success)"

namespace detail {

class ContextAccess {
 public:
  explicit ContextAccess(lane_ctx_t *c, bool wrapper_run) : ctx(c) { ctx.wrapper_run_ = wrapper_run; }
  Context ctx;
  const std::vector<BoxBase *> &taken() const { return ctx.taken_; }
};

template <class F>
std::int32_t invoke_body(F &f, Context &ctx) {
  auto as_code = [](auto &&call) -> std::int32_t {
    if constexpr (std::is_void_v<decltype(call())>) {
      call();
      return 0;
    } else {
      return static_cast<std::int32_t>(call());
    }
  };
  if constexpr (BodyWith<F, Context &>) {
    return as_code([&]() -> decltype(auto) { return std::invoke(f, ctx); });
  } else if constexpr (BodyWith<F, std::stop_token>) {
    return as_code([&]() -> decltype(auto) { return std::invoke(f, ctx.stop_token()); });
  } else {
    return as_code([&]() -> decltype(auto) { return std::invoke(f); });
  }
}

// Runs a box's body; an exception fails the job, and its text goes to every
// message that shares the run's outcome (the batch and the mailbox taken).
inline std::int32_t run_trampoline(lane_ctx_t *c, void *ud) noexcept {
  auto *box = static_cast<BoxBase *>(ud);
  ContextAccess access(c, true);
  try {
    return box->run(access, c);
  } catch (...) {
    std::string text;
    try {
      throw;
    } catch (const std::exception &e) {
      text = e.what();
    } catch (...) {
      text = "unknown exception";
    }
    const std::uint32_t n = lane_ctx_batch_count(c);
    for (std::uint32_t i = 0; i < n; ++i) {
      void *item = nullptr;
      if (lane_ctx_batch_item(c, i, nullptr, &item) == LANE_OK && item) static_cast<BoxBase *>(item)->error = text;
    }
    for (BoxBase *taken : access.taken()) taken->error = text;
    box->error = text;
  }
  return -1;
}

inline void BoxBase::done_trampoline(const lane_outcome_t *o, void *ud) noexcept {
  std::unique_ptr<BoxBase> box(static_cast<BoxBase *>(ud));
  if (!box->on_done) return;
  try {
    Outcome out = Outcome::from(*o);
    out.error = std::move(box->error);
    box->on_done(out);
  } catch (...) {
    report_current_exception("on_done");  // must not cross into C
  }
}

template <class F>
struct Box final : BoxBase {
  explicit Box(F &&f) : fn(std::move(f)) {}
  std::int32_t run(ContextAccess &access, lane_ctx_t *) override { return invoke_body(fn, access.ctx); }
  F fn;
};

// Host-run jobs with an on_done: only the completion.
struct HostBox final : BoxBase {
  std::int32_t run(ContextAccess &, lane_ctx_t *) override { return 0; }
};

inline Ticket from_c(const lane_ticket_t &t) { return Ticket{t.position, Nanos(t.eta_ns), t.job_token, t.blocked_by}; }

}  // namespace detail

class Port;

// A job's description; designated initializers read well:
// lane.submit({.id = "j1", .tenant = "alice", .priority = 2}, body).
// Move-only (on_done may own what it captures).
struct Job {
  Str id{};    // required, unique among the lane's (or session's) live jobs
  Str tenant{};  // fair-share key; empty = ""
  std::int32_t priority = 0;
  std::uint32_t flags = 0;  // LANE_JOB_*
  Nanos max_wait{0};        // > 0: refused LANE_ERR_BUSY (with its ticket) if the ETA exceeds it
  Nanos queue_timeout{0};   // > 0: still queued after this long -> LANE_ERR_TIMEOUT
  OnDone on_done{};
  Port *port = nullptr;  // DONE events for this job (and GRANT/CANCEL for host-run)
  // Budgets: estimated cost (0 -> 1; any unit), slots held while running
  // (0 -> 1), and a run timeout (> 0: cancelled with LANE_ERR_TIMEOUT).
  std::int64_t cost = 0;
  std::uint32_t slots = 0;
  Nanos run_timeout{0};
};

namespace detail {
inline lane_job_t to_c(const Job &j);
}

// Options for lane::Lane::create; zero means default, as in lane_options_t.
struct Options {
  std::uint32_t max_concurrent = 0;  // -> 1
  lane_policy_t policy = LANE_POLICY_DEFAULT;  // -> FIFO
  std::uint32_t eta_window = 0;
  bool preemption_off = false;
  Nanos preempt_min_runtime{0};  // 0 -> 30 s; negative = no guard
  bool preempt_overcommit = false;
  std::uint32_t max_queued = 0;  // 0 = unbounded
  Nanos eta_default_runtime{0};  // 0 -> 1 s
  Nanos aging{0};                // > 0: +1 priority per `aging` queued
  ClockFn clock{};               // empty: real time
  Nanos fair_half_life{0};       // FAIR_SHARE usage memory; 0 = forget a tenant once it has no live job
  // Adaptive width (AIMD) between these, off while both are 0; an
  // overloaded finish halves it and may also cool the lane down this long.
  std::uint32_t adaptive_min = 0;
  std::uint32_t adaptive_max = 0;
  Nanos adaptive_cooldown{0};
  // A member of the lane of its name on this cluster (Cluster::capi());
  // the cluster must outlive the lane.
  lane_cluster_t *cluster = nullptr;
};

// ------------------------------------------------------------------ lanes

namespace detail {

// The operations of a lane, shared by the owner (Lane) and the borrower
// (LaneRef). Handles are shallow: a const handle still submits.
template <class Derived>
class LaneOps {
 public:
  // Submits a callback job (see lane::JobBody). Accepted: fn and job.on_done
  // live until the outcome. Refused with LANE_ERR_BUSY: the Error's ticket
  // says the ETA that was too long.
  template <class F>
  [[nodiscard]] Result<Ticket> submit(Job job, F fn) const {
    if constexpr (!JobBody<F>) {
      static_assert(JobBody<F>, LANE_HPP_BODY_MESSAGE);
      return unexpected<Error>(Error{});
    } else {
      if (auto g = guard(); !g) return unexpected<Error>(std::move(g.error()));
      auto box = std::make_unique<Box<std::decay_t<F>>>(std::move(fn));
      box->on_done = std::move(job.on_done);
      lane_job_t c = to_c(job);
      c.run = &run_trampoline;
      c.on_done = &BoxBase::done_trampoline;
      c.user_data = box.get();
      return submit_box(c, std::move(box));
    }
  }

  // Submits a host-run job: granted through job.port (required), finished
  // with finish(). `user_data` comes back in its events; a job with an
  // on_done cannot also carry user_data (its events carry the wrapper's box).
  [[nodiscard]] Result<Ticket> submit_host(Job job, void *user_data = nullptr) const {
    if (auto g = guard(); !g) return unexpected<Error>(std::move(g.error()));
    lane_job_t c = to_c(job);
    if (job.on_done) {
      if (user_data) return unexpected<Error>(Error{LANE_ERR_INVALID, "submit_host: use either on_done or user_data", {}});
      auto box = std::make_unique<HostBox>();
      box->on_done = std::move(job.on_done);
      c.on_done = &BoxBase::done_trampoline;
      c.user_data = box.get();
      return submit_box(c, std::move(box));
    }
    c.user_data = user_data;
    lane_ticket_t t = LANE_TICKET_INIT;
    if (lane_status_t s = lane_submit(self(), &c, &t); s != LANE_OK) return refusal(s, t);
    return from_c(t);
  }

  // Submits and waits for the outcome (inline on this thread when a slot is
  // free). The Error side is a refusal (no ticket: lane_submit_wait gives
  // none); any outcome, failed or not, is an Outcome. Negative timeout = forever.
  template <class F>
  [[nodiscard]] Result<Outcome> submit_wait(Job job, F fn, Nanos timeout = Nanos(-1)) const {
    if constexpr (!JobBody<F>) {
      static_assert(JobBody<F>, LANE_HPP_BODY_MESSAGE);
      return unexpected<Error>(Error{});
    } else {
      if (auto g = guard(); !g) return unexpected<Error>(std::move(g.error()));
      Outcome result;
      bool delivered = false;
      auto box = std::make_unique<Box<std::decay_t<F>>>(std::move(fn));
      box->on_done = [&, user_done = std::move(job.on_done)](const Outcome &o) {
        result = o;
        delivered = true;
        if (user_done) user_done(o);
      };
      lane_job_t c = to_c(job);
      c.run = &run_trampoline;
      c.on_done = &BoxBase::done_trampoline;
      c.user_data = box.get();
      lane_status_t s = lane_submit_wait(self(), &c, timeout.count(), nullptr);
      // An accepted job's on_done has run before lane_submit_wait returns.
      if (delivered) {
        box.release();  // freed by done_trampoline
        return result;
      }
      return unexpected<Error>(Error::last(s));
    }
  }

  // Cancels a job by id: flags 0 / LANE_CANCEL_QUEUED removes a queued job;
  // with LANE_CANCEL_RUNNING a running one is cancelled too.
  [[nodiscard]] Status cancel(Str id, std::uint32_t flags = LANE_CANCEL_QUEUED) const {
    if (auto g = guard(); !g) return g;
    return check(lane_cancel(self(), id.c_str(), flags));
  }
  // By the ticket's token: never reaches a later job that reuses the id.
  [[nodiscard]] Status cancel_token(std::uint64_t token, std::uint32_t flags = LANE_CANCEL_QUEUED) const {
    if (auto g = guard(); !g) return g;
    return check(lane_cancel_token(self(), token, flags));
  }
  [[nodiscard]] Result<Stats> stats() const {
    if (auto g = guard(); !g) return unexpected<Error>(std::move(g.error()));
    lane_stats_t s{};
    s.struct_size = sizeof s;
    if (lane_status_t r = lane_stats(self(), &s); r != LANE_OK) return unexpected<Error>(Error::last(r));
    return Stats::from(s);
  }
  [[nodiscard]] Status set_max_concurrent(std::uint32_t n) const { return call(lane_set_max_concurrent, n); }
  [[nodiscard]] Status set_preemption(bool enabled, Nanos min_runtime) const {
    if (auto g = guard(); !g) return g;
    return check(lane_set_preemption(self(), enabled ? 1 : 0, min_runtime.count()));
  }
  [[nodiscard]] Status set_eta_window(std::uint32_t n) const { return call(lane_set_eta_window, n); }
  [[nodiscard]] Status set_tenant_weight(Str tenant, std::uint32_t w) const {
    if (auto g = guard(); !g) return g;
    return check(lane_set_tenant_weight(self(), tenant.c_str(), w));
  }
  // Budgets (lane_set_rate_limit): `amount` units per `per`, `burst` at once
  // (0 -> 1); kinds LANE_RATE_REQUESTS and/or LANE_RATE_COST; amount 0 = off.
  [[nodiscard]] Status set_rate_limit(std::uint32_t kinds, std::int64_t amount, Nanos per, std::int64_t burst = 0) const {
    return call(lane_set_rate_limit, kinds, amount, per.count(), burst);
  }
  // At most max_running jobs of the tenant at once (0 = no limit).
  [[nodiscard]] Status set_tenant_limit(Str tenant, std::uint32_t max_running) const {
    if (auto g = guard(); !g) return g;
    return check(lane_set_tenant_limit(self(), tenant.c_str(), max_running));
  }
  // The tenant's running jobs (counted while it has a limit).
  [[nodiscard]] Result<std::uint32_t> tenant_running(Str tenant) const {
    if (auto g = guard(); !g) return unexpected<Error>(std::move(g.error()));
    std::uint32_t n = 0;
    if (lane_status_t s = lane_tenant_running(self(), tenant.c_str(), &n); s != LANE_OK) {
      return unexpected<Error>(Error::last(s));
    }
    return n;
  }
  // Host-run jobs: give the slots back, ask again (a new GRANT event follows),
  // finish with the run's real cost.
  [[nodiscard]] Status release(std::uint64_t token) const { return call(lane_job_release, token); }
  [[nodiscard]] Status reacquire(std::uint64_t token) const { return call(lane_job_reacquire, token); }
  [[nodiscard]] Status finish_cost(std::uint64_t token, std::int32_t code, std::int64_t cost) const {
    return call(lane_job_finish_cost, token, code, cost);
  }
  [[nodiscard]] Status pause() const { return call(lane_pause); }
  [[nodiscard]] Status resume() const { return call(lane_resume); }
  [[nodiscard]] Status cooldown(Nanos d) const { return call(lane_cooldown, d.count()); }
  [[nodiscard]] Status close(lane_close_mode_t mode = LANE_CLOSE_DRAIN) const { return call(lane_close, mode); }
  // Negative timeout = forever.
  [[nodiscard]] Status wait_idle(Nanos timeout = Nanos(-1)) const { return call(lane_wait_idle, timeout.count()); }
  [[nodiscard]] Status finish(std::uint64_t token, std::int32_t code = 0) const {
    return call(lane_job_finish, token, code);
  }
  // "" for a moved-from owner or a LaneRef whose lane is known to be gone.
  [[nodiscard]] std::string_view name() const noexcept {
    if (!derived().live()) return {};
    return sv(lane_name(self()));
  }

 protected:
  [[nodiscard]] Status guard() const { return derived().check_live(); }

 private:
  [[nodiscard]] const Derived &derived() const noexcept { return *static_cast<const Derived *>(this); }
  [[nodiscard]] lane_t *self() const noexcept { return derived().capi(); }
  template <class Fn, class... A>
  [[nodiscard]] Status call(Fn fn, A... a) const {
    if (auto g = guard(); !g) return g;
    return check(fn(self(), a...));
  }
  static Result<Ticket> refusal(lane_status_t s, const lane_ticket_t &t) {
    Error e = Error::last(s);
    if (s == LANE_ERR_BUSY) e.ticket = from_c(t);  // C fills the ticket of a BUSY refusal
    return unexpected<Error>(std::move(e));
  }
  Result<Ticket> submit_box(lane_job_t &c, std::unique_ptr<BoxBase> box) const {
    lane_ticket_t t = LANE_TICKET_INIT;
    lane_status_t s = lane_submit(self(), &c, &t);
    if (s != LANE_OK) return refusal(s, t);  // refused: the box is still ours
    box.release();                           // accepted: done_trampoline frees it
    return from_c(t);
  }
};

}  // namespace detail

// A lane borrowed from a Lane (ref()), a Registry, an Event or a C caller;
// copying it is cheap and it never destroys the lane.
//
// The rule: a LaneRef is valid while its lane is: until its Lane is destroyed,
// or for a registry lane until Registry::remove, idle retirement or the
// registry's destruction. The wrapper catches the cases it can see: a call
// through a LaneRef whose Lane or Registry is gone, or whose registry lane was
// removed through Registry::remove (even if a new lane of that name exists),
// is LANE_ERR_CLOSED with a message instead of a use of freed memory. It
// cannot see idle retirement (C decides it inside any registry call): with
// idle_retire set, borrow the lane again for each use. A LaneRef made from a
// raw lane_t * is not checked.
class LaneRef : public detail::LaneOps<LaneRef> {
 public:
  explicit LaneRef(lane_t *lane) noexcept : lane_(lane) {}
  [[nodiscard]] lane_t *capi() const noexcept { return lane_; }
  // false when the wrapper knows the lane is gone (see the rule above).
  [[nodiscard]] bool live() const noexcept {
    if (owner_ && !owner_->alive.load(std::memory_order_acquire)) return false;
    if (slot_ && slot_->load(std::memory_order_acquire) != generation_) return false;
    return true;
  }

 private:
  friend class detail::LaneOps<LaneRef>;
  friend class Lane;
  friend class Registry;
  friend class Session;
  LaneRef(lane_t *lane, std::shared_ptr<detail::Owner> owner, const std::atomic<std::uint64_t> *slot,
          std::uint64_t generation) noexcept
      : lane_(lane), owner_(std::move(owner)), slot_(slot), generation_(generation) {}
  [[nodiscard]] Status check_live() const {
    if (live()) return {};
    return detail::fail(LANE_ERR_CLOSED, owner_ && !owner_->alive ? "lane::LaneRef: its Lane or Registry was destroyed"
                                                                 : "lane::LaneRef: its lane was removed from the registry");
  }
  lane_t *lane_;
  std::shared_ptr<detail::Owner> owner_;                 // keeps the lane's callables; says whether it lives
  const std::atomic<std::uint64_t> *slot_ = nullptr;     // the name's removal count in its registry
  std::uint64_t generation_ = 0;                         // that count when borrowed
};

inline LaneRef Context::lane() const { return LaneRef(lane_ctx_lane(ctx_)); }

// A standalone lane. Destroying it closes it (CANCEL: queued jobs, and its
// sessions' queued messages, end LANE_ERR_CLOSED; running jobs are cancelled
// and waited for). Sessions on it may outlive it: their enqueues are then
// refused LANE_ERR_CLOSED. destroy() returns C's status; the destructor
// reports a refusal (from inside one of the lane's own jobs, where it would
// wait for itself) to set_report_handler and leaks the lane.
class Lane : public detail::LaneOps<Lane> {
 public:
  [[nodiscard]] static Result<Lane> create(Str name, const Options &o = {}) {
    auto state = std::make_shared<detail::Owner>();
    state->clock = o.clock;
    lane_options_t c = LANE_OPTIONS_INIT;
    c.max_concurrent = o.max_concurrent;
    c.policy = o.policy;
    c.eta_window = o.eta_window;
    c.preemption_off = o.preemption_off ? 1 : 0;
    c.preempt_min_runtime_ns = o.preempt_min_runtime.count();
    c.preempt_overcommit = o.preempt_overcommit ? 1 : 0;
    c.max_queued = o.max_queued;
    c.eta_default_runtime_ns = o.eta_default_runtime.count();
    c.aging_ns = o.aging.count();
    c.fair_half_life_ns = o.fair_half_life.count();
    c.adaptive_min = o.adaptive_min;
    c.adaptive_max = o.adaptive_max;
    c.adaptive_cooldown_ns = o.adaptive_cooldown.count();
    c.cluster = o.cluster;
    if (state->clock) {
      c.clock = &detail::Owner::clock_trampoline;
      c.clock_ud = state.get();
    }
    lane_t *l = nullptr;
    if (lane_status_t s = lane_create(name.c_str(), &c, &l); s != LANE_OK) return unexpected<Error>(Error::last(s));
    return Lane(l, std::move(state));
  }

  Lane(Lane &&o) noexcept : lane_(std::exchange(o.lane_, nullptr)), state_(std::move(o.state_)) {}
  Lane &operator=(Lane &&o) noexcept {
    if (this != &o) {
      destroy_or_report("Lane::operator=");
      lane_ = std::exchange(o.lane_, nullptr);
      state_ = std::move(o.state_);
    }
    return *this;
  }
  ~Lane() { destroy_or_report("~Lane"); }

  // Destroys the lane now. Refused (LANE_ERR_DEADLOCK from inside its own
  // job): nothing destroyed, this owner still owns it. A moved-from owner: OK.
  [[nodiscard]] Status destroy() {
    if (!lane_) return {};
    if (lane_status_t s = lane_destroy(lane_); s != LANE_OK) return detail::check(s);
    forget();
    return {};
  }

  [[nodiscard]] lane_t *capi() const noexcept { return lane_; }
  [[nodiscard]] bool live() const noexcept { return lane_ != nullptr; }
  // A borrowed handle that knows when this Lane is gone.
  [[nodiscard]] LaneRef ref() const noexcept { return LaneRef(lane_, state_, nullptr, 0); }

 private:
  friend class detail::LaneOps<Lane>;
  friend class Session;
  Lane(lane_t *l, std::shared_ptr<detail::Owner> state) noexcept : lane_(l), state_(std::move(state)) {}
  [[nodiscard]] Status check_live() const { return {}; }  // a moved-from Lane: C says LANE_ERR_INVALID
  [[nodiscard]] const std::shared_ptr<detail::Owner> &owner() const noexcept { return state_; }
  void forget() noexcept {
    lane_ = nullptr;
    if (state_) state_->alive.store(false, std::memory_order_release);
    state_.reset();  // sessions still on the lane keep the clock
  }
  void destroy_or_report(std::string_view where) noexcept {
    if (!lane_) return;
    lane_status_t s = lane_destroy(lane_);
    detail::destroy_in_destructor(where, s);
    if (s != LANE_OK) detail::leak(state_);  // the leaked lane may still call its clock
    forget();
  }
  lane_t *lane_ = nullptr;
  std::shared_ptr<detail::Owner> state_;
};

// ------------------------------------------------------- shared lanes (Redis)

struct ClusterOptions {
  std::string url{};         // empty -> redis://127.0.0.1:6379/0
  std::string key_prefix{};  // empty -> "lane"
  Nanos lease{0};          // 0 -> 10 s; else >= 100 ms
  Nanos timeout{0};        // connect and command timeout; 0 -> 1 s
  std::uint32_t fallback_slots = 0;  // while Redis is unreachable: 0 refuses new jobs, n runs n locally
};

// A connection to a Redis that lanes share (docs/cluster.md): pass capi()
// as Options::cluster. Destroy its lanes first; the destructor reports a
// refusal to set_report_handler and leaks the connection.
class Cluster {
 public:
  [[nodiscard]] static Result<Cluster> create(const ClusterOptions &o = {}) {
    lane_cluster_options_t c = LANE_CLUSTER_OPTIONS_INIT;
    c.url = o.url.empty() ? nullptr : o.url.c_str();
    c.key_prefix = o.key_prefix.empty() ? nullptr : o.key_prefix.c_str();
    c.lease_ns = o.lease.count();
    c.timeout_ns = o.timeout.count();
    c.fallback_slots = o.fallback_slots;
    lane_cluster_t *p = nullptr;
    if (lane_status_t s = lane_cluster_create(&c, &p); s != LANE_OK) return unexpected<Error>(Error::last(s));
    return Cluster(p);
  }
  Cluster(Cluster &&o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Cluster &operator=(Cluster &&o) noexcept {
    if (this != &o) {
      destroy_or_report("Cluster::operator=");
      c_ = std::exchange(o.c_, nullptr);
    }
    return *this;
  }
  ~Cluster() { destroy_or_report("~Cluster"); }
  // LANE_ERR_INVALID while lanes still use it (nothing destroyed).
  [[nodiscard]] Status destroy() {
    if (!c_) return {};
    if (lane_status_t s = lane_cluster_destroy(c_); s != LANE_OK) return detail::check(s);
    c_ = nullptr;
    return {};
  }
  [[nodiscard]] lane_cluster_t *capi() const noexcept { return c_; }

 private:
  explicit Cluster(lane_cluster_t *c) noexcept : c_(c) {}
  void destroy_or_report(std::string_view where) noexcept {
    if (!c_) return;
    detail::destroy_in_destructor(where, lane_cluster_destroy(c_));
    c_ = nullptr;
  }
  lane_cluster_t *c_ = nullptr;
};

// ------------------------------------------------------------------ ports

struct Event {
  lane_event_kind_t kind;
  lane_status_t status;  // DONE: the outcome; CANCEL: the cause
  std::int32_t job_code;
  LaneRef lane;  // borrowed; valid while the lane lives
  std::uint64_t job_token;
  void *user_data;
  TimePoint at;
  // GRANT only: the job's context until finish() (batch, mailbox, cancelled,
  // wait); empty for other kinds.
  [[nodiscard]] std::optional<Context> context() const {
    if (!ctx_) return std::nullopt;
    return std::optional<Context>(std::in_place, ctx_);
  }
  lane_ctx_t *ctx_ = nullptr;
};

// An event queue for host-run jobs (and DONE events of any job that names it).
// Destroying it while jobs still name it is allowed (their events are discarded).
class Port {
 public:
  [[nodiscard]] static Result<Port> create() {
    lane_port_t *p = nullptr;
    if (lane_status_t s = lane_port_create(&p); s != LANE_OK) return unexpected<Error>(Error::last(s));
    return Port(p);
  }
  Port(Port &&o) noexcept : port_(std::exchange(o.port_, nullptr)) {}
  Port &operator=(Port &&o) noexcept {
    if (this != &o) {
      destroy_or_report("Port::operator=");
      port_ = std::exchange(o.port_, nullptr);
    }
    return *this;
  }
  ~Port() { destroy_or_report("~Port"); }
  [[nodiscard]] Status destroy() {
    if (!port_) return {};
    if (lane_status_t s = lane_port_destroy(port_); s != LANE_OK) return detail::check(s);
    port_ = nullptr;
    return {};
  }

  // Up to `max` (>= 1) events, waiting up to `timeout` for the first
  // (negative = forever, 0 = no wait). Empty on timeout or wake().
  [[nodiscard]] Result<std::vector<Event>> poll(std::size_t max, Nanos timeout) {
    if (max == 0) return unexpected<Error>(Error{LANE_ERR_INVALID, "Port::poll: max must be at least 1", {}});
    if (max > static_cast<std::size_t>(INT32_MAX)) max = INT32_MAX;
    std::vector<lane_event_t> raw(max);
    raw[0].struct_size = sizeof(lane_event_t);
    std::int32_t n = lane_port_poll(port_, raw.data(), static_cast<std::int32_t>(raw.size()), timeout.count());
    if (n < 0) return unexpected<Error>(Error::last(static_cast<lane_status_t>(n)));
    std::vector<Event> out;
    out.reserve(static_cast<std::size_t>(n));
    for (std::int32_t i = 0; i < n; ++i) {
      const lane_event_t &e = raw[static_cast<std::size_t>(i)];
      out.push_back(Event{e.kind, e.status, e.job_code, LaneRef(e.lane), e.job_token, e.user_data, detail::tp(e.at_ns),
                          e.ctx});
    }
    return out;
  }
  [[nodiscard]] Status wake() { return detail::check(lane_port_wake(port_)); }
  [[nodiscard]] int fd() const noexcept { return lane_port_fd(port_); }
  [[nodiscard]] lane_port_t *capi() const noexcept { return port_; }

 private:
  explicit Port(lane_port_t *p) noexcept : port_(p) {}
  void destroy_or_report(std::string_view where) noexcept {
    if (!port_) return;
    detail::destroy_in_destructor(where, lane_port_destroy(port_));
    port_ = nullptr;
  }
  lane_port_t *port_ = nullptr;
};

namespace detail {
inline lane_job_t to_c(const Job &j) {
  lane_job_t c = LANE_JOB_INIT;
  c.id = j.id.c_str();
  c.tenant = j.tenant.c_str_or_null();
  c.priority = j.priority;
  c.flags = j.flags;
  c.max_wait_ns = j.max_wait.count();
  c.queue_timeout_ns = j.queue_timeout.count();
  c.port = j.port ? j.port->capi() : nullptr;
  c.cost = j.cost;
  c.slots = j.slots;
  c.run_timeout_ns = j.run_timeout.count();
  return c;
}
}  // namespace detail

inline std::vector<Message> Context::batch() const {
  std::vector<Message> out;
  const std::uint32_t n = lane_ctx_batch_count(ctx_);
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const char *id = nullptr;
    void *ud = nullptr;
    if (lane_ctx_batch_item(ctx_, i, &id, &ud) == LANE_OK) out.push_back(message_of(id, ud));
  }
  return out;
}

inline std::optional<Message> Context::next_message() {
  const char *id = nullptr;
  void *ud = nullptr;
  if (lane_ctx_next_message(ctx_, &id, &ud) != 1) return std::nullopt;
  if (wrapper_run_ && ud) taken_.push_back(static_cast<detail::BoxBase *>(ud));
  return message_of(id, ud);
}

// ------------------------------------------------------------------ registry

// Options for lane::Registry::create; zero or empty means default.
struct RegistryOptions {
  // empty: the environment. A throw is reported and `def` used.
  std::function<std::int64_t(std::string_view key, std::int64_t def)> config_int{};
  // empty: stderr. A throw is reported.
  std::function<void(std::int32_t level, std::string_view message)> log{};
  lane_policy_t default_policy = LANE_POLICY_DEFAULT;  // -> FAIR_SHARE
  std::uint32_t default_max_concurrent = 0;            // -> 1
  Nanos idle_retire{0};                                // 0 = never; see LaneRef for what it means for borrowers
  ClockFn clock{};                                     // empty: real time; also the registry lanes' clock
  lane_cluster_t *cluster = nullptr;  // Cluster::capi(): every lane is a member there; destroy the registry first
};

namespace detail {
struct RegistryState final : Owner {
  std::function<std::int64_t(std::string_view, std::int64_t)> config_int;
  std::function<void(std::int32_t, std::string_view)> log;
  std::mutex mu;
  std::map<std::string, std::atomic<std::uint64_t>, std::less<>> removals;  // nodes never erased

  std::atomic<std::uint64_t> *slot(std::string_view name) {
    std::lock_guard lk(mu);
    auto it = removals.find(name);
    if (it == removals.end()) it = removals.try_emplace(std::string(name), 0).first;
    return &it->second;
  }
  static std::int64_t config_trampoline(const char *key, std::int64_t def, void *ud) {
    try {
      return static_cast<RegistryState *>(ud)->config_int(sv(key), def);
    } catch (...) {
      report_current_exception("config_int");
      return def;
    }
  }
  static void log_trampoline(std::int32_t level, const char *message, void *ud) {
    try {
      static_cast<RegistryState *>(ud)->log(level, sv(message));
    } catch (...) {
      report_current_exception("log");
    }
  }
};
}  // namespace detail

// A registry of named lanes (config, reload, metrics). Lanes it hands out are
// borrowed (LaneRef; see its rule): the registry destroys them. Destroying
// the registry closes its lanes as ~Lane does; sessions on them may outlive
// it. The destructor reports a refusal (from inside the registry's own
// callbacks or jobs) and leaks the registry.
class Registry {
 public:
  using Options = RegistryOptions;

  [[nodiscard]] static Result<Registry> create(Options o = {}) {
    auto st = std::make_shared<detail::RegistryState>();
    st->config_int = std::move(o.config_int);
    st->log = std::move(o.log);
    st->clock = std::move(o.clock);
    lane_registry_options_t c = LANE_REGISTRY_OPTIONS_INIT;
    if (st->config_int) {
      c.config_int = &detail::RegistryState::config_trampoline;
      c.config_ud = st.get();
    }
    if (st->log) {
      c.log = &detail::RegistryState::log_trampoline;
      c.log_ud = st.get();
    }
    if (st->clock) {
      c.clock = &detail::Owner::clock_trampoline;
      c.clock_ud = static_cast<detail::Owner *>(st.get());
    }
    c.default_policy = o.default_policy;
    c.default_max_concurrent = o.default_max_concurrent;
    c.idle_retire_ns = o.idle_retire.count();
    c.cluster = o.cluster;
    lane_registry_t *r = nullptr;
    if (lane_status_t s = lane_registry_create(&c, &r); s != LANE_OK) return unexpected<Error>(Error::last(s));
    return Registry(r, std::move(st));
  }
  Registry(Registry &&o) noexcept : reg_(std::exchange(o.reg_, nullptr)), state_(std::move(o.state_)) {}
  Registry &operator=(Registry &&o) noexcept {
    if (this != &o) {
      destroy_or_report("Registry::operator=");
      reg_ = std::exchange(o.reg_, nullptr);
      state_ = std::move(o.state_);
    }
    return *this;
  }
  ~Registry() { destroy_or_report("~Registry"); }
  [[nodiscard]] Status destroy() {
    if (!reg_) return {};
    if (lane_status_t s = lane_registry_destroy(reg_); s != LANE_OK) return detail::check(s);
    forget();
    return {};
  }

  // The lane called `name`, created on first use.
  [[nodiscard]] Result<LaneRef> lane(Str name) {
    const std::atomic<std::uint64_t> *slot = state_ ? state_->slot(name.view()) : nullptr;
    const std::uint64_t gen = slot ? slot->load(std::memory_order_acquire) : 0;
    lane_t *l = nullptr;
    if (lane_status_t s = lane_registry_get_or_create(reg_, name.c_str(), &l); s != LANE_OK) {
      return unexpected<Error>(Error::last(s));
    }
    return LaneRef(l, state_, slot, gen);
  }
  // The lane if it exists; never creates one.
  [[nodiscard]] std::optional<LaneRef> get(Str name) {
    const std::atomic<std::uint64_t> *slot = state_ ? state_->slot(name.view()) : nullptr;
    const std::uint64_t gen = slot ? slot->load(std::memory_order_acquire) : 0;
    lane_t *l = lane_registry_get(reg_, name.c_str());
    if (!l) return std::nullopt;
    return LaneRef(l, state_, slot, gen);
  }
  [[nodiscard]] std::vector<std::string> names() {
    // Lanes may come and go between the two calls: ask again until it fits.
    std::vector<const char *> buf(16);
    for (;;) {
      std::size_t n = lane_registry_names(reg_, buf.data(), buf.size());
      if (n <= buf.size()) return std::vector<std::string>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      buf.resize(n + 8);
    }
  }
  [[nodiscard]] Status reload() { return detail::check(lane_registry_reload(reg_)); }
  // Removes an idle lane; LaneRefs to it then answer LANE_ERR_CLOSED.
  [[nodiscard]] Status remove(Str name) {
    if (lane_status_t s = lane_registry_remove(reg_, name.c_str()); s != LANE_OK) return detail::check(s);
    if (state_) state_->slot(name.view())->fetch_add(1, std::memory_order_acq_rel);
    return {};
  }
  // Prometheus text exposition (0.0.4) of every lane.
  [[nodiscard]] Result<std::string> metrics() {
    std::string text(4096, '\0');
    for (;;) {
      std::size_t len = 0;
      lane_status_t s = lane_registry_metrics(reg_, text.data(), text.size(), &len);
      if (s == LANE_OK) {
        text.resize(len);
        return text;
      }
      if (len <= text.size()) return unexpected<Error>(Error::last(s));  // not a size problem
      text.resize(len + 1024);
    }
  }
  [[nodiscard]] lane_registry_t *capi() const noexcept { return reg_; }

 private:
  friend class Sampler;
  Registry(lane_registry_t *r, std::shared_ptr<detail::RegistryState> st) noexcept : reg_(r), state_(std::move(st)) {}
  void forget() noexcept {
    reg_ = nullptr;
    if (state_) state_->alive.store(false, std::memory_order_release);
    state_.reset();
  }
  void destroy_or_report(std::string_view where) noexcept {
    if (!reg_) return;
    lane_status_t s = lane_registry_destroy(reg_);
    detail::destroy_in_destructor(where, s);
    if (s != LANE_OK) detail::leak(state_);  // the leaked registry may still call its callables
    forget();
  }
  lane_registry_t *reg_ = nullptr;
  std::shared_ptr<detail::RegistryState> state_;  // outlives reg_: sessions and samplers share it
};

// ------------------------------------------------------------------ sampler

// One row of the occupancy history.
struct Sample {
  std::uint32_t running = 0;
  std::uint32_t queued = 0;
  TimePoint sampled_at{};
};

// Options for lane::Sampler::create; zero or empty means default.
struct SamplerOptions {
  Nanos interval{0};        // -> 30 s
  Nanos retention{0};       // -> 7 days
  Nanos purge_interval{0};  // -> 24 h
  // Empty: the SQLite history at sqlite_path. Return 0, or non-zero for a
  // failure (a throw is a failure too, and is reported).
  std::function<std::int32_t(std::string_view lane, std::uint32_t running, std::uint32_t queued, TimePoint sampled_at)>
      sink{};
  std::string sqlite_path{};
  ClockFn clock{};  // empty: real time
};

// The occupancy sampler of a registry: to a callable sink, or to the built-in
// SQLite history. Best destroyed before its registry (if the registry goes
// first the sampler is stopped; its calls then answer LANE_ERR_CLOSED).
class Sampler {
 public:
  using Options = SamplerOptions;

  [[nodiscard]] static Result<Sampler> create(Registry &reg, Options o) {
    auto st = std::make_shared<SinkState>();
    st->sink = std::move(o.sink);
    st->clock = std::move(o.clock);
    st->registry = reg.state_;
    lane_sampler_options_t c = LANE_SAMPLER_OPTIONS_INIT;
    c.interval_ns = o.interval.count();
    c.retention_ns = o.retention.count();
    c.purge_interval_ns = o.purge_interval.count();
    if (st->sink) {
      c.sink = &SinkState::trampoline;
      c.sink_ud = st.get();
    }
    c.sqlite_path = o.sqlite_path.empty() ? nullptr : o.sqlite_path.c_str();
    if (st->clock) {
      c.clock = &detail::Owner::clock_trampoline;
      c.clock_ud = static_cast<detail::Owner *>(st.get());
    }
    lane_sampler_t *s = nullptr;
    if (lane_status_t r = lane_sampler_create(reg.capi(), &c, &s); r != LANE_OK) {
      return unexpected<Error>(Error::last(r));
    }
    return Sampler(s, std::move(st));
  }
  Sampler(Sampler &&o) noexcept : s_(std::exchange(o.s_, nullptr)), state_(std::move(o.state_)) {}
  Sampler &operator=(Sampler &&o) noexcept {
    if (this != &o) {
      destroy_or_report("Sampler::operator=");
      s_ = std::exchange(o.s_, nullptr);
      state_ = std::move(o.state_);
    }
    return *this;
  }
  ~Sampler() { destroy_or_report("~Sampler"); }
  [[nodiscard]] Status destroy() {
    if (!s_) return {};
    if (lane_status_t r = lane_sampler_destroy(s_); r != LANE_OK) return detail::check(r);
    s_ = nullptr;
    state_.reset();
    return {};
  }

  [[nodiscard]] Status start() { return detail::check(lane_sampler_start(s_)); }
  [[nodiscard]] Status stop() { return detail::check(lane_sampler_stop(s_)); }
  [[nodiscard]] Status sample_once() { return detail::check(lane_sampler_sample_once(s_)); }
  [[nodiscard]] Status purge_once() { return detail::check(lane_sampler_purge_once(s_)); }
  [[nodiscard]] lane_sampler_t *capi() const noexcept { return s_; }

 private:
  struct SinkState final : detail::Owner {
    std::function<std::int32_t(std::string_view, std::uint32_t, std::uint32_t, TimePoint)> sink;
    std::shared_ptr<detail::RegistryState> registry;  // its log may be called for this sampler
    static std::int32_t trampoline(const char *lane, std::uint32_t running, std::uint32_t queued, std::int64_t at,
                                   void *ud) {
      try {
        return static_cast<SinkState *>(ud)->sink(detail::sv(lane), running, queued, detail::tp(at));
      } catch (...) {
        detail::report_current_exception("sink");
        return -1;  // a failing sink: logged by the library, the sampler goes on
      }
    }
  };
  Sampler(lane_sampler_t *s, std::shared_ptr<SinkState> st) noexcept : s_(s), state_(std::move(st)) {}
  void destroy_or_report(std::string_view where) noexcept {
    if (!s_) return;
    lane_status_t s = lane_sampler_destroy(s_);
    detail::destroy_in_destructor(where, s);
    if (s != LANE_OK) detail::leak(state_);
    s_ = nullptr;
    state_.reset();
  }
  lane_sampler_t *s_ = nullptr;
  std::shared_ptr<SinkState> state_;
};

// The SQLite history of one lane in [from, to), oldest first.
[[nodiscard]] inline Result<std::vector<Sample>> sqlite_history(Str path, Str lane, TimePoint from, TimePoint to) {
  std::vector<lane_sample_t> rows(64);
  for (;;) {
    rows[0].struct_size = sizeof(lane_sample_t);
    std::size_t total = 0;
    lane_status_t s = lane_sqlite_query(path.c_str(), lane.c_str(), from.time_since_epoch().count(),
                                        to.time_since_epoch().count(), rows.data(), rows.size(), &total);
    if (s != LANE_OK) return unexpected<Error>(Error::last(s));
    if (total <= rows.size()) {
      std::vector<Sample> out;
      out.reserve(total);
      for (std::size_t i = 0; i < total; ++i) {
        out.push_back(Sample{rows[i].running, rows[i].queued, detail::tp(rows[i].sampled_at_ns)});
      }
      return out;
    }
    rows.resize(total);
  }
}

// ------------------------------------------------------------------ sessions

// Options for lane::Session::create; zero means default, as in
// lane_session_options_t.
struct SessionOptions {
  lane_session_mode_t mode = LANE_SESSION_QUEUE;
  std::uint32_t cap = 0;  // -> 10 queued messages
  lane_drop_t drop = LANE_DROP_OLD;
  Nanos debounce{0};                 // 0 -> 800 ms; negative = off
  std::uint32_t max_concurrent = 0;  // -> 1
  // Fills tokens and window and returns true, or false for "unknown". Called
  // on a library thread with no lock held; lives as long as the session. A
  // throw is reported and means "unknown".
  std::function<bool(std::string_view key, std::int64_t &tokens, std::int64_t &window)> token_estimate{};
  double throttle_ratio = 0;  // -> 0.6
};

namespace detail {
struct SessionState {
  UniqueFunction<std::int32_t(Context &)> run;  // the session's run (empty: host-run session)
  std::shared_ptr<Owner> lane_owner;            // the lane's callables outlive the session
  std::function<bool(std::string_view, std::int64_t &, std::int64_t &)> estimate;
  static std::int32_t estimate_trampoline(const char *key, std::int64_t *tokens, std::int64_t *window, void *ud) {
    try {
      return static_cast<SessionState *>(ud)->estimate(sv(key), *tokens, *window) ? 0 : 1;
    } catch (...) {
      report_current_exception("token_estimate");
      return 1;  // unknown: no throttle
    }
  }
};
// A session message: its run is the session's.
struct MessageBox final : BoxBase {
  SessionState *session = nullptr;
  std::int32_t run(ContextAccess &access, lane_ctx_t *) override { return session->run(access.ctx); }
};
}  // namespace detail

// A session queue in front of a lane (lane_session_*). The run is a property
// of the session, not of a message: in COLLECT one run answers many
// messages, and it is the session's callable that runs, reading them with
// Context::batch(). Every message gets its own outcome (on_done); a run that
// throws fails each message it carried with the exception's text.
//
// Destroying the session ends its queued messages, cancels its runs and
// waits for them; from inside its own run or callbacks that is refused
// (LANE_ERR_DEADLOCK): destroy() returns it, the destructor reports it and
// leaks the session. The session may outlive its Lane or Registry: the lane
// is closed then, and enqueue answers LANE_ERR_CLOSED.
class Session {
 public:
  using Options = SessionOptions;

  // A session whose runs call `run` (a lane::JobBody). `lane` is a lane::Lane
  // or a lane::LaneRef.
  template <class L, class F>
  [[nodiscard]] static Result<Session> create(const L &lane, Str key, Options o, F run) {
    if constexpr (!JobBody<F>) {
      static_assert(JobBody<F>, LANE_HPP_BODY_MESSAGE);
      return unexpected<Error>(Error{});
    } else {
      auto st = std::make_unique<detail::SessionState>();
      st->run = [f = std::move(run)](Context &ctx) mutable { return detail::invoke_body(f, ctx); };
      return make(lane, key, std::move(o), std::move(st));
    }
  }
  // A host-run session: messages go in with enqueue_host and their runs are
  // granted through the messages' port.
  template <class L>
  [[nodiscard]] static Result<Session> create(const L &lane, Str key, Options o = {}) {
    return make(lane, key, std::move(o), std::make_unique<detail::SessionState>());
  }

  Session(Session &&o) noexcept : s_(std::exchange(o.s_, nullptr)), state_(std::move(o.state_)) {}
  Session &operator=(Session &&o) noexcept {
    if (this != &o) {
      destroy_or_report("Session::operator=");
      s_ = std::exchange(o.s_, nullptr);
      state_ = std::move(o.state_);
    }
    return *this;
  }
  ~Session() { destroy_or_report("~Session"); }
  [[nodiscard]] Status destroy() {
    if (!s_) return {};
    if (lane_status_t r = lane_session_destroy(s_); r != LANE_OK) return detail::check(r);
    s_ = nullptr;
    state_.reset();
    return {};
  }

  // Enqueues a message for the session's run; `data` travels with it
  // (Context::batch, next_message). Accepted: data and job.on_done live until
  // the message's outcome. A host-run session refuses it (LANE_ERR_INVALID).
  [[nodiscard]] Status enqueue(Job job, std::any data = {}) {
    if (!state_ || !state_->run) {
      return detail::fail(LANE_ERR_INVALID, s_ ? "Session::enqueue: this session has no run callable; use enqueue_host"
                                               : "Session::enqueue: a moved-from or destroyed session");
    }
    auto box = std::make_unique<detail::MessageBox>();
    box->session = state_.get();
    box->on_done = std::move(job.on_done);
    box->data = std::move(data);
    lane_job_t c = detail::to_c(job);
    c.run = &detail::run_trampoline;
    c.on_done = &detail::BoxBase::done_trampoline;
    c.user_data = box.get();
    if (lane_status_t s = lane_session_enqueue(s_, &c); s != LANE_OK) return detail::check(s);
    box.release();  // accepted: done_trampoline frees it
    return {};
  }
  // A host-run message (job.port required): its run is granted through the
  // port (the GRANT event's context gives its batch, whose messages carry
  // their user_data), and every message gets its own DONE event carrying
  // `user_data`. With an on_done, user_data must be null (as submit_host).
  [[nodiscard]] Status enqueue_host(Job job, void *user_data = nullptr) {
    lane_job_t c = detail::to_c(job);
    if (job.on_done) {
      if (user_data) return detail::fail(LANE_ERR_INVALID, "enqueue_host: use either on_done or user_data");
      auto box = std::make_unique<detail::HostBox>();
      box->on_done = std::move(job.on_done);
      c.on_done = &detail::BoxBase::done_trampoline;
      c.user_data = box.get();
      if (lane_status_t s = lane_session_enqueue(s_, &c); s != LANE_OK) return detail::check(s);
      box.release();
      return {};
    }
    c.user_data = user_data;
    return detail::check(lane_session_enqueue(s_, &c));
  }

  // Cancels the oldest active run; true if there was one.
  bool cancel_one() noexcept { return lane_session_cancel_one(s_) == 1; }
  // Cancels every active run (returns how many) and ends what waits STALE.
  int cancel_all() noexcept { return lane_session_cancel_all(s_); }
  [[nodiscard]] Status reset() { return detail::check(lane_session_reset(s_)); }
  [[nodiscard]] std::uint32_t active() const noexcept { return lane_session_active(s_); }
  [[nodiscard]] std::uint32_t queued() const noexcept { return lane_session_queued(s_); }
  [[nodiscard]] Status set_max_concurrent(std::uint32_t n) {
    return detail::check(lane_session_set_max_concurrent(s_, n));
  }
  // "" for a moved-from session.
  [[nodiscard]] std::string_view key() const noexcept { return detail::sv(lane_session_key(s_)); }
  [[nodiscard]] lane_session_t *capi() const noexcept { return s_; }

 private:
  static std::shared_ptr<detail::Owner> owner_of(const Lane &l) { return l.owner(); }
  static std::shared_ptr<detail::Owner> owner_of(const LaneRef &l) { return l.owner_; }
  template <class L>
  static Result<Session> make(const L &lane, const Str &key, Options o, std::unique_ptr<detail::SessionState> st) {
    if constexpr (std::is_same_v<L, LaneRef>) {
      if (auto g = lane.check_live(); !g) return unexpected<Error>(std::move(g.error()));
    }
    st->lane_owner = owner_of(lane);
    st->estimate = std::move(o.token_estimate);
    lane_session_options_t c = LANE_SESSION_OPTIONS_INIT;
    c.mode = o.mode;
    c.cap = o.cap;
    c.drop = o.drop;
    c.debounce_ns = o.debounce.count();
    c.max_concurrent = o.max_concurrent;
    if (st->estimate) {
      c.token_estimate = &detail::SessionState::estimate_trampoline;
      c.token_ud = st.get();
    }
    c.throttle_ratio = o.throttle_ratio;
    lane_session_t *s = nullptr;
    if (lane_status_t r = lane_session_create(lane.capi(), key.c_str(), &c, &s); r != LANE_OK) {
      return unexpected<Error>(Error::last(r));
    }
    return Session(s, std::move(st));
  }
  Session(lane_session_t *s, std::unique_ptr<detail::SessionState> st) noexcept : s_(s), state_(std::move(st)) {}
  void destroy_or_report(std::string_view where) noexcept {
    if (!s_) return;
    lane_status_t r = lane_session_destroy(s_);
    detail::destroy_in_destructor(where, r);
    s_ = nullptr;
    if (r == LANE_OK) {
      state_.reset();
    } else {
      (void)state_.release();  // leaked with the session: its runs may still call it
    }
  }
  lane_session_t *s_ = nullptr;
  std::unique_ptr<detail::SessionState> state_;  // outlives s_
};

}  // namespace lane
#endif  // !LANE_HPP_NO_EXPECTED
