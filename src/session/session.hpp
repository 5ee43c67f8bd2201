// A session queue: a per-conversation front queue in front of a lane.
//
// The session decides, under its own mutex, which queued messages become a
// run (a lane job) and which end without running; everything that calls out
// (the lane, the host's clock, on_done, the token estimate) happens after the
// session mutex is released, carried in an Actions list. Lock order:
// session mutex, then the lane's (only to read whether the lane is closed);
// the lane never calls into a session under its lock: a run's outcome reaches
// the session through the job's end hook, called with no lock held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "exec/handle.hpp"
#include "exec/job_spec.hpp"
#include "exec/lane.hpp"
#include "lane/lane.h"

struct lane_s;
struct lane_port_s;
struct lane_ctx_s;

namespace lane::session {

// One accepted message. Owned by the session until its outcome is delivered.
struct Msg {
  explicit Msg(const lane::exec::JobSpec &spec) : job(spec) {}
  [[nodiscard]] const std::string &id() const { return job.id(); }
  [[nodiscard]] const lane::exec::JobSpec &spec() const { return job.spec(); }

  lane::exec::OwnedJobSpec job;  // its port is retained while the message lives
  std::int64_t enqueued_at = 0;
  std::uint64_t seq = 0;  // arrival order within the session
};

// One lane job carrying one or more messages; the lane tells it the job's end.
struct Run final : lane::exec::JobObserver {
  void job_ended(const lane_outcome_t &outcome) noexcept override;

  lane_session_s *session = nullptr;
  std::string lane_id;            // unique job id in the lane
  std::vector<Msg *> batch;       // fixed when the run is made; [0] gives run/port/user_data
  std::vector<std::string> dropped;  // SUMMARIZE: ids dropped before this run; fixed
  // Guarded by the session mutex:
  std::deque<Msg *> mailbox;  // STEER: delivered, not yet taken
  std::vector<Msg *> taken;   // taken from the mailbox: they get this run's outcome
  std::uint64_t generation = 0;
  std::uint64_t seq = 0;
  std::uint64_t token = 0;   // the lane job's token once the lane accepted it
  bool in_lane = false;      // the lane accepted it (token valid)
  bool submit_done = false;  // the thread that submitted it is done with it
  bool outcome_done = false; // the lane delivered its outcome
  bool detached = false;     // an older generation (reset): not counted
  bool steerable = false;
  // Set when the session cancels the run: the status its messages get if the
  // run never started (STALE after cancel_all, CANCELLED otherwise).
  lane_status_t cancel_status = LANE_OK;
};

struct Options {
  lane_session_mode_t mode = LANE_SESSION_QUEUE;
  std::uint32_t cap = 10;
  lane_drop_t drop = LANE_DROP_OLD;
  std::int64_t debounce_ns = 800'000'000;  // <= 0: off
  std::uint32_t max_concurrent = 1;
  lane_token_estimate_fn token_estimate = nullptr;
  void *token_ud = nullptr;
  double throttle_ratio = 0.6;
};

// The session run behind a job context, or nullptr for a plain job.
Run *run_of(const lane_ctx_s *ctx);
// True on a thread inside one of s's runs (callback jobs) or callbacks
// (on_done, token estimate), where destroying s would wait on itself.
bool inside(const lane_session_s *s);

}  // namespace lane::session

struct lane_session_s : lane::exec::Tagged<lane::exec::kSessionTag> {

  lane_session_s(lane_s *lane, std::string key, const lane::session::Options &opts);
  ~lane_session_s();
  lane_session_s(const lane_session_s &) = delete;
  lane_session_s &operator=(const lane_session_s &) = delete;


  // The message is moved in only when accepted (LANE_OK).
  lane_status_t enqueue(std::unique_ptr<lane::session::Msg> &m);
  int cancel_one();
  int cancel_all();
  void reset();
  std::uint32_t active();
  std::uint32_t queued();
  void set_max_concurrent(std::uint32_t n);
  // Cancels everything and waits until every run has returned and every
  // outcome is delivered; then the session may be deleted.
  void shutdown();

  // STEER: the next mailbox message of a run, moved to its taken list.
  bool next_message(lane::session::Run *r, const char **id, void **user_data);

  // Called by the debounce timer thread.
  void on_timer();
  // The lane's close listener (see lane_s::CloseListener).
  bool pin();
  void on_lane_closed();
  void on_run_ended(lane::session::Run *r, const lane_outcome_t &o);

  lane_s *const lane;
  const std::string key;

 private:
  using Msg = lane::session::Msg;
  using Run = lane::session::Run;

  struct Actions {
    std::vector<std::pair<Msg *, lane_status_t>> end;  // messages that end without a run
    std::vector<Run *> submit;
    std::vector<std::uint64_t> cancel;  // lane tokens of runs to cancel (a token never names another job)
    std::int64_t timer_at = 0;  // > 0: debounce deadline to arm
  };

  void pump();
  void decide_locked(std::int64_t now, bool throttled, Actions &a);
  // Returns false when the lane refused a run (the caller decides again).
  bool perform(Actions &a);
  bool submit_run(Run *r);
  void cancel_in_lane(const std::vector<std::uint64_t> &tokens);
  // Delivers messages that end without a run, stamped now.
  void deliver_unrun(const std::vector<std::pair<Msg *, lane_status_t>> &ended);
  void end_queued_locked(lane_status_t why, Actions &a);
  void cancel_run_locked(Run *r, lane_status_t never_started, Actions &a);
  void end_mailbox_locked(Run *r, lane_status_t why, Actions &a);
  void requeue_locked(Msg *m);
  // After requeues: ends what is over cap (DROPPED) by the drop policy.
  void trim_locked(std::vector<std::pair<Msg *, lane_status_t>> &out);
  void deliver(Msg *m, lane_status_t status, std::int32_t code, std::uint64_t token, std::int64_t started,
               std::int64_t finished);
  bool throttled();
  [[nodiscard]] std::string next_run_id() const;
  [[nodiscard]] std::uint32_t active_locked() const;
  void leave_locked();  // one internal caller (timer, run end) is done with the session

  lane::session::Options opts_;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::deque<Msg *> queue_;   // by seq
  std::vector<Run *> runs_;   // every run whose outcome is not yet handled, oldest first
  std::unordered_set<std::string> live_ids_;
  std::vector<std::string> dropped_ids_;
  std::uint64_t generation_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t next_run_ = 0;
  std::int64_t last_enqueue_at_ = 0;
  bool have_enqueued_ = false;
  bool lane_closed_ = false;
  bool destroying_ = false;
  std::uint32_t busy_ = 0;  // internal threads inside the session (run ends, timer)
};
