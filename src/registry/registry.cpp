#include "registry.hpp"

#include <cstdio>
#include <utility>

#include "exec/callback_scope.hpp"
#include "exec/clock.hpp"

using lane::registry::EntryRef;

namespace lane::registry {

Entry::~Entry() {
  lane->shutdown();
  lane->invalidate();  // a lane_t * kept after remove or destroy is refused, not used
  lane->release();     // freed now, or by its last session
}

lane_stats_t read_stats(lane_s *lane, std::int64_t *now_ns) {
  lane_stats_t s{};
  s.struct_size = sizeof s;
  s.name = lane->name.c_str();
  const std::int64_t t = lane->now();
  lane::core::Scheduler::Samples samples;
  {
    std::lock_guard lk(lane->mu);
    lane->sched.stats(t, s, &samples);
  }
  lane::core::Scheduler::fill_quantiles(s, samples);
  if (now_ns) *now_ns = t;
  return s;
}

}  // namespace lane::registry

lane_registry_s::lane_registry_s(const lane_registry_options_t &o)
    : config_(o.config_int, o.config_ud),
      log_(o.log),
      log_ud_(o.log_ud),
      policy_(o.default_policy == LANE_POLICY_DEFAULT ? LANE_POLICY_FAIR_SHARE : o.default_policy),
      default_max_(o.default_max_concurrent ? o.default_max_concurrent : 1),
      idle_retire_ns_(o.idle_retire_ns),
      clock_(o.clock),
      clock_ud_(o.clock_ud) {}

lane_registry_s::~lane_registry_s() { magic.store(0, std::memory_order_relaxed); }

std::int64_t lane_registry_s::now() const { return clock_ ? clock_(clock_ud_) : lane::exec::real_now_ns(); }

void lane_registry_s::log(std::int32_t level, const std::string &message) const {
  if (log_) {
    lane::exec::CallbackScope scope(this, this);
    log_(level, message.c_str(), log_ud_);
  } else {
    std::fprintf(stderr, "liblane: %s\n", message.c_str());
  }
}

lane::core::Config lane_registry_s::lane_config(std::uint32_t max_concurrent) const {
  lane::core::Config c;  // lane_create's defaults
  c.max_concurrent = max_concurrent;
  c.policy = policy_;
  return c;
}

std::uint32_t lane_registry_s::config_max_concurrent(const std::string &name, std::string *note) {
  const std::string key = lane::registry::max_concurrent_key(name);
  lane::registry::ConfigValue v;
  {
    lane::exec::CallbackScope scope(this, this);
    v = config_.read(key, default_max_);
  }
  if (v.bad) {
    std::lock_guard lk(mu_);
    if (logged_.insert(key + '=' + *v.bad).second) {
      *note = "config " + key + " = '" + *v.bad + "' is not a positive integer; using " + std::to_string(v.value);
    }
  }
  return v.value;
}

void lane_registry_s::sweep_locked(std::int64_t t, Retired *retired) {
  if (idle_retire_ns_ <= 0) return;
  for (auto it = lanes_.begin(); it != lanes_.end();) {
    auto &e = *it->second;
    if (t - e.last_used_ns <= idle_retire_ns_) {
      ++it;
    } else if (!e.lane->close_if_idle(t)) {
      e.last_used_ns = t;  // busy counts as in use
      ++it;
    } else {
      retired->push_back(std::move(it->second));
      it = lanes_.erase(it);
    }
  }
}

lane_status_t lane_registry_s::get_or_create(const char *name, lane_t **out, std::string *why) {
  if (!lane::registry::valid_name(name, why)) return LANE_ERR_INVALID;
  const std::int64_t t = now();
  Retired retired;
  {
    std::lock_guard lk(mu_);
    sweep_locked(t, &retired);
    if (auto it = lanes_.find(std::string_view(name)); it != lanes_.end()) {
      it->second->last_used_ns = t;
      *out = it->second->lane;
      return LANE_OK;
    }
  }
  retired.clear();  // shut down outside the lock
  std::string note;
  const std::uint32_t n = config_max_concurrent(name, &note);
  auto entry = std::make_shared<lane::registry::Entry>(new lane_s(name, lane_config(n), clock_, clock_ud_), t);
  entry->lane->registry = this;
  EntryRef loser;
  {
    std::lock_guard lk(mu_);
    auto [it, inserted] = lanes_.try_emplace(name, entry);
    if (!inserted) loser = std::move(entry);  // another thread created it first
    it->second->last_used_ns = t;
    *out = it->second->lane;
  }
  loser.reset();
  if (!note.empty()) log(LANE_LOG_WARN, note);
  return LANE_OK;
}

lane_t *lane_registry_s::get(const char *name) {
  const std::int64_t t = now();
  Retired retired;
  std::lock_guard lk(mu_);
  sweep_locked(t, &retired);
  auto it = lanes_.find(std::string_view(name));
  if (it == lanes_.end()) return nullptr;
  it->second->last_used_ns = t;
  return it->second->lane;
  // retired lanes shut down here, after lk is released (destroyed in reverse order)
}

std::vector<std::pair<std::string, EntryRef>> lane_registry_s::snapshot() {
  const std::int64_t t = now();
  Retired retired;
  std::vector<std::pair<std::string, EntryRef>> out;
  std::lock_guard lk(mu_);
  sweep_locked(t, &retired);
  out.reserve(lanes_.size());
  for (const auto &[name, e] : lanes_) out.emplace_back(name, e);
  return out;
}

void lane_registry_s::reload() {
  for (const auto &[name, e] : snapshot()) {
    std::string note;
    const std::uint32_t n = config_max_concurrent(name, &note);
    if (!note.empty()) log(LANE_LOG_WARN, note);
    lane_s *l = e->lane;
    l->with_effects([&](std::int64_t t, lane::core::Effects &eff) {
      l->sched.set_max_concurrent(n, t, eff);
      return 0;
    });
  }
}

lane_status_t lane_registry_s::remove(const char *name, std::string *why) {
  if (!lane::registry::valid_name(name, why)) return LANE_ERR_INVALID;
  const std::int64_t t = now();
  Retired retired;
  std::lock_guard lk(mu_);
  sweep_locked(t, &retired);
  auto it = lanes_.find(std::string_view(name));
  if (it == lanes_.end()) {
    *why = "no lane '" + std::string(name) + "' in the registry";
    return LANE_ERR_INVALID;
  }
  if (!it->second->lane->close_if_idle(t)) {
    *why = "lane '" + std::string(name) + "' has jobs running or queued, or sessions";
    return LANE_ERR_BUSY;
  }
  retired.push_back(std::move(it->second));
  lanes_.erase(it);
  return LANE_OK;
}

std::vector<lane::registry::Occupancy> lane_registry_s::occupancy() {
  std::vector<lane::registry::Occupancy> rows;
  for (const auto &[name, e] : snapshot()) {
    lane_stats_t s = lane::registry::read_stats(e->lane, nullptr);
    rows.push_back({name, s.running, s.queued});
  }
  return rows;
}

void lane_registry_s::attach(std::shared_ptr<lane::registry::Attachment> a) {
  std::lock_guard lk(mu_);
  attached_.push_back(std::move(a));
}

void lane_registry_s::forget(const lane::registry::Attachment *a) {
  std::shared_ptr<lane::registry::Attachment> gone;
  std::lock_guard lk(mu_);
  for (auto it = attached_.begin(); it != attached_.end(); ++it) {
    if (it->get() == a) {
      gone = std::move(*it);
      attached_.erase(it);
      break;
    }
  }
}

void lane_registry_s::shutdown() {
  std::vector<std::shared_ptr<lane::registry::Attachment>> attached;
  {
    std::lock_guard lk(mu_);
    attached.swap(attached_);
  }
  for (auto &a : attached) a->detach();
  std::map<std::string, EntryRef, std::less<>> lanes;
  {
    std::lock_guard lk(mu_);
    lanes.swap(lanes_);
  }
  lanes.clear();  // each lane: close(CANCEL), wait for its jobs
}
