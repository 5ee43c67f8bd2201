// Provider budgets through the C++ wrapper: the Job and Options fields reach
// C, the Context and lane methods map one to one, and the Stats carry the
// budget counters.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "lane/lane.hpp"

using namespace std::chrono_literals;

namespace {

template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE("an LLM provider lane in C++: rate limits, tenant caps, adaptive width, real costs") {
  auto l = lane::Lane::create("provider", {.max_concurrent = 3,
                                           .policy = LANE_POLICY_FAIR_SHARE,
                                           .adaptive_min = 1,
                                           .adaptive_max = 8});
  REQUIRE(l.has_value());
  REQUIRE(l->set_rate_limit(LANE_RATE_REQUESTS, 500, 1min, 50).has_value());
  REQUIRE(l->set_rate_limit(LANE_RATE_COST, 90'000, 1min, 20'000).has_value());
  REQUIRE(l->set_tenant_limit("alice", 2).has_value());
  CHECK(l->stats()->width == 3);

  std::atomic<int> alice_running{0}, alice_max{0};
  std::atomic<int> outcomes{0};
  for (int i = 0; i < 8; ++i) {
    auto t = l->submit({.id = "alice-" + std::to_string(i),
                        .tenant = "alice",
                        .on_done = [&](const lane::Outcome &) { ++outcomes; },
                        .cost = 1000},
                       [&, i](lane::Context &ctx) {
                         const int now = ++alice_running;
                         for (int m = alice_max; now > m && !alice_max.compare_exchange_weak(m, now);) {
                         }
                         (void)ctx.wait(5ms);
                         CHECK(ctx.set_cost(100 + i) == LANE_OK);
                         --alice_running;
                         return 0;
                       });
    REQUIRE(t.has_value());
  }
  REQUIRE(l->wait_idle(10s).has_value());
  CHECK(outcomes == 8);
  CHECK(alice_max <= 2);
  CHECK(alice_max >= 1);
  auto s = l->stats();
  REQUIRE(s.has_value());
  CHECK(s->cost_used == 8 * 100 + (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7));
  CHECK(s->completed == 8);

  // An overloaded answer halves the width.
  auto o = l->submit_wait({.id = "slow-down"}, [](lane::Context &ctx) {
    ctx.overloaded();
    return 0;
  });
  REQUIRE(o.has_value());
  CHECK(o->ok());
  s = l->stats();
  CHECK(s->overloads == 1);
  CHECK(s->width < 8);
  CHECK(s->width >= 1);

  // A cost the burst can never cover is refused with a message.
  auto big = l->submit({.id = "big", .cost = 20'001}, [] { return 0; });
  REQUIRE_FALSE(big.has_value());
  CHECK(big.error().status == LANE_ERR_INVALID);
  CHECK(big.error().message.find("burst") != std::string::npos);
  CHECK(l->set_rate_limit(0, 1, 1s).error().status == LANE_ERR_INVALID);
}

TEST_CASE("C++: slots, run timeouts, and release / reacquire in a callback and a host-run job") {
  auto l = lane::Lane::create("budgets-cpp", {.max_concurrent = 2});
  REQUIRE(l.has_value());

  // Two slots: the lane is full while it runs.
  std::atomic<bool> go{false};
  auto wide = l->submit({.id = "wide", .slots = 2}, [&](lane::Context &ctx) {
    while (!go && !ctx.cancelled()) (void)ctx.wait(1ms);
  });
  REQUIRE(wide.has_value());
  REQUIRE(eventually([&] { return l->stats()->slots_in_use == 2; }));
  auto behind = l->submit({.id = "behind"}, [] {});
  REQUIRE(behind.has_value());
  CHECK(behind->position == 1);
  go = true;
  REQUIRE(l->wait_idle(10s).has_value());

  // A run timeout.
  auto t = l->submit_wait({.id = "hangs", .run_timeout = 20ms}, [](lane::Context &ctx) {
    while (!ctx.cancelled()) (void)ctx.wait(1ms);
  });
  REQUIRE(t.has_value());
  CHECK(t->status == LANE_ERR_TIMEOUT);

  // Release and reacquire inside a callback.
  std::atomic<int> got{-1};
  auto r = l->submit_wait({.id = "agent"}, [&](lane::Context &ctx) {
    CHECK(ctx.release() == LANE_OK);
    CHECK(ctx.release() == LANE_ERR_INVALID);
    got = ctx.reacquire(1s);
  });
  REQUIRE(r.has_value());
  CHECK(r->ok());
  CHECK(got == LANE_OK);

  // A host-run job: release, reacquire (a second GRANT), finish with a cost.
  auto port = lane::Port::create();
  REQUIRE(port.has_value());
  auto h = l->submit_host({.id = "host", .port = &*port});
  REQUIRE(h.has_value());
  int grants = 0;
  bool done = false;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!done && std::chrono::steady_clock::now() < until) {
    auto evs = port->poll(8, 20ms);
    REQUIRE(evs.has_value());
    for (auto &ev : *evs) {
      if (ev.job_token != h->job_token) continue;
      if (ev.kind == LANE_EVENT_GRANT && ++grants == 1) {
        REQUIRE(l->release(h->job_token).has_value());
        CHECK(l->stats()->released == 1);
        REQUIRE(l->reacquire(h->job_token).has_value());
      } else if (ev.kind == LANE_EVENT_GRANT) {
        REQUIRE(l->finish_cost(h->job_token, 0, 77).has_value());
      } else if (ev.kind == LANE_EVENT_DONE) {
        CHECK(ev.status == LANE_OK);
        done = true;
      }
    }
  }
  CHECK(done);
  CHECK(grants == 2);
  CHECK(l->release(h->job_token).error().status == LANE_ERR_INVALID);  // it has ended
  REQUIRE(l->wait_idle(10s).has_value());

  REQUIRE(l->set_tenant_limit("t", 1).has_value());
  auto n = l->tenant_running("t");
  REQUIRE(n.has_value());
  CHECK(*n == 0);
}
