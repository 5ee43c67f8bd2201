// extern "C" entry points for session queues and the session parts of a job
// context: validate, translate "zero means default", call into src/session.
#include <cmath>
#include <memory>
#include <string>

#include "errors.hpp"
#include "exec/lane.hpp"
#include "exec/port.hpp"
#include "session/session.hpp"

using lane::capi::fail;
using lane::capi::guarded;
using lane::capi::raw_enum;

namespace {

constexpr std::size_t kMaxKey = 256;
constexpr std::int64_t kDefaultDebounceNs = 800'000'000;

bool ok(const lane_session_t *s) { return s != nullptr && s->valid(); }

lane_status_t bad_session(const lane_session_t *s) {
  return fail(LANE_ERR_INVALID, s ? "not a live session handle" : "session is NULL");
}

bool ok_ctx(const lane_ctx_t *ctx) { return ctx != nullptr && ctx->valid(); }

}  // namespace

extern "C" {

LANE_API lane_status_t lane_session_create(lane_t *lane, const char *key, const lane_session_options_t *opts,
                                           lane_session_t **out) {
  return guarded([&] {
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    *out = nullptr;
    if (!lane || !lane->valid()) return fail(LANE_ERR_INVALID, lane ? "not a live lane handle" : "lane is NULL");
    if (!key || !*key) return fail(LANE_ERR_INVALID, "session key is NULL or empty");
    const std::string k(key);
    if (k.size() > kMaxKey) {
      return fail(LANE_ERR_INVALID, "session key is " + std::to_string(k.size()) + " bytes; at most " +
                                        std::to_string(kMaxKey));
    }
    lane_session_options_t o{};
    if (opts && !lane::capi::read_struct(opts, o)) {
      return lane::capi::bad_struct_size("options", opts);
    }
    lane::session::Options so;
    const int mode = raw_enum(o.mode);
    if (mode < LANE_SESSION_QUEUE || mode > LANE_SESSION_STEER) {
      return fail(LANE_ERR_INVALID, "unknown session mode " + std::to_string(mode));
    }
    so.mode = static_cast<lane_session_mode_t>(mode);
    const int drop = raw_enum(o.drop);
    if (drop < LANE_DROP_OLD || drop > LANE_DROP_SUMMARIZE) {
      return fail(LANE_ERR_INVALID, "unknown drop policy " + std::to_string(drop));
    }
    so.drop = static_cast<lane_drop_t>(drop);
    so.cap = o.cap ? o.cap : 10;
    so.debounce_ns = o.debounce_ns == 0 ? kDefaultDebounceNs : (o.debounce_ns < 0 ? 0 : o.debounce_ns);
    so.max_concurrent = o.max_concurrent ? o.max_concurrent : 1;
    so.token_estimate = o.token_estimate;
    so.token_ud = o.token_ud;
    if (o.throttle_ratio == 0.0) {
      so.throttle_ratio = 0.6;
    } else if (!std::isfinite(o.throttle_ratio) || o.throttle_ratio < 0.0 || o.throttle_ratio > 1.0) {
      return fail(LANE_ERR_INVALID, "throttle_ratio must be in (0, 1] (0 = default 0.6)");
    } else {
      so.throttle_ratio = o.throttle_ratio;
    }
    if (lane->closed()) return fail(LANE_ERR_CLOSED, "lane " + lane::capi::quoted(lane->name) + " is closed");
    *out = new lane_session_s(lane, k, so);
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_session_destroy(lane_session_t *s) {
  if (!s) return LANE_OK;
  if (!s->valid()) return fail(LANE_ERR_INVALID, "lane_session_destroy: not a live session handle");
  if (lane::session::inside(s)) {
    return fail(LANE_ERR_DEADLOCK, "lane_session_destroy from inside one of the session's own runs or callbacks "
                                   "would wait for itself; refused");
  }
  return guarded([&] {
    s->shutdown();
    delete s;
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_session_enqueue(lane_session_t *s, const lane_job_t *job) {
  return guarded([&] {
    if (!ok(s)) return bad_session(s);
    lane::exec::JobSpec j;
    if (lane_status_t st = lane::capi::check_job(job, j); st != LANE_OK) return st;
    if (j.tenant.empty()) j.tenant = s->key;  // a session's runs are its key's by default
    auto m = std::make_unique<lane::session::Msg>(j);
    const lane_status_t st = s->enqueue(m);
    switch (st) {
      case LANE_OK: return LANE_OK;
      case LANE_ERR_CLOSED: return fail(st, "session " + lane::capi::quoted(s->key) + ": its lane is closed or it is being destroyed");
      case LANE_ERR_DUPLICATE:
        return fail(st, "message id " + lane::capi::quoted(j.id) + " is already live in session " + lane::capi::quoted(s->key));
      case LANE_ERR_QUEUE_FULL:
        return fail(st, "session " + lane::capi::quoted(s->key) + " has cap messages queued (drop policy NEW)");
      default: return fail(st, "message refused");
    }
  });
}

LANE_API int lane_session_cancel_one(lane_session_t *s) {
  if (!ok(s)) return bad_session(s), 0;
  return guarded([&] { return s->cancel_one(); });
}

LANE_API int lane_session_cancel_all(lane_session_t *s) {
  if (!ok(s)) return bad_session(s), 0;
  return guarded([&] { return s->cancel_all(); });
}

LANE_API lane_status_t lane_session_reset(lane_session_t *s) {
  return guarded([&] {
    if (!ok(s)) return bad_session(s);
    s->reset();
    return LANE_OK;
  });
}

LANE_API uint32_t lane_session_active(lane_session_t *s) {
  if (!ok(s)) return bad_session(s), 0u;
  return s->active();
}

LANE_API uint32_t lane_session_queued(lane_session_t *s) {
  if (!ok(s)) return bad_session(s), 0u;
  return s->queued();
}

LANE_API lane_status_t lane_session_set_max_concurrent(lane_session_t *s, uint32_t n) {
  return guarded([&] {
    if (!ok(s)) return bad_session(s);
    if (n == 0) return fail(LANE_ERR_INVALID, "max_concurrent must be at least 1");
    s->set_max_concurrent(n);
    return LANE_OK;
  });
}

LANE_API const char *lane_session_key(const lane_session_t *s) {
  if (!ok(s)) return bad_session(s), nullptr;
  return s->key.c_str();
}

LANE_API uint32_t lane_ctx_batch_count(const lane_ctx_t *ctx) {
  if (!ok_ctx(ctx)) return fail(LANE_ERR_INVALID, "not a live job context"), 0u;
  const lane::session::Run *r = lane::session::run_of(ctx);
  return r ? static_cast<uint32_t>(r->batch.size()) : 1u;
}

LANE_API lane_status_t lane_ctx_batch_item(const lane_ctx_t *ctx, uint32_t i, const char **id, void **user_data) {
  if (!ok_ctx(ctx)) return fail(LANE_ERR_INVALID, "not a live job context");
  if (const lane::session::Run *r = lane::session::run_of(ctx)) {
    if (i >= r->batch.size()) {
      return fail(LANE_ERR_INVALID, "batch item " + std::to_string(i) + " of " + std::to_string(r->batch.size()));
    }
    if (id) *id = r->batch[i]->id().c_str();
    if (user_data) *user_data = r->batch[i]->spec().user_data;
    return LANE_OK;
  }
  if (i != 0) return fail(LANE_ERR_INVALID, "batch item " + std::to_string(i) + " of 1 (not a session run)");
  if (id) *id = ctx->id.c_str();
  if (user_data) *user_data = ctx->user_data;
  return LANE_OK;
}

LANE_API int lane_ctx_next_message(lane_ctx_t *ctx, const char **id, void **user_data) {
  if (!ok_ctx(ctx)) return fail(LANE_ERR_INVALID, "not a live job context"), 0;
  lane::session::Run *r = lane::session::run_of(ctx);
  if (!r) return 0;
  return guarded([&] { return r->session->next_message(r, id, user_data) ? 1 : 0; });
}

LANE_API uint32_t lane_ctx_dropped_count(const lane_ctx_t *ctx) {
  if (!ok_ctx(ctx)) return fail(LANE_ERR_INVALID, "not a live job context"), 0u;
  const lane::session::Run *r = lane::session::run_of(ctx);
  return r ? static_cast<uint32_t>(r->dropped.size()) : 0u;
}

LANE_API const char *lane_ctx_dropped_id(const lane_ctx_t *ctx, uint32_t i) {
  if (!ok_ctx(ctx)) return fail(LANE_ERR_INVALID, "not a live job context"), nullptr;
  const lane::session::Run *r = lane::session::run_of(ctx);
  if (!r || i >= r->dropped.size()) return fail(LANE_ERR_INVALID, "dropped id index out of range"), nullptr;
  return r->dropped[i].c_str();
}

}  // extern "C"
