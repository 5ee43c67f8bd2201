// lane::Session: the session queue through the C++ wrapper.
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

}  // namespace

TEST_CASE("Session in COLLECT mode: one run sees every queued message and its data") {
  auto lane = lane::Lane::create("cpp-sess", {.max_concurrent = 2});
  REQUIRE(lane.has_value());
  Outcomes outs;
  Gate first_running, release_first;
  std::vector<std::string> texts;
  {
    auto s = lane::Session::create(*lane, "chat-42", {.mode = LANE_SESSION_COLLECT, .debounce = -1ns});
    REQUIRE(s.has_value());
    CHECK(s->key() == "chat-42");
    REQUIRE(s->enqueue({.id = "m1", .on_done = outs.sink()}, std::string("hello"), [&](lane::Context &) {
                 first_running.release();
                 release_first.wait();
               }).has_value());
    first_running.wait();
    for (const char *id : {"m2", "m3"}) {
      auto r = s->enqueue({.id = id, .on_done = outs.sink()}, std::string("text of ") + id, [&](lane::Context &ctx) {
        for (const lane::Message &m : ctx.batch()) {
          const std::string *t = m.as<std::string>();
          REQUIRE(t != nullptr);
          texts.push_back(std::string(m.id) + ":" + *t);
        }
        return 0;
      });
      REQUIRE(r.has_value());
    }
    CHECK(s->queued() == 2);
    CHECK(s->active() == 1);
    release_first.release();
    REQUIRE(outs.wait_for(3));
    // Moving the owner keeps one session; the moved-from one owns nothing.
    lane::Session moved = std::move(*s);
    CHECK(moved.key() == "chat-42");
  }
  CHECK(texts == std::vector<std::string>{"m2:text of m2", "m3:text of m3"});
  for (const char *id : {"m1", "m2", "m3"}) CHECK(outs.get(id).status == LANE_OK);
}

TEST_CASE("Session: an exception in the run fails every message of the batch with its text") {
  auto lane = lane::Lane::create("cpp-sess-throw");
  REQUIRE(lane.has_value());
  Outcomes outs;
  auto s = lane::Session::create(*lane, "k", {.debounce = -1ns});
  REQUIRE(s.has_value());
  REQUIRE(s->enqueue({.id = "boom", .on_done = outs.sink()}, [](lane::Context &) -> int {
               throw std::runtime_error("model said no");
             }).has_value());
  REQUIRE(outs.wait_for(1));
  CHECK(outs.get("boom").status == LANE_ERR_JOB_FAILED);
  CHECK(outs.get("boom").error == "model said no");
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
                                      }});
  REQUIRE(s.has_value());
  auto block = [&](lane::Context &ctx) {
    while (!ctx.cancelled() && !released.load()) ctx.wait(1ms);
    return 0;
  };
  used = 90;  // throttled: one run at a time
  REQUIRE(s->enqueue({.id = "a", .on_done = outs.sink()}, block).has_value());
  REQUIRE(s->enqueue({.id = "b", .on_done = outs.sink()}, block).has_value());
  CHECK(s->active() == 1);
  CHECK(s->queued() == 1);
  auto full = s->enqueue({.id = "c", .on_done = outs.sink()}, block);
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
