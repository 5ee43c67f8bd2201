// extern "C" entry points for lanes shared on Redis.
#include "cluster/cluster.hpp"
#include "errors.hpp"
#include "struct_versions.hpp"

using lane::capi::fail;
using lane::capi::guarded;

extern "C" {

LANE_API lane_status_t lane_cluster_create(const lane_cluster_options_t *opts, lane_cluster_t **out) {
  return guarded([&] {
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    *out = nullptr;
    lane_cluster_options_t o{};
    if (opts && !lane::capi::read_struct(opts, o)) return lane::capi::bad_struct_size("cluster options", opts);
    lane::cluster::Options c;
    if (o.url && *o.url) c.url = o.url;
    if (o.key_prefix && *o.key_prefix) c.prefix = o.key_prefix;
    if (c.prefix.find_first_of("{}") != std::string::npos) {
      return fail(LANE_ERR_INVALID, "key_prefix may not contain '{' or '}' (the library adds the hash tag)");
    }
    if (o.lease_ns != 0) {
      if (o.lease_ns < 100'000'000) return fail(LANE_ERR_INVALID, "lease_ns must be 0 (10 s) or at least 100 ms");
      c.lease_ns = o.lease_ns;
    }
    if (o.timeout_ns < 0) return fail(LANE_ERR_INVALID, "timeout_ns is negative");
    if (o.timeout_ns > 0) c.timeout_ns = o.timeout_ns;
    c.fallback_slots = o.fallback_slots;
    lane_cluster_s *made = nullptr;
    std::string why;
    const lane_status_t s = lane_cluster_s::create(c, &made, &why);
    if (s != LANE_OK) return fail(s, "lane_cluster_create: " + why);
    *out = made;
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_cluster_destroy(lane_cluster_t *cluster) {
  if (!cluster) return LANE_OK;
  return guarded([&] {
    if (!cluster->valid()) return fail(LANE_ERR_INVALID, "lane_cluster_destroy: not a live cluster handle");
    if (const std::size_t n = cluster->members(); n != 0) {
      return fail(LANE_ERR_INVALID, "lane_cluster_destroy: " + std::to_string(n) +
                                        " lane(s) still use this cluster; destroy them first");
    }
    delete cluster;
    return LANE_OK;
  });
}

}  // extern "C"
