// Ending jobs from outside: cancel by id (queued, running, unknown) and
// closing a lane in DRAIN or CANCEL mode.
#include "core_fixture.hpp"

using namespace lane_test;

TEST_SUITE("close_cancel") {

TEST_CASE("cancelling a queued job ends it with LANE_ERR_CANCELLED") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  Job &b = lane.submit("b", 0);
  lane.submit("c", 0);
  CHECK(lane.cancel("b", LANE_CANCEL_QUEUED, sec(1)) == LANE_OK);
  CHECK(lane.trace() == "O:b/CANCELLED");
  CHECK(b.status == LANE_ERR_CANCELLED);
  CHECK(b.started_at == 0);
  lane_stats_t s = lane.stats(sec(1));
  CHECK(s.cancelled == 1);
  CHECK(s.queued == 1);
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/OK D:c");
  lane.finish_all(sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("cancelling an unknown id returns LANE_ERR_NOT_QUEUED and changes nothing") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  CHECK(lane.cancel("zzz", LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING, sec(1)) == LANE_ERR_NOT_QUEUED);
  CHECK(lane.trace().empty());
  CHECK(lane.sched.queued() == 1);
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("cancelling an ended job's id returns LANE_ERR_NOT_QUEUED") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.finish("a", sec(1));
  CHECK(lane.cancel("a", LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING, sec(2)) == LANE_ERR_NOT_QUEUED);
  CHECK(lane.trace().empty());
  lane.expect_one_outcome_each();
}

TEST_CASE("a running job is not cancelled without LANE_CANCEL_RUNNING") {
  CoreLane lane(fifo(1));
  Job &a = lane.submit("a", 0);
  CHECK(lane.cancel("a", LANE_CANCEL_QUEUED, sec(1)) == LANE_ERR_NOT_QUEUED);
  CHECK(lane.trace().empty());
  CHECK(a.cancel_cause == LANE_OK);
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/OK");
  lane.expect_one_outcome_each();
}

TEST_CASE("a queued job is not cancelled with LANE_CANCEL_RUNNING alone") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  CHECK(lane.cancel("b", LANE_CANCEL_RUNNING, sec(1)) == LANE_ERR_NOT_QUEUED);
  CHECK(lane.trace().empty());
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

TEST_CASE("LANE_CANCEL_RUNNING sends a Cancel effect, and the finish ends the job CANCELLED and hands the slot on") {
  CoreLane lane(fifo(1));
  Job &a = lane.submit("a", 0);
  lane.submit("b", 0);
  CHECK(lane.cancel("a", LANE_CANCEL_RUNNING, sec(1)) == LANE_OK);
  CHECK(lane.trace() == "C:a/CANCELLED");
  CHECK(a.state == JobState::Running);
  CHECK(lane.sched.running() == 1);
  lane.finish("a", sec(2), 0);
  CHECK(lane.trace() == "O:a/CANCELLED D:b");
  CHECK(a.status == LANE_ERR_CANCELLED);
  CHECK(lane.stats(sec(2)).cancelled == 1);
  lane.finish_all(sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("a second cancel of a running job sends no second Cancel effect") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  CHECK(lane.cancel("a", LANE_CANCEL_RUNNING, sec(1)) == LANE_OK);
  CHECK(lane.cancel("a", LANE_CANCEL_RUNNING, sec(2)) == LANE_OK);
  CHECK(lane.trace().empty());
  lane.finish("a", sec(3));
  CHECK(lane.trace() == "O:a/CANCELLED");
  lane.expect_one_outcome_each();
}

TEST_CASE("cancel_job reports whether it did anything") {
  CoreLane lane(fifo(1));
  Job &a = lane.submit("a", 0);
  lane::core::Effects out;
  CHECK(lane.sched.cancel_job(&a, LANE_ERR_TIMEOUT, sec(1), out));
  CHECK(out.size() == 1);
  CHECK(a.cancel_cause == LANE_ERR_TIMEOUT);
  lane::core::Effects again;
  CHECK_FALSE(lane.sched.cancel_job(&a, LANE_ERR_CANCELLED, sec(1), again));
  CHECK(again.empty());
  CHECK(a.cancel_cause == LANE_ERR_TIMEOUT);
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/TIMEOUT");
  CHECK(lane.stats(sec(2)).timed_out == 1);
}

TEST_CASE("close DRAIN refuses new submissions with LANE_ERR_CLOSED and still runs what is queued") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.close(LANE_CLOSE_DRAIN, sec(1));
  CHECK(lane.trace().empty());
  CHECK(lane.sched.closed());
  Job &c = lane.submit("c", sec(1));
  CHECK(lane.last.status == LANE_ERR_CLOSED);
  CHECK(lane.trace().empty());
  CHECK(c.state == JobState::New);
  CHECK(lane.stats(sec(1)).refused == 1);
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/OK D:b");
  lane.finish("b", sec(3));
  CHECK(lane.trace() == "O:b/OK");
  CHECK(lane.stats(sec(3)).closed == 0);
  lane.expect_one_outcome_each();
}

TEST_CASE("close CANCEL ends the queue at once and cancels running jobs with cause LANE_ERR_CLOSED") {
  CoreLane lane(fifo(2));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.submit("c", 0);
  lane.submit("d", 0);
  lane.close(LANE_CLOSE_CANCEL, sec(1));
  CHECK(lane.trace() == "O:c/CLOSED O:d/CLOSED C:a/CLOSED C:b/CLOSED");
  CHECK(lane.sched.queued() == 0);
  CHECK(lane.sched.running() == 2);
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/CLOSED");
  lane.finish("b", sec(3), 5);
  CHECK(lane.trace() == "O:b/CLOSED");
  CHECK(lane.stats(sec(3)).closed == 4);
  lane.submit("e", sec(4));
  CHECK(lane.last.status == LANE_ERR_CLOSED);
  lane.expect_one_outcome_each();
}

TEST_CASE("close CANCEL after close DRAIN escalates") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.close(LANE_CLOSE_DRAIN, sec(1));
  lane.close(LANE_CLOSE_CANCEL, sec(2));
  CHECK(lane.trace() == "O:b/CLOSED C:a/CLOSED");
  lane.finish_all(sec(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("close CANCEL keeps the cause of a running job that was already asked to stop") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  CHECK(lane.cancel("a", LANE_CANCEL_RUNNING, sec(1)) == LANE_OK);
  lane.close(LANE_CLOSE_CANCEL, sec(2));
  CHECK(lane.trace().empty());
  lane.finish("a", sec(3));
  CHECK(lane.trace() == "O:a/CANCELLED");
  lane.expect_one_outcome_each();
}

TEST_CASE("close CANCEL ends a preemptor that waits for its victim; the victim ends PREEMPTED") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.flags = kPreemptible});
  lane.submit("h", sec(1), {.priority = 5});
  lane.close(LANE_CLOSE_CANCEL, sec(2));
  CHECK(lane.trace() == "O:h/CLOSED");
  lane.finish("v", sec(3));
  CHECK(lane.trace() == "O:v/PREEMPTED");
  lane.expect_one_outcome_each();
}

TEST_CASE("after close CANCEL a preempted requeue-on-preempt victim ends CLOSED instead of going back to the queue") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.flags = kRequeue});
  lane.submit("h", sec(1), {.priority = 5});
  lane.close(LANE_CLOSE_CANCEL, sec(2));
  lane.finish("v", sec(3));
  CHECK(lane.trace() == "O:v/CLOSED");
  CHECK(lane.sched.queued() == 0);
  lane.expect_one_outcome_each();
}

TEST_CASE("after close DRAIN a preempted requeue-on-preempt victim is requeued and drained") {
  CoreLane lane(preempting(1, 0));
  lane.submit("v", 0, {.flags = kRequeue});
  lane.submit("h", sec(1), {.priority = 5});
  lane.close(LANE_CLOSE_DRAIN, sec(2));
  lane.finish("v", sec(3));
  CHECK(lane.trace() == "D:h");
  CHECK(lane.sched.queued() == 1);
  lane.finish("h", sec(4));
  CHECK(lane.trace() == "O:h/OK D:v");
  lane.finish("v", sec(5));
  CHECK(lane.trace() == "O:v/OK");
  lane.expect_one_outcome_each();
}

TEST_CASE("close CANCEL on a paused lane still ends everything queued") {
  CoreLane lane(fifo(1));
  lane.pause();
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.close(LANE_CLOSE_CANCEL, sec(1));
  CHECK(lane.trace() == "O:a/CLOSED O:b/CLOSED");
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.expect_one_outcome_each();
}

TEST_CASE("close CANCEL in FAIR_SHARE ends every queued job of every tenant and priority") {
  CoreLane lane(fair(1));
  lane.submit("x", 0, {.tenant = "a"});
  lane.submit("a1", 0, {.priority = 1, .tenant = "a"});
  lane.submit("b1", 0, {.priority = 0, .tenant = "b"});
  lane.submit("b2", 0, {.priority = 3, .tenant = "b", .queue_timeout_ns = sec(5)});
  lane.close(LANE_CLOSE_CANCEL, sec(1));
  CHECK(lane.sched.queued() == 0);
  CHECK(lane.stats(sec(1)).closed == 3);
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.tick(sec(10));
  CHECK(lane.trace().empty());
  lane.finish_all(sec(11));
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE
