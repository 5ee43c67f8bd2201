// lane_get_api: every exported function in one table, for dlopen hosts.
#include "errors.hpp"

using lane::capi::fail;

namespace {

const lane_api_t kApi = {
    sizeof(lane_api_t),
    LANE_ABI_VERSION,
    lane_status_name,
    lane_last_error,
    lane_abi_version,
    lane_version_string,
    lane_create,
    lane_destroy,
    lane_submit,
    lane_submit_wait,
    lane_cancel,
    lane_stats,
    lane_set_max_concurrent,
    lane_set_preemption,
    lane_set_eta_window,
    lane_set_tenant_weight,
    lane_pause,
    lane_resume,
    lane_cooldown,
    lane_close,
    lane_wait_idle,
    lane_name,
    lane_ctx_cancelled,
    lane_ctx_cause,
    lane_ctx_wait,
    lane_ctx_job_id,
    lane_ctx_user_data,
    lane_ctx_lane,
    lane_port_create,
    lane_port_destroy,
    lane_port_fd,
    lane_port_poll,
    lane_port_wake,
    lane_job_finish,
    lane_get_api,
    lane_registry_create,
    lane_registry_destroy,
    lane_registry_get_or_create,
    lane_registry_get,
    lane_registry_names,
    lane_registry_reload,
    lane_registry_remove,
    lane_registry_metrics,
    lane_sampler_create,
    lane_sampler_destroy,
    lane_sampler_start,
    lane_sampler_stop,
    lane_sampler_sample_once,
    lane_sampler_purge_once,
    lane_sqlite_query,
    lane_cancel_token,
    lane_session_create,
    lane_session_destroy,
    lane_session_enqueue,
    lane_session_cancel_one,
    lane_session_cancel_all,
    lane_session_reset,
    lane_session_active,
    lane_session_queued,
    lane_session_set_max_concurrent,
    lane_session_key,
    lane_ctx_batch_count,
    lane_ctx_batch_item,
    lane_ctx_next_message,
    lane_ctx_dropped_count,
    lane_ctx_dropped_id,
    lane_port_handle,  // ABI 0.2
    lane_set_rate_limit,  // ABI 0.3
    lane_set_tenant_limit,
    lane_tenant_running,
    lane_ctx_set_cost,
    lane_ctx_overloaded,
    lane_ctx_release,
    lane_ctx_reacquire,
    lane_job_release,
    lane_job_reacquire,
    lane_job_finish_cost,
    lane_cluster_create,  // ABI 0.4
    lane_cluster_destroy,
    lane_ctx_fence,
};

}  // namespace

extern "C" {

LANE_API const lane_api_t *lane_get_api(uint32_t abi_version) {
  const uint32_t major = abi_version >> 16;
  const uint32_t minor = abi_version & 0xffffu;
  if (major != LANE_ABI_MAJOR || minor > LANE_ABI_MINOR) {
    fail(LANE_ERR_INVALID, "ABI version " + std::to_string(major) + "." + std::to_string(minor) +
                               " requested; this library provides " + std::to_string(LANE_ABI_MAJOR) + "." +
                               std::to_string(LANE_ABI_MINOR));
    return nullptr;
  }
  return &kApi;
}

}  // extern "C"
