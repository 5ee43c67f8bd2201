// A dropped status is a warning (an error with -Werror=unused-result).
#include <lane/lane.hpp>
int main() {
  auto l = lane::Lane::create("x");
#ifndef LANE_COMPILE_FAIL_CONTROL
  l->cancel("nope");
#else
  (void)l->cancel("nope");
#endif
  return 0;
}
