// The fair-share order on delivered service: newcomers, returning tenants,
// weights, usage memory, many tenants and long against short jobs, under a
// simulated clock (each job ends at started_at + its runtime).
#include <cmath>
#include <algorithm>
#include <map>
#include <random>

#include "core_fixture.hpp"
#include "fair_sim.hpp"

using namespace lane_test;

namespace {

// One letter per start: the tenant of each dispatched job, in order.
std::string starts(const CoreLane &lane) {
  std::string s;
  for (const std::string &id : lane.dispatch_order()) s += id[0];
  return s;
}

}  // namespace

TEST_SUITE("fair_share_newcomers") {

TEST_CASE("3 slots: bob and carol, arriving behind alice's twelve, start before alice's fourth round") {
  CoreLane lane(fair(3));
  for (int i = 0; i < 12; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "alice"});
  for (int i = 0; i < 3; ++i) lane.submit("b" + std::to_string(i), 0, {.tenant = "bob"});
  for (int i = 0; i < 3; ++i) lane.submit("c" + std::to_string(i), 0, {.tenant = "carol"});
  lane.simulate(sec(10), [](const Job &) { return ms(30); });
  CHECK(starts(lane) == "aaabcbcbcaaaaaaaaa");
  lane.expect_one_outcome_each();
}

TEST_CASE("2 slots: alice's ten 80 ms jobs share with bob's forty 20 ms jobs by slot-time") {
  CoreLane lane(fair(2));
  for (int i = 0; i < 10; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "alice"});
  for (int i = 0; i < 40; ++i) lane.submit("b" + std::to_string(i), 0, {.tenant = "bob"});
  lane.simulate(sec(10), [](const Job &j) { return j.id[0] == 'a' ? ms(80) : ms(20); });
  // Alice's first two ran 80 ms each before bob's first start: bob catches
  // up on both slots (8 x 20 ms), then each 80 ms of alice's is matched by
  // four of bob's.
  CHECK(starts(lane) == "aabbbbbbbbabbbbabbbbabbbbabbbbabbbbabbbbabbbbabbbb");
  lane.expect_one_outcome_each();
}

TEST_CASE("the same 3-slot scenario on a FIFO lane runs alice's twelve first (the control)") {
  CoreLane lane(fifo(3));
  for (int i = 0; i < 12; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "alice"});
  for (int i = 0; i < 3; ++i) lane.submit("b" + std::to_string(i), 0, {.tenant = "bob"});
  for (int i = 0; i < 3; ++i) lane.submit("c" + std::to_string(i), 0, {.tenant = "carol"});
  lane.simulate(sec(10), [](const Job &) { return ms(30); });
  CHECK(starts(lane) == "aaaaaaaaaaaabbbccc");
  lane.expect_one_outcome_each();
}

TEST_CASE("weights 1:2:4 over 10 000 jobs give slot-time shares within 2% of 1:2:4") {
  SimSpec s;
  s.cfg = fair(3);
  s.weights = {1, 2, 4};
  // Everybody always has work waiting; lengths differ per tenant.
  const std::int64_t len[] = {ms(7), ms(13), ms(5)};
  for (int i = 0; i < 10'000; ++i) {
    const auto t = static_cast<std::uint32_t>(i % 3);
    s.jobs.push_back({.arrive = 0, .length = len[t], .tenant = t});
  }
  // Shares while all three still wait: stop counting at the first tenant's last start.
  s.check_bound = true;
  SimResult r = run_sim(s);
  REQUIRE(r.outcomes == 10'000);
  CHECK(r.worst_ratio <= 1.0);
  // Slot-time at the moment the first tenant ran out of work.
  std::vector<std::size_t> left = {3334, 3333, 3333};
  std::vector<double> st(3, 0);
  for (std::uint32_t t : r.start_order) {
    st[t] += static_cast<double>(len[t]);
    if (--left[t] == 0) break;
  }
  const double total = st[0] + st[1] + st[2];
  INFO("shares: ", st[0] / total, " ", st[1] / total, " ", st[2] / total);
  CHECK(st[0] / total == doctest::Approx(1.0 / 7).epsilon(0.02));
  CHECK(st[1] / total == doctest::Approx(2.0 / 7).epsilon(0.02));
  CHECK(st[2] / total == doctest::Approx(4.0 / 7).epsilon(0.02));
}

TEST_CASE("a tenant coming back after idling starts level with the busy one: no credit, no debt") {
  CoreLane lane(fair(1));
  // bob runs once, then is away for 100 s while alice keeps the lane busy.
  lane.submit("b0", 0, {.tenant = "bob"});
  for (int i = 0; i < 200; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "alice"});
  lane.simulate(sec(100), [](const Job &) { return ms(500); });
  REQUIRE(lane.dispatch_order().size() == 201);
  // Back at 100 s: it alternates with alice at once, it does not get the
  // ~100 s it missed, and alice's in-flight estimate costs it nothing.
  for (int i = 0; i < 4; ++i) lane.submit("b" + std::to_string(i + 1), sec(100), {.tenant = "bob"});
  for (int i = 200; i < 210; ++i) lane.submit("a" + std::to_string(i), sec(100), {.tenant = "alice"});
  lane.simulate(sec(200), [](const Job &) { return ms(500); });
  const std::string all = starts(lane);
  CHECK(all.substr(201, 10) == "babababaaa");
  lane.expect_one_outcome_each();
}

TEST_CASE("a tenant that starts waiting again while a long run is in flight is not charged for it twice") {
  // 2 slots: alice's 10 s run holds one; bob's 1 s jobs keep the other busy.
  CoreLane lane(fair(2));
  lane.submit("A", 0, {.tenant = "alice"});
  for (int i = 0; i < 40; ++i) lane.submit("b" + std::to_string(i), 0, {.tenant = "bob"});
  auto len = [](const Job &j) { return j.id == "A" ? sec(10) : sec(1); };
  lane.simulate(sec(9) + ms(500), len);
  // At 9.5 s alice has had 9.5 s of slot-time, bob 9 s: she waits again.
  for (int i = 0; i < 4; ++i) lane.submit("a" + std::to_string(i), sec(9) + ms(500), {.tenant = "alice"});
  lane.simulate(sec(100), len);
  const std::string all = starts(lane);
  // Counted once, alice's batch starts as soon as A and b9 end at 10 s (after
  // A and bob's ten); lifted to bob's 9 s and then charged A's 10 s as well,
  // it would wait for nine more of bob's. The second b: alice's own estimate
  // is 10 s after A, until her first 1 s job ends.
  CHECK(all.find('a') == 11);
  CHECK(all.substr(11, 8) == "abbababa");
  lane.expect_one_outcome_each();
}

TEST_CASE("with a half-life, a tenant that just used the lane heavily waits behind one that did not") {
  // alice alone for 10 s, then the lane is idle.
  auto alice_alone = [](CoreLane &lane) {
    for (int i = 0; i < 10; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "alice"});
    lane.simulate(sec(10), [](const Job &) { return sec(1); });
  };
  auto with_half_life = [](std::int64_t h) {
    Config cfg = fair(1);
    cfg.fair_half_life_ns = h;
    return cfg;
  };
  SUBCASE("half-life 0: both forgotten once idle, they alternate") {
    CoreLane lane(with_half_life(0));
    alice_alone(lane);
    for (int i = 0; i < 4; ++i) lane.submit("A" + std::to_string(i), sec(20), {.tenant = "alice"});
    for (int i = 0; i < 4; ++i) lane.submit("B" + std::to_string(i), sec(20), {.tenant = "bob"});
    lane.simulate(sec(100), [](const Job &) { return sec(1); });
    CHECK(starts(lane).substr(10) == "ABABABAB");
    lane.expect_one_outcome_each();
  }
  SUBCASE("half-life 10 s, 10 s later: alice's 10 s of usage count as about 3.5 s and bob runs first") {
    CoreLane lane(with_half_life(sec(10)));
    alice_alone(lane);
    CHECK(dynamic_cast<const lane::core::FairQueue &>(lane.sched.queue()).tenant_count() == 1);
    for (int i = 0; i < 6; ++i) lane.submit("A" + std::to_string(i), sec(20), {.tenant = "alice"});
    for (int i = 0; i < 8; ++i) lane.submit("B" + std::to_string(i), sec(20), {.tenant = "bob"});
    lane.simulate(sec(100), [](const Job &) { return sec(1); });
    // alice's first takes the free slot; then bob runs until his usage
    // (decaying like hers) reaches alice's, then they alternate.
    CHECK(starts(lane).substr(10, 8) == "ABBBBABA");
    lane.expect_one_outcome_each();
  }
  SUBCASE("half-life 1 s, 40 s later: alice's usage has decayed away and she is forgotten") {
    CoreLane lane(with_half_life(sec(1)));
    alice_alone(lane);
    lane.tick(sec(50));
    lane.submit("B0", sec(50), {.tenant = "bob"});
    CHECK(dynamic_cast<const lane::core::FairQueue &>(lane.sched.queue()).tenant_count() == 1);
    lane.finish_all(sec(51));
    lane.expect_one_outcome_each();
  }
}

TEST_CASE("a tenant's usage halves every half-life, across renormalisations of the scale") {
  Config cfg = fair(1);
  cfg.fair_half_life_ns = ms(1);
  CoreLane lane(cfg);
  const auto &q = dynamic_cast<const lane::core::FairQueue &>(lane.sched.queue());
  lane.submit("a", 0, {.tenant = "alice"});
  lane.submit("b", 0, {.tenant = "bob"});
  // 100 half-lives while it ran: the stored scale was renormalised 3 times.
  lane.finish("a", ms(100));
  CHECK(q.served("alice") == doctest::Approx(static_cast<double>(ms(100))).epsilon(1e-9));
  CHECK(q.served("alice", ms(101)) == doctest::Approx(static_cast<double>(ms(50))).epsilon(1e-9));
  CHECK(q.served("alice", ms(103)) == doctest::Approx(static_cast<double>(ms(100)) / 8).epsilon(1e-9));
  lane.finish("b", ms(110));
  CHECK(q.served("bob", ms(110)) == doctest::Approx(static_cast<double>(ms(10))).epsilon(1e-9));
  CHECK(q.served("alice", ms(110)) == doctest::Approx(static_cast<double>(ms(100)) / 1024).epsilon(1e-9));
  // Without a half-life nothing decays.
  CoreLane plain(fair(1));
  plain.submit("a", 0, {.tenant = "alice"});
  plain.submit("a2", 0, {.tenant = "alice"});
  plain.finish("a", ms(100));
  const auto &pq = dynamic_cast<const lane::core::FairQueue &>(plain.sched.queue());
  CHECK(pq.served("alice", sec(1000)) == doctest::Approx(static_cast<double>(ms(100))));
  lane.expect_one_outcome_each();
  plain.finish_all(sec(1000));
  plain.expect_one_outcome_each();
}

TEST_CASE("a half-life lane on a Unix-epoch clock decays from its first time, and quiet years cost one step") {
  Config cfg = fair(1);
  cfg.fair_half_life_ns = 1;  // 1 ns: the worst case for renormalising
  CoreLane lane(cfg);
  const std::int64_t t0 = 1'700'000'000 * sec(1);
  lane.submit("a", t0, {.tenant = "alice"});
  lane.submit("b", t0, {.tenant = "bob"});
  lane.finish("a", t0 + 100);
  lane.finish("b", t0 + sec(3600));
  const auto &q = dynamic_cast<const lane::core::FairQueue &>(lane.sched.queue());
  CHECK(q.served("alice", t0 + sec(3600)) == 0.0);
  CHECK(q.served("bob", t0 + sec(3600)) > 0.0);
  lane.submit("a2", t0 + sec(3600), {.tenant = "alice"});
  lane.finish_all(t0 + sec(7200));
  lane.expect_one_outcome_each();
}

TEST_CASE("10 000 tenants with one job each run in arrival order, and the ticket positions are exact") {
  CoreLane lane(fair(2));
  lane.submit("x0", 0, {.tenant = "busy"});
  lane.submit("x1", 0, {.tenant = "busy"});
  for (int i = 0; i < 10'000; ++i) {
    lane.submit("t" + std::to_string(i), 0, {.tenant = "tenant-" + std::to_string(i)});
    REQUIRE(lane.last.position == i + 1);
  }
  lane.finish_all(sec(1));
  const auto &order = lane.dispatch_order();
  REQUIRE(order.size() == 10'002);
  bool in_order = true;
  for (int i = 0; i < 10'000; ++i) in_order = in_order && order[static_cast<std::size_t>(i + 2)] == "t" + std::to_string(i);
  CHECK(in_order);
  CHECK(dynamic_cast<const lane::core::FairQueue &>(lane.sched.queue()).tenant_count() == 0);
  lane.expect_one_outcome_each();
}

TEST_CASE("long jobs against short jobs share slot-time on 1, 2 and 8 slots") {
  for (std::uint32_t m : {1u, 2u, 8u}) {
    CAPTURE(m);
    SimSpec s;
    s.cfg = fair(m);
    s.weights = {1, 1};
    for (int i = 0; i < 200; ++i) s.jobs.push_back({.arrive = 0, .length = ms(200), .tenant = 0});
    for (int i = 0; i < 4000; ++i) s.jobs.push_back({.arrive = 0, .length = ms(5), .tenant = 1});
    SimResult r = run_sim(s);
    REQUIRE(r.outcomes == 4200);
    CHECK(r.worst_ratio <= 1.0);
    // While both wait (the first 20 s of 40 s of work per slot), each holds half.
    std::vector<double> st(2, 0);
    std::size_t n0 = 0;
    for (std::uint32_t t : r.start_order) {
      st[t] += t == 0 ? 200.0 : 5.0;
      if (t == 0 && ++n0 == 100) break;
    }
    INFO("long share ", st[0] / (st[0] + st[1]));
    CHECK(st[0] / (st[0] + st[1]) == doctest::Approx(0.5).epsilon(0.05));
  }
}

TEST_CASE("ticket positions past the exactly walked tenants stay close to the real order") {
  // 300 tenants with 1 to 3 queued jobs each: the walk covers 64 tenants,
  // the rest are counted one job each.
  CoreLane lane(fair(1));
  lane.submit("x", 0, {.tenant = "busy"});
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    const int n = static_cast<int>(rng() % 3) + 1;
    for (int k = 0; k < n; ++k) lane.submit("t" + std::to_string(i) + "-" + std::to_string(k), 0, {.tenant = "t" + std::to_string(i)});
  }
  lane.finish("x", ms(1));
  // A newcomer's real place is after one start of every tenant ahead of it.
  lane.submit("new", ms(1), {.tenant = "newcomer"});
  const std::int32_t predicted = lane.last.position;
  lane.simulate(sec(10'000), [](const Job &) { return ms(1); });
  const auto &order = lane.dispatch_order();
  const auto real = static_cast<std::int32_t>(std::find(order.begin(), order.end(), "new") - order.begin()) - 1;
  INFO("predicted ", predicted, ", real ", real);
  CHECK(predicted <= real);
  CHECK(predicted >= real * 9 / 10);
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE
