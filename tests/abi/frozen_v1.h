/* Frozen copies of liblane 0.1.0's public structs, as a host compiled
 * against that release sees them. Never edit these: they are what older
 * hosts pass. tests/abi/struct_versions.c checks that today's structs only
 * grew at the end, and that the library takes these sizes. */
#ifndef LANE_TESTS_FROZEN_V1_H
#define LANE_TESTS_FROZEN_V1_H
#include "lane/lane.h"

typedef struct {
  uint32_t struct_size;
  lane_status_t status;
  int32_t job_code;
  const char *job_id;
  const char *lane;
  uint64_t job_token;
  int64_t enqueued_at_ns, started_at_ns, finished_at_ns;
} v1_lane_outcome_t;

typedef struct {
  uint32_t struct_size;
  const char *id;
  const char *tenant;
  int32_t priority;
  uint32_t flags;
  int64_t max_wait_ns;
  lane_run_fn run;
  lane_done_fn on_done;
  void *user_data;
  lane_port_t *port;
  int64_t queue_timeout_ns;
} v1_lane_job_t;

typedef struct {
  uint32_t struct_size;
  int32_t position;
  int64_t eta_ns;
  uint64_t job_token;
  lane_blocked_by_t blocked_by;
} v1_lane_ticket_t;

typedef struct {
  uint32_t struct_size;
  uint32_t max_concurrent;
  lane_policy_t policy;
  uint32_t eta_window;
  int32_t preemption_off;
  int64_t preempt_min_runtime_ns;
  int32_t preempt_overcommit;
  uint32_t max_queued;
  int64_t eta_default_runtime_ns;
  int64_t aging_ns;
  lane_clock_fn clock;
  void *clock_ud;
} v1_lane_options_t;

typedef struct {
  uint32_t struct_size;
  const char *name;
  uint32_t max_concurrent, running, queued;
  int64_t oldest_queued_at_ns;
  uint32_t throughput_1m;
  uint64_t submitted;
  uint64_t completed, failed, cancelled, preempted, timed_out, closed;
  uint64_t refused;
  int64_t wait_p50_ns, wait_p99_ns, run_p50_ns, run_p99_ns;
  int32_t paused;
  int64_t cooldown_until_ns;
  lane_blocked_by_t blocked_by;
  uint64_t preemptions;
  uint32_t eta_window;
  int64_t mean_runtime_ns;
} v1_lane_stats_t;

typedef struct {
  uint32_t struct_size;
  lane_event_kind_t kind;
  lane_status_t status;
  int32_t job_code;
  lane_t *lane;
  uint64_t job_token;
  void *user_data;
  int64_t at_ns;
  lane_ctx_t *ctx;
} v1_lane_event_t;

typedef struct {
  uint32_t struct_size;
  lane_config_int_fn config_int;
  void *config_ud;
  lane_log_fn log;
  void *log_ud;
  lane_policy_t default_policy;
  uint32_t default_max_concurrent;
  int64_t idle_retire_ns;
  lane_clock_fn clock;
  void *clock_ud;
} v1_lane_registry_options_t;

typedef struct {
  uint32_t struct_size;
  int64_t interval_ns;
  int64_t retention_ns;
  int64_t purge_interval_ns;
  lane_sample_fn sink;
  lane_purge_fn purger;
  void *sink_ud;
  const char *sqlite_path;
  lane_clock_fn clock;
  void *clock_ud;
} v1_lane_sampler_options_t;

typedef struct {
  uint32_t struct_size;
  uint32_t running;
  uint32_t queued;
  int64_t sampled_at_ns;
} v1_lane_sample_t;

typedef struct {
  uint32_t struct_size;
  lane_session_mode_t mode;
  uint32_t cap;
  lane_drop_t drop;
  int64_t debounce_ns;
  uint32_t max_concurrent;
  lane_token_estimate_fn token_estimate;
  void *token_ud;
  double throttle_ratio;
} v1_lane_session_options_t;

#endif
