// W6: sustained load at full speed. Two submitting threads keep up to 1,000
// jobs each outstanding on a FAIR_SHARE lane of cap 2, rotating over 1,000
// tenants (sessions come and go), for `w6_seconds`. Completions are counted
// per second; malloc's in-use bytes and RSS are sampled every second. End to
// end, through lane.h.
#include <atomic>
#include <charconv>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "lane/lane.h"

namespace bench {

namespace {

struct Load {
  std::atomic<std::int64_t> completed{0};
  std::atomic<int> outstanding[2]{};
  std::atomic<bool> stop{false};
};
struct Tag {
  Load *load;
  int thread;
};

std::int32_t noop_run(lane_ctx_t *, void *) { return 0; }
void on_done(const lane_outcome_t *, void *ud) {
  auto *tag = static_cast<Tag *>(ud);
  tag->load->completed.fetch_add(1, std::memory_order_relaxed);
  tag->load->outstanding[tag->thread].fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace

void w6_sustained(const Options &o, Report &r) {
  const double seconds = o.quick ? 2 : o.w6_seconds;
  const int limit = 1'000, tenants = 1'000;
  lane_options_t opts = LANE_OPTIONS_INIT;
  opts.max_concurrent = 2;
  opts.policy = LANE_POLICY_FAIR_SHARE;
  lane_t *lane = nullptr;
  lane_create("w6", &opts, &lane);
  std::vector<std::string> tenant_names;
  for (int t = 0; t < tenants; ++t) tenant_names.push_back(numbered("session-", static_cast<std::size_t>(t)));
  Load load;
  Tag tags[2] = {{&load, 0}, {&load, 1}};
  std::vector<std::thread> subs;
  for (int s = 0; s < 2; ++s) {
    subs.emplace_back([&, s] {
      char id[32] = {'w', '6', '-', static_cast<char>('a' + s), '-'};
      std::uint64_t n = 0;
      while (!load.stop.load(std::memory_order_relaxed)) {
        if (load.outstanding[s].load(std::memory_order_relaxed) >= limit) {
          std::this_thread::yield();
          continue;
        }
        auto [end, ec] = std::to_chars(id + 5, id + sizeof id - 1, n);
        (void)ec;
        *end = '\0';
        lane_job_t j = LANE_JOB_INIT;
        j.id = id;
        j.tenant = tenant_names[(n / 7) % tenant_names.size()].c_str();
        j.run = noop_run;
        j.on_done = on_done;
        j.user_data = &tags[s];
        load.outstanding[s].fetch_add(1, std::memory_order_relaxed);
        if (lane_submit(lane, &j, nullptr) != LANE_OK) load.outstanding[s].fetch_sub(1, std::memory_order_relaxed);
        ++n;
      }
    });
  }
  struct Sample {
    std::int64_t completed, heap, rss;
  };
  std::vector<Sample> samples;
  const std::int64_t t0 = now_ns();
  const auto secs = static_cast<int>(seconds);
  for (int k = 1; k <= secs; ++k) {
    const std::int64_t wake = t0 + static_cast<std::int64_t>(k) * 1'000'000'000;
    while (now_ns() < wake) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    samples.push_back({load.completed.load(), heap_bytes(), rss_bytes()});
  }
  load.stop = true;
  for (auto &t : subs) t.join();
  lane_wait_idle(lane, -1);
  lane_destroy(lane);

  // First and last windows: a minute each when the run is long enough,
  // else each half.
  const int w = secs >= 120 ? 60 : secs / 2;
  const double first = static_cast<double>(samples[static_cast<std::size_t>(w) - 1].completed) / w;
  const double last =
      static_cast<double>(samples.back().completed - samples[samples.size() - 1 - static_cast<std::size_t>(w)].completed) / w;
  const auto &mid = samples[static_cast<std::size_t>(w) - 1];
  const auto &end = samples.back();
  r.section("W6: sustained load (end to end, lane.h)",
            fmt(seconds, 0) + " s at full speed: 2 submitting threads, up to " + std::to_string(limit) +
                " outstanding jobs each, no-op jobs on a FAIR_SHARE lane of cap 2, tenants rotating over " +
                std::to_string(tenants) + ". One run (the issue asks 120 s; `--w6-seconds` sets it).");
  r.table({"window", "jobs/s", "malloc in-use at window end", "RSS at window end"});
  r.row({"first " + std::to_string(w) + " s", fmt(first), fmt(static_cast<double>(mid.heap) / 1048576.0, 1) + " MiB",
         fmt(static_cast<double>(mid.rss) / 1048576.0, 1) + " MiB"});
  r.row({"last " + std::to_string(w) + " s", fmt(last), fmt(static_cast<double>(end.heap) / 1048576.0, 1) + " MiB",
         fmt(static_cast<double>(end.rss) / 1048576.0, 1) + " MiB"});
  std::string per_sec;
  for (std::size_t k = 0; k < samples.size(); ++k) {
    const std::int64_t prev = k ? samples[k - 1].completed : 0;
    per_sec += (k ? ", " : "") + std::to_string(samples[k].completed - prev);
  }
  r.text("Completions per second: " + per_sec + ".");
  const bool flat = end.heap <= mid.heap + mid.heap / 10 + (1 << 20) && end.rss <= mid.rss + mid.rss / 10 + (4 << 20);
  r.verdict("W6", "jobs/s of the last window >= 0.9x the first; memory flat",
            fmt_ratio(last / first) + " (" + fmt(first) + " -> " + fmt(last) + " jobs/s, " + fmt(seconds, 0) +
                " s run); heap " + fmt(static_cast<double>(mid.heap) / 1048576.0, 1) + " -> " +
                fmt(static_cast<double>(end.heap) / 1048576.0, 1) + " MiB",
            last >= 0.9 * first && flat);
}

}  // namespace bench
