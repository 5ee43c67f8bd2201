#include "queue.hpp"

#include <algorithm>
#include <cmath>

namespace lane::core {

namespace {

// Inserts job into list before the first job that was enqueued later, so a
// requeued job keeps its place by age. Requeued jobs are usually the oldest,
// so the walk stops at once.
template <class List>
void insert_by_time(List &list, Job *job) {
  Job *pos = list.front();
  while (pos && pos->enqueued_at <= job->enqueued_at) pos = List::next(pos);
  list.insert_before(pos, job);
}

}  // namespace

// ---------------------------------------------------------------- FifoQueue

void FifoQueue::push(Job *job) {
  list_.push_back(job);
  by_priority_[job->priority].push_back(job);
}

void FifoQueue::requeue(Job *job) {
  insert_by_time(list_, job);
  insert_by_time(by_priority_[job->priority], job);
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

Tenant *FairQueue::tenant(std::string_view name) {
  auto it = tenants_.find(name);
  if (it != tenants_.end()) return it->second.get();
  auto t = std::make_unique<Tenant>();
  t->name = std::string(name);
  t->seq = next_seq_++;
  t->vtime = vclock_;
  Tenant *raw = t.get();
  tenants_.emplace(raw->name, std::move(t));
  return raw;
}

void FairQueue::maybe_forget(Tenant *t) {
  // Tenants come and go with sessions; keep only those that still matter.
  if (t->live == 0 && t->weight == 1) tenants_.erase(tenants_.find(t->name));
}

void FairQueue::attach(Job *job, std::string_view name) {
  Tenant *t = tenant(name);
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

void FairQueue::set_vtime(Tenant *t, double v) {
  for (auto &[prio, tl] : t->levels) {
    tl.level->tenants.erase(&tl);
    tl.key = v;
    tl.level->tenants.insert(&tl);
  }
  t->vtime = v;
}

void FairQueue::link(Job *job, bool at_time) {
  Tenant *t = job->tenant;
  if (t->queued == 0 && t->running == 0 && t->vtime < vclock_) {
    // An idle tenant does not bank credit for the time it was away.
    set_vtime(t, vclock_);
  }
  Level &level = levels_[job->priority];
  level.priority = job->priority;
  TenantLevel &tl = t->levels[job->priority];
  if (tl.jobs.empty()) {
    tl.tenant = t;
    tl.level = &level;
    tl.key = t->vtime;
    level.tenants.insert(&tl);
  }
  if (at_time) {
    insert_by_time(tl.jobs, job);
    insert_by_time(level.all, job);
  } else {
    tl.jobs.push_back(job);
    level.all.push_back(job);
  }
  job->tenant_level = &tl;
  ++t->queued;
  ++size_;
}

void FairQueue::push(Job *job) { link(job, false); }
void FairQueue::requeue(Job *job) { link(job, true); }

void FairQueue::remove(Job *job) {
  TenantLevel *tl = job->tenant_level;
  Level *level = tl->level;
  Tenant *t = tl->tenant;
  tl->jobs.remove(job);
  level->all.remove(job);
  job->tenant_level = nullptr;
  if (tl->jobs.empty()) {
    level->tenants.erase(tl);
    t->levels.erase(job->priority);
  }
  if (level->all.empty()) levels_.erase(job->priority);
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
      const Job *oldest = it->second.all.front();
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
    std::int64_t t = level.all.front()->enqueued_at;
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
    a.jobs += it->second.all.size();
  }
  bool behind_priority = a.jobs > 0;
  const Tenant *t = job->tenant;
  std::size_t own = 0;
  auto lit = levels_.find(job->priority);
  if (lit != levels_.end()) {
    auto tit = t->levels.find(job->priority);
    own = tit == t->levels.end() ? 0 : tit->second.jobs.size();
    // The new job starts when its tenant's virtual time reaches V; every
    // other tenant's job whose start key is below V goes first.
    double vt = t->vtime;
    if (t->queued == 0 && t->running == 0) vt = std::max(vt, vclock_);
    double v = vt + static_cast<double>(own) * cost_of(t, lane_cost) / t->weight;
    for (const TenantLevel *tl : lit->second.tenants) {
      if (tl->key > v) break;
      const Tenant *u = tl->tenant;
      if (u == t) continue;
      double step = cost_of(u, lane_cost) / u->weight;
      double diff = v - tl->key;
      double n = u->seq < t->seq ? std::floor(diff / step) + 1 : std::ceil(diff / step);
      a.jobs += std::min(tl->jobs.size(), static_cast<std::size_t>(std::max(0.0, n)));
    }
  }
  a.jobs += own;
  a.reason = behind_priority ? LANE_BLOCKED_PRIORITY : own > 0 ? LANE_BLOCKED_TENANT : LANE_BLOCKED_FULL;
  return a;
}

void FairQueue::on_dispatch(Job *job, std::int64_t lane_cost) {
  Tenant *t = job->tenant;
  double c = cost_of(t, lane_cost);
  job->charged = c;
  vclock_ = std::max(vclock_, t->vtime);
  ++t->running;
  set_vtime(t, t->vtime + c / t->weight);
}

void FairQueue::on_run_end(Job *job, std::int64_t runtime, bool complete) {
  Tenant *t = job->tenant;
  --t->running;
  auto rt = static_cast<double>(std::max<std::int64_t>(runtime, 0));
  set_vtime(t, t->vtime + (rt - job->charged) / t->weight);
  job->charged = 0;
  if (complete) t->estimate = t->estimate > 0 ? 0.75 * t->estimate + 0.25 * rt : rt;
}

bool FairQueue::set_weight(std::string_view name, std::uint32_t weight) {
  Tenant *t = tenant(name);
  t->weight = weight;
  maybe_forget(t);
  return true;
}

double FairQueue::vtime(std::string_view name) const {
  auto it = tenants_.find(name);
  return it == tenants_.end() ? 0 : it->second->vtime;
}

}  // namespace lane::core
