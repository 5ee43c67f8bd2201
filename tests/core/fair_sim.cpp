#include "fair_sim.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <sstream>

namespace lane_test {

using lane::core::Effect;
using lane::core::Effects;
using lane::core::Job;
using lane::core::Scheduler;

double fair_bound(std::uint32_t m, double L, double wi, double wj, double wmin) {
  return m * L * (3.0 / wi + 3.0 / wj + 1.0 / wmin);
}

double jain(const std::vector<double> &x, const std::vector<std::uint32_t> &w) {
  double s = 0, s2 = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = x[i] / w[i];
    s += v;
    s2 += v * v;
  }
  return s2 == 0 ? 1.0 : s * s / (static_cast<double>(x.size()) * s2);
}

namespace {

struct Tenant {
  double done = 0;       // slot-time of ended runs
  std::int64_t running = 0;
  double start_sum = 0;  // sum of started_at of running jobs
  std::size_t queued = 0;
  [[nodiscard]] double service(std::int64_t now) const {
    return done + static_cast<double>(running) * static_cast<double>(now) - start_sum;
  }
};

struct Node : Job {
  std::size_t index = 0;
};

struct SimLane {
  const SimSpec &spec;
  Scheduler sched;
  std::deque<Node> jobs;
  std::vector<std::uint32_t> tenant_of;  // by job index
  std::vector<std::int64_t> length_of;
  std::vector<Tenant> tenants;
  std::vector<std::vector<double>> base;  // base[i][j]: service of i when i and j both started waiting
  std::vector<bool> joint;                // joint[i * n + j]
  std::priority_queue<std::pair<std::int64_t, std::size_t>, std::vector<std::pair<std::int64_t, std::size_t>>,
                      std::greater<>>
      ends;
  SimResult r;
  std::int64_t now = 0;

  explicit SimLane(const SimSpec &s) : spec(s), sched(s.cfg) {
    const std::size_t n = s.weights.size();
    tenants.resize(n);
    base.assign(n, std::vector<double>(n, 0));
    joint.assign(n * n, false);
    r.slot_time.assign(n, 0);
    for (std::size_t t = 0; t < n; ++t) {
      if (s.weights[t] != 1) sched.set_tenant_weight("t" + std::to_string(t), s.weights[t]);
    }
  }

  static std::size_t index(const Job *j) { return static_cast<const Node *>(j)->index; }

  void start_waiting(std::uint32_t t) {
    const std::size_t n = tenants.size();
    for (std::uint32_t u = 0; u < n; ++u) {
      if (u == t || tenants[u].queued == 0) continue;
      joint[t * n + u] = joint[u * n + t] = now >= spec.check_from;
      base[t][u] = tenants[t].service(now);
      base[u][t] = tenants[u].service(now);
    }
  }

  void stop_waiting(std::uint32_t t) {
    const std::size_t n = tenants.size();
    for (std::uint32_t u = 0; u < n; ++u) joint[t * n + u] = joint[u * n + t] = false;
  }

  void apply(const Effects &out) {
    for (std::size_t k = 0; k < out.size(); ++k) {
      const Effect &e = out[k];
      const std::size_t i = index(e.job);
      Tenant &t = tenants[tenant_of[i]];
      switch (e.kind) {
        case Effect::Kind::Dispatch:
          r.start_order.push_back(tenant_of[i]);
          if (was_queued[i]) {
            was_queued[i] = false;
            if (--t.queued == 0) stop_waiting(tenant_of[i]);
          }
          ++t.running;
          t.start_sum += static_cast<double>(now);
          ends.emplace(now + length_of[i], i);
          break;
        case Effect::Kind::Outcome: ++r.outcomes; break;
        case Effect::Kind::Cancel: break;
      }
    }
  }

  void check() {
    if (!spec.check_bound) return;
    const std::size_t n = tenants.size();
    const auto m = sched.config().max_concurrent;
    double wmin = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (tenants[i].queued > 0 && (wmin == 0 || spec.weights[i] < wmin)) wmin = spec.weights[i];
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      if (tenants[i].queued == 0) continue;
      for (std::uint32_t j = i + 1; j < n; ++j) {
        if (!joint[i * n + j]) continue;
        const double wi = spec.weights[i], wj = spec.weights[j];
        const double gi = (tenants[i].service(now) - base[i][j]) / wi;
        const double gj = (tenants[j].service(now) - base[j][i]) / wj;
        const double gap = std::abs(gi - gj);
        const double bound = fair_bound(m, static_cast<double>(r.max_length), wi, wj, wmin);
        if (gap / bound > r.worst_ratio) {
          r.worst_ratio = gap / bound;
          r.worst_gap_ns = gap;
          std::ostringstream w;
          w << "t" << i << " vs t" << j << " at " << now << " ns: " << gi << " vs " << gj;
          r.worst_where = w.str();
        }
      }
    }
  }

  std::vector<bool> was_queued;

  void run() {
    std::vector<std::size_t> order(spec.jobs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return spec.jobs[a].arrive < spec.jobs[b].arrive; });
    for (const SimJob &j : spec.jobs) r.max_length = std::max(r.max_length, j.length);
    was_queued.assign(spec.jobs.size(), false);
    tenant_of.resize(spec.jobs.size());
    length_of.resize(spec.jobs.size());
    std::size_t next = 0;
    while (next < order.size() || !ends.empty()) {
      const bool arrival = next < order.size() &&
                           (ends.empty() || spec.jobs[order[next]].arrive <= ends.top().first);
      Effects out;
      if (arrival) {
        const std::size_t k = order[next++];
        const SimJob &sj = spec.jobs[k];
        now = std::max(now, sj.arrive);
        Node &job = jobs.emplace_back();
        const std::size_t i = jobs.size() - 1;
        job.id = "j" + std::to_string(i);
        job.priority = sj.priority;
        job.index = i;
        tenant_of[i] = sj.tenant;
        length_of[i] = sj.length;
        auto res = sched.submit(&job, "t" + std::to_string(sj.tenant), now, out, false, false);
        if (res.status == LANE_OK) ++r.accepted;
        if (res.status == LANE_OK && job.state == lane::core::JobState::Queued) {
          was_queued[i] = true;
          Tenant &t = tenants[sj.tenant];
          if (t.queued++ == 0) start_waiting(sj.tenant);
        }
        apply(out);
      } else {
        auto [at, i] = ends.top();
        ends.pop();
        now = std::max(now, at);
        Tenant &t = tenants[tenant_of[i]];
        --t.running;
        t.start_sum -= static_cast<double>(jobs[i].started_at);
        t.done += static_cast<double>(now - jobs[i].started_at);
        sched.finish(&jobs[i], 0, now, out);
        apply(out);
      }
      check();
    }
    for (std::size_t t = 0; t < tenants.size(); ++t) r.slot_time[t] = tenants[t].done;
  }
};

}  // namespace

SimResult run_sim(const SimSpec &spec) {
  SimLane lane(spec);
  lane.run();
  return lane.r;
}

}  // namespace lane_test
