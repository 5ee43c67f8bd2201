// liblane's C++ wrapper: header-only, over lane.h alone.
//
// Move-only owners destroy what they own (lane::Lane, lane::Port,
// lane::Registry, lane::Session, lane::Sampler); LaneRef
// borrows. Fallible calls return lane::expected<T, lane::Error>. Jobs come
// from any callable; the trampoline owns the callable until the job's outcome
// has been delivered, and catches every exception the job body throws (the
// job ends LANE_ERR_JOB_FAILED and the message is kept in the Outcome). The
// wrapper adds no behaviour of its own: everything here is a C API call.
//
// Thread safety: as lane.h: every call may come from any thread; destroying
// (or moving from) an owner that another thread still uses is not allowed.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lane/lane.h"

#if defined(LANE_HPP_USE_TL_EXPECTED)
#include <tl/expected.hpp>
#else
#include <expected>
#endif

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

// A failed call: its status, the status's name and lane_last_error()'s message.
struct Error {
  lane_status_t status = LANE_ERR_INTERNAL;
  std::string message;

  [[nodiscard]] const char *name() const { return lane_status_name(status); }
  // Captures lane_last_error() of this thread: call right after the failing call.
  static Error last(lane_status_t s) { return Error{s, lane_last_error()}; }
};

template <class T>
using Result = expected<T, Error>;
using Status = expected<void, Error>;

namespace detail {
inline Status check(lane_status_t s) {
  if (s == LANE_OK) return {};
  return unexpected<Error>(Error::last(s));
}
}  // namespace detail

// A job's outcome, copied out of lane_outcome_t (strings owned).
struct Outcome {
  lane_status_t status = LANE_OK;
  std::int32_t job_code = 0;
  std::string job_id;
  std::string lane;
  std::uint64_t job_token = 0;
  std::int64_t enqueued_at_ns = 0, started_at_ns = 0, finished_at_ns = 0;
  std::string error;  // what the job body threw, if it threw

  [[nodiscard]] bool ok() const { return status == LANE_OK; }
  [[nodiscard]] Nanos waited() const { return Nanos(started_at_ns ? started_at_ns - enqueued_at_ns : 0); }

  static Outcome from(const lane_outcome_t &o) {
    Outcome r;
    r.status = o.status;
    r.job_code = o.job_code;
    r.job_id = o.job_id ? o.job_id : "";
    r.lane = o.lane ? o.lane : "";
    r.job_token = o.job_token;
    r.enqueued_at_ns = o.enqueued_at_ns;
    r.started_at_ns = o.started_at_ns;
    r.finished_at_ns = o.finished_at_ns;
    return r;
  }
};

struct Ticket {
  std::int32_t position = 0;  // 0 = dispatched now
  Nanos eta{0};
  std::uint64_t job_token = 0;
  lane_blocked_by_t blocked_by = LANE_BLOCKED_NONE;
};

// One message of a session run's batch or mailbox (see lane::Session). The
// id and data live until the run ends.
struct Message {
  std::string_view id;
  const std::any *data = nullptr;  // what Session::enqueue was given
  template <class T>
  [[nodiscard]] const T *as() const {
    return data ? std::any_cast<T>(data) : nullptr;
  }
};

// What a running job sees. Valid only inside the job body.
class Context {
 public:
  explicit Context(lane_ctx_t *ctx) : ctx_(ctx) {}
  [[nodiscard]] bool cancelled() const { return lane_ctx_cancelled(ctx_) != 0; }
  [[nodiscard]] lane_status_t cause() const { return lane_ctx_cause(ctx_); }
  // Sleeps until cancelled (returns the cause) or `timeout` passes (LANE_ERR_TIMEOUT).
  lane_status_t wait(Nanos timeout) { return lane_ctx_wait(ctx_, timeout.count()); }
  lane_status_t wait() { return lane_ctx_wait(ctx_, -1); }
  [[nodiscard]] std::string_view job_id() const { return lane_ctx_job_id(ctx_); }
  [[nodiscard]] lane_ctx_t *capi() const { return ctx_; }
  // A session run: the messages merged into it, oldest first (COLLECT may
  // merge several; otherwise, and for a plain job, just the one). Messages
  // must come from this wrapper (Session::enqueue), not from C callers.
  [[nodiscard]] std::vector<Message> batch() const;
  // STEER: the next message delivered into this run's mailbox, if any.
  [[nodiscard]] std::optional<Message> next_message();
  // SUMMARIZE: ids of the messages dropped since the previous run.
  [[nodiscard]] std::vector<std::string_view> dropped() const {
    std::vector<std::string_view> out;
    const std::uint32_t n = lane_ctx_dropped_count(ctx_);
    for (std::uint32_t i = 0; i < n; ++i) out.emplace_back(lane_ctx_dropped_id(ctx_, i));
    return out;
  }

 private:
  lane_ctx_t *ctx_;
};

class Port;

// A job's description; designated initializers read well:
// lane.submit({.id = "j1", .tenant = "alice", .priority = 2}, body).
struct Job {
  const char *id = nullptr;
  const char *tenant = nullptr;
  std::int32_t priority = 0;
  std::uint32_t flags = 0;  // LANE_JOB_*
  Nanos max_wait{0};
  Nanos queue_timeout{0};
  std::function<void(const Outcome &)> on_done{};  // called exactly once, on a library thread, no lock held
  Port *port = nullptr;                          // DONE events for this job (and GRANT/CANCEL for host-run)
};

// Options for lane::Lane::create; zero means default, as in lane_options_t.
struct Options {
  std::uint32_t max_concurrent = 0;
  lane_policy_t policy = LANE_POLICY_DEFAULT;
  std::uint32_t eta_window = 0;
  bool preemption_off = false;
  Nanos preempt_min_runtime{0};
  bool preempt_overcommit = false;
  std::uint32_t max_queued = 0;
  Nanos eta_default_runtime{0};
  Nanos aging{0};
  lane_clock_fn clock = nullptr;
  void *clock_ud = nullptr;
  Nanos fair_half_life{0};  // FAIR_SHARE usage memory; 0 = forget idle tenants
};

struct Event {
  lane_event_kind_t kind;
  lane_status_t status;
  std::int32_t job_code;
  lane_t *lane;
  std::uint64_t job_token;
  void *user_data;
  std::int64_t at_ns;
};

// An event queue for host-run jobs (and DONE events of any job that names it).
class Port {
 public:
  [[nodiscard]] static Result<Port> create() {
    lane_port_t *p = nullptr;
    if (lane_status_t s = lane_port_create(&p); s != LANE_OK) return unexpected<Error>(Error::last(s));
    return Port(p);
  }

  // Up to `max` events, waiting up to `timeout` (negative = forever) for the first.
  [[nodiscard]] Result<std::vector<Event>> poll(std::size_t max, Nanos timeout) {
    std::vector<lane_event_t> raw(max == 0 ? 1 : max);
    raw[0].struct_size = sizeof(lane_event_t);
    std::int32_t n = lane_port_poll(port_.get(), raw.data(), static_cast<std::int32_t>(raw.size()), timeout.count());
    if (n < 0) return unexpected<Error>(Error::last(static_cast<lane_status_t>(n)));
    std::vector<Event> out;
    out.reserve(static_cast<std::size_t>(n));
    for (std::int32_t i = 0; i < n; ++i) {
      const lane_event_t &e = raw[static_cast<std::size_t>(i)];
      out.push_back(Event{e.kind, e.status, e.job_code, e.lane, e.job_token, e.user_data, e.at_ns});
    }
    return out;
  }
  Status wake() { return detail::check(lane_port_wake(port_.get())); }
  [[nodiscard]] int fd() const { return lane_port_fd(port_.get()); }
  [[nodiscard]] lane_port_t *capi() const { return port_.get(); }

 private:
  explicit Port(lane_port_t *p) : port_(p) {}
  struct Deleter {
    void operator()(lane_port_t *p) const { lane_port_destroy(p); }
  };
  std::unique_ptr<lane_port_t, Deleter> port_;
};

namespace detail {

// Owns a job's callable and completion until the outcome is delivered.
struct BoxBase {
  std::function<void(const Outcome &)> on_done;
  std::string error;
  std::any data;  // a session message's payload (Context::batch)
  virtual ~BoxBase() = default;
  virtual std::int32_t run(Context &ctx) = 0;

  static std::int32_t run_trampoline(lane_ctx_t *c, void *ud) {
    auto *box = static_cast<BoxBase *>(ud);
    Context ctx(c);
    try {
      return box->run(ctx);
    } catch (const std::exception &e) {
      box->error = e.what();
    } catch (...) {
      box->error = "unknown exception";
    }
    return -1;
  }
  static void done_trampoline(const lane_outcome_t *o, void *ud) {
    std::unique_ptr<BoxBase> box(static_cast<BoxBase *>(ud));
    if (!box->on_done) return;
    Outcome out = Outcome::from(*o);
    out.error = std::move(box->error);
    try {
      box->on_done(out);
    } catch (...) {
      // An exception must not cross into C.
    }
  }
};

template <class F>
struct Box final : BoxBase {
  explicit Box(F &&f) : fn(std::move(f)) {}
  std::int32_t run(Context &ctx) override {
    if constexpr (std::is_void_v<std::invoke_result_t<F &, Context &>>) {
      fn(ctx);
      return 0;
    } else {
      return static_cast<std::int32_t>(fn(ctx));
    }
  }
  F fn;
};

// Empty box for host-run jobs: only the completion.
struct HostBox final : BoxBase {
  std::int32_t run(Context &) override { return 0; }
};

inline Message message_of(const char *id, void *user_data) {
  const auto *box = static_cast<const BoxBase *>(user_data);
  return Message{id ? std::string_view(id) : std::string_view(), box ? &box->data : nullptr};
}

inline lane_job_t to_c(const Job &j) {
  lane_job_t c = LANE_JOB_INIT;
  c.id = j.id;
  c.tenant = j.tenant;
  c.priority = j.priority;
  c.flags = j.flags;
  c.max_wait_ns = j.max_wait.count();
  c.queue_timeout_ns = j.queue_timeout.count();
  c.port = j.port ? j.port->capi() : nullptr;
  return c;
}

inline Ticket from_c(const lane_ticket_t &t) {
  return Ticket{t.position, Nanos(t.eta_ns), t.job_token, t.blocked_by};
}

// The operations of a lane, shared by the owner (Lane) and the borrower (LaneRef).
template <class Derived>
class LaneOps {
 public:
  // Submits a callback job: fn(lane::Context&) returning an integer (0 = ok)
  // or void. Accepted: fn and job.on_done live until the outcome.
  template <class F>
  [[nodiscard]] Result<Ticket> submit(Job job, F fn) {
    auto box = std::make_unique<Box<std::decay_t<F>>>(std::move(fn));
    box->on_done = std::move(job.on_done);
    lane_job_t c = to_c(job);
    c.run = &BoxBase::run_trampoline;
    c.on_done = &BoxBase::done_trampoline;
    c.user_data = box.get();
    return submit_box(c, std::move(box));
  }

  // Submits a host-run job: granted through job.port (required), finished
  // with finish(). `user_data` comes back in its events.
  [[nodiscard]] Result<Ticket> submit_host(Job job, void *user_data = nullptr) {
    lane_job_t c = to_c(job);
    if (job.on_done) {
      auto box = std::make_unique<HostBox>();
      box->on_done = std::move(job.on_done);
      c.on_done = &BoxBase::done_trampoline;
      c.user_data = box.get();
      // The port's events then carry the box; keep the host's pointer out of it.
      if (user_data) return unexpected<Error>(Error{LANE_ERR_INVALID, "submit_host: use either on_done or user_data"});
      return submit_box(c, std::move(box));
    }
    c.user_data = user_data;
    lane_ticket_t t = LANE_TICKET_INIT;
    if (lane_status_t s = lane_submit(self(), &c, &t); s != LANE_OK) return unexpected<Error>(Error::last(s));
    return from_c(t);
  }

  // Submits and waits for the outcome (inline on this thread when a slot is
  // free). The Error side is a refusal; any outcome, failed or not, is an Outcome.
  template <class F>
  [[nodiscard]] Result<Outcome> submit_wait(Job job, F fn, Nanos timeout = Nanos(-1)) {
    Outcome result;
    bool delivered = false;
    auto user_done = std::move(job.on_done);
    auto box = std::make_unique<Box<std::decay_t<F>>>(std::move(fn));
    box->on_done = [&](const Outcome &o) {
      result = o;
      delivered = true;
      if (user_done) user_done(o);
    };
    lane_job_t c = to_c(job);
    c.run = &BoxBase::run_trampoline;
    c.on_done = &BoxBase::done_trampoline;
    c.user_data = box.get();
    lane_status_t s = lane_submit_wait(self(), &c, timeout.count(), nullptr);
    // on_done has run before lane_submit_wait returns for an accepted job.
    if (!delivered) return unexpected<Error>(Error::last(s));
    box.release();  // freed by done_trampoline
    return result;
  }

  Status cancel(const char *id, std::uint32_t flags = LANE_CANCEL_QUEUED) {
    return check(lane_cancel(self(), id, flags));
  }
  // By the ticket's token: never reaches a later job that reuses the id.
  Status cancel(std::uint64_t token, std::uint32_t flags = LANE_CANCEL_QUEUED) {
    return check(lane_cancel_token(self(), token, flags));
  }
  [[nodiscard]] Result<lane_stats_t> stats() const {
    lane_stats_t s{};
    s.struct_size = sizeof s;
    if (lane_status_t r = lane_stats(self(), &s); r != LANE_OK) return unexpected<Error>(Error::last(r));
    return s;
  }
  Status set_max_concurrent(std::uint32_t n) { return check(lane_set_max_concurrent(self(), n)); }
  Status set_preemption(bool enabled, Nanos min_runtime) {
    return check(lane_set_preemption(self(), enabled ? 1 : 0, min_runtime.count()));
  }
  Status set_eta_window(std::uint32_t n) { return check(lane_set_eta_window(self(), n)); }
  Status set_tenant_weight(const char *tenant, std::uint32_t w) { return check(lane_set_tenant_weight(self(), tenant, w)); }
  Status pause() { return check(lane_pause(self())); }
  Status resume() { return check(lane_resume(self())); }
  Status cooldown(Nanos d) { return check(lane_cooldown(self(), d.count())); }
  Status close(lane_close_mode_t mode = LANE_CLOSE_DRAIN) { return check(lane_close(self(), mode)); }
  Status wait_idle(Nanos timeout = Nanos(-1)) { return check(lane_wait_idle(self(), timeout.count())); }
  Status finish(std::uint64_t token, std::int32_t code = 0) { return check(lane_job_finish(self(), token, code)); }
  [[nodiscard]] std::string_view name() const { return lane_name(self()); }

 private:
  [[nodiscard]] lane_t *self() const { return static_cast<const Derived *>(this)->capi(); }

  Result<Ticket> submit_box(lane_job_t &c, std::unique_ptr<BoxBase> box) {
    lane_ticket_t t = LANE_TICKET_INIT;
    lane_status_t s = lane_submit(self(), &c, &t);
    if (s != LANE_OK) return unexpected<Error>(Error::last(s));  // refused: the box is still ours
    box.release();                                                 // accepted: done_trampoline frees it
    return from_c(t);
  }
};

}  // namespace detail

inline std::vector<Message> Context::batch() const {
  std::vector<Message> out;
  const std::uint32_t n = lane_ctx_batch_count(ctx_);
  for (std::uint32_t i = 0; i < n; ++i) {
    const char *id = nullptr;
    void *ud = nullptr;
    if (lane_ctx_batch_item(ctx_, i, &id, &ud) == LANE_OK) out.push_back(detail::message_of(id, ud));
  }
  return out;
}

inline std::optional<Message> Context::next_message() {
  const char *id = nullptr;
  void *ud = nullptr;
  if (lane_ctx_next_message(ctx_, &id, &ud) != 1) return std::nullopt;
  return detail::message_of(id, ud);
}

// A lane borrowed from elsewhere (a registry, or a C caller). Does not destroy it.
class LaneRef : public detail::LaneOps<LaneRef> {
 public:
  explicit LaneRef(lane_t *lane) : lane_(lane) {}
  [[nodiscard]] lane_t *capi() const { return lane_; }

 private:
  lane_t *lane_;
};

// A standalone lane; destroying it closes it (CANCEL) and waits for its jobs.
class Lane : public detail::LaneOps<Lane> {
 public:
  [[nodiscard]] static Result<Lane> create(const char *name, const Options &o = {}) {
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
    c.clock = o.clock;
    c.clock_ud = o.clock_ud;
    c.fair_half_life_ns = o.fair_half_life.count();
    lane_t *l = nullptr;
    if (lane_status_t s = lane_create(name, &c, &l); s != LANE_OK) return unexpected<Error>(Error::last(s));
    return Lane(l);
  }

  [[nodiscard]] lane_t *capi() const { return lane_.get(); }
  [[nodiscard]] LaneRef ref() const { return LaneRef(lane_.get()); }

 private:
  explicit Lane(lane_t *l) : lane_(l) {}
  struct Deleter {
    void operator()(lane_t *l) const { lane_destroy(l); }
  };
  std::unique_ptr<lane_t, Deleter> lane_;
};

// Options for lane::Registry::create; zero or empty means default.
struct RegistryOptions {
  std::function<std::int64_t(std::string_view key, std::int64_t def)> config_int{};  // empty: the environment
  std::function<void(std::int32_t level, std::string_view message)> log{};          // empty: stderr
  lane_policy_t default_policy = LANE_POLICY_DEFAULT;                               // -> FAIR_SHARE
  std::uint32_t default_max_concurrent = 0;                                         // -> 1
  Nanos idle_retire{0};                                                             // 0 = never
  lane_clock_fn clock = nullptr;
  void *clock_ud = nullptr;
  Nanos fair_half_life{0};  // FAIR_SHARE usage memory; 0 = forget idle tenants
};

// A registry of named lanes (config, reload, metrics). Lanes it hands out
// are borrowed (LaneRef): the registry destroys them. The config and log
// callables live as long as the registry.
class Registry {
 public:
  using Options = RegistryOptions;

  [[nodiscard]] static Result<Registry> create(Options o = {}) {
    auto cb = std::make_unique<Callbacks>();
    cb->config_int = std::move(o.config_int);
    cb->log = std::move(o.log);
    lane_registry_options_t c = LANE_REGISTRY_OPTIONS_INIT;
    if (cb->config_int) {
      c.config_int = &Callbacks::config_trampoline;
      c.config_ud = cb.get();
    }
    if (cb->log) {
      c.log = &Callbacks::log_trampoline;
      c.log_ud = cb.get();
    }
    c.default_policy = o.default_policy;
    c.default_max_concurrent = o.default_max_concurrent;
    c.idle_retire_ns = o.idle_retire.count();
    c.clock = o.clock;
    c.clock_ud = o.clock_ud;
    lane_registry_t *r = nullptr;
    if (lane_status_t s = lane_registry_create(&c, &r); s != LANE_OK) return unexpected<Error>(Error::last(s));
    return Registry(r, std::move(cb));
  }

  // The lane called `name`, created on first use.
  [[nodiscard]] Result<LaneRef> lane(const char *name) {
    lane_t *l = nullptr;
    if (lane_status_t s = lane_registry_get_or_create(reg_.get(), name, &l); s != LANE_OK) {
      return unexpected<Error>(Error::last(s));
    }
    return LaneRef(l);
  }
  // The lane if it exists; never creates one.
  [[nodiscard]] std::optional<LaneRef> get(const char *name) {
    lane_t *l = lane_registry_get(reg_.get(), name);
    if (!l) return std::nullopt;
    return LaneRef(l);
  }
  [[nodiscard]] std::vector<std::string> names() {
    // Lanes may come and go between the two calls: ask again until it fits.
    std::vector<const char *> buf(16);
    for (;;) {
      std::size_t n = lane_registry_names(reg_.get(), buf.data(), buf.size());
      if (n <= buf.size()) return std::vector<std::string>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      buf.resize(n + 8);
    }
  }
  Status reload() { return detail::check(lane_registry_reload(reg_.get())); }
  Status remove(const char *name) { return detail::check(lane_registry_remove(reg_.get(), name)); }
  // Prometheus text exposition (0.0.4) of every lane.
  [[nodiscard]] Result<std::string> metrics() {
    std::string text(4096, '\0');
    for (;;) {
      std::size_t len = 0;
      lane_status_t s = lane_registry_metrics(reg_.get(), text.data(), text.size(), &len);
      if (s == LANE_OK) {
        text.resize(len);
        return text;
      }
      if (len <= text.size()) return unexpected<Error>(Error::last(s));  // not a size problem
      text.resize(len + 1024);
    }
  }
  [[nodiscard]] lane_registry_t *capi() const { return reg_.get(); }

 private:
  struct Callbacks {
    std::function<std::int64_t(std::string_view, std::int64_t)> config_int;
    std::function<void(std::int32_t, std::string_view)> log;
    static std::int64_t config_trampoline(const char *key, std::int64_t def, void *ud) {
      try {
        return static_cast<Callbacks *>(ud)->config_int(key, def);
      } catch (...) {
        return def;  // an exception must not cross into C
      }
    }
    static void log_trampoline(std::int32_t level, const char *message, void *ud) {
      try {
        static_cast<Callbacks *>(ud)->log(level, message);
      } catch (...) {
      }
    }
  };
  struct Deleter {
    void operator()(lane_registry_t *r) const { lane_registry_destroy(r); }
  };
  Registry(lane_registry_t *r, std::unique_ptr<Callbacks> cb) : callbacks_(std::move(cb)), reg_(r) {}
  // Declared first, destroyed last: the registry may call them until it is gone.
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<lane_registry_t, Deleter> reg_;
};

// Options for lane::Sampler::create; zero or empty means default.
struct SamplerOptions {
  Nanos interval{0};        // -> 30 s
  Nanos retention{0};       // -> 7 days
  Nanos purge_interval{0};  // -> 24 h
  // Empty: the SQLite history at sqlite_path. Return 0, or non-zero for a failure.
  std::function<std::int32_t(std::string_view lane, std::uint32_t running, std::uint32_t queued,
                             std::int64_t sampled_at_ns)>
      sink{};
  std::string sqlite_path{};
  lane_clock_fn clock = nullptr;
  void *clock_ud = nullptr;
  Nanos fair_half_life{0};  // FAIR_SHARE usage memory; 0 = forget idle tenants
};

// The occupancy sampler of a registry: to a callable sink, or to the built-in
// SQLite history. Destroy it before its registry.
class Sampler {
 public:
  using Options = SamplerOptions;

  [[nodiscard]] static Result<Sampler> create(Registry &reg, Options o) {
    auto box = std::make_unique<SinkBox>();
    box->sink = std::move(o.sink);
    lane_sampler_options_t c = LANE_SAMPLER_OPTIONS_INIT;
    c.interval_ns = o.interval.count();
    c.retention_ns = o.retention.count();
    c.purge_interval_ns = o.purge_interval.count();
    if (box->sink) {
      c.sink = &SinkBox::trampoline;
      c.sink_ud = box.get();
    }
    c.sqlite_path = o.sqlite_path.empty() ? nullptr : o.sqlite_path.c_str();
    c.clock = o.clock;
    c.clock_ud = o.clock_ud;
    lane_sampler_t *s = nullptr;
    if (lane_status_t st = lane_sampler_create(reg.capi(), &c, &s); st != LANE_OK) {
      return unexpected<Error>(Error::last(st));
    }
    return Sampler(s, std::move(box));
  }

  Status start() { return detail::check(lane_sampler_start(s_.get())); }
  Status stop() { return detail::check(lane_sampler_stop(s_.get())); }
  Status sample_once() { return detail::check(lane_sampler_sample_once(s_.get())); }
  Status purge_once() { return detail::check(lane_sampler_purge_once(s_.get())); }
  [[nodiscard]] lane_sampler_t *capi() const { return s_.get(); }

 private:
  struct SinkBox {
    std::function<std::int32_t(std::string_view, std::uint32_t, std::uint32_t, std::int64_t)> sink;
    static std::int32_t trampoline(const char *lane, std::uint32_t running, std::uint32_t queued, std::int64_t at,
                                   void *ud) {
      try {
        return static_cast<SinkBox *>(ud)->sink(lane, running, queued, at);
      } catch (...) {
        return -1;  // a failing sink: logged by the library, the sampler goes on
      }
    }
  };
  struct Deleter {
    void operator()(lane_sampler_t *s) const { lane_sampler_destroy(s); }
  };
  Sampler(lane_sampler_t *s, std::unique_ptr<SinkBox> box) : box_(std::move(box)), s_(s) {}
  std::unique_ptr<SinkBox> box_;  // declared first, destroyed after the sampler
  std::unique_ptr<lane_sampler_t, Deleter> s_;
};

// Options for lane::Session::create; zero means default, as in
// lane_session_options_t.
struct SessionOptions {
  lane_session_mode_t mode = LANE_SESSION_QUEUE;
  std::uint32_t cap = 0;           // -> 10 queued messages
  lane_drop_t drop = LANE_DROP_OLD;
  Nanos debounce{0};               // 0 -> 800 ms; negative = off
  std::uint32_t max_concurrent = 0;  // -> 1
  // Fills tokens and window and returns true, or false for "unknown". Called
  // on a library thread with no lock held; lives as long as the session.
  std::function<bool(std::string_view key, std::int64_t &tokens, std::int64_t &window)> token_estimate{};
  double throttle_ratio = 0;  // -> 0.6
};

// A session queue in front of a lane (lane_session_*): destroying it ends
// its queued messages, cancels its runs and waits for them. Destroy it
// before its lane.
class Session {
 public:
  using Options = SessionOptions;

  // `lane` is a lane::Lane, a lane::LaneRef, or anything with capi().
  template <class L>
  [[nodiscard]] static Result<Session> create(const L &lane, const char *key, Options o = {}) {
    auto est = std::make_unique<Estimate>();
    est->fn = std::move(o.token_estimate);
    lane_session_options_t c = LANE_SESSION_OPTIONS_INIT;
    c.mode = o.mode;
    c.cap = o.cap;
    c.drop = o.drop;
    c.debounce_ns = o.debounce.count();
    c.max_concurrent = o.max_concurrent;
    if (est->fn) {
      c.token_estimate = &Estimate::trampoline;
      c.token_ud = est.get();
    }
    c.throttle_ratio = o.throttle_ratio;
    lane_session_t *s = nullptr;
    if (lane_status_t st = lane_session_create(lane.capi(), key, &c, &s); st != LANE_OK) {
      return unexpected<Error>(Error::last(st));
    }
    return Session(s, std::move(est));
  }

  // Enqueues a message whose run is fn(lane::Context&) (int, 0 = ok, or
  // void); `data` travels with it (Context::batch, next_message). Accepted:
  // fn, data and job.on_done live until the message's outcome.
  template <class F>
  Status enqueue(Job job, F fn) {
    return enqueue(std::move(job), std::any{}, std::move(fn));
  }
  template <class F>
  Status enqueue(Job job, std::any data, F fn) {
    auto box = std::make_unique<detail::Box<std::decay_t<F>>>(std::move(fn));
    box->on_done = std::move(job.on_done);
    box->data = std::move(data);
    lane_job_t c = detail::to_c(job);
    c.run = &detail::BoxBase::run_trampoline;
    c.on_done = &detail::BoxBase::done_trampoline;
    c.user_data = box.get();
    if (lane_status_t s = lane_session_enqueue(s_.get(), &c); s != LANE_OK) return unexpected<Error>(Error::last(s));
    box.release();  // accepted: done_trampoline frees it
    return {};
  }
  // A host-run message (job.port required): its run is granted through the
  // port (the GRANT event's ctx gives its batch), and every message gets its
  // own DONE event carrying `user_data`.
  Status enqueue_host(Job job, void *user_data = nullptr) {
    lane_job_t c = detail::to_c(job);
    c.user_data = user_data;
    return detail::check(lane_session_enqueue(s_.get(), &c));
  }

  bool cancel_one() { return lane_session_cancel_one(s_.get()) == 1; }
  int cancel_all() { return lane_session_cancel_all(s_.get()); }
  Status reset() { return detail::check(lane_session_reset(s_.get())); }
  [[nodiscard]] std::uint32_t active() const { return lane_session_active(s_.get()); }
  [[nodiscard]] std::uint32_t queued() const { return lane_session_queued(s_.get()); }
  Status set_max_concurrent(std::uint32_t n) { return detail::check(lane_session_set_max_concurrent(s_.get(), n)); }
  [[nodiscard]] std::string_view key() const { return lane_session_key(s_.get()); }
  [[nodiscard]] lane_session_t *capi() const { return s_.get(); }

 private:
  struct Estimate {
    std::function<bool(std::string_view, std::int64_t &, std::int64_t &)> fn;
    static std::int32_t trampoline(const char *key, std::int64_t *tokens, std::int64_t *window, void *ud) {
      try {
        return static_cast<Estimate *>(ud)->fn(key, *tokens, *window) ? 0 : 1;
      } catch (...) {
        return 1;  // unknown: no throttle
      }
    }
  };
  struct Deleter {
    void operator()(lane_session_t *s) const { lane_session_destroy(s); }
  };
  Session(lane_session_t *s, std::unique_ptr<Estimate> est) : est_(std::move(est)), s_(s) {}
  std::unique_ptr<Estimate> est_;  // declared first, destroyed after the session
  std::unique_ptr<lane_session_t, Deleter> s_;
};

// The SQLite history of one lane in [from, to), oldest first.
[[nodiscard]] inline Result<std::vector<lane_sample_t>> sqlite_history(const char *path, const char *lane,
                                                                       std::int64_t from_ns, std::int64_t to_ns) {
  std::vector<lane_sample_t> rows(64);
  for (;;) {
    rows[0].struct_size = sizeof(lane_sample_t);
    std::size_t total = 0;
    lane_status_t s = lane_sqlite_query(path, lane, from_ns, to_ns, rows.data(), rows.size(), &total);
    if (s != LANE_OK) return unexpected<Error>(Error::last(s));
    if (total <= rows.size()) {
      rows.resize(total);
      return rows;
    }
    rows.resize(total);
  }
}

}  // namespace lane
