// lane::Registry, lane::Sampler and lane::sqlite_history over the C registry.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "lane/lane.hpp"

using namespace std::chrono_literals;

namespace {

// A fake clock the test moves by hand (read from library threads too).
struct FakeClock {
  std::atomic<std::int64_t> ns;
  explicit FakeClock(std::int64_t start) : ns(start) {}
  lane::ClockFn fn() {
    return [this] { return lane::TimePoint(lane::Nanos(ns.load())); };
  }
};

}  // namespace

TEST_CASE("a registry reads each lane's size from a callable config and resizes on reload") {
  std::map<std::string, std::int64_t, std::less<>> config{{"lanes.llm.max_concurrent", 3}};
  std::mutex mu;
  auto reg = lane::Registry::create({.config_int = [&](std::string_view key, std::int64_t def) {
    std::lock_guard lk(mu);
    auto it = config.find(key);
    return it == config.end() ? def : it->second;
  }});
  REQUIRE(reg.has_value());
  auto llm = reg->lane("llm");
  REQUIRE(llm.has_value());
  CHECK(llm->stats()->max_concurrent == 3);
  CHECK(reg->lane("tools")->stats()->max_concurrent == 1);

  {
    std::lock_guard lk(mu);
    config["lanes.llm.max_concurrent"] = 5;
  }
  REQUIRE(reg->reload().has_value());
  CHECK(llm->stats()->max_concurrent == 5);

  auto out = llm->submit_wait({.id = "call"}, [](lane::Context &) { return 0; });
  REQUIRE(out.has_value());
  CHECK(out->ok());
  CHECK(out->lane == "llm");
}

TEST_CASE("registry lanes are borrowed: names, get, remove, and a bad value logged through the callable") {
  std::vector<std::string> logged;
  auto reg = lane::Registry::create({
      .config_int = [](std::string_view, std::int64_t) -> std::int64_t { return -4; },
      .log = [&](std::int32_t, std::string_view m) { logged.emplace_back(m); },
  });
  REQUIRE(reg.has_value());
  REQUIRE(reg->lane("b").has_value());
  REQUIRE(reg->lane("a").has_value());
  CHECK(reg->names() == std::vector<std::string>{"a", "b"});
  CHECK(reg->lane("a")->stats()->max_concurrent == 1);  // -4 fell back to the default
  CHECK_FALSE(logged.empty());

  CHECK(reg->get("a").has_value());
  CHECK_FALSE(reg->get("nope").has_value());
  REQUIRE(reg->remove("a").has_value());
  CHECK_FALSE(reg->get("a").has_value());
  auto gone = reg->remove("a");
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().status == LANE_ERR_INVALID);

  auto bad = reg->lane("no spaces allowed");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().status == LANE_ERR_INVALID);
  CHECK_FALSE(bad.error().message.empty());
}

TEST_CASE("metrics grows its buffer until the whole exposition fits") {
  auto reg = lane::Registry::create();
  REQUIRE(reg.has_value());
  for (int i = 0; i < 40; ++i) REQUIRE(reg->lane(("lane-" + std::to_string(i)).c_str()).has_value());
  auto text = reg->metrics();
  REQUIRE(text.has_value());
  CHECK(text->size() > 4096);
  CHECK(text->find("lane_running{lane=\"lane-39\"}") != std::string::npos);
  CHECK(text->back() == '\n');
}

TEST_CASE("a sampler feeds a callable sink one row per lane, and a throwing sink is a failure, not a crash") {
  FakeClock now(1'000'000'000);
  auto reg = lane::Registry::create({.clock = now.fn()});
  REQUIRE(reg.has_value());
  REQUIRE(reg->lane("llm").has_value());
  REQUIRE(reg->lane("gpu").has_value());
  std::vector<std::string> rows;
  std::atomic<bool> fail{false};
  auto sampler = lane::Sampler::create(*reg, {
      .sink = [&](std::string_view lane, std::uint32_t, std::uint32_t, lane::TimePoint at) -> std::int32_t {
        if (fail) throw std::runtime_error("disk full");
        rows.push_back(std::string(lane) + "@" + std::to_string(at.time_since_epoch().count()));
        return 0;
      },
      .clock = now.fn(),
  });
  REQUIRE(sampler.has_value());
  REQUIRE(sampler->sample_once().has_value());
  CHECK(rows == std::vector<std::string>{"gpu@1000000000", "llm@1000000000"});
  fail = true;
  static std::atomic<int> reports{0};
  reports = 0;
  auto previous = lane::set_report_handler([](const lane::Report &r) {
    if (r.where == "sink" && r.message == "disk full") reports++;
  });
  auto failed = sampler->sample_once();
  lane::set_report_handler(previous);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().status == LANE_ERR_IO);
  CHECK(reports == 2);  // one per lane: the throw is reported, not swallowed
  fail = false;
  now.ns += 1'000'000'000;
  REQUIRE(sampler->sample_once().has_value());
  CHECK(rows.size() == 4);
}

#ifdef LANE_TEST_NO_SQLITE
TEST_CASE("without SQLite, Sampler::create with a sqlite_path fails with LANE_ERR_UNSUPPORTED") {
  auto reg = lane::Registry::create({});
  REQUIRE(reg.has_value());
  auto sampler = lane::Sampler::create(*reg, {.sqlite_path = "/tmp/lane-cpp-no-sqlite.db"});
  REQUIRE_FALSE(sampler.has_value());
  CHECK(sampler.error().status == LANE_ERR_UNSUPPORTED);
}
#else
TEST_CASE("the SQLite history written by a Sampler reads back through sqlite_history") {
  char dir[] = "/tmp/lane-cpp-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/history.db";
  FakeClock now(5'000'000'000);
  {
    auto reg = lane::Registry::create({.clock = now.fn()});
    REQUIRE(reg.has_value());
    REQUIRE(reg->lane("llm").has_value());
    auto sampler = lane::Sampler::create(*reg, {.sqlite_path = path, .clock = now.fn()});
    REQUIRE(sampler.has_value());
    for (int i = 0; i < 70; ++i) {  // more rows than sqlite_history's first buffer
      REQUIRE(sampler->sample_once().has_value());
      now.ns += 1'000'000'000;
    }
  }
  const lane::TimePoint from{}, to = lane::TimePoint::max();
  auto rows = lane::sqlite_history(path, "llm", from, to);  // a std::string path
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 70);
  CHECK(rows->front().sampled_at == lane::TimePoint(5s));
  CHECK(rows->back().sampled_at == lane::TimePoint(74s));
  auto middle = lane::sqlite_history(path, std::string_view("llm"), lane::TimePoint(10s), lane::TimePoint(12s));
  REQUIRE(middle.has_value());
  CHECK(middle->size() == 2);  // [10 s, 12 s)
  auto none = lane::sqlite_history(std::string(dir) + "/missing.db", "llm", from, to);
  CHECK_FALSE(none.has_value());
  for (const char *f : {"/history.db", "/history.db-wal", "/history.db-shm"}) unlink((std::string(dir) + f).c_str());
  rmdir(dir);
}
#endif
