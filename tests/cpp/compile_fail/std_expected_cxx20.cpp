// std::expected asked for in C++20: one #error line that says what to do.
#ifndef LANE_COMPILE_FAIL_CONTROL
#include <lane/lane.hpp>
#endif
int main() { return 0; }
