// Things that hold jobs back or end them by time: queue timeouts, pause and
// resume, cooldowns, and next_deadline() telling the host when to tick.
#include "core_fixture.hpp"

using namespace lane_test;

TEST_SUITE("timeouts_pause_cooldown") {

TEST_CASE("a job still queued at enqueued + queue_timeout ends with LANE_ERR_TIMEOUT on tick") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  Job &b = lane.submit("b", sec(1), {.queue_timeout_ns = sec(5)});
  CHECK(lane.sched.next_deadline() == sec(6));
  lane.tick(sec(6) - 1);
  CHECK(lane.trace().empty());
  lane.tick(sec(6));
  CHECK(lane.trace() == "O:b/TIMEOUT");
  CHECK(b.status == LANE_ERR_TIMEOUT);
  CHECK(b.finished_at == sec(6));
  lane_stats_t s = lane.stats(sec(6));
  CHECK(s.timed_out == 1);
  CHECK(s.queued == 0);
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  CHECK(lane.sched.find_id("b") == nullptr);
  lane.finish_all(sec(7));
  lane.expect_one_outcome_each();
}

TEST_CASE("an expired queue timeout is applied by any later operation") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0, {.queue_timeout_ns = sec(5)});
  lane.submit("c", 0);
  SUBCASE("a submit") {
    lane.submit("d", sec(10));
    CHECK(lane.trace() == "O:b/TIMEOUT");
    CHECK(lane.last.position == 2);
  }
  SUBCASE("a finish, which then hands the slot to the job behind it") {
    lane.finish("a", sec(10));
    CHECK(lane.trace() == "O:a/OK O:b/TIMEOUT D:c");
  }
  SUBCASE("a cancel") {
    CHECK(lane.cancel("nobody", LANE_CANCEL_QUEUED, sec(10)) == LANE_ERR_NOT_QUEUED);
    CHECK(lane.trace() == "O:b/TIMEOUT");
  }
  lane.finish_all(sec(11));
  lane.expect_one_outcome_each();
}

TEST_CASE("a dispatched job is never timed out") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  Job &b = lane.submit("b", 0, {.queue_timeout_ns = sec(5)});
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/OK D:b");
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.tick(sec(100));
  CHECK(lane.trace().empty());
  CHECK(b.state == JobState::Running);
  lane.finish("b", sec(101));
  CHECK(lane.trace() == "O:b/OK");
  lane.expect_one_outcome_each();
}

TEST_CASE("a job that gets a slot at once never has a queue timeout") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0, {.queue_timeout_ns = sec(1)});
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.tick(sec(10));
  CHECK(lane.trace().empty());
  lane.finish_all(sec(11));
  lane.expect_one_outcome_each();
}

TEST_CASE("queue timeouts fire earliest first, and a cancelled job's timeout is forgotten") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0, {.queue_timeout_ns = sec(10)});
  lane.submit("c", 0, {.queue_timeout_ns = sec(3)});
  lane.submit("d", 0, {.queue_timeout_ns = sec(7)});
  CHECK(lane.sched.next_deadline() == sec(3));
  CHECK(lane.cancel("c", LANE_CANCEL_QUEUED, sec(1)) == LANE_OK);
  CHECK(lane.sched.next_deadline() == sec(7));
  lane.tick(sec(20));
  CHECK(lane.trace() == "O:d/TIMEOUT O:b/TIMEOUT");
  lane.finish_all(sec(21));
  lane.expect_one_outcome_each();
}

TEST_CASE("a job that timed out leaves its id free for reuse") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0, {.queue_timeout_ns = sec(1)});
  lane.tick(sec(1));
  lane.submit("b", sec(1));
  CHECK(lane.last.status == LANE_OK);
  CHECK(lane.last.position == 1);
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("an outcome timeout ends a job that is still queued with LANE_ERR_TIMEOUT") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", sec(1), {.outcome_timeout_ns = sec(5)});
  CHECK(lane.sched.next_deadline() == sec(6));
  lane.tick(sec(6) - 1);
  CHECK(lane.trace().empty());
  lane.tick(sec(6));
  CHECK(lane.trace() == "O:b/TIMEOUT");
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.finish_all(sec(7));
  lane.expect_one_outcome_each();
}

TEST_CASE("an outcome timeout asks a running job to stop with cause LANE_ERR_TIMEOUT") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0, {.outcome_timeout_ns = sec(5)});
  lane.submit("b", 0);
  CHECK(lane.sched.next_deadline() == sec(5));
  lane.tick(sec(5));
  CHECK(lane.trace() == "C:a/TIMEOUT");
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.finish("a", sec(6));
  CHECK(lane.trace() == "O:a/TIMEOUT D:b");
  CHECK(lane.stats(sec(6)).timed_out == 1);
  lane.finish_all(sec(7));
  lane.expect_one_outcome_each();
}

TEST_CASE("an outcome timeout counts from acceptance, across the wait in the queue") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0, {.outcome_timeout_ns = sec(5)});
  lane.finish("a", sec(3));
  CHECK(lane.trace() == "O:a/OK D:b");
  lane.tick(sec(5));
  CHECK(lane.trace() == "C:b/TIMEOUT");
  lane.finish_all(sec(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("a job that ends before its outcome timeout leaves nothing armed") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0, {.outcome_timeout_ns = sec(5)});
  lane.finish("a", sec(1));
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.tick(sec(100));
  CHECK(lane.trace().empty());
  lane.expect_one_outcome_each();
}

TEST_CASE("an outcome timeout of a stopping requeue-on-preempt victim ends it instead of requeueing it") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.flags = kRequeue, .outcome_timeout_ns = sec(10)});
  lane.submit("h", sec(1), {.priority = 5});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.tick(sec(10));
  CHECK(lane.trace().empty());  // it was asked to stop already
  lane.finish("v", sec(11));
  CHECK(lane.trace() == "O:v/TIMEOUT D:h");
  lane.finish_all(sec(12));
  lane.expect_one_outcome_each();
}

TEST_CASE("nothing is dispatched while paused, and resume fills the free slots") {
  CoreLane lane(fifo(2));
  lane.pause();
  lane.submit("a", 0);
  CHECK(lane.trace().empty());
  CHECK(lane.last.position == 1);
  CHECK(lane.last.blocked_by == LANE_BLOCKED_PAUSED);
  lane.submit("b", 0);
  lane.submit("c", 0);
  lane_stats_t s = lane.stats(0);
  CHECK(s.paused == 1);
  CHECK(s.blocked_by == LANE_BLOCKED_PAUSED);
  CHECK(s.running == 0);
  lane.tick(sec(1));
  CHECK(lane.trace().empty());
  lane.resume(sec(2));
  CHECK(lane.trace() == "D:a D:b");
  CHECK(lane.stats(sec(2)).paused == 0);
  lane.finish_all(sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("a pause lets running jobs go on, and a finish while paused hands the slot to nobody") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.pause();
  CHECK(lane.job("a").cancel_cause == LANE_OK);
  lane.finish("a", sec(1));
  CHECK(lane.trace() == "O:a/OK");
  CHECK(lane.sched.running() == 0);
  lane.resume(sec(2));
  CHECK(lane.trace() == "D:b");
  lane.finish_all(sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("a cooldown dispatches nothing until it passes, and next_deadline reports when") {
  CoreLane lane(fifo(1));
  lane.cooldown(sec(5), sec(1));
  CHECK(lane.trace().empty());
  lane.submit("a", sec(2));
  CHECK(lane.trace().empty());
  CHECK(lane.last.blocked_by == LANE_BLOCKED_COOLDOWN);
  lane_stats_t s = lane.stats(sec(2));
  CHECK(s.cooldown_until_ns == sec(5));
  CHECK(s.blocked_by == LANE_BLOCKED_COOLDOWN);
  CHECK(lane.sched.next_deadline() == sec(5));
  lane.tick(sec(5) - 1);
  CHECK(lane.trace().empty());
  lane.tick(sec(5));
  CHECK(lane.trace() == "D:a");
  CHECK(lane.stats(sec(5)).cooldown_until_ns == 0);
  lane.finish_all(sec(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("a finish during a cooldown does not hand the slot on until the cooldown ends") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.cooldown(sec(10), sec(1));
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/OK");
  CHECK(lane.sched.next_deadline() == sec(10));
  lane.tick(sec(10));
  CHECK(lane.trace() == "D:b");
  lane.finish_all(sec(11));
  lane.expect_one_outcome_each();
}

TEST_CASE("the end of a cooldown is noticed by any later operation") {
  CoreLane lane(fifo(1));
  lane.cooldown(sec(5), 0);
  lane.submit("a", sec(1));
  lane.submit("b", sec(10));
  CHECK(lane.trace() == "D:a");
  CHECK(lane.last.position == 1);
  lane.finish_all(sec(11));
  lane.expect_one_outcome_each();
}

TEST_CASE("a cooldown that ends in the past changes nothing, and a new cooldown can end one early") {
  CoreLane lane(fifo(1));
  lane.cooldown(sec(1), sec(2));
  CHECK(lane.stats(sec(2)).cooldown_until_ns == 0);
  lane.submit("a", sec(2));
  CHECK(lane.trace() == "D:a");
  lane.finish("a", sec(3));
  lane.cooldown(sec(100), sec(3));
  lane.submit("b", sec(4));
  CHECK(lane.trace().empty());
  lane.cooldown(0, sec(5));
  CHECK(lane.trace() == "D:b");
  lane.finish_all(sec(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("a cooldown holds back preemption too") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.flags = kPreemptible});
  lane.cooldown(sec(5), sec(1));
  lane.submit("h", sec(2), {.priority = 5});
  CHECK(lane.trace().empty());
  lane.tick(sec(5));
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish_all(sec(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("next_deadline is kNoDeadline when nothing waits") {
  CoreLane lane(fifo(1));
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.submit("a", 0);
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.cooldown(sec(5), 0);  // a cooldown with an empty queue gives tick nothing to do
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.finish_all(sec(1));
  lane.expect_one_outcome_each();
}

TEST_CASE("next_deadline gives the earliest of a queue timeout, a cooldown end and a guard end") {
  CoreLane lane(Config{});  // guard 30 s
  lane.submit("v", 0, {.flags = kPreemptible});
  lane.submit("h", sec(1), {.priority = 5, .queue_timeout_ns = sec(100)});
  CHECK(lane.sched.next_deadline() == sec(30));
  lane.cooldown(sec(20), sec(2));
  CHECK(lane.sched.next_deadline() == sec(20));
  lane.submit("q", sec(3), {.queue_timeout_ns = sec(10)});
  CHECK(lane.sched.next_deadline() == sec(13));
  lane.tick(sec(13));
  CHECK(lane.trace() == "O:q/TIMEOUT");
  CHECK(lane.sched.next_deadline() == sec(20));
  lane.tick(sec(20));
  CHECK(lane.trace().empty());
  CHECK(lane.sched.next_deadline() == sec(30));
  lane.tick(sec(30));
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish_all(sec(31));
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE
