// Live heap bytes from whichever allocator the build uses: the sanitizer's
// allocator under ASan/TSan (which intercept malloc), glibc's otherwise, and
// on Windows the C runtime's heap, walked block by block.
// Replacing operator new instead would fight the sanitizers' own.
#include "alloc_counter.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// From <sanitizer/allocator_interface.h>, which GCC 12 does not install.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#elif defined(_WIN32)
#include <malloc.h>
#include <windows.h>
#else
#include <malloc.h>
#endif

namespace lane_test {

std::size_t live_heap_bytes() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return __sanitizer_get_current_allocated_bytes();
#elif defined(_WIN32)
  // malloc (and so operator new) allocates from the CRT's own heap.
  HANDLE heap = reinterpret_cast<HANDLE>(_get_heap_handle());
  std::size_t total = 0;
  PROCESS_HEAP_ENTRY e{};
  HeapLock(heap);
  while (HeapWalk(heap, &e)) {
    if ((e.wFlags & PROCESS_HEAP_ENTRY_BUSY) != 0) total += e.cbData;
  }
  HeapUnlock(heap);
  return total;
#else
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;  // hblkhd: large blocks glibc maps on their own
#endif
}

}  // namespace lane_test
