// lane.hpp in a C++20 host with tl-expected: the wrapper must not need C++23.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>

#include "lane/lane.hpp"

static_assert(__cplusplus == 202002L, "this test is compiled as C++20");
static_assert(std::is_same_v<lane::Status, tl::expected<void, lane::Error>>);

TEST_CASE("C++20 with tl-expected: a job, a move-only on_done, a session and and_then") {
  auto l = lane::Lane::create("cxx20", {.max_concurrent = 2});
  REQUIRE(l.has_value());
  int seen = 0;
  auto p = std::make_unique<int>(5);
  auto out = l->submit_wait({.id = "j", .on_done = [p = std::move(p), &seen](const lane::Outcome &) { seen = *p; }},
                            [](std::stop_token) -> int { throw std::runtime_error("c++20 throw"); });
  REQUIRE(out.has_value());
  CHECK(out->error == "c++20 throw");
  CHECK(seen == 5);
  // tl::expected has and_then even where GCC 12's std::expected does not.
  auto running = l->stats().map([](const lane::Stats &s) { return s.running; });
  CHECK(running.value() == 0);
  auto chained = l->pause().and_then([&] { return l->resume(); });
  CHECK(chained.has_value());
  auto s = lane::Session::create(*l, "k", {.debounce = std::chrono::nanoseconds(-1)}, [] {});
  REQUIRE(s.has_value());
  REQUIRE(s->enqueue({.id = "m"}).has_value());
}
