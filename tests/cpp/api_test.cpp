// The shapes of the C++ API: strings of any kind, durations and time points,
// move-only on_done, BUSY's ticket, C++ statistics, noexcept queries.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "lane/lane.hpp"

using namespace std::chrono_literals;

static_assert(noexcept(std::declval<const lane::Lane &>().capi()));
static_assert(noexcept(std::declval<const lane::Lane &>().name()));
static_assert(noexcept(std::declval<const lane::LaneRef &>().name()));
static_assert(noexcept(std::declval<const lane::Session &>().key()));
static_assert(noexcept(std::declval<const lane::Outcome &>().ok()));
static_assert(noexcept(std::declval<const lane::Port &>().fd()));
static_assert(!std::is_copy_constructible_v<lane::Lane> && std::is_nothrow_move_constructible_v<lane::Lane>);
static_assert(!std::is_copy_constructible_v<lane::Session> && std::is_nothrow_move_constructible_v<lane::Session>);
static_assert(lane::JobBody<void (*)(lane::Context &)> && lane::JobBody<int (*)()> &&
              lane::JobBody<long (*)(std::stop_token)>);
static_assert(!lane::JobBody<bool (*)(lane::Context &)> && !lane::JobBody<void (*)(int)> &&
              !lane::JobBody<std::string (*)()>);

TEST_CASE("std::string and std::string_view are accepted wherever const char * is") {
  const std::string name = "strings";
  auto l = lane::Lane::create(name, {.policy = LANE_POLICY_FAIR_SHARE});
  REQUIRE(l.has_value());
  const std::string_view tenant = "alice-and-more";
  std::string id = "job-" + std::to_string(7);
  REQUIRE(l->set_tenant_weight(tenant, 2).has_value());
  auto out = l->submit_wait({.id = id, .tenant = tenant.substr(0, 5)}, [](lane::Context &ctx) {
    CHECK(ctx.job_id() == "job-7");
    return 0;
  });
  REQUIRE(out.has_value());
  CHECK(out->job_id == "job-7");
  CHECK(l->cancel(std::string_view(id)).error().status == LANE_ERR_NOT_QUEUED);
  CHECK(l->cancel(id).error().status == LANE_ERR_NOT_QUEUED);
}

TEST_CASE("a Job outlives the string it was built from") {
  auto l = lane::Lane::create("job-owns-id");
  REQUIRE(l.has_value());
  lane::Job job{.id = std::string(40, 'x')};  // the temporary dies here; the Job has its copy
  auto out = l->submit_wait(std::move(job), [] {});
  REQUIRE(out.has_value());
  CHECK(out->job_id == std::string(40, 'x'));
}

TEST_CASE("on_done may own move-only state: a captured unique_ptr") {
  auto l = lane::Lane::create("unique-done");
  REQUIRE(l.has_value());
  std::atomic<int> seen{0};
  auto state = std::make_unique<int>(41);
  auto t = l->submit({.id = "j", .on_done = [s = std::move(state), &seen](const lane::Outcome &o) {
                        seen = o.ok() ? *s + 1 : -1;
                      }},
                     [] {});
  REQUIRE(t.has_value());
  REQUIRE(l->wait_idle(5s).has_value());
  for (int i = 0; i < 1000 && seen == 0; ++i) std::this_thread::sleep_for(1ms);
  CHECK(seen == 42);

  // A refused job gives its on_done (and what it owns) back to destruction, not to a leak.
  auto watched = std::make_shared<int>(0);
  std::weak_ptr<int> w = watched;
  auto refused = l->submit({.id = "", .on_done = [p = std::move(watched)](const lane::Outcome &) {}}, [] {});
  CHECK(refused.error().status == LANE_ERR_INVALID);
  CHECK(w.expired());
}

TEST_CASE("job bodies may take a Context, a stop_token or nothing, and return void or an integer") {
  auto l = lane::Lane::create("bodies");
  REQUIRE(l.has_value());
  CHECK(l->submit_wait({.id = "a"}, [] {})->ok());
  CHECK(l->submit_wait({.id = "b"}, [] { return 3; })->job_code == 3);
  CHECK(l->submit_wait({.id = "c"}, [](std::stop_token st) { return st.stop_requested() ? 1 : 0; })->ok());
  CHECK(l->submit_wait({.id = "d"}, [](lane::Context &ctx) -> std::int64_t { return ctx.cancelled() ? 1 : 0; })->ok());
}

TEST_CASE("Context::wait takes any duration, and wait_until a deadline on any clock") {
  auto l = lane::Lane::create("waits");
  REQUIRE(l.has_value());
  auto out = l->submit_wait({.id = "w"}, [](lane::Context &ctx) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(ctx.wait(std::chrono::duration<double>(0.002)) == LANE_ERR_TIMEOUT);
    CHECK(std::chrono::steady_clock::now() - t0 >= 2ms);
    CHECK(ctx.wait(-5s) == LANE_ERR_TIMEOUT);  // negative: does not sleep (never "forever")
    const auto t1 = std::chrono::steady_clock::now();
    CHECK(ctx.wait_until(t1 + 3ms) == LANE_ERR_TIMEOUT);
    CHECK(std::chrono::steady_clock::now() - t1 >= 3ms);
    CHECK(ctx.wait_until(std::chrono::system_clock::now() - 1h) == LANE_ERR_TIMEOUT);
  });
  REQUIRE(out.has_value());
  CHECK(out->ok());
}

TEST_CASE("a BUSY refusal keeps the ticket C filled: the ETA that was too long") {
  auto l = lane::Lane::create("busy", {.max_concurrent = 1, .eta_default_runtime = 2s});
  REQUIRE(l.has_value());
  std::atomic<bool> release{false};
  REQUIRE(l->submit({.id = "blocker"}, [&](lane::Context &ctx) {
               while (!release) (void)ctx.wait(1ms);
             }).has_value());
  auto busy = l->submit({.id = "impatient", .max_wait = 10ms}, [] {});
  REQUIRE_FALSE(busy.has_value());
  CHECK(busy.error().status == LANE_ERR_BUSY);
  REQUIRE(busy.error().ticket.has_value());
  CHECK(busy.error().ticket->eta > 10ms);
  CHECK(busy.error().ticket->position == 1);
  CHECK(busy.error().ticket->blocked_by == LANE_BLOCKED_FULL);
  auto invalid = l->submit({.id = ""}, [] {});
  CHECK_FALSE(invalid.error().ticket.has_value());  // only BUSY carries one
  release = true;
}

TEST_CASE("stats, outcomes and events speak std::chrono; a lane's clock is a callable") {
  std::atomic<std::int64_t> fake{1'000'000'000'000};  // a fake clock, moved by the job
  auto l = lane::Lane::create("chrono", {.clock = [&] { return lane::TimePoint(lane::Nanos(fake.load())); }});
  REQUIRE(l.has_value());
  auto out = l->submit_wait({.id = "j"}, [&] { fake += 250'000'000; });
  REQUIRE(out.has_value());
  REQUIRE(out->enqueued_at.has_value());
  CHECK(*out->enqueued_at == lane::TimePoint(1000s));
  CHECK(out->ran() == 250ms);
  CHECK(out->waited() == 0ns);
  auto st = l->stats();
  REQUIRE(st.has_value());
  CHECK(st->name == "chrono");
  CHECK(st->completed == 1);
  CHECK(st->run_p50 == 250ms);
  CHECK(st->mean_runtime == 250ms);
  CHECK_FALSE(st->oldest_queued_at.has_value());
  CHECK_FALSE(st->paused);

  auto port = lane::Port::create();
  REQUIRE(port.has_value());
  REQUIRE(l->submit_host({.id = "h", .port = &*port}).has_value());
  auto evs = port->poll(1, 5s);
  REQUIRE(evs.has_value());
  REQUIRE(evs->size() == 1);
  const lane::Event &grant = evs->front();
  CHECK(grant.kind == LANE_EVENT_GRANT);
  CHECK(grant.at == lane::TimePoint(lane::Nanos(fake.load())));
  CHECK(grant.lane.name() == "chrono");
  CHECK(grant.context().has_value());
  REQUIRE(grant.lane.finish(grant.job_token).has_value());
  auto zero = port->poll(0, 0ns);  // poll(0) is a mistake, not "one event"
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.error().status == LANE_ERR_INVALID);
}
