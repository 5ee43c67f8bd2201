/* References every public function of lane.h, so a function that is
 * declared but not exported fails at link time (abi/check_symbols.py keeps
 * this list equal to lane.h). Also checks that each resolves to the same
 * function as the lane_get_api() table's entry. */
#include <stdio.h>
#include <string.h>

#include "lane/lane.h"

typedef void (*fn_t)(void);

/* On Windows a function's address in a constant initializer is its import
 * thunk in this executable (`jmp *__imp_name(%rip)`: FF 25 and a 32-bit
 * offset), not the DLL's function that the table holds; follow the thunk.
 * Elsewhere an address is the function's. */
static fn_t resolved(fn_t f) {
#ifdef _WIN32
  const unsigned char *p;
  memcpy(&p, &f, sizeof p); /* x86-64 code and data addresses are one space */
  if (p[0] == 0xFF && p[1] == 0x25) {
    int32_t rel;
    memcpy(&rel, p + 2, sizeof rel);
    fn_t target;
    memcpy(&target, p + 6 + rel, sizeof target);
    return target;
  }
#endif
  return f;
}

int main(void) {
  const fn_t linked[] = {
      (void (*)(void))lane_status_name,       (void (*)(void))lane_last_error,
      (void (*)(void))lane_abi_version,       (void (*)(void))lane_version_string,
      (void (*)(void))lane_create,            (void (*)(void))lane_destroy,
      (void (*)(void))lane_submit,            (void (*)(void))lane_submit_wait,
      (void (*)(void))lane_cancel,            (void (*)(void))lane_stats,
      (void (*)(void))lane_set_max_concurrent, (void (*)(void))lane_set_preemption,
      (void (*)(void))lane_set_eta_window,    (void (*)(void))lane_set_tenant_weight,
      (void (*)(void))lane_pause,             (void (*)(void))lane_resume,
      (void (*)(void))lane_cooldown,          (void (*)(void))lane_close,
      (void (*)(void))lane_wait_idle,         (void (*)(void))lane_name,
      (void (*)(void))lane_ctx_cancelled,     (void (*)(void))lane_ctx_cause,
      (void (*)(void))lane_ctx_wait,          (void (*)(void))lane_ctx_job_id,
      (void (*)(void))lane_ctx_user_data,     (void (*)(void))lane_ctx_lane,
      (void (*)(void))lane_port_create,       (void (*)(void))lane_port_destroy,
      (void (*)(void))lane_port_fd,           (void (*)(void))lane_port_poll,
      (void (*)(void))lane_port_wake,         (void (*)(void))lane_job_finish,
      (void (*)(void))lane_get_api,
      (void (*)(void))lane_registry_create,
      (void (*)(void))lane_registry_destroy,
      (void (*)(void))lane_registry_get_or_create,
      (void (*)(void))lane_registry_get,
      (void (*)(void))lane_registry_names,
      (void (*)(void))lane_registry_reload,
      (void (*)(void))lane_registry_remove,
      (void (*)(void))lane_registry_metrics,
      (void (*)(void))lane_sampler_create,
      (void (*)(void))lane_sampler_destroy,
      (void (*)(void))lane_sampler_start,
      (void (*)(void))lane_sampler_stop,
      (void (*)(void))lane_sampler_sample_once,
      (void (*)(void))lane_sampler_purge_once,
      (void (*)(void))lane_sqlite_query,
      (void (*)(void))lane_cancel_token,
      (void (*)(void))lane_session_create,
      (void (*)(void))lane_session_destroy,
      (void (*)(void))lane_session_enqueue,
      (void (*)(void))lane_session_cancel_one,
      (void (*)(void))lane_session_cancel_all,
      (void (*)(void))lane_session_reset,
      (void (*)(void))lane_session_active,
      (void (*)(void))lane_session_queued,
      (void (*)(void))lane_session_set_max_concurrent,
      (void (*)(void))lane_session_key,
      (void (*)(void))lane_ctx_batch_count,
      (void (*)(void))lane_ctx_batch_item,
      (void (*)(void))lane_ctx_next_message,
      (void (*)(void))lane_ctx_dropped_count,
      (void (*)(void))lane_ctx_dropped_id,
      (void (*)(void))lane_port_handle,
      (void (*)(void))lane_set_rate_limit,
      (void (*)(void))lane_set_tenant_limit,
      (void (*)(void))lane_tenant_running,
      (void (*)(void))lane_ctx_set_cost,
      (void (*)(void))lane_ctx_overloaded,
      (void (*)(void))lane_ctx_release,
      (void (*)(void))lane_ctx_reacquire,
      (void (*)(void))lane_job_release,
      (void (*)(void))lane_job_reacquire,
      (void (*)(void))lane_job_finish_cost,
      (void (*)(void))lane_cluster_create,
      (void (*)(void))lane_cluster_destroy,
      (void (*)(void))lane_ctx_fence,
  };
  const size_t n = sizeof linked / sizeof linked[0];

  const lane_api_t *api = lane_get_api(LANE_ABI_VERSION);
  if (!api) {
    fprintf(stderr, "lane_get_api: %s\n", lane_last_error());
    return 1;
  }
  /* The table lists the same functions in the same order after its two
   * leading fields. */
  const size_t table_fns = (sizeof(lane_api_t) - offsetof(lane_api_t, status_name)) / sizeof(fn_t);
  if (table_fns != n) {
    fprintf(stderr, "lane_api_t has %zu functions, this test references %zu\n", table_fns, n);
    return 1;
  }
  const fn_t *table = (const fn_t *)(const void *)&api->status_name;
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    if (table[i] != resolved(linked[i])) {
      fprintf(stderr, "lane_api_t entry %zu differs from the linked function\n", i);
      failed = 1;
    }
  }
  if (api->struct_size != sizeof(lane_api_t) || api->abi_version != LANE_ABI_VERSION) {
    fprintf(stderr, "lane_api_t header fields are wrong\n");
    failed = 1;
  }
  /* A host built for ABI 0.1 (before lane_port_handle) still gets the table,
   * and every slot it knows is where it was; a newer minor is refused. */
  const lane_api_t *v01 = lane_get_api((uint32_t)(LANE_ABI_MAJOR << 16) | 1u);
  if (v01 != api || v01->struct_size < offsetof(lane_api_t, ctx_dropped_id) + sizeof(fn_t) ||
      v01->ctx_dropped_id != lane_ctx_dropped_id) {
    fprintf(stderr, "lane_get_api(0.1) does not give a table a 0.1 host can use\n");
    failed = 1;
  }
  if (lane_get_api(LANE_ABI_VERSION + 1) != NULL) {
    fprintf(stderr, "lane_get_api accepted a newer minor than the library's\n");
    failed = 1;
  }
  if (!failed) printf("%zu functions linked and in the api table\n", n);
  return failed;
}
