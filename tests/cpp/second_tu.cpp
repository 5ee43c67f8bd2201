// lane.hpp is header-only: a second translation unit of the same program
// includes it too, and the program must still link (no ODR clashes).
#include <doctest/doctest.h>

#include "lane/lane.hpp"

namespace {
int run_in_second_tu() {
  auto lane = lane::Lane::create("second-tu");
  REQUIRE(lane.has_value());
  auto out = lane->submit_wait({.id = "j"}, [](lane::Context &) { return 7; });
  REQUIRE(out.has_value());
  return out->job_code;
}
}  // namespace

TEST_CASE("the wrapper works from a second translation unit of the same program") {
  CHECK(run_in_second_tu() == 7);
}
