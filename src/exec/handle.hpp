// The common header of every handle the C API hands out (lane, job context,
// port, session, registry, sampler): a tag at offset 0. A handle is checked
// by reading that tag and nothing else, so a handle of the wrong kind (a port
// passed as a lane_ctx_t *) reads four bytes that every handle has, and is
// refused, instead of a field past the end of a smaller object. The tag is
// cleared when the handle dies.
#pragma once

#include <atomic>
#include <cstdint>

namespace lane::exec {

template <std::uint32_t Tag>
struct Tagged {
  static constexpr std::uint32_t kMagic = Tag;
  std::atomic<std::uint32_t> magic{Tag};

  [[nodiscard]] bool valid() const { return magic.load(std::memory_order_relaxed) == Tag; }
  void invalidate() { magic.store(0, std::memory_order_relaxed); }
};

// Tags spell the kind in ASCII.
inline constexpr std::uint32_t kLaneTag = 0x4c414e45;      // "LANE"
inline constexpr std::uint32_t kCtxTag = 0x4c435458;       // "LCTX"
inline constexpr std::uint32_t kPortTag = 0x504f5254;      // "PORT"
inline constexpr std::uint32_t kSessionTag = 0x53455353;   // "SESS"
inline constexpr std::uint32_t kRegistryTag = 0x4c524547;  // "LREG"
inline constexpr std::uint32_t kSamplerTag = 0x4c534d50;   // "LSMP"
inline constexpr std::uint32_t kClusterTag = 0x4c434c55;   // "LCLU"

}  // namespace lane::exec
