// The bytes the program holds on the heap right now, so a test
// can check that a lane does not keep more memory after a long load.
#pragma once

#include <cstddef>

namespace lane_test {

// Bytes currently allocated on the heap (malloc and operator new).
std::size_t live_heap_bytes();

}  // namespace lane_test
