// A session's run has a job body's signature too.
#include <lane/lane.hpp>
int main() {
  auto l = lane::Lane::create("x");
#ifndef LANE_COMPILE_FAIL_CONTROL
  auto s = lane::Session::create(*l, "k", {}, [](const std::string &) {});
#else
  auto s = lane::Session::create(*l, "k", {}, [](std::stop_token) {});
#endif
  return s ? 0 : 1;
}
