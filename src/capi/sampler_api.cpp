// extern "C" entry points for the sampler and the SQLite history.
#include "errors.hpp"
#include "sampler/sampler.hpp"
#include "sampler/sqlite_sink.hpp"

using lane::capi::fail;
using lane::capi::guarded;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;

bool ok(const lane_sampler_t *s) { return s != nullptr && s->valid(); }

lane_status_t bad_sampler(const lane_sampler_t *s) {
  return fail(LANE_ERR_INVALID, s ? "not a live sampler handle" : "sampler is NULL");
}

template <class F>
lane_status_t run(lane_sampler_t *s, F &&f) {
  return guarded([&] {
    if (!ok(s)) return bad_sampler(s);
    std::string why;
    lane_status_t st = f(*s->impl, &why);
    return st == LANE_OK ? st : fail(st, why);
  });
}

}  // namespace

extern "C" {

LANE_API lane_status_t lane_sampler_create(lane_registry_t *reg, const lane_sampler_options_t *opts,
                                           lane_sampler_t **out) {
  return guarded([&] {
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    *out = nullptr;
    if (!reg || !reg->valid()) return fail(LANE_ERR_INVALID, reg ? "not a live registry handle" : "registry is NULL");
    if (!opts) return fail(LANE_ERR_INVALID, "options is NULL: a sampler needs a sink or a sqlite_path");
    lane_sampler_options_t o{};
    if (!lane::capi::read_struct(opts, o)) {
      return lane::capi::bad_struct_size("options", opts);
    }
    if (o.interval_ns < 0 || o.retention_ns < 0 || o.purge_interval_ns < 0) {
      return fail(LANE_ERR_INVALID, "interval_ns, retention_ns and purge_interval_ns must not be negative");
    }
    lane::sampler::Options so{};
    so.interval_ns = o.interval_ns ? o.interval_ns : 30 * kSec;
    so.retention_ns = o.retention_ns ? o.retention_ns : 7 * 24 * 3600 * kSec;
    so.purge_interval_ns = o.purge_interval_ns ? o.purge_interval_ns : 24 * 3600 * kSec;
    so.clock = o.clock;
    so.clock_ud = o.clock_ud;
    std::unique_ptr<lane::sampler::Sink> sink;
    if (o.sink) {
      sink = std::make_unique<lane::sampler::CallbackSink>(o.sink, o.purger, o.sink_ud);
    } else if (o.sqlite_path && *o.sqlite_path) {
      std::string why;
      lane_status_t st = LANE_OK;
      sink = lane::sampler::open_sqlite_sink(o.sqlite_path, &st, &why);
      if (!sink) return fail(st, why);
    } else {
      return fail(LANE_ERR_INVALID, "a sampler needs a sink callback or a sqlite_path");
    }
    auto impl = std::make_shared<lane::sampler::Sampler>(reg, so, std::move(sink));
    auto handle = std::make_unique<lane_sampler_s>();
    handle->impl = impl;
    reg->attach(std::move(impl));
    *out = handle.release();
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_sampler_destroy(lane_sampler_t *s) {
  if (!s) return LANE_OK;
  if (!s->valid()) return fail(LANE_ERR_INVALID, "lane_sampler_destroy: not a live sampler handle");
  if (s->impl->in_own_callback()) {
    return fail(LANE_ERR_DEADLOCK, "lane_sampler_destroy from inside the sampler's own sink would free the pass that "
                                   "is running; call lane_sampler_stop there and destroy it from another thread");
  }
  return guarded([&] {
    if (s->magic.exchange(0, std::memory_order_acq_rel) != lane_sampler_s::kMagic) {
      return fail(LANE_ERR_INVALID, "lane_sampler_destroy: the sampler is already being destroyed");
    }
    s->impl->close();
    delete s;
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_sampler_start(lane_sampler_t *s) {
  return run(s, [](lane::sampler::Sampler &x, std::string *why) { return x.start(why); });
}

LANE_API lane_status_t lane_sampler_stop(lane_sampler_t *s) {
  return run(s, [](lane::sampler::Sampler &x, std::string *why) { return x.stop(why); });
}

LANE_API lane_status_t lane_sampler_sample_once(lane_sampler_t *s) {
  return run(s, [](lane::sampler::Sampler &x, std::string *why) { return x.sample_once(why); });
}

LANE_API lane_status_t lane_sampler_purge_once(lane_sampler_t *s) {
  return run(s, [](lane::sampler::Sampler &x, std::string *why) { return x.purge_once(why); });
}

LANE_API lane_status_t lane_sqlite_query(const char *path, const char *lane, int64_t from_ns, int64_t to_ns,
                                         lane_sample_t *out, size_t cap, size_t *total) {
  return guarded([&] {
    if (!total) return fail(LANE_ERR_INVALID, "total is NULL");
    *total = 0;
    if (!path || !*path) return fail(LANE_ERR_INVALID, "path is NULL or empty");
    if (!lane || !*lane) return fail(LANE_ERR_INVALID, "lane name is NULL or empty");
    if (cap > 0 && !out) return fail(LANE_ERR_INVALID, "out is NULL with cap > 0");
    if (cap > 0 && !lane::capi::writable(out)) return lane::capi::bad_struct_size("out[0]", out);
    if (from_ns > to_ns) return fail(LANE_ERR_INVALID, "from_ns is after to_ns");
    std::string why;
    lane_status_t s = lane::sampler::sqlite_query(path, lane, from_ns, to_ns, out, cap, total, &why);
    return s == LANE_OK ? s : fail(s, why);
  });
}

}  // extern "C"
