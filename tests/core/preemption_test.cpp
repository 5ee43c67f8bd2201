// Every preemption rule: who may be a victim, which one is chosen, what the
// victim and the preemptor see, and how strict cap, overcommit, requeue and
// the min-runtime guard change that.
#include "core_fixture.hpp"

using namespace lane_test;

TEST_SUITE("preemption") {

TEST_CASE("the default Config preempts with a 30 s guard and a strict cap") {
  Config cfg;
  CHECK(cfg.preemption);
  CHECK(cfg.preempt_min_runtime_ns == sec(30));
  CHECK_FALSE(cfg.preempt_overcommit);
}

TEST_CASE("a higher-priority job preempts a preemptible running job with cause LANE_ERR_PREEMPTED") {
  CoreLane lane(preempting(1, 0));
  Job &v = lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  Job &h = lane.submit("h", sec(1), {.priority = 5});
  CHECK(lane.last.status == LANE_OK);
  CHECK(lane.trace() == "C:v/PREEMPTED");
  CHECK(v.cancel_cause == LANE_ERR_PREEMPTED);
  CHECK(h.state == JobState::Preemptor);
  CHECK(lane.last.position == 1);
  CHECK(lane.stats(sec(1)).preemptions == 1);
  lane.finish("v", sec(2));
  CHECK(lane.trace() == "O:v/PREEMPTED D:h");
  CHECK(v.status == LANE_ERR_PREEMPTED);
  CHECK(lane.stats(sec(2)).preempted == 1);
  lane.finish_all(sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("a job that is not flagged preemptible is never a victim") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.priority = 0});
  lane.submit("h", sec(100), {.priority = 5});
  CHECK(lane.trace().empty());
  CHECK(lane.job("h").state == JobState::Queued);
  CHECK(lane.job("v").cancel_cause == LANE_OK);
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.tick(sec(200));
  CHECK(lane.trace().empty());
  lane.finish_all(sec(201));
  lane.expect_one_outcome_each();
}

TEST_CASE("a job of equal priority is never preempted") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.priority = 5, .flags = kPreemptible});
  lane.submit("h", sec(100), {.priority = 5});
  CHECK(lane.trace().empty());
  CHECK(lane.job("h").state == JobState::Queued);
  CHECK(lane.job("v").cancel_cause == LANE_OK);
  lane.finish_all(sec(101));
  lane.expect_one_outcome_each();
}

TEST_CASE("a job of lower priority never preempts") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.priority = 5, .flags = kPreemptible});
  lane.submit("l", sec(100), {.priority = 1});
  CHECK(lane.trace().empty());
  lane.finish_all(sec(101));
  lane.expect_one_outcome_each();
}

TEST_CASE("the min-runtime guard protects a victim that has run less than it") {
  CoreLane lane(Config{});  // guard 30 s
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  Job &h = lane.submit("h", sec(29), {.priority = 5});
  CHECK(lane.trace().empty());
  CHECK(h.state == JobState::Queued);
  CHECK(lane.last.position == 1);
  CHECK(lane.job("v").cancel_cause == LANE_OK);
  lane.finish_all(sec(29));
  lane.expect_one_outcome_each();
}

TEST_CASE("a victim that has run exactly the guard may be preempted") {
  CoreLane lane(preempting(1, sec(10)));
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(10), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish_all(sec(11));
  lane.expect_one_outcome_each();
}

TEST_CASE("a job blocked only by the guard preempts once the guard has passed, at the time next_deadline reports") {
  CoreLane lane(Config{});
  lane.submit("v", sec(1), {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(5), {.priority = 5});
  lane.submit("q", sec(6), {.priority = 0});
  CHECK(lane.trace().empty());
  CHECK(lane.sched.next_deadline() == sec(31));
  lane.tick(sec(31) - 1);
  CHECK(lane.trace().empty());
  lane.tick(sec(31));
  CHECK(lane.trace() == "C:v/PREEMPTED");
  CHECK(lane.job("h").state == JobState::Preemptor);
  CHECK(lane.sched.running() == 1);
  lane.finish("v", sec(32));
  CHECK(lane.trace() == "O:v/PREEMPTED D:h");
  lane.finish("h", sec(33));
  CHECK(lane.trace() == "O:h/OK D:q");
  lane.finish_all(sec(34));
  lane.expect_one_outcome_each();
}

TEST_CASE("the ETA of a job that will preempt once the guard has passed is the guard's end, not a slot round") {
  CoreLane lane(Config{});  // guard 30 s
  // History: runs of 100 s, so a slot frees by itself only after 100 s.
  lane.submit("old", 0, {.priority = 0});
  lane.finish("old", sec(100));
  lane.submit("v", sec(100), {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(110), {.priority = 5});
  CHECK(lane.last.position == 1);
  CHECK(lane.last.eta_ns == sec(20));  // v is preemptible at 130 s
  // Without a victim (not preemptible, or not lower priority) the slot round stands.
  lane.submit("peer", sec(111), {.priority = 0});
  CHECK(lane.last.eta_ns > sec(20));
  lane.finish_all(sec(200));
  lane.expect_one_outcome_each();
}

TEST_CASE("a non-preemptible running job gives no preemption ETA") {
  CoreLane lane(Config{});
  lane.submit("old", 0, {.priority = 0});
  lane.finish("old", sec(100));
  lane.submit("v", sec(100), {.priority = 0});
  lane.submit("h", sec(110), {.priority = 5});
  CHECK(lane.last.eta_ns == sec(90));  // the mean runtime less what v has run
  lane.finish_all(sec(300));
  lane.expect_one_outcome_each();
}

TEST_CASE("in FAIR_SHARE a guarded preemptor queued behind lower-priority work still preempts via tick") {
  Config cfg = fair(1);  // default guard: 30 s
  CoreLane lane(cfg);
  lane.submit("v", sec(1), {.priority = 0, .flags = kPreemptible});
  lane.submit("q", sec(2), {.priority = 0});
  lane.submit("h", sec(5), {.priority = 5});
  CHECK(lane.last.position == 1);
  CHECK(lane.sched.next_deadline() == sec(31));
  lane.tick(sec(31));
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish("v", sec(32));
  CHECK(lane.trace() == "O:v/PREEMPTED D:h");
  lane.finish("h", sec(33));
  CHECK(lane.trace() == "O:h/OK D:q");
  lane.finish_all(sec(34));
  lane.expect_one_outcome_each();
}

TEST_CASE("a guard of 0 means no guard") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", sec(7), {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(7), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish_all(sec(8));
  lane.expect_one_outcome_each();
}

TEST_CASE("the victim is the lowest priority, then the oldest start") {
  CoreLane lane(preempting(3, 0));
  lane.submit("v1", 0, {.priority = 1, .flags = kPreemptible});
  lane.submit("v2", sec(1), {.priority = 0, .flags = kPreemptible});
  lane.submit("v3", sec(2), {.priority = 0, .flags = kPreemptible});
  lane.submit("h1", sec(3), {.priority = 5});
  CHECK(lane.trace() == "C:v2/PREEMPTED");
  lane.submit("h2", sec(3), {.priority = 5});
  CHECK(lane.trace() == "C:v3/PREEMPTED");
  lane.submit("h3", sec(3), {.priority = 5});
  CHECK(lane.trace() == "C:v1/PREEMPTED");
  lane.submit("h4", sec(3), {.priority = 5});
  CHECK(lane.trace().empty());
  CHECK(lane.job("h4").state == JobState::Queued);
  CHECK(lane.last.position == 4);
  CHECK(lane.last.blocked_by == LANE_BLOCKED_PRIORITY);
  CHECK(lane.sched.running() == 3);
  lane.finish_all(sec(4));
  CHECK(lane.stats(sec(4)).preempted == 3);
  lane.expect_one_outcome_each();
}

TEST_CASE("a victim that has run less than the guard is skipped for one that has run long enough") {
  CoreLane lane(preempting(2, sec(10)));
  lane.submit("old", 0, {.priority = 1, .flags = kPreemptible});
  lane.submit("young", sec(5), {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(12), {.priority = 5});
  CHECK(lane.trace() == "C:old/PREEMPTED");
  CHECK(lane.job("young").cancel_cause == LANE_OK);
  lane.finish_all(sec(13));
  lane.expect_one_outcome_each();
}

TEST_CASE("strict cap: the preemptor waits for the victim and then takes its slot ahead of the queue") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("q", sec(1), {.priority = 0});
  lane.submit("h", sec(2), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  CHECK(lane.sched.running() == 1);
  CHECK(lane.sched.queued() == 2);
  lane.tick(sec(3));
  CHECK(lane.trace().empty());
  CHECK(lane.sched.running() == 1);
  lane.finish("v", sec(4));
  CHECK(lane.trace() == "O:v/PREEMPTED D:h");
  CHECK(lane.sched.running() == 1);
  CHECK(lane.job("q").state == JobState::Queued);
  lane.finish("h", sec(5));
  CHECK(lane.trace() == "O:h/OK D:q");
  lane.finish_all(sec(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("strict cap: a free slot from another job goes to the waiting preemptor first") {
  CoreLane lane(preempting(2, 0));
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("other", 0, {.priority = 9});
  lane.submit("q", sec(1), {.priority = 0});
  lane.submit("h", sec(2), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish("other", sec(3));
  CHECK(lane.trace() == "O:other/OK D:h");
  CHECK(lane.sched.running() == 2);
  lane.finish("v", sec(4));
  CHECK(lane.trace() == "O:v/PREEMPTED D:q");
  lane.finish_all(sec(5));
  lane.expect_one_outcome_each();
}

TEST_CASE("preempt_overcommit dispatches the preemptor at once, one over the cap until the victim returns") {
  Config cfg = preempting(1, 0);
  cfg.preempt_overcommit = true;
  CoreLane lane(cfg);
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("q", sec(1), {.priority = 0});
  lane.submit("h", sec(2), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED D:h");
  CHECK(lane.last.position == 0);
  CHECK(lane.sched.running() == 2);
  lane.finish("v", sec(3));
  CHECK(lane.trace() == "O:v/PREEMPTED");
  CHECK(lane.sched.running() == 1);
  CHECK(lane.job("q").state == JobState::Queued);
  lane.finish("h", sec(4));
  CHECK(lane.trace() == "O:h/OK D:q");
  lane.finish_all(sec(5));
  lane.expect_one_outcome_each();
}

TEST_CASE("a second preemptor waits behind the first when no other victim is left") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("h1", sec(1), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.submit("h2", sec(1), {.priority = 5});
  CHECK(lane.trace().empty());
  CHECK(lane.last.position == 2);
  lane.finish("v", sec(2));
  CHECK(lane.trace() == "O:v/PREEMPTED D:h1");
  lane.finish("h1", sec(3));
  CHECK(lane.trace() == "O:h1/OK D:h2");
  lane.finish_all(sec(4));
  lane.expect_one_outcome_each();
}

TEST_CASE("cancelling a waiting preemptor ends it and the victim's slot goes to the queue") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("q", sec(1), {.priority = 0});
  lane.submit("h", sec(2), {.priority = 5});
  CHECK(lane.cancel("h", LANE_CANCEL_QUEUED, sec(3)) == LANE_OK);
  CHECK(lane.trace() == "O:h/CANCELLED");
  lane.finish("v", sec(4));
  CHECK(lane.trace() == "O:v/PREEMPTED D:q");
  lane.finish_all(sec(5));
  lane.expect_one_outcome_each();
}

TEST_CASE("REQUEUE_ON_PREEMPT puts the victim back in the queue with its original enqueue time and no outcome") {
  CoreLane lane(preempting(1, 0));
  Job &v = lane.submit("v", sec(1), {.priority = 0, .flags = kRequeue});
  lane.submit("q", sec(2), {.priority = 0});
  lane.submit("h", sec(3), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish("v", sec(4));
  CHECK(lane.trace() == "D:h");
  CHECK(v.state == JobState::Queued);
  CHECK(v.requeued);
  CHECK(v.enqueued_at == sec(1));
  CHECK(v.cancel_cause == LANE_OK);
  CHECK(lane.outcomes(v) == 0);
  lane_stats_t s = lane.stats(sec(4));
  CHECK(s.preempted == 0);
  CHECK(s.queued == 2);
  CHECK(s.oldest_queued_at_ns == sec(1));
  CHECK(s.preemptions == 1);
  // Older than q, so it runs before q.
  lane.finish("h", sec(5));
  CHECK(lane.trace() == "O:h/OK D:v");
  lane.finish("v", sec(6));
  CHECK(lane.trace() == "O:v/OK D:q");
  CHECK(lane.dispatches(v) == 2);
  CHECK(lane.outcomes(v) == 1);
  CHECK(v.status == LANE_OK);
  lane.finish_all(sec(7));
  CHECK(lane.stats(sec(7)).completed == 3);
  lane.expect_one_outcome_each();
}

TEST_CASE("a requeued victim preempted twice still gets exactly one outcome") {
  CoreLane lane(preempting(1, 0));
  Job &v = lane.submit("v", 0, {.priority = 0, .flags = kRequeue});
  lane.submit("h1", sec(1), {.priority = 5});
  lane.finish("v", sec(2));
  lane.finish("h1", sec(3));
  CHECK(lane.trace() == "O:h1/OK D:v");
  lane.submit("h2", sec(4), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish("v", sec(5));
  CHECK(lane.trace() == "D:h2");
  lane.finish("h2", sec(6));
  CHECK(lane.trace() == "O:h2/OK D:v");
  lane.finish("v", sec(7), 3);
  CHECK(lane.trace() == "O:v/FAILED");
  CHECK(lane.dispatches(v) == 3);
  lane_stats_t s = lane.stats(sec(7));
  CHECK(s.preemptions == 2);
  CHECK(s.preempted == 0);
  CHECK(s.failed == 1);
  CHECK(s.submitted == 3);
  lane.expect_one_outcome_each();
}

TEST_CASE("with overcommit a requeued victim waits for a slot like any queued job") {
  Config cfg = preempting(1, 0);
  cfg.preempt_overcommit = true;
  CoreLane lane(cfg);
  lane.submit("v", 0, {.priority = 0, .flags = kRequeue});
  lane.submit("h", sec(1), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED D:h");
  lane.finish("v", sec(2));
  CHECK(lane.trace().empty());
  CHECK(lane.job("v").state == JobState::Queued);
  lane.finish("h", sec(3));
  CHECK(lane.trace() == "O:h/OK D:v");
  lane.finish_all(sec(4));
  lane.expect_one_outcome_each();
}

TEST_CASE("Config.preemption = false turns preemption off") {
  Config cfg = preempting(1, 0);
  cfg.preemption = false;
  CoreLane lane(cfg);
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(100), {.priority = 5});
  CHECK(lane.trace().empty());
  CHECK(lane.job("h").state == JobState::Queued);
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.tick(sec(200));
  CHECK(lane.trace().empty());
  lane.finish_all(sec(201));
  lane.expect_one_outcome_each();
}

TEST_CASE("set_preemption turns preemption off and on, and on again preempts for a waiting job at once") {
  CoreLane lane(preempting(1, 0));
  lane.set_preemption(false, 0, 0);
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(1), {.priority = 5});
  CHECK(lane.trace().empty());
  lane.set_preemption(true, 0, sec(2));
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish("v", sec(3));
  CHECK(lane.trace() == "O:v/PREEMPTED D:h");
  lane.finish_all(sec(4));
  lane.expect_one_outcome_each();
}

TEST_CASE("set_preemption takes the guard literally") {
  CoreLane lane(preempting(1, 0));
  lane.set_preemption(true, sec(10), 0);
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(5), {.priority = 5});
  CHECK(lane.trace().empty());
  CHECK(lane.sched.next_deadline() == sec(10));
  lane.tick(sec(10));
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish_all(sec(11));
  lane.expect_one_outcome_each();
}

TEST_CASE("a paused lane does not preempt, and resume preempts for the waiting job") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.pause();
  lane.submit("h", sec(1), {.priority = 5});
  CHECK(lane.trace().empty());
  CHECK(lane.last.blocked_by == LANE_BLOCKED_PAUSED);
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.resume(sec(2));
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish_all(sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("a preempted victim that has not returned is not chosen again") {
  CoreLane lane(preempting(2, 0));
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("w", 0, {.priority = 0});
  lane.submit("h1", sec(1), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.submit("h2", sec(1), {.priority = 6});
  CHECK(lane.trace().empty());
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.finish_all(sec(2));
  CHECK(lane.stats(sec(2)).preemptions == 1);
  lane.expect_one_outcome_each();
}

// Regression: preempt_for_head once took the head out with queue_->remove()
// instead of unqueue(), leaving its queue timeout armed; with overcommit the
// stale deadline later "timed out" the running job (second outcome, running
// list corrupted).
TEST_CASE("a job that preempts via tick no longer has a queue timeout") {
  Config cfg = preempting(1, sec(10));
  cfg.preempt_overcommit = true;
  CoreLane lane(cfg);
  lane.submit("v", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("h", sec(1), {.priority = 5, .queue_timeout_ns = sec(20)});
  CHECK(lane.sched.next_deadline() == sec(10));
  lane.tick(sec(10));
  CHECK(lane.trace() == "C:v/PREEMPTED D:h");
  // Nothing waits any more. REQUIRE: with a stale deadline, going on would
  // corrupt the running list.
  REQUIRE(lane.sched.next_deadline() == kNoDeadline);
  lane.tick(sec(21));
  CHECK(lane.trace().empty());
  CHECK(lane.job("h").state == JobState::Running);
  lane.finish_all(sec(22));
  lane.expect_one_outcome_each();
}

// Regression: a cancel of a running job that was already preempted with
// REQUEUE_ON_PREEMPT used to return LANE_OK but be ignored (the first cause
// won), so the job was requeued and ran again.
TEST_CASE("a cancelled requeue-on-preempt victim is not requeued") {
  CoreLane lane(preempting(1, 0));
  Job &v = lane.submit("v", 0, {.priority = 0, .flags = kRequeue});
  lane.submit("h", sec(1), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  CHECK(lane.cancel("v", LANE_CANCEL_RUNNING, sec(2)) == LANE_OK);
  lane.finish("v", sec(3));
  CHECK(lane.outcomes(v) == 1);
  CHECK(v.state == JobState::Ended);
  CHECK(v.status == LANE_ERR_CANCELLED);
  CHECK(lane.trace() == "O:v/CANCELLED D:h");
  lane.finish_all(sec(4));
  CHECK(lane.dispatches(v) == 1);
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE

// Found by the stress test: finish() used to run the cooldown's end (and so
// preemption) before the finishing job had left the running set, so it could
// be chosen as its own victim and be requeued after it had completed.
TEST_CASE("a job finishing as a cooldown ends is not preempted inside its own finish") {
  CoreLane lane(preempting(1, 0));
  Job &x = lane.submit("x", 0, {.priority = 0, .flags = kRequeue});
  lane.cooldown(ms(10), 0);
  lane.submit("y", ms(1), {.priority = 5});
  CHECK(lane.job("y").state == JobState::Queued);  // cooling down: no preemption yet
  lane.finish("x", ms(20));
  CHECK(lane.trace() == "O:x/OK D:y");
  CHECK(x.status == LANE_OK);
  CHECK(lane.dispatches(x) == 1);
  lane.finish_all(ms(30));
  lane.expect_one_outcome_each();
}

TEST_CASE("on a FIFO lane the highest-priority queued job preempts once the guard has passed, wherever it waits") {
  CoreLane lane(preempting(1, sec(10)));
  lane.submit("batch", 0, {.priority = 0, .flags = kPreemptible});
  lane.submit("next-batch", sec(1), {.priority = 0});
  lane.submit("interactive", sec(2), {.priority = 9});
  CHECK(lane.job("interactive").state == JobState::Queued);  // the guard protects batch until 10 s
  CHECK(lane.sched.next_deadline() == sec(10));
  lane.tick(sec(10));
  CHECK(lane.trace() == "C:batch/PREEMPTED");
  lane.finish("batch", sec(11));
  CHECK(lane.trace() == "O:batch/PREEMPTED D:interactive");
  lane.finish_all(sec(12));
  lane.expect_one_outcome_each();
}
