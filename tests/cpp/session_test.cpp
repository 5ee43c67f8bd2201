// lane::Session: the session queue through the C++ wrapper. The run is the
// session's callable; each message brings an id, data and its own on_done.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "lane/lane.hpp"

using namespace std::chrono_literals;

namespace {

struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, lane::Outcome> by_id;

  std::function<void(const lane::Outcome &)> sink() {
    return [this](const lane::Outcome &o) {
      std::lock_guard lk(mu);
      CHECK(by_id.count(o.job_id) == 0);
      by_id[o.job_id] = o;
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, 10s, [&] { return by_id.size() >= n; });
  }
  lane::Outcome get(const std::string &id) {
    std::lock_guard lk(mu);
    return by_id[id];
  }
};

struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void release() {
    std::lock_guard lk(mu);
    open = true;
    cv.notify_all();
  }
  void wait() {
    std::unique_lock lk(mu);
    cv.wait_for(lk, 10s, [&] { return open; });
  }
};

// The texts of a run's batch, "id:text" each.
std::vector<std::string> texts_of(const lane::Context &ctx) {
  std::vector<std::string> out;
  for (const lane::Message &m : ctx.batch()) {
    const std::string *t = m.as<std::string>();
    out.push_back(std::string(m.id) + ":" + (t ? *t : "<no data>"));
  }
  return out;
}

}  // namespace

TEST_CASE("Session in COLLECT mode: the session's run sees every queued message and its data") {
  auto lane = lane::Lane::create("cpp-sess", {.max_concurrent = 2});
  REQUIRE(lane.has_value());
  Outcomes outs;
  Gate first_running, release_first;
  std::mutex mu;
  std::vector<std::vector<std::string>> runs;
  {
    auto s = lane::Session::create(*lane, "chat-42", {.mode = LANE_SESSION_COLLECT, .debounce = -1ns},
                                   [&](lane::Context &ctx) {
                                     auto texts = texts_of(ctx);
                                     bool first = false;
                                     {
                                       std::lock_guard lk(mu);
                                       runs.push_back(texts);
                                       first = runs.size() == 1;
                                     }
                                     if (first) {
                                       first_running.release();
                                       release_first.wait();
                                     }
                                   });
    REQUIRE(s.has_value());
    CHECK(s->key() == "chat-42");
    REQUIRE(s->enqueue({.id = "m1", .on_done = outs.sink()}, std::string("hello")).has_value());
    first_running.wait();
    for (std::string id : {"m2", "m3"}) {  // std::string ids
      REQUIRE(s->enqueue({.id = id, .on_done = outs.sink()}, "text of " + id).has_value());
    }
    CHECK(s->queued() == 2);
    CHECK(s->active() == 1);
    release_first.release();
    REQUIRE(outs.wait_for(3));
  }
  REQUIRE(runs.size() == 2);
  CHECK(runs[0] == std::vector<std::string>{"m1:hello"});
  CHECK(runs[1] == std::vector<std::string>{"m2:text of m2", "m3:text of m3"});
  for (const char *id : {"m1", "m2", "m3"}) CHECK(outs.get(id).status == LANE_OK);
}

TEST_CASE("Session in COLLECT mode: a merged run that throws fails every message with the exception's text") {
  auto lane = lane::Lane::create("cpp-sess-throw");
  REQUIRE(lane.has_value());
  Outcomes outs;
  Gate first_running, release_first;
  std::atomic<int> run_no{0};
  auto s = lane::Session::create(*lane, "k", {.mode = LANE_SESSION_COLLECT, .debounce = -1ns},
                                 [&](lane::Context &ctx) -> int {
                                   if (run_no++ == 0) {
                                     first_running.release();
                                     release_first.wait();
                                     return 0;
                                   }
                                   CHECK(ctx.batch().size() == 3);
                                   throw std::runtime_error("model said no");
                                 });
  REQUIRE(s.has_value());
  REQUIRE(s->enqueue({.id = "m0", .on_done = outs.sink()}).has_value());
  first_running.wait();
  for (const char *id : {"m1", "m2", "m3"}) REQUIRE(s->enqueue({.id = id, .on_done = outs.sink()}).has_value());
  release_first.release();
  REQUIRE(outs.wait_for(4));
  CHECK(outs.get("m0").ok());
  for (const char *id : {"m1", "m2", "m3"}) {
    CAPTURE(id);
    CHECK(outs.get(id).status == LANE_ERR_JOB_FAILED);
    CHECK(outs.get(id).error == "model said no");
  }
}

TEST_CASE("Session in STEER mode: a message taken from the mailbox shares the run's thrown text") {
  auto lane = lane::Lane::create("cpp-steer");
  REQUIRE(lane.has_value());
  Outcomes outs;
  Gate running, steered;
  auto s = lane::Session::create(*lane, "k", {.mode = LANE_SESSION_STEER, .debounce = -1ns},
                                 [&](lane::Context &ctx) -> int {
                                   running.release();
                                   steered.wait();
                                   auto m = ctx.next_message();
                                   REQUIRE(m.has_value());
                                   CHECK(m->id == "s2");
                                   CHECK(*m->as<std::string>() == "turn left");
                                   throw std::runtime_error("lost");
                                 });
  REQUIRE(s.has_value());
  REQUIRE(s->enqueue({.id = "s1", .flags = LANE_JOB_STEERABLE, .on_done = outs.sink()}).has_value());
  running.wait();
  REQUIRE(s->enqueue({.id = "s2", .on_done = outs.sink()}, std::string("turn left")).has_value());
  steered.release();
  REQUIRE(outs.wait_for(2));
  for (const char *id : {"s1", "s2"}) {
    CAPTURE(id);
    CHECK(outs.get(id).status == LANE_ERR_JOB_FAILED);
    CHECK(outs.get(id).error == "lost");
  }
}

TEST_CASE("Session: refusals are Errors; cancel_all, reset and the throttle callable") {
  auto lane = lane::Lane::create("cpp-sess-ctl", {.max_concurrent = 4});
  REQUIRE(lane.has_value());
  Outcomes outs;
  std::atomic<std::int64_t> used{0};
  std::atomic<bool> released{false};
  auto s = lane::Session::create(*lane, "k",
                                 {.cap = 1,
                                  .drop = LANE_DROP_NEW,
                                  .debounce = -1ns,
                                  .max_concurrent = 2,
                                  .token_estimate =
                                      [&](std::string_view key, std::int64_t &tokens, std::int64_t &window) {
                                        CHECK(key == "k");
                                        tokens = used.load();
                                        window = 100;
                                        return true;
                                      }},
                                 [&](lane::Context &ctx) {
                                   while (!ctx.cancelled() && !released.load()) (void)ctx.wait(1ms);
                                   return 0;
                                 });
  REQUIRE(s.has_value());
  used = 90;  // throttled: one run at a time
  REQUIRE(s->enqueue({.id = "a", .on_done = outs.sink()}).has_value());
  REQUIRE(s->enqueue({.id = "b", .on_done = outs.sink()}).has_value());
  CHECK(s->active() == 1);
  CHECK(s->queued() == 1);
  auto full = s->enqueue({.id = "c", .on_done = outs.sink()});
  REQUIRE_FALSE(full.has_value());
  CHECK(full.error().status == LANE_ERR_QUEUE_FULL);
  CHECK(std::string(full.error().name()) == "LANE_ERR_QUEUE_FULL");
  CHECK_FALSE(full.error().message.empty());
  CHECK(s->cancel_all() == 1);
  REQUIRE(outs.wait_for(2));
  CHECK(outs.get("a").status == LANE_ERR_CANCELLED);
  CHECK(outs.get("b").status == LANE_ERR_STALE);
  CHECK(s->reset().has_value());
  CHECK_FALSE(s->set_max_concurrent(0).has_value());
  released = true;
}

TEST_CASE("Session: a host-run session refuses enqueue; enqueue_host delivers its on_done") {
  auto lane = lane::Lane::create("cpp-sess-host");
  REQUIRE(lane.has_value());
  auto port = lane::Port::create();
  REQUIRE(port.has_value());
  auto s = lane::Session::create(*lane, "h", {.debounce = -1ns});
  REQUIRE(s.has_value());
  auto no_run = s->enqueue({.id = "x"});
  REQUIRE_FALSE(no_run.has_value());
  CHECK(no_run.error().status == LANE_ERR_INVALID);
  CHECK(no_run.error().message.find("enqueue_host") != std::string::npos);

  Outcomes outs;
  int marker = 0;
  CHECK(s->enqueue_host({.id = "both", .on_done = outs.sink(), .port = &*port}, &marker).error().status ==
        LANE_ERR_INVALID);
  REQUIRE(s->enqueue_host({.id = "h1", .on_done = outs.sink(), .port = &*port}).has_value());
  bool finished = false;
  for (int i = 0; i < 100 && !finished; ++i) {
    auto evs = port->poll(4, 5s);
    REQUIRE(evs.has_value());
    for (const lane::Event &ev : *evs) {
      if (ev.kind != LANE_EVENT_GRANT) continue;
      {
        auto ctx = ev.context();
        REQUIRE(ctx.has_value());
        CHECK(ctx->batch().size() == 1);
        CHECK(ctx->batch()[0].id == "h1");
      }
      REQUIRE(ev.lane.finish(ev.job_token, 0).has_value());
      finished = true;
    }
  }
  REQUIRE(finished);
  REQUIRE(outs.wait_for(1));
  CHECK(outs.get("h1").ok());
}
