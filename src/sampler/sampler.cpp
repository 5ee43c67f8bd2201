#include "sampler/sampler.hpp"

#include <algorithm>
#include <chrono>

#include "exec/callback_scope.hpp"
#include "exec/clock.hpp"

namespace lane::sampler {

namespace {

// Waiting uses the steady clock; an interval longer than this is waited in steps.
constexpr std::int64_t kMaxWaitNs = std::int64_t{3600} * 1'000'000'000;

}  // namespace

Sampler::~Sampler() {
  // close() or detach() joined the thread, except when called on it.
  if (thread_.joinable()) thread_.detach();
}

std::int64_t Sampler::now() const { return opts_.clock ? opts_.clock(opts_.clock_ud) : exec::real_now_ns(); }

bool Sampler::in_own_callback() const { return exec::CallbackScope::inside(this); }

lane_registry_s *Sampler::enter() {
  std::lock_guard lk(mu_);
  if (!reg_) return nullptr;
  ++active_;
  return reg_;
}

void Sampler::leave() {
  {
    std::lock_guard lk(mu_);
    --active_;
  }
  cv_.notify_all();
}

lane_status_t Sampler::sample(lane_registry_s *reg, std::string *why) {
  const std::vector<registry::Occupancy> rows = reg->occupancy();
  const std::int64_t t = now();
  std::string w;
  bool written;
  {
    exec::CallbackScope scope(this, reg);
    written = sink_->write(rows, t, &w);
  }
  if (!written) {
    reg->log(LANE_LOG_ERROR, "sampler: " + w);
    *why = w;
    return LANE_ERR_IO;
  }
  return LANE_OK;
}

lane_status_t Sampler::purge(lane_registry_s *reg, std::string *why) {
  const std::int64_t t = now();
  const std::int64_t cutoff = t > INT64_MIN + opts_.retention_ns ? t - opts_.retention_ns : INT64_MIN;
  std::string w;
  std::int64_t purged;
  {
    exec::CallbackScope scope(this, reg);
    purged = sink_->purge(cutoff, &w);
  }
  if (purged < 0) {
    reg->log(LANE_LOG_ERROR, "sampler: " + w);
    *why = w;
    return LANE_ERR_IO;
  }
  return LANE_OK;
}

lane_status_t Sampler::sample_once(std::string *why) {
  lane_registry_s *reg = enter();
  if (!reg) {
    *why = "the sampler's registry was destroyed";
    return LANE_ERR_CLOSED;
  }
  lane_status_t s = sample(reg, why);
  leave();
  return s;
}

lane_status_t Sampler::purge_once(std::string *why) {
  lane_registry_s *reg = enter();
  if (!reg) {
    *why = "the sampler's registry was destroyed";
    return LANE_ERR_CLOSED;
  }
  lane_status_t s = purge(reg, why);
  leave();
  return s;
}

void Sampler::thread_main() {
  using clock = std::chrono::steady_clock;
  auto step = [](std::int64_t ns) { return std::chrono::nanoseconds(std::min(ns, kMaxWaitNs)); };
  std::string ignored;  // failures are logged by sample/purge
  if (lane_registry_s *reg = enter()) {
    purge(reg, &ignored);
    leave();
  }
  auto next_sample = clock::now() + step(opts_.interval_ns);
  auto next_purge = clock::now() + step(opts_.purge_interval_ns);
  std::unique_lock lk(mu_);
  while (running_) {
    cv_.wait_until(lk, std::min(next_sample, next_purge), [&] { return !running_; });
    if (!running_) break;
    const auto t = clock::now();
    const bool do_sample = t >= next_sample, do_purge = t >= next_purge;
    if (!do_sample && !do_purge) continue;
    if (!reg_) break;
    lane_registry_s *reg = reg_;
    ++active_;
    lk.unlock();
    if (do_sample) {
      sample(reg, &ignored);
      next_sample = std::max(next_sample + step(opts_.interval_ns), clock::now());
    }
    if (do_purge) {
      purge(reg, &ignored);
      next_purge = std::max(next_purge + step(opts_.purge_interval_ns), clock::now());
    }
    lk.lock();
    --active_;
    cv_.notify_all();
  }
}

lane_status_t Sampler::start(std::string *why) {
  {
    std::lock_guard lk(mu_);
    if (!reg_) {
      *why = "the sampler's registry was destroyed";
      return LANE_ERR_CLOSED;
    }
    if (std::this_thread::get_id() == thread_id_) {
      running_ = true;  // a sink restarting its own sampler: the thread goes on
      return LANE_OK;
    }
  }
  std::lock_guard ctl(ctl_mu_);
  std::unique_lock lk(mu_);
  if (running_) return LANE_OK;
  if (!reg_) {
    *why = "the sampler's registry was destroyed";
    return LANE_ERR_CLOSED;
  }
  if (thread_.joinable()) {  // stopped from inside its sink and not joined yet
    std::thread old = std::move(thread_);
    lk.unlock();
    old.join();
    lk.lock();
  }
  running_ = true;
  thread_ = std::thread(&Sampler::thread_main, this);
  thread_id_ = thread_.get_id();
  return LANE_OK;
}

void Sampler::stop_locked() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    running_ = false;
    if (std::this_thread::get_id() == thread_id_) {
      cv_.notify_all();
      return;  // on the sampler's own thread (a sink): it ends after this pass
    }
    t = std::move(thread_);
    thread_id_ = {};
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
}

lane_status_t Sampler::stop(std::string *why) {
  {
    std::lock_guard lk(mu_);
    if (!reg_) {
      *why = "the sampler's registry was destroyed";
      return LANE_ERR_CLOSED;
    }
    if (std::this_thread::get_id() == thread_id_) {
      running_ = false;
      return LANE_OK;
    }
  }
  std::lock_guard ctl(ctl_mu_);
  stop_locked();
  return LANE_OK;
}

void Sampler::detach() {
  std::lock_guard ctl(ctl_mu_);
  stop_locked();
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return active_ == 0; });  // a sample_once on another thread
  reg_ = nullptr;
}

void Sampler::close() {
  std::lock_guard ctl(ctl_mu_);
  stop_locked();
  lane_registry_s *reg;
  {
    std::lock_guard lk(mu_);
    reg = reg_;
  }
  // Still attached, so the registry lives: lane_registry_destroy detaches
  // every sampler (which needs ctl_mu_, held here) before it frees.
  if (reg) reg->forget(this);
}

}  // namespace lane::sampler
