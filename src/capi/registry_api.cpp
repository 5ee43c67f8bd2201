// extern "C" entry points for the registry: validate, translate "zero means
// default", call into src/registry, map to a status.
#include <cstring>

#include "cluster/cluster.hpp"
#include "errors.hpp"
#include "exec/callback_scope.hpp"
#include "registry/registry.hpp"

using lane::capi::fail;
using lane::capi::guarded;
using lane::capi::raw_enum;

namespace {

bool ok(const lane_registry_t *reg) { return reg != nullptr && reg->valid(); }

lane_status_t bad_registry(const lane_registry_t *reg) {
  return fail(LANE_ERR_INVALID, reg ? "not a live registry handle" : "registry is NULL");
}

}  // namespace

extern "C" {

LANE_API lane_status_t lane_registry_create(const lane_registry_options_t *opts, lane_registry_t **out) {
  return guarded([&] {
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    *out = nullptr;
    lane_registry_options_t o{};
    if (opts && !lane::capi::read_struct(opts, o)) {
      return lane::capi::bad_struct_size("options", opts);
    }
    switch (raw_enum(o.default_policy)) {
      case LANE_POLICY_DEFAULT:
      case LANE_POLICY_FIFO:
      case LANE_POLICY_FAIR_SHARE: break;
      default: return fail(LANE_ERR_INVALID, "unknown default_policy " + std::to_string(raw_enum(o.default_policy)));
    }
    if (o.idle_retire_ns < 0) return fail(LANE_ERR_INVALID, "idle_retire_ns is negative");
    if (o.cluster && !o.cluster->valid()) return fail(LANE_ERR_INVALID, "options.cluster is not a live cluster handle");
    *out = new lane_registry_s(o, o.cluster);
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_registry_destroy(lane_registry_t *reg) {
  if (!reg) return LANE_OK;
  if (!reg->valid()) return fail(LANE_ERR_INVALID, "lane_registry_destroy: not a live registry handle");
  if (lane::exec::CallbackScope::inside_group(reg)) {
    return fail(LANE_ERR_DEADLOCK, "lane_registry_destroy from inside the registry's own callbacks (config, log, a "
                                   "sampler's sink, or a run or on_done of one of its lanes) would wait for itself; "
                                   "refused");
  }
  return guarded([&] {
    if (reg->magic.exchange(0, std::memory_order_acq_rel) != lane_registry_s::kMagic) {
      return fail(LANE_ERR_INVALID, "lane_registry_destroy: the registry is already being destroyed");
    }
    reg->shutdown();
    delete reg;
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_registry_get_or_create(lane_registry_t *reg, const char *name, lane_t **out) {
  return guarded([&] {
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    *out = nullptr;
    if (!ok(reg)) return bad_registry(reg);
    std::string why;
    lane_status_t s = reg->get_or_create(name, out, &why);
    return s == LANE_OK ? s : fail(s, why);
  });
}

LANE_API lane_t *lane_registry_get(lane_registry_t *reg, const char *name) {
  lane_t *l = nullptr;
  guarded([&] {
    if (!ok(reg)) return bad_registry(reg);
    if (!name || !*name) return fail(LANE_ERR_INVALID, "lane name is NULL or empty");
    l = reg->get(name);
    if (!l) return fail(LANE_ERR_INVALID, "no lane " + lane::capi::quoted(name) + " in the registry");
    return LANE_OK;
  });
  return l;
}

LANE_API size_t lane_registry_names(lane_registry_t *reg, const char **names, size_t cap) {
  size_t total = 0;
  guarded([&] {
    if (!ok(reg)) return bad_registry(reg);
    if (!names && cap > 0) return fail(LANE_ERR_INVALID, "names is NULL with cap > 0");
    auto snap = reg->snapshot();
    total = snap.size();
    for (size_t i = 0; i < cap && i < total; ++i) names[i] = snap[i].second->lane->name.c_str();
    return LANE_OK;
  });
  return total;
}

LANE_API lane_status_t lane_registry_reload(lane_registry_t *reg) {
  return guarded([&] {
    if (!ok(reg)) return bad_registry(reg);
    reg->reload();
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_registry_remove(lane_registry_t *reg, const char *name) {
  return guarded([&] {
    if (!ok(reg)) return bad_registry(reg);
    std::string why;
    lane_status_t s = reg->remove(name, &why);
    return s == LANE_OK ? s : fail(s, why);
  });
}

LANE_API lane_status_t lane_registry_metrics(lane_registry_t *reg, char *buf, size_t cap, size_t *len) {
  return guarded([&] {
    if (!len) return fail(LANE_ERR_INVALID, "len is NULL");
    *len = 0;
    if (!ok(reg)) return bad_registry(reg);
    if (!buf && cap > 0) return fail(LANE_ERR_INVALID, "buf is NULL with cap > 0");
    const std::string text = reg->metrics();
    if (text.size() + 1 > cap) {
      *len = text.size() + 1;
      return fail(LANE_ERR_INVALID, "metrics buffer too small: " + std::to_string(cap) + " bytes given, " +
                                        std::to_string(text.size() + 1) + " needed");
    }
    std::memcpy(buf, text.c_str(), text.size() + 1);
    *len = text.size();
    return LANE_OK;
  });
}

}  // extern "C"
