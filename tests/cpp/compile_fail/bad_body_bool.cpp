// A body returning bool would read "true" as failure: refused.
#include <lane/lane.hpp>
int main() {
  auto l = lane::Lane::create("x");
#ifndef LANE_COMPILE_FAIL_CONTROL
  auto t = l->submit_wait({.id = "j"}, [](lane::Context &) { return true; });
#else
  auto t = l->submit_wait({.id = "j"}, [](lane::Context &) { return 0; });
#endif
  return t ? 0 : 1;
}
