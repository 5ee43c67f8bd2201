// The C++ wrapper: owners, moves, expected results, trampolines.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "lane/lane.hpp"

using namespace std::chrono_literals;

namespace {

// Collects outcomes delivered on library threads.
struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<lane::Outcome> got;

  std::function<void(const lane::Outcome &)> sink() {
    return [this](const lane::Outcome &o) {
      std::lock_guard lk(mu);
      got.push_back(o);
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, 10s, [&] { return got.size() >= n; });
  }
};

}  // namespace

TEST_CASE("a lane runs a lambda job and delivers its outcome once") {
  auto lane = lane::Lane::create("cpp", {.max_concurrent = 2});
  REQUIRE(lane.has_value());
  Outcomes outs;
  std::atomic<int> ran{0};
  auto t = lane->submit({.id = "j1", .tenant = "alice", .priority = 2, .on_done = outs.sink()},
                        [&](lane::Context &ctx) {
                          CHECK(ctx.job_id() == "j1");
                          ran++;
                          return 0;
                        });
  REQUIRE(t.has_value());
  CHECK(t->position == 0);
  REQUIRE(outs.wait_for(1));
  REQUIRE(lane->wait_idle(5s).has_value());
  CHECK(ran == 1);
  CHECK(outs.got.size() == 1);
  CHECK(outs.got[0].status == LANE_OK);
  CHECK(outs.got[0].job_id == "j1");
  CHECK(outs.got[0].lane == "cpp");
}

TEST_CASE("a refused submission is an Error with status, name and message") {
  auto lane = lane::Lane::create("refuse");
  REQUIRE(lane.has_value());
  auto bad = lane->submit({.id = ""}, [](lane::Context &) { return 0; });
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().status == LANE_ERR_INVALID);
  CHECK(std::string(bad.error().name()) == "LANE_ERR_INVALID");
  CHECK_FALSE(bad.error().message.empty());

  REQUIRE(lane->close().has_value());
  auto closed = lane->submit({.id = "late"}, [](lane::Context &) { return 0; });
  REQUIRE_FALSE(closed.has_value());
  CHECK(closed.error().status == LANE_ERR_CLOSED);
}

TEST_CASE("creating a lane with a bad name is an Error, not a crash") {
  auto l = lane::Lane::create("");
  REQUIRE_FALSE(l.has_value());
  CHECK(l.error().status == LANE_ERR_INVALID);
  CHECK(l.error().message.find("name") != std::string::npos);
}

TEST_CASE("an exception thrown by a job body ends the job failed and keeps the message") {
  auto lane = lane::Lane::create("throws");
  REQUIRE(lane.has_value());
  auto out = lane->submit_wait({.id = "boom"}, [](lane::Context &) -> int { throw std::runtime_error("model said no"); });
  REQUIRE(out.has_value());
  CHECK(out->status == LANE_ERR_JOB_FAILED);
  CHECK(out->error == "model said no");
}

TEST_CASE("submit_wait returns the outcome of a void job and of a failing job") {
  auto lane = lane::Lane::create("wait");
  REQUIRE(lane.has_value());
  int side = 0;
  auto ok = lane->submit_wait({.id = "v"}, [&](lane::Context &) { side = 1; });
  REQUIRE(ok.has_value());
  CHECK(ok->ok());
  CHECK(side == 1);
  auto failed = lane->submit_wait({.id = "f"}, [](lane::Context &) { return 3; });
  REQUIRE(failed.has_value());
  CHECK(failed->status == LANE_ERR_JOB_FAILED);
  CHECK(failed->job_code == 3);
}

TEST_CASE("a callable that captures move-only state lives until the outcome") {
  auto lane = lane::Lane::create("move-only", {.max_concurrent = 1});
  REQUIRE(lane.has_value());
  Outcomes outs;
  // Occupy the slot so the second job waits in the queue holding its callable.
  std::atomic<bool> release{false};
  REQUIRE(lane->submit({.id = "blocker", .on_done = outs.sink()},
                       [&](lane::Context &ctx) {
                         while (!release) ctx.wait(1ms);
                       })
              .has_value());
  auto state = std::make_unique<int>(41);
  std::atomic<int> seen{0};
  auto t = lane->submit({.id = "owner", .on_done = outs.sink()},
                        [s = std::move(state), &seen](lane::Context &) { seen = *s + 1; });
  REQUIRE(t.has_value());
  CHECK(t->position == 1);
  release = true;
  REQUIRE(outs.wait_for(2));
  CHECK(seen == 42);
}

TEST_CASE("moving a lane transfers ownership and the moved-from lane destroys nothing") {
  auto created = lane::Lane::create("moved");
  REQUIRE(created.has_value());
  lane::Lane a = std::move(*created);
  lane_t *raw = a.capi();
  lane::Lane b = std::move(a);
  CHECK(b.capi() == raw);
  CHECK(a.capi() == nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  auto out = b.submit_wait({.id = "x"}, [](lane::Context &) { return 0; });
  REQUIRE(out.has_value());
  CHECK(out->ok());
}

TEST_CASE("a LaneRef borrows a lane and does not destroy it") {
  auto lane = lane::Lane::create("borrowed");
  REQUIRE(lane.has_value());
  {
    lane::LaneRef ref = lane->ref();
    CHECK(ref.name() == "borrowed");
    REQUIRE(ref.pause().has_value());
  }
  auto st = lane->stats();
  REQUIRE(st.has_value());
  CHECK(st->paused);
  REQUIRE(lane->resume().has_value());
}

TEST_CASE("cancelling a running job through the wrapper reaches its Context") {
  auto lane = lane::Lane::create("cancel");
  REQUIRE(lane.has_value());
  Outcomes outs;
  std::atomic<bool> started{false};
  REQUIRE(lane->submit({.id = "long", .on_done = outs.sink()},
                       [&](lane::Context &ctx) {
                         started = true;
                         return ctx.wait(10s) == LANE_ERR_CANCELLED ? 0 : 1;
                       })
              .has_value());
  while (!started) std::this_thread::sleep_for(1ms);
  CHECK(lane->cancel("long").error().status == LANE_ERR_NOT_QUEUED);
  CHECK(lane->cancel_token(999).error().status == LANE_ERR_NOT_QUEUED);
  REQUIRE(lane->cancel("long", LANE_CANCEL_RUNNING).has_value());
  REQUIRE(outs.wait_for(1));
  CHECK(outs.got[0].status == LANE_ERR_CANCELLED);
  CHECK(outs.got[0].job_code == 0);
}

TEST_CASE("a host-run job goes through a Port: grant, finish, done") {
  auto port = lane::Port::create();
  REQUIRE(port.has_value());
  CHECK(port->fd() >= 0);
  auto lane = lane::Lane::create("host");
  REQUIRE(lane.has_value());
  int marker = 0;
  auto t = lane->submit_host({.id = "h1", .port = &*port}, &marker);
  REQUIRE(t.has_value());

  std::vector<lane::Event> seen;
  while (seen.size() < 2) {
    auto evs = port->poll(8, 5s);
    REQUIRE(evs.has_value());
    REQUIRE_FALSE(evs->empty());
    for (const lane::Event &ev : *evs) {
      seen.push_back(ev);
      CHECK(ev.user_data == &marker);
      if (ev.kind == LANE_EVENT_GRANT) REQUIRE(lane->finish(ev.job_token, 5).has_value());
    }
  }
  CHECK(seen[0].kind == LANE_EVENT_GRANT);
  CHECK(seen[1].kind == LANE_EVENT_DONE);
  CHECK(seen[1].status == LANE_ERR_JOB_FAILED);
  CHECK(seen[1].job_code == 5);
  CHECK(lane->finish(seen[0].job_token).error().status == LANE_ERR_INVALID);
}

TEST_CASE("submit_host refuses on_done together with user_data") {
  auto port = lane::Port::create();
  REQUIRE(port.has_value());
  auto lane = lane::Lane::create("host-both");
  REQUIRE(lane.has_value());
  int marker = 0;
  auto t = lane->submit_host({.id = "h", .on_done = [](const lane::Outcome &) {}, .port = &*port}, &marker);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().status == LANE_ERR_INVALID);
}

TEST_CASE("a port poll with a timeout and no events returns an empty batch; wake ends a wait") {
  auto port = lane::Port::create();
  REQUIRE(port.has_value());
  auto none = port->poll(4, 1ms);
  REQUIRE(none.has_value());
  CHECK(none->empty());
  std::thread waker([&] { (void)port->wake(); });
  auto woken = port->poll(4, -1ns);
  waker.join();
  REQUIRE(woken.has_value());
  CHECK(woken->empty());
}
