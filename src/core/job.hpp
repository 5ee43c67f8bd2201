// The scheduler's view of one job. The layer above allocates it (usually as
// the base of a larger object), the scheduler links it into its structures and
// hands it back in effects; after its Outcome effect the scheduler never
// touches it again, so the owner may free it.
#pragma once

#include <cstdint>
#include <string>

#include "lane/lane.h"
#include "intrusive_list.hpp"

namespace lane::core {

struct Tenant;
struct TenantLevel;
struct TenantBudget;

enum class JobState : std::uint8_t {
  New,        // not yet submitted
  Queued,     // in the policy queue
  Preemptor,  // waiting for the slot of a victim it preempted (strict cap)
  Parked,     // waiting because its tenant runs its limit (out of the policy queue)
  Running,    // holds its slots
  Released,   // still running, but gave its slots back (Scheduler::release)
  Reacquiring,  // released, and waiting to get its slots back (Scheduler::reacquire)
  Ended       // outcome decided; the scheduler has let go of it
};

struct Job {
  // Set by the owner before submit.
  std::string id;
  std::int32_t priority = 0;
  std::uint32_t flags = 0;
  std::int64_t max_wait_ns = 0;
  std::int64_t queue_timeout_ns = 0;
  // > 0: if the job has not ended this long after it was accepted, it is
  // stopped with LANE_ERR_TIMEOUT, queued or running (lane_submit_wait's timeout).
  std::int64_t outcome_timeout_ns = 0;
  // Budgets. cost: the estimated cost charged to a COST rate limit (0 -> 1);
  // the real cost may be reported later (Scheduler::set_cost, finish).
  std::int64_t cost = 0;
  // Slots it holds while running (0 -> 1); counts against max_concurrent.
  std::uint32_t slots = 0;
  // > 0: still running this long after its dispatch -> stopped with
  // LANE_ERR_TIMEOUT (a Cancel effect), and it ends LANE_ERR_TIMEOUT.
  std::int64_t run_timeout_ns = 0;

  // Managed by the scheduler.
  std::uint64_t token = 0;
  std::uint64_t seq = 0;  // acceptance order: breaks ties between equal deadlines
  JobState state = JobState::New;
  bool requeued = false;
  lane_status_t cancel_cause = LANE_OK;  // set when cancel/preempt/close/timeout was requested
  lane_status_t status = LANE_OK;        // the outcome, once Ended
  std::int32_t job_code = 0;
  std::int64_t enqueued_at = 0, started_at = 0, finished_at = 0;
  std::int64_t deadline = 0;  // queue timeout deadline, 0 = none
  std::int64_t stop_at = 0;   // outcome timeout deadline, 0 = none
  std::int64_t run_stop_at = 0;  // run timeout deadline, 0 = none
  std::uint32_t held = 0;        // slots held now (0 unless Running)
  std::int64_t held_since = 0;   // when it last got its slots
  std::int64_t slot_time = 0;    // slot-time held by this run before held_since (ns * slots)
  std::int64_t charged_cost = 0;  // what the COST rate limit was charged for this run
  std::int64_t reported_cost = 0;  // the run's real cost as last reported (0 = none)
  bool rate_waited = false;  // a rate limit held it back at least once (counted in stats)
  std::uint64_t adapt_epoch = 0;  // adaptive width: the decrease count when it was dispatched
  bool regrant = false;  // its last Dispatch effect gave back the slots of a reacquire, not a start
  bool parked_reacquire = false;  // Parked while reacquiring: goes back to the reacquirers
  bool in_requeued = false;  // a FAIR_SHARE level holds it in its `requeued` list
  bool counted = false;  // counts towards its tenant budget's running jobs
  TenantBudget *budget = nullptr;  // its tenant's limit, when one was set at its submit
  double charged = 0;         // fair share: estimate / weight put on the tenant's pending at dispatch (scaled)
  std::uint32_t charge_gen = 0;  // fair share: renormalisations of the scale when it was charged
  Tenant *tenant = nullptr;
  TenantLevel *tenant_level = nullptr;

  ListHook<Job> hook;        // queue of its tenant/level, FIFO queue, preemptors or running
  ListHook<Job> level_hook;  // fair share: every job of one priority level, oldest first

  [[nodiscard]] bool preemptible() const { return (flags & LANE_JOB_PREEMPTIBLE) != 0; }
  [[nodiscard]] std::uint32_t slots_wanted() const { return slots == 0 ? 1 : slots; }
  [[nodiscard]] std::int64_t cost_estimate() const { return cost <= 0 ? 1 : cost; }
};

using JobList = IntrusiveList<Job, &Job::hook>;
using LevelList = IntrusiveList<Job, &Job::level_hook>;

}  // namespace lane::core
