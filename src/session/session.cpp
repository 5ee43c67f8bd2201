#include "session.hpp"

#include <algorithm>
#include <cmath>

#include "core/saturate.hpp"
#include "exec/lane.hpp"
#include "exec/outcome.hpp"
#include "exec/port.hpp"
#include "exec/timer.hpp"

using lane::session::Msg;
using lane::session::Run;

namespace {
constexpr std::int64_t kThrottleRecheckNs = 50'000'000;
}  // namespace

namespace lane::session {

namespace {
std::atomic<std::uint64_t> g_run_ids{0};
thread_local const lane_session_s *tls_calling = nullptr;  // the session whose host callback runs here

// Marks this thread as inside a callback of `s` for its scope.
class Calling {
 public:
  explicit Calling(const lane_session_s *s) : saved_(tls_calling) { tls_calling = s; }
  ~Calling() { tls_calling = saved_; }
  Calling(const Calling &) = delete;
  Calling &operator=(const Calling &) = delete;

 private:
  const lane_session_s *saved_;
};
}  // namespace

bool inside(const lane_session_s *s) {
  if (tls_calling == s) return true;
  const Run *r = run_of(lane::exec::current_job());
  return r != nullptr && r->session == s;
}

void Run::job_ended(const lane_outcome_t &outcome) noexcept { session->on_run_ended(this, outcome); }

Run *run_of(const lane_ctx_s *ctx) { return ctx ? dynamic_cast<Run *>(ctx->observer) : nullptr; }

}  // namespace lane::session

lane_session_s::lane_session_s(lane_s *l, std::string k, const lane::session::Options &opts)
    : lane(l), key(std::move(k)), opts_(opts) {
  // Room in the timer now (may throw: no session), so a debounce armed
  // after a message was accepted cannot fail for memory.
  lane::exec::Timer::instance().reserve(this);
  lane->retain();  // the lane outlives its owner's destroy while this session lives
  try {
    lane->add_close_listener({[](void *s) { return static_cast<lane_session_s *>(s)->pin(); },
                              [](void *s) { static_cast<lane_session_s *>(s)->on_lane_closed(); }, this});
  } catch (...) {
    lane->release();
    lane::exec::Timer::instance().forget(this);
    throw;
  }
  // A close that came before the listener was in place.
  lane_closed_ = lane->closed();
}

lane_session_s::~lane_session_s() {
  magic.store(0, std::memory_order_relaxed);
  lane->release();
}

// ------------------------------------------------------------------ helpers

std::string lane_session_s::next_run_id() const {
  return key + "#" + std::to_string(lane::session::g_run_ids.fetch_add(1, std::memory_order_relaxed));
}

std::uint32_t lane_session_s::active_locked() const {
  std::uint32_t n = 0;
  for (const Run *r : runs_) {
    if (!r->detached && !r->outcome_done) ++n;
  }
  return n;
}

void lane_session_s::requeue_locked(Msg *m) {
  auto at = std::upper_bound(queue_.begin(), queue_.end(), m->seq,
                             [](std::uint64_t seq, const Msg *q) { return seq < q->seq; });
  queue_.insert(at, m);
}

void lane_session_s::trim_locked(std::vector<std::pair<Msg *, lane_status_t>> &out) {
  while (queue_.size() > opts_.cap) {
    Msg *m;
    if (opts_.drop == LANE_DROP_NEW) {
      m = queue_.back();  // the latest arrival is the one NEW would have refused
      queue_.pop_back();
    } else {
      m = queue_.front();
      queue_.pop_front();
      if (opts_.drop == LANE_DROP_SUMMARIZE) dropped_ids_.push_back(m->id());
    }
    live_ids_.erase(m->id());
    out.emplace_back(m, LANE_ERR_DROPPED);
  }
}

void lane_session_s::end_queued_locked(lane_status_t why, Actions &a) {
  for (Msg *m : queue_) {
    live_ids_.erase(m->id());
    a.end.emplace_back(m, why);
  }
  queue_.clear();
}

// Marks a run cancelled; its messages get `never_started` if it had not
// started. A run the lane has not accepted yet is cancelled by the thread
// that submits it, as soon as the lane returns its token.
void lane_session_s::cancel_run_locked(Run *r, lane_status_t never_started, Actions &a) {
  r->cancel_status = never_started;
  end_mailbox_locked(r, never_started, a);
  if (r->in_lane) a.cancel.push_back(r->token);
}

void lane_session_s::end_mailbox_locked(Run *r, lane_status_t why, Actions &a) {
  for (Msg *m : r->mailbox) {
    live_ids_.erase(m->id());
    a.end.emplace_back(m, why);
  }
  r->mailbox.clear();
}

void lane_session_s::leave_locked() {
  if (--busy_ == 0 && destroying_) idle_cv_.notify_all();
}

bool lane_session_s::throttled() {
  if (!opts_.token_estimate) return false;
  std::int64_t tokens = 0, window = 0;
  std::int32_t rc;
  try {
    lane::session::Calling in(this);
    rc = opts_.token_estimate(key.c_str(), &tokens, &window, opts_.token_ud);
  } catch (...) {
    return false;  // a host exception must not unwind through the library
  }
  if (rc != 0 || window <= 0 || tokens < 0) return false;
  return static_cast<double>(tokens) >= opts_.throttle_ratio * static_cast<double>(window);
}

// ------------------------------------------------------------ the decisions

// Starts as many runs as the mode, the caps and the debounce allow.
void lane_session_s::decide_locked(std::int64_t now, bool throttled_now, Actions &a) {
  if (queue_.empty() || destroying_) return;
  if (lane_closed_) {
    end_queued_locked(LANE_ERR_CLOSED, a);
    return;
  }
  if (opts_.debounce_ns > 0 && have_enqueued_ && now - last_enqueue_at_ < opts_.debounce_ns) {
    a.timer_at = last_enqueue_at_ + opts_.debounce_ns;
    return;
  }
  const std::uint32_t cap =
      (opts_.mode == LANE_SESSION_FOLLOWUP || throttled_now) ? 1 : std::max<std::uint32_t>(1, opts_.max_concurrent);
  std::uint32_t active = active_locked();

  bool cancelling = false;
  for (const Run *r : runs_) {
    if (!r->detached && !r->outcome_done && r->cancel_status != LANE_OK) cancelling = true;
  }
  // INTERRUPT: the new run waits until the interrupted ones have returned.
  if (opts_.mode == LANE_SESSION_INTERRUPT && cancelling) return;
  while (!queue_.empty() && active < cap) {
    auto r = std::make_unique<Run>();
    r->session = this;
    r->generation = generation_;
    r->seq = next_run_++;
    if (opts_.mode == LANE_SESSION_COLLECT) {
      r->batch.assign(queue_.begin(), queue_.end());
      queue_.clear();
    } else {
      r->batch.push_back(queue_.front());
      queue_.pop_front();
    }
    r->dropped = std::move(dropped_ids_);
    dropped_ids_.clear();
    r->steerable = (r->batch.front()->spec().flags & LANE_JOB_STEERABLE) != 0;
    r->lane_id = next_run_id();
    runs_.push_back(r.get());
    a.submit.push_back(r.release());
    ++active;
  }
  // The token estimate is pulled, not pushed: while the throttle holds back
  // runs that max_concurrent would allow, ask it again soon.
  if (!queue_.empty() && throttled_now && opts_.mode != LANE_SESSION_FOLLOWUP && active < opts_.max_concurrent) {
    a.timer_at = now + kThrottleRecheckNs;
  }
}

void lane_session_s::pump() {
  // A run the lane refuses ends its messages and frees a place: decide again.
  for (;;) {
    bool want_throttle = false;
    {
      std::lock_guard lk(mu_);
      if (queue_.empty() || destroying_) return;
      want_throttle = opts_.token_estimate != nullptr;
    }
    const bool thr = want_throttle && throttled();  // a host callback: no lock
    const std::int64_t now = lane->now();           // maybe a host clock: no lock
    Actions a;
    {
      std::lock_guard lk(mu_);
      decide_locked(now, thr, a);
    }
    if (perform(a)) return;
  }
}

void lane_session_s::cancel_in_lane(const std::vector<std::uint64_t> &tokens) {
  lane->cancel_tokens(tokens);
}

void lane_session_s::deliver_unrun(const std::vector<std::pair<Msg *, lane_status_t>> &ended) {
  if (ended.empty()) return;
  const std::int64_t now = lane->now();
  for (const auto &[m, st] : ended) deliver(m, st, 0, 0, 0, now);
}

bool lane_session_s::perform(Actions &a) {
  deliver_unrun(a.end);
  // One lane-lock hold for all of them: a cancelled run's freed slot cannot
  // start a run of the same cancel (it would end CANCELLED, not STALE).
  if (!a.cancel.empty()) cancel_in_lane(a.cancel);
  bool all_accepted = true;
  for (Run *r : a.submit) all_accepted = submit_run(r) && all_accepted;
  if (a.timer_at > 0) {
    lane::exec::Timer::instance().arm(
        this, [](void *s) { static_cast<lane_session_s *>(s)->on_timer(); }, a.timer_at, lane->has_clock());
  }
  return all_accepted;
}

bool lane_session_s::submit_run(Run *r) {
  const lane::exec::JobSpec &first = r->batch.front()->spec();
  lane::exec::JobSpec spec = first;
  spec.id = r->lane_id;
  // A merged run does the work of every message it carries: the highest
  // priority, the most slots any of them asked for, and the sum of their
  // cost estimates (0 if none gave one), at most what one grant of the
  // lane's cost limit can carry, so that merging never makes a run the lane
  // must refuse.
  std::int64_t cost = 0;
  for (const Msg *m : r->batch) {
    const lane::exec::JobSpec &ms = m->spec();
    spec.priority = std::max(spec.priority, ms.priority);
    spec.slots = std::max(spec.slots, ms.slots);
    if (ms.cost > 0) cost = lane::core::sat_add(cost, ms.cost);
  }
  if (r->batch.size() > 1 && cost > 0) {
    const lane::core::RateLimit limit = lane->rate_limit(lane::core::RateKind::Cost);
    spec.cost = limit.on ? std::min(cost, std::max(first.cost, limit.burst)) : cost;
  }
  spec.on_done = nullptr;  // each message gets its own outcome (Run::job_ended)
  lane::exec::SubmitOptions o;
  o.estimate = first.max_wait_ns > 0;
  o.observer = r;
  lane::exec::SubmitOutput out;
  try {
    // A host may have a job of its own called "<key>#<n>" in this lane: take
    // the next number (the counter is process-wide, so it moves on).
    for (;;) {
      out = lane->submit(spec, o);
      if (out.result.status != LANE_ERR_DUPLICATE) break;
      r->lane_id = next_run_id();  // only this thread reads it
      spec.id = r->lane_id;
    }
  } catch (...) {
    out.result.status = LANE_ERR_NOMEM;
  }

  bool cancel = false, free_run = false, accepted = true;
  std::uint64_t token = 0;
  std::vector<std::pair<Msg *, lane_status_t>> refused;
  {
    std::lock_guard lk(mu_);
    r->submit_done = true;
    if (out.result.status == LANE_OK) {
      r->token = token = out.result.token;
      r->in_lane = true;
      cancel = r->cancel_status != LANE_OK && !r->outcome_done;
      free_run = r->outcome_done;  // it already ran and ended
    } else {
      // Never accepted: its messages end with the lane's refusal; the
      // mailbox goes back to the queue (or ends, if the run was cancelled).
      if (out.result.status == LANE_ERR_CLOSED) lane_closed_ = true;
      for (Msg *m : r->batch) {
        live_ids_.erase(m->id());
        refused.emplace_back(m, r->cancel_status != LANE_OK ? r->cancel_status : out.result.status);
      }
      for (Msg *m : r->mailbox) requeue_locked(m);
      r->mailbox.clear();
      trim_locked(refused);
      runs_.erase(std::find(runs_.begin(), runs_.end(), r));
      free_run = true;
      accepted = false;
    }
  }
  // Past the unlock r may already be freed by its end: use the copies.
  if (cancel) cancel_in_lane({token});
  deliver_unrun(refused);
  if (free_run) delete r;
  return accepted;
}

void lane_session_s::deliver(Msg *m, lane_status_t status, std::int32_t code, std::uint64_t token, std::int64_t started,
                           std::int64_t finished) {
  const lane::exec::JobSpec &spec = m->spec();
  const lane_outcome_t o = lane::exec::make_outcome({.status = status,
                                                     .job_code = code,
                                                     .job_id = m->id().c_str(),
                                                     .lane_name = lane->name.c_str(),
                                                     .job_token = token,
                                                     .enqueued_at_ns = m->enqueued_at,
                                                     .started_at_ns = started,
                                                     .finished_at_ns = finished});
  {
    lane::session::Calling in(this);
    lane::exec::hand_over(o, spec.on_done, spec.user_data, spec.port, lane);
  }
  delete m;
}

// ------------------------------------------------------------- operations

lane_status_t lane_session_s::enqueue(std::unique_ptr<Msg> &mp) {
  // lane_closed_ covers a closed lane: the lane's close listener sets it
  // before lane_close returns, and the constructor for an earlier close.
  const std::int64_t now = lane->now();
  Actions a;
  {
    std::lock_guard lk(mu_);
    if (destroying_ || lane_closed_) return LANE_ERR_CLOSED;
    if (live_ids_.count(mp->id())) return LANE_ERR_DUPLICATE;
    Msg *m = mp.get();
    m->enqueued_at = now;
    m->seq = next_seq_++;

    if (opts_.mode == LANE_SESSION_STEER) {
      // The newest active run that opted in takes it into its mailbox.
      for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
        Run *r = *it;
        if (r->detached || r->outcome_done || r->cancel_status != LANE_OK || !r->steerable) continue;
        live_ids_.insert(m->id());
        if (m->spec().port) m->spec().port->retain();
        r->mailbox.push_back(mp.release());
        return LANE_OK;
      }
    }
    if (opts_.mode == LANE_SESSION_INTERRUPT) {
      for (Run *r : runs_) {
        if (!r->detached && !r->outcome_done && r->cancel_status == LANE_OK) {
          cancel_run_locked(r, LANE_ERR_CANCELLED, a);
        }
      }
      end_queued_locked(LANE_ERR_CANCELLED, a);
    }
    if (queue_.size() >= opts_.cap) {
      if (opts_.drop == LANE_DROP_NEW) {
        // Nothing was changed above: INTERRUPT empties the queue first.
        return LANE_ERR_QUEUE_FULL;
      }
      Msg *old = queue_.front();
      queue_.pop_front();
      live_ids_.erase(old->id());
      if (opts_.drop == LANE_DROP_SUMMARIZE) dropped_ids_.push_back(old->id());
      a.end.emplace_back(old, LANE_ERR_DROPPED);
    }
    live_ids_.insert(m->id());
    if (m->spec().port) m->spec().port->retain();
    queue_.push_back(mp.release());
    last_enqueue_at_ = now;
    have_enqueued_ = true;
  }
  perform(a);
  pump();
  return LANE_OK;
}

int lane_session_s::cancel_one() {
  Actions a;
  int n = 0;
  {
    std::lock_guard lk(mu_);
    for (Run *r : runs_) {
      if (r->detached || r->outcome_done || r->cancel_status != LANE_OK) continue;
      cancel_run_locked(r, LANE_ERR_CANCELLED, a);
      n = 1;
      break;
    }
  }
  perform(a);
  pump();  // the mailbox may have ended; nothing else starts until the run returns
  return n;
}

int lane_session_s::cancel_all() {
  Actions a;
  int n = 0;
  {
    std::lock_guard lk(mu_);
    for (Run *r : runs_) {
      if (r->detached || r->outcome_done || r->cancel_status != LANE_OK) continue;
      cancel_run_locked(r, LANE_ERR_STALE, a);
      ++n;
    }
    end_queued_locked(LANE_ERR_STALE, a);
  }
  perform(a);
  return n;
}

void lane_session_s::reset() {
  Actions a;
  {
    std::lock_guard lk(mu_);
    ++generation_;
    end_queued_locked(LANE_ERR_CLEARED, a);
    for (Run *r : runs_) {
      if (r->detached) continue;
      r->detached = true;
      end_mailbox_locked(r, LANE_ERR_CLEARED, a);
    }
    dropped_ids_.clear();
  }
  perform(a);
}

std::uint32_t lane_session_s::active() {
  std::lock_guard lk(mu_);
  return active_locked();
}

std::uint32_t lane_session_s::queued() {
  std::lock_guard lk(mu_);
  return static_cast<std::uint32_t>(queue_.size());
}

void lane_session_s::set_max_concurrent(std::uint32_t n) {
  {
    std::lock_guard lk(mu_);
    opts_.max_concurrent = n;
  }
  pump();
}

bool lane_session_s::next_message(Run *r, const char **id, void **user_data) {
  std::lock_guard lk(mu_);
  if (r->mailbox.empty()) return false;
  Msg *m = r->mailbox.front();
  r->mailbox.pop_front();
  r->taken.push_back(m);
  if (id) *id = m->id().c_str();
  if (user_data) *user_data = m->spec().user_data;
  return true;
}

bool lane_session_s::pin() {
  std::lock_guard lk(mu_);
  if (destroying_) return false;
  ++busy_;
  return true;
}

// The lane was closed: what the session still queues can never run.
void lane_session_s::on_lane_closed() {
  Actions a;
  {
    std::lock_guard lk(mu_);
    lane_closed_ = true;
    end_queued_locked(LANE_ERR_CLOSED, a);
  }
  perform(a);
  std::lock_guard lk(mu_);
  leave_locked();
}

void lane_session_s::on_timer() {
  {
    std::lock_guard lk(mu_);
    if (destroying_) return;
    ++busy_;
  }
  pump();
  std::lock_guard lk(mu_);
  leave_locked();
}

// The lane delivered a run's outcome (no lock held, on whichever thread
// ended it). Every message the run carried gets that outcome.
void lane_session_s::on_run_ended(Run *r, const lane_outcome_t &o) {
  std::vector<Msg *> items;
  std::vector<std::pair<Msg *, lane_status_t>> dropped;
  lane_status_t status = o.status;
  bool free_run = false, detached = false;
  {
    std::lock_guard lk(mu_);
    ++busy_;
    r->outcome_done = true;
    if (o.started_at_ns == 0 && r->cancel_status != LANE_OK) status = r->cancel_status;
    items = r->batch;
    items.insert(items.end(), r->taken.begin(), r->taken.end());
    for (Msg *m : items) live_ids_.erase(m->id());
    // Steered messages the run never took wait for the next run.
    for (Msg *m : r->mailbox) requeue_locked(m);
    r->mailbox.clear();
    trim_locked(dropped);
    runs_.erase(std::find(runs_.begin(), runs_.end(), r));
    free_run = r->submit_done;
    detached = r->detached;
  }
  for (Msg *m : items) deliver(m, status, o.job_code, o.job_token, o.started_at_ns, o.finished_at_ns);
  deliver_unrun(dropped);
  if (free_run) delete r;
  // An older generation's end does not start the new generation's work
  // (reset made room for it already).
  if (!detached) pump();
  std::lock_guard lk(mu_);
  leave_locked();
}

void lane_session_s::shutdown() {
  Actions a;
  {
    std::lock_guard lk(mu_);
    destroying_ = true;
    end_queued_locked(LANE_ERR_CANCELLED, a);
    for (Run *r : runs_) {
      if (r->outcome_done) continue;
      if (r->cancel_status == LANE_OK) {
        cancel_run_locked(r, LANE_ERR_CANCELLED, a);
      } else {
        // Already cancelled (the cancel may be on its way): its mailbox ends now.
        end_mailbox_locked(r, LANE_ERR_CANCELLED, a);
      }
    }
  }
  perform(a);
  {
    std::unique_lock lk(mu_);
    idle_cv_.wait(lk, [&] { return runs_.empty() && busy_ == 0; });
  }
  lane->remove_close_listener(this);  // pin() refuses from now on
  lane::exec::Timer::instance().forget(this);
}
