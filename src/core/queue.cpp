#include "queue.hpp"

#include <algorithm>
#include <new>
#include <cmath>

namespace lane::core {

namespace {

// Inserts job into list before the first job accepted after it (by enqueue
// time, then acceptance order), so a requeued or unparked job keeps its
// place by age. Such jobs are usually among the oldest, so the walk is
// short; it must not run past jobs of the same enqueue time that came
// later (a burst accepted within one clock reading shares its time).
template <class List>
void insert_by_time(List &list, Job *job) {
  Job *pos = list.front();
  while (pos && (pos->enqueued_at < job->enqueued_at || (pos->enqueued_at == job->enqueued_at && pos->seq < job->seq)))
    pos = List::next(pos);
  list.insert_before(pos, job);
}

}  // namespace

// ---------------------------------------------------------------- FifoQueue

// The level first: it is the only step that allocates, so a failure leaves
// the queue as it was.
void FifoQueue::push(Job *job) {
  LevelList &level = by_priority_[job->priority];
  list_.push_back(job);
  level.push_back(job);
}

void FifoQueue::requeue(Job *job) {
  LevelList &level = by_priority_[job->priority];
  insert_by_time(list_, job);
  insert_by_time(level, job);
}

void FifoQueue::remove(Job *job) {
  list_.remove(job);
  auto it = by_priority_.find(job->priority);
  it->second.remove(job);
  if (it->second.empty()) by_priority_.erase(it);
}

Job *FifoQueue::preempt_candidate(std::int64_t) const {
  return by_priority_.empty() ? nullptr : by_priority_.rbegin()->second.front();
}

std::int64_t FifoQueue::oldest_enqueued_at() const {
  Job *j = list_.front();
  return j ? j->enqueued_at : 0;
}

// ---------------------------------------------------------------- FairQueue

namespace {
// Renormalise the decay scale every 32 half-lives by exactly 2^-32.
constexpr int kRescaleHalfLives = 32;
// Past 2^-(32 * 40) every double is 0: more steps change nothing.
constexpr std::int64_t kMaxRescaleSteps = 40;
}  // namespace

void FairQueue::advance(std::int64_t now) {
  if (!started_) {
    // Clocks are Unix-epoch ns: decay is counted from the first time seen.
    started_ = true;
    epoch_ = now;
    origin_ = now;
  }
  now_ = std::max(now_, now);
  if (half_life_ns_ <= 0) return;
  const std::int64_t period = kRescaleHalfLives * half_life_ns_;
  if (now_ - epoch_ >= period) {
    // One jump however long the lane was quiet. Every stored amount shrinks
    // by the same power of two: exact (or 0 once it is negligible), and no
    // ordered set changes its order, so the keys are edited in place.
    const std::int64_t steps = (now_ - epoch_) / period;
    const int k = static_cast<int>(std::min<std::int64_t>(steps, kMaxRescaleSteps));
    const double f = std::ldexp(1.0, -kRescaleHalfLives * k);
    for (auto &[name, t] : tenants_) {
      t->served *= f;
      t->pending *= f;
      for (auto &[prio, tl] : t->levels) tl.key *= f;
    }
    last_v_ *= f;
    epoch_ += steps * period;
    rescales_ += static_cast<std::uint32_t>(k);
  }
  scale_ = std::exp2(static_cast<double>(now_ - epoch_) / static_cast<double>(half_life_ns_));
  prune_idle();
}

void FairQueue::prune_idle() {
  // A remembered tenant whose usage has decayed below a microsecond of
  // slot-time is no different from a new one.
  while (!idle_.empty() && (*idle_.begin())->served < 1e3 * scale_) {
    Tenant *t = *idle_.begin();
    idle_.erase(idle_.begin());
    t->idle_listed = false;
    if (t->weight == 1) tenants_.erase(tenants_.find(t->name));
  }
}

double FairQueue::v_floor() const {
  if (waiting_.empty()) return last_v_;
  return std::max(last_v_, (*waiting_.begin())->served);
}

double FairQueue::lift_to(const Tenant *t, std::int64_t now) const {
  // Its runs in flight have already held their slots this long: that is
  // service, and it will reach `served` when they end; lifting `served`
  // all the way to V would charge that time twice.
  if (t->running == 0) return v_floor();
  const std::int64_t elapsed = static_cast<std::int64_t>(t->running) * (now - origin_) - t->start_sum;
  return v_floor() - static_cast<double>(std::max<std::int64_t>(0, elapsed)) / t->weight;
}

Tenant *FairQueue::tenant(std::string_view name) {
  auto it = tenants_.find(name);
  if (it != tenants_.end()) return it->second.get();
  auto t = std::make_unique<Tenant>();
  t->name = std::string(name);
  t->seq = next_seq_++;
  Tenant *raw = t.get();
  tenants_.emplace(raw->name, std::move(t));
  return raw;
}

void FairQueue::maybe_forget(Tenant *t) {
  if (t->live != 0) return;
  if (half_life_ns_ > 0) {
    // Usage memory: keep it while it has decayed to something that matters.
    // (Out of memory for the list, the tenant is forgotten like one whose
    // usage decayed: the job that ended is not affected.)
    if (!t->idle_listed && t->served >= 1e3 * scale_) {
      try {
        idle_.insert(t);
        t->idle_listed = true;
        return;
      } catch (const std::bad_alloc &) {
      }
    }
    if (t->idle_listed) return;
  }
  // Tenants come and go with sessions; keep only those that still matter.
  if (t->weight == 1) tenants_.erase(tenants_.find(t->name));
}

void FairQueue::attach(Job *job, std::string_view name) {
  Tenant *t = tenant(name);
  if (t->idle_listed) {
    idle_.erase(t);
    t->idle_listed = false;
  }
  ++t->live;
  job->tenant = t;
}

void FairQueue::detach(Job *job) {
  Tenant *t = job->tenant;
  job->tenant = nullptr;
  if (!t) return;
  --t->live;
  maybe_forget(t);
}

// Re-sorting never allocates, so a dispatch or a run's end cannot fail for
// memory here: waiting_ moves the set's own node (extract, then insert it
// back); a ranked tree reuses the node its erase freed (RekeyScope).
void FairQueue::rekey(Tenant *t) {
  const double k = t->key();
  for (auto &[prio, tl] : t->levels) {
    if (tl.key == k) continue;
    RekeyScope scope;
    tl.level->tenants.erase(&tl);
    tl.key = k;
    tl.level->tenants.insert(&tl);
  }
}

void FairQueue::set_served(Tenant *t, double v) {
  if (t->queued > 0) {
    auto node = waiting_.extract(t);
    t->served = v;
    waiting_.insert(std::move(node));
  } else {
    t->served = v;
  }
  rekey(t);
}

void FairQueue::link(Job *job, bool at_time) {
  Tenant *t = job->tenant;
  const bool starts_waiting = t->queued == 0;
  if (starts_waiting) {
    // It starts waiting: at the least service of those that wait now, so
    // time away earns nothing and others' in-flight estimates cost nothing.
    // With a half-life the decayed usage itself is the standing (usage
    // memory): a tenant that has not used the lane lately is ahead of one
    // that has, by at most the difference of their decayed usage.
    if (half_life_ns_ <= 0) t->served = std::max(t->served, lift_to(t, std::max(now_, job->enqueued_at)));
    rekey(t);
  }
  // Each insertion that may allocate is undone if a later one fails: a job
  // is queued whole or not at all. (A lifted `served` stays: it is what the
  // next attempt sets anyway.)
  auto [lit, new_level] = levels_.try_emplace(job->priority);
  Level &level = lit->second;
  level.priority = job->priority;
  TenantLevel *tlp = nullptr;
  bool new_tl = false;
  bool waiting_added = false;
  try {
    auto [tit, created] = t->levels.try_emplace(job->priority);
    tlp = &tit->second;
    new_tl = created;
    if (starts_waiting) {
      waiting_.insert(t);
      waiting_added = true;
    }
    if (tlp->jobs.empty()) {
      tlp->tenant = t;
      tlp->level = &level;
      tlp->key = t->key();
      level.tenants.insert(tlp);
    }
  } catch (...) {
    if (waiting_added) waiting_.erase(t);
    if (new_tl) t->levels.erase(job->priority);
    if (new_level) levels_.erase(lit);
    throw;
  }
  TenantLevel &tl = *tlp;
  if (at_time) {
    insert_by_time(tl.jobs, job);
    insert_by_time(level.requeued, job);
    job->in_requeued = true;
  } else {
    tl.jobs.push_back(job);
    level.all.push_back(job);
  }
  job->tenant_level = &tl;
  ++t->queued;
  ++size_;
}

const Job *Level::oldest() const {
  const Job *a = all.front(), *b = requeued.front();
  if (!a || !b) return a ? a : b;
  return b->enqueued_at < a->enqueued_at || (b->enqueued_at == a->enqueued_at && b->seq < a->seq) ? b : a;
}

void FairQueue::push(Job *job) { link(job, false); }
void FairQueue::requeue(Job *job) { link(job, true); }

void FairQueue::remove(Job *job) {
  TenantLevel *tl = job->tenant_level;
  Level *level = tl->level;
  Tenant *t = tl->tenant;
  tl->jobs.remove(job);
  (job->in_requeued ? level->requeued : level->all).remove(job);
  job->in_requeued = false;
  job->tenant_level = nullptr;
  if (tl->jobs.empty()) {
    level->tenants.erase(tl);
    t->levels.erase(job->priority);
  }
  if (level->empty()) levels_.erase(job->priority);
  if (t->queued == 1) {
    // V never goes back: remember it before the last waiter leaves.
    last_v_ = v_floor();
    waiting_.erase(t);
  }
  --t->queued;
  --size_;
}

Job *FairQueue::peek(std::int64_t now) const {
  if (levels_.empty()) return nullptr;
  const Level *best = &levels_.rbegin()->second;
  if (aging_ns_ > 0) {
    // A queued job gains one level per aging_ns waited; a level's best job is
    // its oldest, so comparing the levels' oldest jobs finds the winner.
    std::int64_t best_eff = INT64_MIN;
    for (auto it = levels_.rbegin(); it != levels_.rend(); ++it) {
      const Job *oldest = it->second.oldest();
      std::int64_t waited = std::max<std::int64_t>(0, now - oldest->enqueued_at);
      std::int64_t eff = static_cast<std::int64_t>(it->first) + waited / aging_ns_;
      if (eff > best_eff) {
        best_eff = eff;
        best = &it->second;
      }
    }
  }
  const TenantLevel *tl = *best->tenants.begin();
  return tl->jobs.front();
}

std::int64_t FairQueue::oldest_enqueued_at() const {
  std::int64_t oldest = 0;
  for (const auto &[prio, level] : levels_) {
    std::int64_t t = level.oldest()->enqueued_at;
    if (oldest == 0 || t < oldest) oldest = t;
  }
  return oldest;
}

double FairQueue::cost_of(const Tenant *t, std::int64_t lane_cost) const {
  double c = t->estimate > 0 ? t->estimate : static_cast<double>(lane_cost);
  return std::max(c, 1.0);
}

Ahead FairQueue::ahead_of(const Job *job, std::int64_t lane_cost) const {
  Ahead a;
  for (auto it = levels_.rbegin(); it != levels_.rend() && it->first > job->priority; ++it) {
    a.jobs += it->second.size();
  }
  bool behind_priority = a.jobs > 0;
  const Tenant *t = job->tenant;
  std::size_t own = 0;
  auto lit = levels_.find(job->priority);
  if (lit != levels_.end()) {
    auto tit = t->levels.find(job->priority);
    own = tit == t->levels.end() ? 0 : tit->second.jobs.size();
    // The new job starts when its tenant's key reaches v (each of its
    // queued jobs adds one estimate); every other tenant's job whose key is
    // below v goes first.
    double served = t->served;
    if (t->queued == 0 && half_life_ns_ <= 0) served = std::max(served, lift_to(t, std::max(now_, job->enqueued_at)));
    const double v = served + t->pending + static_cast<double>(own) * cost_of(t, lane_cost) * scale_ / t->weight;
    const RankedTenants &tenants = lit->second.tenants;
    std::size_t walked = 0;
    auto it = tenants.begin();
    for (; it != tenants.end() && walked < kExactTenants; ++it) {
      const TenantLevel *tl = *it;
      if (tl->key > v) break;
      const Tenant *u = tl->tenant;
      if (u == t) continue;
      ++walked;
      double step = cost_of(u, lane_cost) * scale_ / u->weight;
      double diff = v - tl->key;
      double n = u->seq < t->seq ? std::floor(diff / step) + 1 : std::ceil(diff / step);
      a.jobs += std::min(tl->jobs.size(), static_cast<std::size_t>(std::max(0.0, n)));
    }
    if (walked == kExactTenants && it != tenants.end() && (*it)->key <= v) {
      // Many tenants ahead: count the rest by rank, one job each (each of
      // them is due at least one start before v). A lower bound; exact when
      // those tenants have one job each or are each due one start before v.
      Tenant probe_tenant;
      probe_tenant.seq = t->seq;
      TenantLevel probe;
      probe.tenant = &probe_tenant;
      probe.key = v;
      const std::size_t below_v = tenants.order_of_key(&probe);
      const std::size_t done = tenants.order_of_key(*it);
      std::size_t rest = below_v > done ? below_v - done : 0;
      // The job's own tenant may sit among them; it was counted in `own`.
      if (tit != t->levels.end() && tenants.order_of_key(const_cast<TenantLevel *>(&tit->second)) >= done &&
          TenantOrder{}(&tit->second, &probe)) {
        --rest;
      }
      a.jobs += rest;
    }
  }
  a.jobs += own;
  a.reason = behind_priority ? LANE_BLOCKED_PRIORITY : own > 0 ? LANE_BLOCKED_TENANT : LANE_BLOCKED_FULL;
  return a;
}

void FairQueue::on_dispatch(Job *job, std::int64_t lane_cost, std::int64_t now) {
  advance(now);
  Tenant *t = job->tenant;
  // Nobody waits: V follows the service of whoever is dispatched, so a
  // tenant that arrives later is not credited for the time it stayed away.
  if (waiting_.empty()) last_v_ = std::max(last_v_, t->served);
  const double c = cost_of(t, lane_cost) * scale_ / t->weight;
  job->charged = c;
  job->charge_gen = rescales_;
  ++t->running;
  t->start_sum += job->started_at - origin_;
  t->pending += c;
  rekey(t);
}

void FairQueue::on_run_end(Job *job, std::int64_t runtime, bool complete, std::int64_t now) {
  advance(now);
  Tenant *t = job->tenant;
  --t->running;
  t->start_sum = t->running == 0 ? 0 : t->start_sum - (job->started_at - origin_);
  const auto gens = std::min<std::uint32_t>(rescales_ - job->charge_gen, kMaxRescaleSteps);
  const double charged = std::ldexp(job->charged, -kRescaleHalfLives * static_cast<int>(gens));
  t->pending = t->running == 0 ? 0.0 : std::max(0.0, t->pending - charged);
  job->charged = 0;
  auto rt = static_cast<double>(std::max<std::int64_t>(runtime, 0));
  // Whatever the outcome, the run held the slot this long.
  set_served(t, t->served + rt * scale_ / t->weight);
  if (complete) t->estimate = t->estimate > 0 ? 0.75 * t->estimate + 0.25 * rt : rt;
}

bool FairQueue::set_weight(std::string_view name, std::uint32_t weight) {
  Tenant *t = tenant(name);
  t->weight = weight;
  if (t->live == 0 && !t->idle_listed && weight == 1) maybe_forget(t);
  return true;
}

double FairQueue::served(std::string_view name) const {
  auto it = tenants_.find(name);
  return it == tenants_.end() ? 0 : it->second->served / scale_;
}

double FairQueue::served(std::string_view name, std::int64_t now) const {
  auto it = tenants_.find(name);
  if (it == tenants_.end()) return 0;
  if (half_life_ns_ <= 0) return it->second->served;
  return it->second->served /
         std::exp2(static_cast<double>(std::max(now, now_) - epoch_) / static_cast<double>(half_life_ns_));
}

}  // namespace lane::core
