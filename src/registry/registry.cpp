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

lane_stats_t read_stats(lane_s *lane, std::int64_t *now_ns, WindowSums *sums) {
  lane::core::Scheduler::Samples samples;
  const lane_stats_t s = lane->stats(now_ns, sums ? &samples : nullptr);
  if (sums) {
    for (const std::int64_t w : samples.waits) sums->wait_sum_ns += w;
    for (const std::int64_t r : samples.runs) sums->run_sum_ns += r;
    sums->wait_count = samples.waits.size();
    sums->run_count = samples.runs.size();
  }
  return s;
}

}  // namespace lane::registry

lane_registry_s::lane_registry_s(const lane_registry_options_t &o, lane::exec::Membership *membership)
    : config_(o.config_int, o.config_ud),
      log_(o.log),
      log_ud_(o.log_ud),
      policy_(o.default_policy == LANE_POLICY_DEFAULT ? LANE_POLICY_FAIR_SHARE : o.default_policy),
      default_max_(o.default_max_concurrent ? o.default_max_concurrent : 1),
      idle_retire_ns_(o.idle_retire_ns),
      clock_(o.clock),
      clock_ud_(o.clock_ud),
      membership_(membership) {}

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

namespace {

constexpr std::int64_t kSecondNs = 1000000000;

}  // namespace

std::int64_t lane_registry_s::config_int(const std::string &name, const char *option, std::int64_t def,
                                         std::int64_t lo, std::int64_t hi, std::vector<std::string> *notes,
                                         bool *set) {
  const std::string key = lane::registry::lane_key(name, option);
  lane::registry::IntValue v;
  {
    lane::exec::CallbackScope scope(this, this);  // the host's config callback
    v = config_.read_int(key, def, lo, hi);
  }
  if (set) *set = *set || v.set;
  if (v.bad) {
    bool first;
    {
      std::lock_guard lk(mu_);
      first = logged_.insert(key + '=' + *v.bad).second;
    }
    if (first) {
      notes->push_back("config " + key + " = '" + *v.bad + "' is not an integer in [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "]; using " + std::to_string(v.value));
    }
  }
  return v.value;
}

void lane_registry_s::note_once(std::vector<std::string> *notes, std::string text) {
  {
    std::lock_guard lk(mu_);
    if (!logged_.insert(text).second) return;
  }
  notes->push_back(std::move(text));
}

lane::core::Config lane_registry_s::lane_config(const std::string &name, std::vector<std::string> *notes,
                                                LiveSet *live) {
  constexpr std::int64_t u32 = UINT32_MAX;
  lane::core::Config c;  // lane_create's defaults
  c.max_concurrent = static_cast<std::uint32_t>(config_int(name, "max_concurrent", default_max_, 1, u32, notes));
  // As in lane_options_t, 0 means the default for policy and eta_window.
  const std::int64_t policy = config_int(name, "policy", policy_, 0, LANE_POLICY_FAIR_SHARE, notes);
  c.policy = policy == 0 ? policy_ : static_cast<lane_policy_t>(policy);
  bool *eta_set = live ? &live->eta_window : nullptr;
  bool *pre_set = live ? &live->preemption : nullptr;
  const std::int64_t window = config_int(name, "eta_window", c.eta_window, 0, u32, notes, eta_set);
  if (window != 0) c.eta_window = static_cast<std::uint32_t>(window);
  c.preemption = config_int(name, "preemption_off", 0, 0, 1, notes, pre_set) == 0;
  // As in lane_options_t: 0 -> 30 s, < 0 = no guard.
  const std::int64_t guard = config_int(name, "preempt_min_runtime_ns", 0, INT64_MIN, INT64_MAX, notes, pre_set);
  c.preempt_min_runtime_ns = guard == 0 ? 30 * kSecondNs : guard < 0 ? 0 : guard;
  c.preempt_overcommit = config_int(name, "preempt_overcommit", 0, 0, 1, notes) != 0;
  c.max_queued = static_cast<std::uint32_t>(config_int(name, "max_queued", 0, 0, u32, notes));
  const std::int64_t eta_def = config_int(name, "eta_default_runtime_ns", 0, 0, INT64_MAX, notes);
  c.eta_default_runtime_ns = eta_def ? eta_def : kSecondNs;
  c.aging_ns = config_int(name, "aging_ns", 0, 0, INT64_MAX, notes);
  c.adaptive_min = static_cast<std::uint32_t>(config_int(name, "adaptive_min", 0, 0, u32, notes));
  c.adaptive_max = static_cast<std::uint32_t>(config_int(name, "adaptive_max", 0, 0, u32, notes));
  c.adaptive_cooldown_ns = config_int(name, "adaptive_cooldown_ns", 0, 0, INT64_MAX, notes);
  const bool off = c.adaptive_min == 0 && c.adaptive_max == 0;
  if (!off && (c.adaptive_min == 0 || c.adaptive_min > c.adaptive_max)) {
    note_once(notes, "config " + lane::registry::lane_key(name, "adaptive_min") + " = " +
                         std::to_string(c.adaptive_min) + " and adaptive_max = " + std::to_string(c.adaptive_max) +
                         " need 1 <= adaptive_min <= adaptive_max; adaptive width is off");
    c.adaptive_min = c.adaptive_max = 0;
  }
  return c;
}

lane_registry_s::Rate lane_registry_s::rate_config(const std::string &name, const char *kind,
                                                   std::vector<std::string> *notes) {
  const std::string base = std::string("rate_") + kind;
  Rate r;
  // The default is -1, outside the range, so that a configured 0 (off)
  // reads as set: a host's config callback that returns the default
  // counts as "not set".
  r.amount = config_int(name, base.c_str(), -1, 0, INT64_MAX, notes, &r.set);
  if (!r.set || r.amount <= 0) {
    r.amount = 0;
    return r;
  }
  // Per minute unless said otherwise (providers state RPM and TPM); the
  // whole amount may go at once unless a burst is given.
  r.per_ns = config_int(name, (base + "_per_ns").c_str(), 60 * kSecondNs, 1, INT64_MAX, notes);
  r.burst = config_int(name, (base + "_burst").c_str(), 0, 0, INT64_MAX, notes);
  if (r.burst == 0) r.burst = r.amount;
  return r;
}

void lane_registry_s::apply_rates(const std::string &name, lane_t *lane, std::vector<std::string> *notes) {
  using lane::core::RateKind;
  for (auto [kind, key] : {std::pair{RateKind::Requests, "requests"}, std::pair{RateKind::Cost, "cost"}}) {
    const Rate want = rate_config(name, key, notes);
    if (!want.set) continue;  // a host's lane_set_rate_limit stays
    const lane::core::RateLimit now = lane->rate_limit(kind);
    const bool same = want.amount == 0 ? !now.on
                                       : now.on && now.amount == want.amount && now.per_ns == want.per_ns &&
                                             now.burst == want.burst;
    if (same) continue;
    if (lane->set_rate_limit(kind, want.amount, want.per_ns, want.burst) != LANE_OK) {
      note_once(notes, "config " + lane::registry::lane_key(name, (std::string("rate_") + key).c_str()) +
                           ": the lane refused the limit");
    }
  }
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
  std::vector<std::string> notes;
  lane::core::Config cfg = lane_config(name, &notes, nullptr);
  if (membership_ && cfg.preempt_overcommit) {
    cfg.preempt_overcommit = false;
    notes.push_back("lanes." + std::string(name) + ".preempt_overcommit ignored: a shared lane's cap is shared");
  }
  auto entry = std::make_shared<lane::registry::Entry>(new lane_s(name, cfg, clock_, clock_ud_), t);
  entry->lane->registry = this;
  if (membership_) entry->lane->join(membership_);  // before anyone can submit to it
  apply_rates(name, entry->lane, &notes);  // before anyone can submit to it
  EntryRef loser;
  {
    std::lock_guard lk(mu_);
    auto [it, inserted] = lanes_.try_emplace(name, entry);
    if (!inserted) loser = std::move(entry);  // another thread created it first
    it->second->last_used_ns = t;
    *out = it->second->lane;
  }
  loser.reset();
  for (const auto &n : notes) log(LANE_LOG_WARN, n);
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
    std::vector<std::string> notes;
    LiveSet live;
    const lane::core::Config c = lane_config(name, &notes, &live);
    // What a lane can change in place: max_concurrent always (absent = the
    // default), preemption and eta_window only when the source sets them (a
    // host's lane_set_preemption stays otherwise). The other options keep
    // their creation-time values (lane.h says so).
    lane::exec::LaneChanges changes{.max_concurrent = c.max_concurrent};
    if (live.preemption) {
      changes.preemption = c.preemption;
      changes.preempt_min_runtime_ns = c.preempt_min_runtime_ns;
    }
    if (live.eta_window) changes.eta_window = c.eta_window;
    e->lane->change(changes);
    // Rate limits too when the source sets them (0 = off); an unchanged
    // limit keeps its bucket.
    apply_rates(name, e->lane, &notes);
    for (const auto &n : notes) log(LANE_LOG_WARN, n);
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
