// A refused enqueue must not be dropped silently.
#include <lane/lane.hpp>
int main() {
  auto l = lane::Lane::create("x");
  auto s = lane::Session::create(*l, "k", {}, [](lane::Context &) {});
#ifndef LANE_COMPILE_FAIL_CONTROL
  s->enqueue({.id = "m"});
#else
  (void)s->enqueue({.id = "m"});
#endif
  return 0;
}
