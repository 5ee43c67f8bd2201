// Time as the library tells it: Unix-epoch nanoseconds that never jump,
// because they are the monotonic clock shifted to the epoch once.
#pragma once

#include <cstdint>

namespace lane::exec {

std::int64_t real_now_ns();

}  // namespace lane::exec
