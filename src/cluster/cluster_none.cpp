// A build without hiredis: no shared lanes; lane_cluster_create says so.
#include "cluster.hpp"

namespace lane::cluster {
bool available() { return false; }
}  // namespace lane::cluster

struct lane_cluster_s::Impl {};

lane_cluster_s::lane_cluster_s(const lane::cluster::Options &opts) : options(opts) {}
lane_cluster_s::~lane_cluster_s() = default;

lane_status_t lane_cluster_s::create(const lane::cluster::Options &, lane_cluster_s **out, std::string *why) {
  *out = nullptr;
  *why = "this liblane was built without hiredis (meson -Dredis=enabled needs Debian's libhiredis-dev)";
  return LANE_ERR_UNSUPPORTED;
}

void lane_cluster_s::join(lane_s *) {}
void lane_cluster_s::leave(lane_s *) noexcept {}
std::size_t lane_cluster_s::members() { return 0; }
