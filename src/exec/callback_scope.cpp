#include "callback_scope.hpp"

#include <cstddef>

namespace lane::exec {

namespace {
struct Frame {
  const void *object;
  const void *group;
};
// Deeper nesting than this is not recorded (its destroys are not refused).
constexpr std::size_t kMaxDepth = 32;
thread_local Frame tls_frames[kMaxDepth];
thread_local std::size_t tls_depth = 0;
}  // namespace

CallbackScope::CallbackScope(const void *object, const void *group) noexcept : pushed_(tls_depth < kMaxDepth) {
  if (pushed_) tls_frames[tls_depth++] = Frame{object, group ? group : object};
}

CallbackScope::~CallbackScope() {
  if (pushed_) --tls_depth;
}

bool CallbackScope::inside(const void *object) noexcept {
  for (std::size_t i = 0; i < tls_depth; ++i) {
    if (tls_frames[i].object == object) return true;
  }
  return false;
}

bool CallbackScope::inside_group(const void *group) noexcept {
  for (std::size_t i = 0; i < tls_depth; ++i) {
    if (tls_frames[i].group == group) return true;
  }
  return false;
}

}  // namespace lane::exec
