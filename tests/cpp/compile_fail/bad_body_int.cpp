// A job body that takes an int: refused with one line, not invoke_result noise.
#include <lane/lane.hpp>
int main() {
  auto l = lane::Lane::create("x");
#ifndef LANE_COMPILE_FAIL_CONTROL
  auto t = l->submit({.id = "j"}, [](int) {});
#else
  auto t = l->submit({.id = "j"}, [](lane::Context &) {});
#endif
  return t ? 0 : 1;
}
