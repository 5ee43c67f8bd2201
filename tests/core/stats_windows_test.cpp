// Lane statistics (the counter invariant, refusals, throughput, quantiles)
// and the fixed-memory windows behind them, tested directly and under load.
#include <array>
#include <memory>

#include "alloc_counter.hpp"
#include "core/windows.hpp"
#include "core_fixture.hpp"

using namespace lane_test;
using lane::core::RuntimeWindow;
using lane::core::SampleRing;
using lane::core::ThroughputWindow;

TEST_SUITE("stats_windows") {

TEST_CASE("the outcome counters plus running and queued add up to submitted, and refusals are counted apart") {
  // CoreLane checks the invariant after every operation; this test makes
  // every counter move and then checks the final numbers.
  Config cfg = preempting(2, 0);
  cfg.max_queued = 4;
  CoreLane lane(cfg);
  lane.submit("ok", 0);
  lane.submit("victim", 0, {.flags = kPreemptible});
  lane.submit("fails", 0);
  lane.submit("cancelled", 0);
  lane.submit("times-out", 0, {.queue_timeout_ns = sec(1)});
  lane.submit("busy", 0, {.max_wait_ns = 1});
  CHECK(lane.last.status == LANE_ERR_BUSY);
  lane.submit("dup", 0);
  lane.submit("dup", 0);
  CHECK(lane.last.status == LANE_ERR_DUPLICATE);
  lane.submit("full", 0);
  CHECK(lane.last.status == LANE_ERR_QUEUE_FULL);
  lane.submit("deadlock", 0, {}, true);
  CHECK(lane.last.status == LANE_ERR_DEADLOCK);
  lane.submit("preemptor", 0, {.priority = 5});
  CHECK(lane.trace() == "C:victim/PREEMPTED");
  CHECK(lane.cancel("cancelled", LANE_CANCEL_QUEUED, 0) == LANE_OK);
  lane.tick(sec(1));
  CHECK(lane.trace() == "O:times-out/TIMEOUT");
  lane.finish("ok", sec(2));
  CHECK(lane.trace() == "O:ok/OK D:preemptor");
  lane.finish("victim", sec(2));
  CHECK(lane.trace() == "O:victim/PREEMPTED D:fails");
  lane.finish("preemptor", sec(3));
  lane.finish("fails", sec(3), 1);
  lane_stats_t s = lane.stats(sec(3));
  CHECK(s.submitted == 7);
  CHECK(s.completed == 2);
  CHECK(s.failed == 1);
  CHECK(s.cancelled == 1);
  CHECK(s.preempted == 1);
  CHECK(s.timed_out == 1);
  CHECK(s.closed == 0);
  CHECK(s.running == 1);
  CHECK(s.queued == 0);
  CHECK(s.refused == 4);
  lane.close(LANE_CLOSE_CANCEL, sec(4));
  lane.submit("late", sec(4));  // refused: closed
  lane.finish_all(sec(5));
  s = lane.stats(sec(5));
  CHECK(s.closed == 1);
  CHECK(s.refused == 5);
  CHECK(s.submitted == s.completed + s.failed + s.cancelled + s.preempted + s.timed_out + s.closed);
  lane.expect_one_outcome_each();
}

TEST_CASE("oldest_queued_at_ns is the oldest queued job's enqueue time and 0 when nothing waits") {
  CoreLane lane(fifo(1));
  lane.submit("a", sec(1));
  CHECK(lane.stats(sec(1)).oldest_queued_at_ns == 0);
  lane.submit("b", sec(2));
  lane.submit("c", sec(3));
  CHECK(lane.stats(sec(3)).oldest_queued_at_ns == sec(2));
  lane.finish("a", sec(4));
  CHECK(lane.stats(sec(4)).oldest_queued_at_ns == sec(3));
  lane.finish_all(sec(5));
  CHECK(lane.stats(sec(5)).oldest_queued_at_ns == 0);
  lane.expect_one_outcome_each();
}

TEST_CASE("throughput_1m counts the jobs that ended in the last 60 s") {
  CoreLane lane(fifo(4));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.submit("c", 0);
  lane.submit("d", 0);
  lane.finish("a", ms(500));
  lane.finish("b", sec(10));
  lane.finish("c", sec(59));
  CHECK(lane.stats(sec(59)).throughput_1m == 3);
  CHECK(lane.stats(ms(59'999)).throughput_1m == 3);
  CHECK(lane.stats(sec(60)).throughput_1m == 2);  // the end at 0.5 s dropped out
  CHECK(lane.stats(sec(70)).throughput_1m == 1);
  CHECK(lane.stats(sec(119)).throughput_1m == 0);
  lane.finish("d", sec(200));
  CHECK(lane.stats(sec(200)).throughput_1m == 1);
  lane.expect_one_outcome_each();
}

TEST_CASE("wait and run quantiles come from the recent dispatches and runs") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.submit("c", 0);
  lane.finish("a", sec(1));
  lane.finish("b", sec(3));
  lane.finish("c", sec(6));
  lane_stats_t s = lane.stats(sec(6));
  // runs: 1 s, 2 s, 3 s; waits: 0, 1 s, 3 s
  CHECK(s.run_p50_ns == sec(2));
  CHECK(s.run_p99_ns == sec(3));
  CHECK(s.wait_p50_ns == sec(1));
  CHECK(s.wait_p99_ns == sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("a fresh lane reports zeros") {
  CoreLane lane(fifo(3));
  lane_stats_t s = lane.stats(sec(1));
  CHECK(s.max_concurrent == 3);
  CHECK(s.running == 0);
  CHECK(s.queued == 0);
  CHECK(s.submitted == 0);
  CHECK(s.throughput_1m == 0);
  CHECK(s.run_p50_ns == 0);
  CHECK(s.wait_p99_ns == 0);
  CHECK(s.mean_runtime_ns == 0);
  CHECK(s.blocked_by == LANE_BLOCKED_NONE);
  CHECK(s.oldest_queued_at_ns == 0);
}

TEST_CASE("ThroughputWindow drops events older than 60 s") {
  ThroughputWindow w;
  CHECK(w.last_minute(0) == 0);
  w.record(ms(100));
  w.record(ms(900));
  w.record(sec(30));
  CHECK(w.last_minute(sec(30)) == 3);
  CHECK(w.last_minute(ms(59'999)) == 3);
  CHECK(w.last_minute(sec(60)) == 1);
  CHECK(w.last_minute(sec(89)) == 1);
  CHECK(w.last_minute(sec(90)) == 0);
}

TEST_CASE("ThroughputWindow reuses a bucket a minute later without counting the old events") {
  ThroughputWindow w;
  for (int i = 0; i < 5; ++i) w.record(ms(200));
  w.record(ms(60'200));  // same bucket index, next minute
  CHECK(w.last_minute(ms(60'500)) == 1);
  CHECK(w.last_minute(sec(119)) == 1);
}

TEST_CASE("ThroughputWindow counts exactly the last 60 seconds after hours of load") {
  ThroughputWindow w;
  const std::int64_t hours = 10;
  for (std::int64_t s = 0; s < hours * 3600; ++s) {
    for (int k = 0; k < 10; ++k) w.record(sec(s) + ms(k * 100));
  }
  const std::int64_t now = sec(hours * 3600 - 1) + ms(999);
  CHECK(w.last_minute(now) == 600);
  CHECK(w.last_minute(now + sec(30)) == 300);
  CHECK(w.last_minute(now + sec(61)) == 0);
  // The memory is the 60 buckets, whatever the load.
  CHECK(sizeof(ThroughputWindow) <= 60 * 16 + 16);
}

TEST_CASE("RuntimeWindow keeps the mean of the last n runtimes") {
  RuntimeWindow w(3);
  CHECK(w.capacity() == 3);
  CHECK(w.count() == 0);
  CHECK(w.mean() == 0);
  w.add(1);
  w.add(2);
  CHECK(w.mean() == 1);  // integer mean of 1 and 2
  w.add(3);
  w.add(4);
  CHECK(w.count() == 3);
  CHECK(w.mean() == 3);
  for (int i = 0; i < 1'000'000; ++i) w.add(10);
  CHECK(w.count() == 3);
  CHECK(w.mean() == 10);
}

TEST_CASE("RuntimeWindow resize keeps the most recent runtimes that fit") {
  RuntimeWindow w(4);
  for (std::int64_t v : {10, 20, 30, 40}) w.add(v);
  w.resize(2);
  CHECK(w.capacity() == 2);
  CHECK(w.count() == 2);
  CHECK(w.mean() == 35);
  w.resize(5);
  CHECK(w.count() == 2);
  CHECK(w.mean() == 35);
  w.add(80);
  CHECK(w.count() == 3);
  CHECK(w.mean() == 50);
  w.add(0);
  w.add(0);
  w.add(0);  // pushes out 30
  CHECK(w.count() == 5);
  CHECK(w.mean() == (40 + 80) / 5);
}

TEST_CASE("SampleRing gives nearest-rank quantiles and 0 with no samples") {
  SampleRing r;
  CHECK(r.quantile(0.5) == 0);
  for (std::int64_t v = 100; v >= 1; --v) r.add(v);
  CHECK(r.quantile(0.0) == 1);
  CHECK(r.quantile(0.5) == 51);
  CHECK(r.quantile(0.99) == 99);
  CHECK(r.quantile(1.0) == 100);
}

TEST_CASE("SampleRing keeps only the last 1024 samples") {
  SampleRing r;
  for (std::size_t i = 0; i < SampleRing::kSize; ++i) r.add(1);
  for (std::size_t i = 0; i < SampleRing::kSize; ++i) r.add(1000);
  CHECK(r.quantile(0.0) == 1000);
  CHECK(r.quantile(0.5) == 1000);
  r.add(5);
  CHECK(r.quantile(0.0) == 5);
  CHECK(r.quantile(0.5) == 1000);
}

namespace {

// Runs `cycles` rounds of mixed traffic on a lane of 4 slots: submissions
// from rotating tenants with mixed priorities, queue timeouts, cancels and
// preemption, every job ending. Reuses a fixed pool of job objects so that
// only the scheduler's own memory can grow.
void churn(Scheduler &s, std::array<Job, 32> &pool, std::uint64_t first, std::uint64_t cycles, std::int64_t &now) {
  std::array<char, 16> id{};
  for (std::uint64_t c = first; c < first + cycles; ++c) {
    now += ms(250);
    Effects out;  // per cycle, so the test's own buffers are not measured
    // Finish every job that has run at least 1 s; end anything left behind.
    for (Job &j : pool) {
      if (j.state == JobState::Running && now - j.started_at >= sec(1)) s.finish(&j, 0, now, out);
    }
    for (std::uint64_t n = c * 2; n < c * 2 + 2; ++n) {  // twice what the slots can serve
      Job *free_job = nullptr;
      for (Job &j : pool) {
        if (j.state == JobState::New || j.state == JobState::Ended) {
          free_job = &j;
          break;
        }
      }
      if (!free_job) break;
      *free_job = Job{};
      std::snprintf(id.data(), id.size(), "j%llu", static_cast<unsigned long long>(n % 100000));
      free_job->id = id.data();  // short enough to stay in the string's inline buffer
      free_job->priority = static_cast<std::int32_t>(n % 3);
      free_job->flags = (n % 5 == 0) ? LANE_JOB_PREEMPTIBLE : 0;
      free_job->queue_timeout_ns = (n % 7 == 0) ? sec(2) : 0;
      std::snprintf(id.data(), id.size(), "t%llu", static_cast<unsigned long long>(n % 50));
      s.submit(free_job, id.data(), now, out);
    }
    if (c % 11 == 0) {
      std::snprintf(id.data(), id.size(), "j%llu", static_cast<unsigned long long>((c * 2 - 3) % 100000));
      s.cancel(id.data(), LANE_CANCEL_QUEUED, now, out);
    }
  }
  // Drain: finish everything until the lane is idle.
  for (int round = 0; round < 1000 && (s.running() > 0 || s.queued() > 0); ++round) {
    now += sec(1);
    Effects out;
    for (Job &j : pool) {
      if (j.state == JobState::Running) s.finish(&j, 0, now, out);
    }
    s.tick(now, out);
  }
}

}  // namespace

TEST_CASE("a lane does not keep more memory after a long load than after a short one") {
  for (lane_policy_t policy : {LANE_POLICY_FIFO, LANE_POLICY_FAIR_SHARE}) {
    CAPTURE(policy);
    Config cfg = preempting(4, sec(1));
    cfg.policy = policy;
    auto s = std::make_unique<Scheduler>(cfg);
    auto pool = std::make_unique<std::array<Job, 32>>();
    std::int64_t now = 0;
    lane_stats_t st{};
    churn(*s, *pool, 0, 5'000, now);
    const std::size_t after_short = live_heap_bytes();
    churn(*s, *pool, 5'000, 40'000, now);  // about 3 hours of simulated load
    const std::size_t after_long = live_heap_bytes();
    CHECK(after_long <= after_short);
    s->stats(now, st);
    CHECK(st.running == 0);
    CHECK(st.queued == 0);
    CHECK(st.submitted == st.completed + st.failed + st.cancelled + st.preempted + st.timed_out + st.closed);
    CHECK(st.submitted > 40'000);
    CHECK(st.preemptions > 0);
    CHECK(st.timed_out > 0);
    CHECK(st.cancelled > 0);
    if (policy == LANE_POLICY_FAIR_SHARE) {
      CHECK(dynamic_cast<const lane::core::FairQueue &>(s->queue()).tenant_count() == 0);
    }
  }
}

}  // TEST_SUITE
