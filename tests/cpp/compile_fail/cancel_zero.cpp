// cancel(0) is a mistake (ids are strings; tokens go to cancel_token).
#include <lane/lane.hpp>
int main() {
  auto l = lane::Lane::create("x");
#ifndef LANE_COMPILE_FAIL_CONTROL
  auto r = l->cancel(0);
#else
  auto r = l->cancel_token(0);
#endif
  return r ? 0 : 1;
}
