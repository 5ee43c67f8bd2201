// External slots (a lane shared across processes): a slot is used only
// after it was granted from outside, and every slot a job gives back goes
// back out instead of passing to the next local job.
#include <map>
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

TEST_CASE("a shared tenant limit: a tenant runs only what it holds of it") {
  CoreLane lane(fair(4));
  lane.sched.set_external(true);
  lane.set_tenant_limit("x", 2, 0);
  lane.submit("x1", ms(1), {.tenant = "x"});
  lane.submit("x2", ms(1), {.tenant = "x"});
  lane.submit("y1", ms(1), {.tenant = "y"});
  lane.grant_external(3, ms(2));
  CHECK(lane.trace() == "D:y1");  // x holds none of its limit yet: its jobs wait, y's does not
  auto q = lane.sched.tenant_quotas();
  REQUIRE(q.size() == 1);
  CHECK(q[0].name == "x");
  CHECK(q[0].quota == 0);
  CHECK(q[0].need == 2);  // both wait on the limit
  const std::uint64_t epoch = lane.sched.quota_epoch();
  lane.set_tenant_quota("x", 1, ms(3));
  CHECK(lane.trace() == "D:x1");
  CHECK(lane.sched.quota_epoch() != epoch);
  CHECK(lane.sched.tenant_quotas()[0].need == 2);  // x1 runs, x2 waits
  lane.set_tenant_quota("x", 5, ms(4));            // more than the limit: the limit still holds
  CHECK(lane.trace() == "D:x2");
  lane.submit("x3", ms(5), {.tenant = "x"});
  lane.grant_external(1, ms(5));
  CHECK(lane.trace() == "");
  CHECK(lane.sched.tenant_quotas()[0].need == 2);  // at most the limit
  lane.set_tenant_quota("x", 0, ms(6));            // taken back: running jobs run on, none starts
  lane.finish("x1", ms(7));
  CHECK(lane.trace() == "O:x1/OK");
  lane.set_tenant_limit("x", 0, ms(8));  // no limit: nothing shared either
  CHECK(lane.trace() == "D:x3");          // on the slot granted at 5 ms
  CHECK(lane.sched.tenant_quotas().empty());
  lane.finish_all(ms(10));
  lane.expect_one_outcome_each();
}

TEST_CASE("property: a shared tenant limit is never passed, its need is what runs and waits on it, and all runs once held") {
  for (int seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    const std::uint32_t cap = 2 + rng() % 4;
    CoreLane lane((seed % 2) ? fair(cap) : preempting(cap, 0));
    lane.sched.set_external(true);
    const char *tenants[] = {"a", "b", "c"};
    lane.set_tenant_limit("a", 1 + rng() % 2, 0);
    lane.set_tenant_limit("b", 1 + rng() % 3, 0);
    std::int64_t t = 0;
    std::uint64_t submitted = 0;
    std::vector<std::string> live;  // accepted and not yet ended
    std::vector<std::string> all;   // every accepted job, for the last check
    auto running_ids = [&] {
      std::vector<std::string> out;
      for (const auto &id : live) {
        const Job &j = lane.job(id);
        if (j.state == JobState::Running && lane.outcomes(j) == 0) out.push_back(id);
      }
      return out;
    };
    auto prune = [&] {
      std::erase_if(live, [&](const std::string &id) { return lane.outcomes(lane.job(id)) != 0; });
    };
    for (int step = 0; step < 300; ++step) {
      t += ms(1);
      std::map<std::string, std::uint32_t> before;
      for (const char *tn : tenants) before[tn] = lane.sched.tenant_running(tn);
      const unsigned op = rng() % 12;
      if (op < 4) {
        const std::string id = "j" + std::to_string(submitted++);
        lane.submit(id, t,
                    {.priority = static_cast<std::int32_t>(rng() % 2),
                     .flags = (rng() % 2) ? kPreemptible : 0u,
                     .tenant = tenants[rng() % 3]});
        if (lane.last.status == LANE_OK) {
          live.push_back(id);
          all.push_back(id);
        }
      } else if (op < 6) {
        lane.grant_external(rng() % 3, t);
      } else if (op < 8) {
        lane.set_tenant_quota(tenants[rng() % 2], rng() % 4, t);
      } else if (op < 11) {
        const auto running = running_ids();
        if (!running.empty()) lane.finish(running[rng() % running.size()], t);
      } else {
        lane.set_tenant_limit("b", rng() % 3, t);  // 0 removes it (and its sharing)
      }
      prune();
      // Assertions are built only on a mismatch: this loop runs 60 000
      // steps, and the sanitizer builds run it too.
      for (const auto &q : lane.sched.tenant_quotas()) {
        std::uint32_t waiting = 0;  // its live jobs: running or not
        for (const auto &id : live) {
          const Job &j = lane.job(id);
          if (j.budget && j.budget->name == q.name) ++waiting;
        }
        if (q.need != std::min(q.limit, waiting) || q.running != lane.sched.tenant_running(q.name)) {
          FAIL_CHECK("seed " << seed << " step " << step << ": tenant " << q.name << " needs " << q.need
                             << " with " << waiting << " live jobs and a limit of " << q.limit << ", and runs "
                             << q.running << " (the core counts " << lane.sched.tenant_running(q.name) << ")");
        }
        if (q.running > before[q.name] && q.running > std::min(q.limit, q.quota)) {
          FAIL("seed " << seed << " step " << step << ": tenant " << q.name << " runs " << q.running
                       << " holding " << q.quota << " of a limit of " << q.limit);
        }
      }
    }
    // Liveness: once each tenant holds its whole limit and slots keep
    // coming, every job runs and ends OK.
    for (const auto &q : lane.sched.tenant_quotas()) lane.set_tenant_quota(q.name, q.limit, t);
    for (int round = 0; round < 2000; ++round) {
      t += ms(1);
      lane.grant_external(cap, t);
      for (const auto &id : running_ids()) lane.finish(id, t);
      prune();
      if (live.empty()) break;
    }
    for (const auto &id : all) REQUIRE_MESSAGE(lane.outcomes(lane.job(id)) == 1, "seed " << seed << ": " << id);
    lane.expect_one_outcome_each();
  }
}

}  // TEST_SUITE
