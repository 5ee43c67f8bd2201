// The seed behaviours of a FIFO lane: take a slot or queue, hand the slot on
// at finish, refuse duplicates, resize in place.
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/job_index.hpp"
#include "core_fixture.hpp"

using namespace lane_test;

TEST_SUITE("fifo") {

TEST_CASE("a lane with a free slot dispatches the job at once at position 0") {
  CoreLane lane(fifo(1));
  Job &a = lane.submit("a", sec(1));
  CHECK(lane.last.status == LANE_OK);
  CHECK(lane.last.position == 0);
  CHECK(lane.last.eta_ns == 0);
  CHECK(lane.last.blocked_by == LANE_BLOCKED_NONE);
  CHECK(lane.trace() == "D:a");
  CHECK(a.state == JobState::Running);
  CHECK(a.enqueued_at == sec(1));
  CHECK(a.started_at == sec(1));
  CHECK(lane.sched.running() == 1);
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("a full lane queues the third job at position 1") {
  CoreLane lane(fifo(2));
  lane.submit("a", 0);
  lane.submit("b", 0);
  Job &c = lane.submit("c", 0);
  CHECK(lane.last.status == LANE_OK);
  CHECK(lane.last.position == 1);
  CHECK(lane.last.blocked_by == LANE_BLOCKED_FULL);
  CHECK(lane.trace().empty());
  CHECK(c.state == JobState::Queued);
  lane_stats_t s = lane.stats(0);
  CHECK(s.running == 2);
  CHECK(s.queued == 1);
  CHECK(s.max_concurrent == 2);
  lane.finish_all(sec(1));
  lane.expect_one_outcome_each();
}

TEST_CASE("queued jobs get consecutive positions in arrival order") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  for (int i = 1; i <= 5; ++i) {
    lane.submit("q" + std::to_string(i), ms(i));
    CHECK(lane.last.position == i);
  }
  lane.finish_all(sec(1));
  CHECK(lane.dispatch_order() == std::vector<std::string>{"a", "q1", "q2", "q3", "q4", "q5"});
  lane.expect_one_outcome_each();
}

TEST_CASE("finish hands the slot to the next queued job in the same call") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", ms(10));
  lane.submit("c", ms(20));
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/OK D:b");
  CHECK(lane.job("a").finished_at == sec(2));
  CHECK(lane.job("b").started_at == sec(2));
  CHECK(lane.sched.running() == 1);
  CHECK(lane.sched.queued() == 1);
  lane.finish("b", sec(3));
  CHECK(lane.trace() == "O:b/OK D:c");
  lane.finish("c", sec(4));
  CHECK(lane.trace() == "O:c/OK");
  lane.expect_one_outcome_each();
}

TEST_CASE("a non-zero job code ends the job as failed and keeps the code") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.finish("a", sec(1), 7);
  CHECK(lane.trace() == "O:a/FAILED");
  CHECK(lane.job("a").status == LANE_ERR_JOB_FAILED);
  CHECK(lane.job("a").job_code == 7);
  CHECK(lane.stats(sec(1)).failed == 1);
  CHECK(lane.stats(sec(1)).completed == 0);
  lane.expect_one_outcome_each();
}

TEST_CASE("a second job with a live id is refused with LANE_ERR_DUPLICATE") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  SUBCASE("the id of a running job") {
    Job &dup = lane.submit("a", ms(1));
    CHECK(lane.last.status == LANE_ERR_DUPLICATE);
    CHECK(dup.state == JobState::New);
  }
  SUBCASE("the id of a queued job") {
    Job &dup = lane.submit("b", ms(1));
    CHECK(lane.last.status == LANE_ERR_DUPLICATE);
    CHECK(dup.state == JobState::New);
  }
  CHECK(lane.last.token == 0);
  CHECK(lane.trace().empty());
  CHECK(lane.stats(ms(1)).refused == 1);
  CHECK(lane.stats(ms(1)).submitted == 2);
  CHECK(lane.sched.queued() == 1);
  lane.finish_all(sec(1));
  lane.expect_one_outcome_each();
}

TEST_CASE("a finished job's id can be used again") {
  CoreLane lane(fifo(1));
  Job &first = lane.submit("a", 0);
  lane.finish("a", sec(1));
  Job &second = lane.submit("a", sec(2));
  CHECK(lane.last.status == LANE_OK);
  CHECK(lane.trace() == "D:a");
  CHECK(second.token != first.token);
  CHECK(lane.sched.find_id("a") == &second);
  lane.finish("a", sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("tokens are unique and find_token and find_id see only live jobs") {
  CoreLane lane(fifo(1));
  Job &a = lane.submit("a", 0);
  Job &b = lane.submit("b", 0);
  CHECK(a.token != b.token);
  CHECK(lane.sched.find_token(a.token) == &a);
  CHECK(lane.sched.find_token(b.token) == &b);
  CHECK(lane.sched.find_id("b") == &b);
  const std::uint64_t ta = a.token;
  lane.finish("a", sec(1));
  CHECK(lane.sched.find_token(ta) == nullptr);
  CHECK(lane.sched.find_id("a") == nullptr);
  CHECK(lane.sched.find_token(0) == nullptr);
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("the job index finds exactly the live jobs through random adds and removes, and old tokens stay dead") {
  // Thousands of ids through a table that grows, shrinks and reuses slots:
  // every lookup agrees with a plain map, and a token of a removed job never
  // finds the job that took its slot.
  lane::core::JobIndex index;
  std::vector<Job> jobs(5000);
  std::map<std::string, Job *> live;
  std::vector<std::uint64_t> dead_tokens;
  std::mt19937 rng(7);
  for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i].id = "job-" + std::to_string(i);
  for (int step = 0; step < 60000; ++step) {
    Job &j = jobs[rng() % jobs.size()];
    // Grow for a while, then mostly shrink, so both rehash directions run.
    const bool add = step < 30000 ? rng() % 3 != 0 : rng() % 3 == 0;
    if (add && !live.contains(j.id)) {
      j.token = index.add(&j);
      CHECK(j.token != 0);
      live[j.id] = &j;
    } else if (!add && live.contains(j.id)) {
      index.remove(&j);
      dead_tokens.push_back(j.token);
      live.erase(j.id);
    }
    if (step % 997 == 0) {
      REQUIRE(index.size() == live.size());
      for (Job &k : jobs) {
        Job *want = live.contains(k.id) ? &k : nullptr;
        REQUIRE(index.by_id(k.id) == want);
        if (want) REQUIRE(index.by_token(k.token) == &k);
      }
      for (std::uint64_t t : dead_tokens) REQUIRE(index.by_token(t) == nullptr);
    }
  }
  CHECK(index.by_id("no such id") == nullptr);
}

TEST_CASE("FIFO order ignores priority") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("low", ms(1), {.priority = 0});
  lane.submit("high", ms(2), {.priority = 9});
  CHECK(lane.last.position == 2);
  lane.finish("a", sec(1));
  CHECK(lane.trace() == "O:a/OK D:low");
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("raising max_concurrent dispatches the backlog in the same call") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.submit("c", 0);
  lane.submit("d", 0);
  lane.resize(3, sec(1));
  CHECK(lane.trace() == "D:b D:c");
  CHECK(lane.sched.running() == 3);
  CHECK(lane.sched.queued() == 1);
  CHECK(lane.stats(sec(1)).max_concurrent == 3);
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("lowering max_concurrent lets in-flight jobs finish and dispatches nothing until running is below it") {
  CoreLane lane(fifo(3));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.submit("c", 0);
  lane.submit("d", 0);
  lane.submit("e", 0);
  lane.resize(1, sec(1));
  CHECK(lane.trace().empty());
  CHECK(lane.sched.running() == 3);
  CHECK(lane.job("a").cancel_cause == LANE_OK);
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/OK");
  lane.finish("b", sec(3));
  CHECK(lane.trace() == "O:b/OK");
  lane.finish("c", sec(4));
  CHECK(lane.trace() == "O:c/OK D:d");
  CHECK(lane.sched.running() == 1);
  lane.finish("d", sec(5));
  CHECK(lane.trace() == "O:d/OK D:e");
  lane.finish_all(sec(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("max_queued refuses the job that would overfill the queue with LANE_ERR_QUEUE_FULL") {
  Config cfg = fifo(1);
  cfg.max_queued = 2;
  CoreLane lane(cfg);
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.submit("c", 0);
  Job &d = lane.submit("d", 0);
  CHECK(lane.last.status == LANE_ERR_QUEUE_FULL);
  CHECK(lane.trace().empty());
  CHECK(d.state == JobState::New);
  CHECK(lane.sched.queued() == 2);
  CHECK(lane.stats(0).refused == 1);
  lane.finish("a", sec(1));
  lane.submit("d", sec(1));
  CHECK(lane.last.status == LANE_OK);
  CHECK(lane.last.position == 2);
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("dispatch_or_refuse refuses with LANE_ERR_DEADLOCK when no slot is free") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0, {}, true);
  CHECK(lane.last.status == LANE_OK);
  CHECK(lane.trace() == "D:a");
  Job &b = lane.submit("b", ms(1), {}, true);
  CHECK(lane.last.status == LANE_ERR_DEADLOCK);
  CHECK(lane.trace().empty());
  CHECK(b.state == JobState::New);
  CHECK(lane.sched.queued() == 0);
  CHECK(lane.stats(ms(1)).refused == 1);
  lane.finish_all(sec(1));
  lane.expect_one_outcome_each();
}

TEST_CASE("dispatch_or_refuse does not preempt to make room") {
  CoreLane lane(preempting(1, 0));
  lane.submit("victim", 0, {.flags = kPreemptible});
  lane.submit("high", sec(1), {.priority = 5}, true);
  CHECK(lane.last.status == LANE_ERR_DEADLOCK);
  CHECK(lane.trace().empty());
  CHECK(lane.job("victim").cancel_cause == LANE_OK);
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("a call that arrives with an earlier time than the last one does not move time backwards") {
  CoreLane lane(fifo(1));
  lane.submit("a", sec(5));
  lane.finish("a", sec(3));
  CHECK(lane.job("a").finished_at == sec(5));
  CHECK(lane.trace() == "O:a/OK");
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE
