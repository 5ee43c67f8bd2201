// lane_registry_metrics: every lane in Prometheus text exposition format
// 0.0.4. One HELP and TYPE line per family, then one sample per lane (and
// per outcome or quantile), lanes in name order.
#include <algorithm>
#include <functional>
#include <utility>

#include "registry/prom.hpp"
#include "registry/registry.hpp"

namespace {

struct LaneRow {
  std::string name;
  lane_stats_t s;
  std::int64_t now_ns;
  lane::registry::WindowSums sums;
  std::vector<lane::core::Scheduler::TenantRow> tenants;
};

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }
// Seconds from now to at_ns; 0 when at_ns is 0 (none) or past.
double seconds_until(std::int64_t at_ns, std::int64_t now_ns) {
  return at_ns > now_ns ? seconds(at_ns - now_ns) : 0;
}

class Writer {
 public:
  explicit Writer(const std::vector<LaneRow> &rows) : rows_(rows) {}

  // A family with one sample per lane; extra = an additional label pair.
  void family(const char *name, const char *type, const char *help,
              const std::function<void(const LaneRow &, Writer &)> &per_lane) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    for (const auto &r : rows_) per_lane(r, *this);
  }

  template <class V>
  void sample(const char *name, const LaneRow &r, V value, const char *label = nullptr, const char *label_value = nullptr) {
    out += name;
    out += "{lane=\"";
    lane::registry::prom::append_label_value(out, r.name);
    out += '"';
    if (label) {
      out += ',';
      out += label;
      out += "=\"";
      lane::registry::prom::append_label_value(out, label_value);
      out += '"';
    }
    out += "} ";
    lane::registry::prom::append_value(out, value);
    out += '\n';
  }

  std::string out;

 private:
  const std::vector<LaneRow> &rows_;
};

}  // namespace

std::string lane_registry_s::metrics() {
  std::vector<LaneRow> rows;
  for (const auto &[name, e] : snapshot()) {
    LaneRow r{name, {}, 0, {}, {}};
    r.s = lane::registry::read_stats(e->lane, &r.now_ns, &r.sums);
    r.tenants = e->lane->tenant_limits();
    rows.push_back(std::move(r));
  }
  using U = std::uint64_t;
  Writer w(rows);
  w.family("lane_max_concurrent", "gauge", "Slots of the lane.",
           [](const LaneRow &r, Writer &o) { o.sample("lane_max_concurrent", r, U{r.s.max_concurrent}); });
  w.family("lane_running", "gauge", "Jobs holding a slot now.",
           [](const LaneRow &r, Writer &o) { o.sample("lane_running", r, U{r.s.running}); });
  w.family("lane_queued", "gauge", "Jobs waiting for a slot now.",
           [](const LaneRow &r, Writer &o) { o.sample("lane_queued", r, U{r.s.queued}); });
  w.family("lane_oldest_queued_age_seconds", "gauge", "How long the oldest queued job has waited (0 if none).",
           [](const LaneRow &r, Writer &o) {
             const std::int64_t age = r.s.oldest_queued_at_ns ? r.now_ns - r.s.oldest_queued_at_ns : 0;
             o.sample("lane_oldest_queued_age_seconds", r, seconds(age > 0 ? age : 0));
           });
  w.family("lane_paused", "gauge", "1 while the lane is paused.",
           [](const LaneRow &r, Writer &o) { o.sample("lane_paused", r, U{r.s.paused != 0 ? 1u : 0u}); });
  w.family("lane_throughput_last_minute", "gauge", "Jobs that ended in the last 60 seconds.",
           [](const LaneRow &r, Writer &o) { o.sample("lane_throughput_last_minute", r, U{r.s.throughput_1m}); });
  w.family("lane_submitted_total", "counter", "Accepted submissions.",
           [](const LaneRow &r, Writer &o) { o.sample("lane_submitted_total", r, U{r.s.submitted}); });
  w.family("lane_jobs_total", "counter", "Jobs ended, by outcome.", [](const LaneRow &r, Writer &o) {
    o.sample("lane_jobs_total", r, U{r.s.completed}, "outcome", "ok");
    o.sample("lane_jobs_total", r, U{r.s.failed}, "outcome", "failed");
    o.sample("lane_jobs_total", r, U{r.s.cancelled}, "outcome", "cancelled");
    o.sample("lane_jobs_total", r, U{r.s.preempted}, "outcome", "preempted");
    o.sample("lane_jobs_total", r, U{r.s.timed_out}, "outcome", "timed_out");
    o.sample("lane_jobs_total", r, U{r.s.closed}, "outcome", "closed");
  });
  w.family("lane_refused_total", "counter", "Submissions refused (busy, duplicate, full, closed, deadlock).",
           [](const LaneRow &r, Writer &o) { o.sample("lane_refused_total", r, U{r.s.refused}); });
  w.family("lane_preemptions_total", "counter", "Preemption requests (requeued victims included).",
           [](const LaneRow &r, Writer &o) { o.sample("lane_preemptions_total", r, U{r.s.preemptions}); });
  // What holds the queue back: one sample per reason, 1 for the current one
  // (all 0 when nothing waits), so an alert can key on the reason.
  w.family("lane_blocked", "gauge", "1 for the reason the front of the queue waits, 0 for the others.",
           [](const LaneRow &r, Writer &o) {
             static constexpr std::pair<lane_blocked_by_t, const char *> reasons[] = {
                 {LANE_BLOCKED_FULL, "full"},         {LANE_BLOCKED_PAUSED, "paused"},
                 {LANE_BLOCKED_COOLDOWN, "cooldown"}, {LANE_BLOCKED_PRIORITY, "priority"},
                 {LANE_BLOCKED_TENANT, "tenant"},     {LANE_BLOCKED_RATE, "rate"},
                 {LANE_BLOCKED_TENANT_LIMIT, "tenant_limit"}};
             for (const auto &[reason, label] : reasons) {
               o.sample("lane_blocked", r, U{r.s.blocked_by == reason ? 1u : 0u}, "reason", label);
             }
           });
  w.family("lane_cooldown_remaining_seconds", "gauge",
           "Time left of the lane's cooldown (lane_cooldown or the adaptive width's); 0 if none.",
           [](const LaneRow &r, Writer &o) {
             o.sample("lane_cooldown_remaining_seconds", r, seconds_until(r.s.cooldown_until_ns, r.now_ns));
           });
  // Budgets.
  w.family("lane_rate_ready_seconds", "gauge",
           "Time until the rate limits let the front of the queue go; 0 if they do not hold it.",
           [](const LaneRow &r, Writer &o) {
             o.sample("lane_rate_ready_seconds", r, seconds_until(r.s.rate_ready_at_ns, r.now_ns));
           });
  w.family("lane_width", "gauge", "The cap in slots now: the adaptive width, else max_concurrent.",
           [](const LaneRow &r, Writer &o) { o.sample("lane_width", r, U{r.s.width}); });
  w.family("lane_slots_in_use", "gauge", "Slots held by running jobs (a job may hold several).",
           [](const LaneRow &r, Writer &o) { o.sample("lane_slots_in_use", r, U{r.s.slots_in_use}); });
  w.family("lane_released", "gauge", "Running jobs without their slots, by state.", [](const LaneRow &r, Writer &o) {
    o.sample("lane_released", r, U{r.s.released}, "state", "released");
    o.sample("lane_released", r, U{r.s.reacquiring}, "state", "reacquiring");
  });
  w.family("lane_rate_waits_total", "counter", "Jobs whose grant a rate limit delayed.",
           [](const LaneRow &r, Writer &o) { o.sample("lane_rate_waits_total", r, U{r.s.rate_waits}); });
  w.family("lane_cost_used_total", "counter", "Cost of finished runs (reported, else estimated), in the host's unit.",
           [](const LaneRow &r, Writer &o) {
             o.sample("lane_cost_used_total", r, static_cast<std::uint64_t>(std::max<std::int64_t>(r.s.cost_used, 0)));
           });
  w.family("lane_overloads_total", "counter", "Runs that ended overloaded (HTTP 429).",
           [](const LaneRow &r, Writer &o) { o.sample("lane_overloads_total", r, U{r.s.overloads}); });
  // Shared lanes (a cluster): samples only for member lanes.
  struct SharedFamily {
    const char *name, *type, *help;
    U (*value)(const lane_stats_t &);
  };
  static constexpr SharedFamily shared[] = {
      {"lane_shared_available", "gauge", "Shared lanes: 1 if Redis answered the last time it was asked.",
       [](const lane_stats_t &s) { return U{s.available != 0 ? 1u : 0u}; }},
      {"lane_global_running", "gauge", "Shared lanes: slots granted across every member, as of the last answer.",
       [](const lane_stats_t &s) { return U{s.global_running}; }},
      {"lane_global_queued", "gauge", "Shared lanes: slots the members wait for, as of the last answer.",
       [](const lane_stats_t &s) { return U{s.global_queued}; }},
      {"lane_leases_lost_total", "counter", "Shared lanes: grants whose lease ran out under this member.",
       [](const lane_stats_t &s) { return U{s.leases_lost}; }},
      {"lane_releases_refused_total", "counter", "Shared lanes: late releases the arbiter refused.",
       [](const lane_stats_t &s) { return U{s.releases_refused}; }},
  };
  for (const SharedFamily &f : shared) {
    w.family(f.name, f.type, f.help, [&f](const LaneRow &r, Writer &o) {
      if (r.s.shared) o.sample(f.name, r, f.value(r.s));
    });
  }
  w.family("lane_tenant_running", "gauge", "Running jobs of each tenant that has a limit.",
           [](const LaneRow &r, Writer &o) {
             for (const auto &t : r.tenants) o.sample("lane_tenant_running", r, U{t.running}, "tenant", t.name.c_str());
           });
  w.family("lane_tenant_limit", "gauge", "Each limited tenant's cap on running jobs.", [](const LaneRow &r, Writer &o) {
    for (const auto &t : r.tenants) o.sample("lane_tenant_limit", r, U{t.limit}, "tenant", t.name.c_str());
  });
  // A summary's _sum and _count cover the same window as its quantiles (the
  // last 1024 jobs), so they are its mean, not lifetime totals: they stop
  // growing once the window is full.
  w.family("lane_wait_seconds", "summary", "Time from submission to a slot, over the last 1024 jobs.",
           [](const LaneRow &r, Writer &o) {
             o.sample("lane_wait_seconds", r, seconds(r.s.wait_p50_ns), "quantile", "0.5");
             o.sample("lane_wait_seconds", r, seconds(r.s.wait_p99_ns), "quantile", "0.99");
             o.sample("lane_wait_seconds_sum", r, seconds(r.sums.wait_sum_ns));
             o.sample("lane_wait_seconds_count", r, U{r.sums.wait_count});
           });
  w.family("lane_run_seconds", "summary", "Time holding a slot, over the last 1024 jobs.",
           [](const LaneRow &r, Writer &o) {
             o.sample("lane_run_seconds", r, seconds(r.s.run_p50_ns), "quantile", "0.5");
             o.sample("lane_run_seconds", r, seconds(r.s.run_p99_ns), "quantile", "0.99");
             o.sample("lane_run_seconds_sum", r, seconds(r.sums.run_sum_ns));
             o.sample("lane_run_seconds_count", r, U{r.sums.run_count});
           });
  return std::move(w.out);
}
