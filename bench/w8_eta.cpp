// W8: ETA accuracy. Jobs with random runtimes (uniform 0.2-1.8 ms) on a lane
// of cap 2 whose runtime window is warm; bursts of 40 submitted at once. The
// ticket's eta_ns is compared with the wait the outcome reports
// (started_at - enqueued_at). End to end, through lane.h.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common.hpp"
#include "lane/lane.h"

namespace bench {

namespace {

struct Rec {
  std::int64_t runtime = 0;
  std::int32_t position = 0;
  std::int64_t eta = 0, wait = -1;
};

std::int32_t timed_run(lane_ctx_t *, void *ud) {
  work_for(static_cast<Rec *>(ud)->runtime);
  return 0;
}
void on_done(const lane_outcome_t *o, void *ud) {
  static_cast<Rec *>(ud)->wait = o->started_at_ns - o->enqueued_at_ns;
}

}  // namespace

void w8_eta(const Options &o, Report &r) {
  const int bursts = o.quick ? 2 : 10 * o.runs / 5, burst = 40;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> runtime(200'000, 1'800'000);
  std::vector<double> err_deep, err_all, signed_deep;
  for (lane_policy_t policy : {LANE_POLICY_FIFO, LANE_POLICY_FAIR_SHARE}) {
    lane_options_t opts = LANE_OPTIONS_INIT;
    opts.max_concurrent = 2;
    opts.policy = policy;
    lane_t *lane = nullptr;
    lane_create("w8", &opts, &lane);
    std::vector<Rec> recs(static_cast<std::size_t>((bursts + 1) * burst));
    std::vector<std::string> ids(recs.size());
    for (int b = 0; b <= bursts; ++b) {  // burst 0 warms the runtime window
      for (int k = 0; k < burst; ++k) {
        const std::size_t i = static_cast<std::size_t>(b * burst + k);
        recs[i].runtime = runtime(rng);
        ids[i] = numbered("w8-", static_cast<std::size_t>(i));
        lane_job_t j = LANE_JOB_INIT;
        j.id = ids[i].c_str();
        j.tenant = "t";
        j.run = timed_run;
        j.on_done = on_done;
        j.user_data = &recs[i];
        lane_ticket_t t = LANE_TICKET_INIT;
        lane_submit(lane, &j, &t);
        recs[i].position = t.position;
        recs[i].eta = t.eta_ns;
      }
      lane_wait_idle(lane, -1);
    }
    lane_destroy(lane);
    for (std::size_t i = static_cast<std::size_t>(burst); i < recs.size(); ++i) {
      const Rec &x = recs[i];
      if (x.position == 0 || x.wait <= 0) continue;
      const double e = std::abs(static_cast<double>(x.eta - x.wait)) / static_cast<double>(x.wait);
      err_all.push_back(e);
      if (x.position >= 10) {
        err_deep.push_back(e);
        signed_deep.push_back(static_cast<double>(x.eta - x.wait) / static_cast<double>(x.wait));
      }
    }
  }
  r.section("W8: ETA accuracy (end to end, lane.h)",
            "Lane of cap 2 (FIFO and FAIR_SHARE, pooled), runtimes uniform 0.2-1.8 ms (mean 1 ms), " +
                std::to_string(bursts) + " bursts of " + std::to_string(burst) +
                " jobs after a warm-up burst. Relative error = |eta_ns - actual wait| / actual wait, per job.");
  r.table({"jobs", "samples", "median abs relative error", "p90 abs relative error", "median signed error"});
  r.row({"position >= 10", std::to_string(err_deep.size()), fmt(100 * median(err_deep), 1) + "%",
         fmt(100 * quantile(err_deep, 0.9), 1) + "%", fmt(100 * median(signed_deep), 1) + "%"});
  r.row({"all queued", std::to_string(err_all.size()), fmt(100 * median(err_all), 1) + "%",
         fmt(100 * quantile(err_all, 0.9), 1) + "%", ""});
  const double m = median(err_deep);
  r.verdict("W8", "median abs ETA error within 25% of the actual wait at depth 10+",
            fmt(100 * m, 1) + "% (" + std::to_string(err_deep.size()) + " jobs)", m <= 0.25);
}

}  // namespace bench
