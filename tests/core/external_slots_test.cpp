// External slots (a lane shared across processes): a slot is used only
// after it was granted from outside, and every slot a job gives back goes
// back out instead of passing to the next local job.
#include <random>

#include "core_fixture.hpp"

using namespace lane_test;


TEST_SUITE("external") {

TEST_CASE("nothing runs before a grant; a grant starts the oldest waiting job") {
  CoreLane lane(fifo(4));
  lane.sched.set_external(true);
  lane.submit("a", 0);
  lane.submit("b", 0);
  CHECK(lane.trace() == "");
  CHECK(lane.last.position == 2);
  CHECK(lane.sched.external_demand() == 2);
  lane.grant_external(1, ms(1));
  CHECK(lane.trace() == "D:a");
  CHECK(lane.sched.external_held() == 1);
  CHECK(lane.sched.external_demand() == 2);
}

TEST_CASE("a finished job's slot goes back out: the next job waits for a new grant") {
  CoreLane lane(fifo(4));
  lane.sched.set_external(true);
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.grant_external(1, ms(1));
  lane.finish("a", ms(2));
  CHECK(lane.trace() == "O:a/OK");
  CHECK(lane.sched.external_held() == 0);
  CHECK(lane.sched.slots_in_use() == 0);
  lane.grant_external(1, ms(3));
  CHECK(lane.trace() == "D:b");
  lane.finish_all(ms(4));
  CHECK(lane.sched.external_held() == 0);
  lane.expect_one_outcome_each();
}

TEST_CASE("grants beyond the cap stay unused and revoke takes back only unused ones") {
  CoreLane lane(fifo(2));
  lane.sched.set_external(true);
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.submit("c", 0);
  CHECK(lane.sched.external_demand() == 2);  // the cap bounds the demand
  lane.grant_external(3, ms(1));
  CHECK(lane.trace() == "D:a D:b");
  CHECK(lane.sched.slots_in_use() == 2);
  CHECK(lane.sched.revoke_external(5) == 1);
  CHECK(lane.sched.external_held() == 2);
  CHECK(lane.sched.revoke_external(1) == 0);  // both are held by running jobs
  lane.finish("a", ms(2));
  lane.finish("b", ms(2));
  CHECK(lane.trace() == "O:b/OK");  // c waits for a grant of its own
  lane.grant_external(1, ms(3));
  CHECK(lane.trace() == "D:c");
  lane.finish("c", ms(4));
  lane.expect_one_outcome_each();
}

TEST_CASE("paused: the demand is what is in use; release gives the slot back out") {
  CoreLane lane(fifo(2));
  lane.sched.set_external(true);
  lane.submit("a", 0);
  lane.grant_external(1, ms(1));
  lane.submit("b", 0);
  lane.pause();
  CHECK(lane.sched.external_demand() == 1);
  lane.resume(ms(2));
  CHECK(lane.sched.external_demand() == 2);
  CHECK(lane.release("a", ms(3)) == LANE_OK);
  CHECK(lane.sched.external_held() == 0);
  CHECK(lane.trace() == "");  // b does not take a's slot
  CHECK(lane.reacquire("a", ms(4)) == LANE_OK);
  CHECK(lane.sched.external_demand() == 2);
  lane.grant_external(1, ms(5));
  CHECK(lane.trace() == "D:a");  // the reacquirer is older than b
  lane.grant_external(1, ms(6));
  CHECK(lane.trace() == "D:b");
  lane.finish_all(ms(7));
  lane.expect_one_outcome_each();
}

TEST_CASE("a wide job at the front asks for all its slots") {
  CoreLane lane(fifo(4));
  lane.sched.set_external(true);
  lane.submit("w", 0, {.slots = 3});
  CHECK(lane.sched.external_demand() == 3);
  lane.grant_external(2, ms(1));
  CHECK(lane.trace() == "");
  lane.grant_external(1, ms(2));
  CHECK(lane.trace() == "D:w");
  lane.finish("w", ms(3));
  CHECK(lane.sched.external_held() == 0);
}

TEST_CASE("property: random workloads never use a slot that was not granted, and every slot given back goes out") {
  for (int seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    const std::uint32_t cap = 1 + rng() % 4;
    Config c = (seed % 2) ? fair(cap) : preempting(cap, 0);
    CoreLane lane(c);
    lane.sched.set_external(true);
    std::int64_t t = 0;
    std::uint64_t granted = 0, submitted = 0;
    std::vector<std::string> live;
    for (int step = 0; step < 300; ++step) {
      t += ms(1);
      const unsigned op = rng() % 10;
      if (op < 4) {
        const std::string id = "j" + std::to_string(submitted++);
        lane.submit(id, t,
                    {.priority = static_cast<std::int32_t>(rng() % 3),
                     .flags = (rng() % 2) ? kPreemptible : 0u,
                     .tenant = std::string(1, static_cast<char>('a' + rng() % 3)),
                     .slots = 1 + static_cast<std::uint32_t>(rng() % cap)});
        if (lane.last.status == LANE_OK) live.push_back(id);
      } else if (op < 6) {
        const std::uint32_t before_held = lane.sched.external_held();
        const std::uint32_t n = rng() % 3;
        lane.grant_external(n, t);
        granted += n;
        CHECK(lane.sched.external_held() == before_held + n);
      } else if (op < 9) {
        // Finish a random running job: its slots leave the allowance.
        std::vector<std::string> running;
        for (const auto &id : live) {
          const Job &j = lane.job(id);
          if (j.state == JobState::Running && lane.outcomes(j) == 0) running.push_back(id);
        }
        if (!running.empty()) {
          const std::string id = running[rng() % running.size()];
          const std::uint32_t held = lane.job(id).held;
          const std::uint32_t before = lane.sched.external_held();
          lane.finish(id, t);
          CHECK(lane.sched.external_held() == before - held);
        }
      } else {
        lane.sched.revoke_external(rng() % 2);
      }
      REQUIRE(lane.sched.slots_in_use() <= lane.sched.external_held());
      REQUIRE(lane.sched.slots_in_use() <= lane.sched.cap());
      REQUIRE(lane.sched.external_held() <= granted);
      // Nothing waits while a granted slot it could use is free.
      if (const Job *next = lane.sched.next_waiting()) {
        const std::uint32_t need = std::min(next->slots_wanted(), lane.sched.cap());
        const std::uint32_t room = std::min(lane.sched.cap(), lane.sched.external_held());
        const bool blocked_by_tenant = next->budget && next->budget->at_limit();
        if (!blocked_by_tenant) CHECK(lane.sched.slots_in_use() + need > room);
      }
    }
    lane.close(LANE_CLOSE_CANCEL, t + ms(1));
    lane.finish_all(t + ms(2));
    CHECK(lane.sched.slots_in_use() == 0);
    lane.sched.revoke_external(UINT32_MAX);  // grants nobody used
    CHECK(lane.sched.external_held() == 0);
    lane.expect_one_outcome_each();
  }
}

}  // TEST_SUITE
