// lane.h from C++2b (-pedantic -Werror): the layout rules of DESIGN.md
// section 3 and the values of section 4 as compile-time facts, plus a check
// that the api table's slots have exactly the types of the functions.
#include <lane/lane.h>
#include <lane/lane.h>  // the include guard holds

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

namespace {

// Every public struct begins with uint32_t struct_size, is standard layout
// (so C and every binding see the same bytes) and is trivially copyable.
template <class T>
constexpr bool c_struct() {
  return std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T> && offsetof(T, struct_size) == 0 &&
         std::is_same_v<decltype(T::struct_size), std::uint32_t>;
}
static_assert(c_struct<lane_outcome_t>());
static_assert(c_struct<lane_job_t>());
static_assert(c_struct<lane_ticket_t>());
static_assert(c_struct<lane_options_t>());
static_assert(c_struct<lane_stats_t>());
static_assert(c_struct<lane_event_t>());
static_assert(c_struct<lane_api_t>());

// Field order that DESIGN.md fixes (structs only grow at the end).
static_assert(offsetof(lane_job_t, id) < offsetof(lane_job_t, tenant));
static_assert(offsetof(lane_job_t, tenant) < offsetof(lane_job_t, priority));
static_assert(offsetof(lane_job_t, run) < offsetof(lane_job_t, on_done));
static_assert(offsetof(lane_job_t, port) < offsetof(lane_job_t, queue_timeout_ns));
static_assert(offsetof(lane_job_t, queue_timeout_ns) < offsetof(lane_job_t, cost));
static_assert(offsetof(lane_job_t, run_timeout_ns) < offsetof(lane_job_t, slots));
static_assert(offsetof(lane_stats_t, name) < offsetof(lane_stats_t, max_concurrent));
static_assert(offsetof(lane_stats_t, cooldown_until_ns) < offsetof(lane_stats_t, blocked_by));
static_assert(offsetof(lane_stats_t, blocked_by) < offsetof(lane_stats_t, mean_runtime_ns));
static_assert(offsetof(lane_options_t, clock) < offsetof(lane_options_t, clock_ud));
static_assert(offsetof(lane_api_t, ctx_fence) + sizeof(void *) == sizeof(lane_api_t));

// Durations and timestamps are int64_t nanoseconds.
static_assert(std::is_same_v<decltype(lane_job_t::max_wait_ns), std::int64_t>);
static_assert(std::is_same_v<decltype(lane_job_t::queue_timeout_ns), std::int64_t>);
static_assert(std::is_same_v<decltype(lane_outcome_t::finished_at_ns), std::int64_t>);
static_assert(std::is_same_v<decltype(lane_event_t::at_ns), std::int64_t>);
static_assert(std::is_same_v<decltype(lane_ticket_t::eta_ns), std::int64_t>);
static_assert(std::is_same_v<decltype(lane_event_t::job_token), std::uint64_t>);

// Status values are stable forever (DESIGN.md section 4).
static_assert(LANE_OK == 0);
static_assert(LANE_ERR_INVALID == -1);
static_assert(LANE_ERR_CLOSED == -2);
static_assert(LANE_ERR_BUSY == -3);
static_assert(LANE_ERR_NOT_QUEUED == -4);
static_assert(LANE_ERR_CANCELLED == -5);
static_assert(LANE_ERR_PREEMPTED == -6);
static_assert(LANE_ERR_DUPLICATE == -7);
static_assert(LANE_ERR_QUEUE_FULL == -8);
static_assert(LANE_ERR_DROPPED == -9);
static_assert(LANE_ERR_STALE == -10);
static_assert(LANE_ERR_CLEARED == -11);
static_assert(LANE_ERR_TIMEOUT == -12);
static_assert(LANE_ERR_NOMEM == -13);
static_assert(LANE_ERR_JOB_FAILED == -14);
static_assert(LANE_ERR_INTERNAL == -15);
static_assert(LANE_ERR_DEADLOCK == -16);
static_assert(LANE_ERR_IO == -17);
static_assert(LANE_ERR_UNSUPPORTED == -18);
static_assert(sizeof(lane_status_t) == sizeof(int));

static_assert(LANE_JOB_PREEMPTIBLE == 1u);
static_assert(LANE_JOB_REQUEUE_ON_PREEMPT == 2u);
static_assert(LANE_JOB_STEERABLE == 4u);
static_assert(LANE_CANCEL_QUEUED == 1u);
static_assert(LANE_CANCEL_RUNNING == 2u);
static_assert(LANE_BLOCKED_NONE == 0 && LANE_BLOCKED_FULL == 1 && LANE_BLOCKED_PAUSED == 2 &&
              LANE_BLOCKED_COOLDOWN == 3 && LANE_BLOCKED_PRIORITY == 4 && LANE_BLOCKED_TENANT == 5 &&
              LANE_BLOCKED_RATE == 6 && LANE_BLOCKED_TENANT_LIMIT == 7);
static_assert(LANE_POLICY_DEFAULT == 0 && LANE_POLICY_FIFO == 1 && LANE_POLICY_FAIR_SHARE == 2);
static_assert(LANE_CLOSE_DRAIN == 0 && LANE_CLOSE_CANCEL == 1);
static_assert(LANE_EVENT_GRANT == 1 && LANE_EVENT_CANCEL == 2 && LANE_EVENT_DONE == 3);

static_assert(LANE_ABI_VERSION == ((static_cast<std::uint32_t>(LANE_ABI_MAJOR) << 16) | LANE_ABI_MINOR));

// The INIT macros are constant expressions with struct_size = sizeof and
// every other field zero ("zero means default").
constexpr lane_job_t kJob = LANE_JOB_INIT;
constexpr lane_options_t kOptions = LANE_OPTIONS_INIT;
constexpr lane_ticket_t kTicket = LANE_TICKET_INIT;
static_assert(kJob.struct_size == sizeof(lane_job_t) && kJob.id == nullptr && kJob.run == nullptr &&
              kJob.priority == 0 && kJob.flags == 0 && kJob.queue_timeout_ns == 0);
static_assert(kOptions.struct_size == sizeof(lane_options_t) && kOptions.max_concurrent == 0 &&
              kOptions.policy == LANE_POLICY_DEFAULT && kOptions.clock == nullptr &&
              kOptions.fair_half_life_ns == 0);
// Appended fields go at the end, after every field of the first release.
static_assert(offsetof(lane_options_t, fair_half_life_ns) > offsetof(lane_options_t, clock_ud));
static_assert(kTicket.struct_size == sizeof(lane_ticket_t) && kTicket.position == 0 &&
              kTicket.blocked_by == LANE_BLOCKED_NONE);

// Each api table slot has exactly the type of the function it stands for.
#define SLOT_IS(slot, fn) static_assert(std::is_same_v<decltype(lane_api_t::slot), decltype(&fn)>, #slot)
SLOT_IS(status_name, lane_status_name);
SLOT_IS(last_error, lane_last_error);
SLOT_IS(abi_version_fn, lane_abi_version);
SLOT_IS(version_string, lane_version_string);
SLOT_IS(create, lane_create);
SLOT_IS(destroy, lane_destroy);
SLOT_IS(submit, lane_submit);
SLOT_IS(submit_wait, lane_submit_wait);
SLOT_IS(cancel, lane_cancel);
SLOT_IS(stats, lane_stats);
SLOT_IS(set_max_concurrent, lane_set_max_concurrent);
SLOT_IS(set_preemption, lane_set_preemption);
SLOT_IS(set_eta_window, lane_set_eta_window);
SLOT_IS(set_tenant_weight, lane_set_tenant_weight);
SLOT_IS(pause, lane_pause);
SLOT_IS(resume, lane_resume);
SLOT_IS(cooldown, lane_cooldown);
SLOT_IS(close, lane_close);
SLOT_IS(wait_idle, lane_wait_idle);
SLOT_IS(name, lane_name);
SLOT_IS(ctx_cancelled, lane_ctx_cancelled);
SLOT_IS(ctx_cause, lane_ctx_cause);
SLOT_IS(ctx_wait, lane_ctx_wait);
SLOT_IS(ctx_job_id, lane_ctx_job_id);
SLOT_IS(ctx_user_data, lane_ctx_user_data);
SLOT_IS(ctx_lane, lane_ctx_lane);
SLOT_IS(port_create, lane_port_create);
SLOT_IS(port_destroy, lane_port_destroy);
SLOT_IS(port_fd, lane_port_fd);
SLOT_IS(port_poll, lane_port_poll);
SLOT_IS(port_wake, lane_port_wake);
SLOT_IS(job_finish, lane_job_finish);
SLOT_IS(get_api, lane_get_api);
SLOT_IS(registry_create, lane_registry_create);
SLOT_IS(registry_destroy, lane_registry_destroy);
SLOT_IS(registry_get_or_create, lane_registry_get_or_create);
SLOT_IS(registry_get, lane_registry_get);
SLOT_IS(registry_names, lane_registry_names);
SLOT_IS(registry_reload, lane_registry_reload);
SLOT_IS(registry_remove, lane_registry_remove);
SLOT_IS(registry_metrics, lane_registry_metrics);
SLOT_IS(sampler_create, lane_sampler_create);
SLOT_IS(sampler_destroy, lane_sampler_destroy);
SLOT_IS(sampler_start, lane_sampler_start);
SLOT_IS(sampler_stop, lane_sampler_stop);
SLOT_IS(sampler_sample_once, lane_sampler_sample_once);
SLOT_IS(sampler_purge_once, lane_sampler_purge_once);
SLOT_IS(sqlite_query, lane_sqlite_query);
SLOT_IS(cancel_token, lane_cancel_token);
SLOT_IS(session_create, lane_session_create);
SLOT_IS(session_destroy, lane_session_destroy);
SLOT_IS(session_enqueue, lane_session_enqueue);
SLOT_IS(session_cancel_one, lane_session_cancel_one);
SLOT_IS(session_cancel_all, lane_session_cancel_all);
SLOT_IS(session_reset, lane_session_reset);
SLOT_IS(session_active, lane_session_active);
SLOT_IS(session_queued, lane_session_queued);
SLOT_IS(session_set_max_concurrent, lane_session_set_max_concurrent);
SLOT_IS(session_key, lane_session_key);
SLOT_IS(ctx_batch_count, lane_ctx_batch_count);
SLOT_IS(ctx_batch_item, lane_ctx_batch_item);
SLOT_IS(ctx_next_message, lane_ctx_next_message);
SLOT_IS(ctx_dropped_count, lane_ctx_dropped_count);
SLOT_IS(ctx_dropped_id, lane_ctx_dropped_id);
SLOT_IS(port_handle, lane_port_handle);
SLOT_IS(set_rate_limit, lane_set_rate_limit);
SLOT_IS(set_tenant_limit, lane_set_tenant_limit);
SLOT_IS(tenant_running, lane_tenant_running);
SLOT_IS(ctx_set_cost, lane_ctx_set_cost);
SLOT_IS(ctx_overloaded, lane_ctx_overloaded);
SLOT_IS(ctx_release, lane_ctx_release);
SLOT_IS(ctx_reacquire, lane_ctx_reacquire);
SLOT_IS(job_release, lane_job_release);
SLOT_IS(job_reacquire, lane_job_reacquire);
SLOT_IS(job_finish_cost, lane_job_finish_cost);
SLOT_IS(cluster_create, lane_cluster_create);
SLOT_IS(cluster_destroy, lane_cluster_destroy);
SLOT_IS(ctx_fence, lane_ctx_fence);
#undef SLOT_IS
// 2 words of header, then 78 function pointers: a slot added without a
// SLOT_IS line above changes the size and fails here.
static_assert(sizeof(lane_api_t) == offsetof(lane_api_t, status_name) + 78 * sizeof(void *));

}  // namespace

int main() {
  // At run time: the library's table agrees with the header's version.
  const lane_api_t *api = lane_get_api(LANE_ABI_VERSION);
  if (api == nullptr || api->struct_size != sizeof(lane_api_t) || api->abi_version != LANE_ABI_VERSION ||
      api->get_api != &lane_get_api || std::strcmp(api->version_string(), LANE_VERSION_STRING) != 0) {
    std::fprintf(stderr, "header_cpp: lane_get_api disagrees with lane.h (%s)\n", lane_last_error());
    return 1;
  }
  return 0;
}
