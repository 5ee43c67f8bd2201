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

std::int64_t fixed_clock(void *ud) { return *static_cast<std::int64_t *>(ud); }

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
  std::int64_t now = 1'000'000'000;
  auto reg = lane::Registry::create({.clock = fixed_clock, .clock_ud = &now});
  REQUIRE(reg.has_value());
  REQUIRE(reg->lane("llm").has_value());
  REQUIRE(reg->lane("gpu").has_value());
  std::vector<std::string> rows;
  std::atomic<bool> fail{false};
  auto sampler = lane::Sampler::create(*reg, {
      .sink = [&](std::string_view lane, std::uint32_t, std::uint32_t, std::int64_t at) -> std::int32_t {
        if (fail) throw std::runtime_error("disk full");
        rows.push_back(std::string(lane) + "@" + std::to_string(at));
        return 0;
      },
      .clock = fixed_clock,
      .clock_ud = &now,
  });
  REQUIRE(sampler.has_value());
  REQUIRE(sampler->sample_once().has_value());
  CHECK(rows == std::vector<std::string>{"gpu@1000000000", "llm@1000000000"});
  fail = true;
  auto failed = sampler->sample_once();
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().status == LANE_ERR_IO);
  fail = false;
  now += 1'000'000'000;
  REQUIRE(sampler->sample_once().has_value());
  CHECK(rows.size() == 4);
}

TEST_CASE("the SQLite history written by a Sampler reads back through sqlite_history") {
  char dir[] = "/tmp/lane-cpp-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/history.db";
  std::int64_t now = 5'000'000'000;
  {
    auto reg = lane::Registry::create({.clock = fixed_clock, .clock_ud = &now});
    REQUIRE(reg.has_value());
    REQUIRE(reg->lane("llm").has_value());
    auto sampler = lane::Sampler::create(*reg, {.sqlite_path = path, .clock = fixed_clock, .clock_ud = &now});
    REQUIRE(sampler.has_value());
    for (int i = 0; i < 70; ++i) {  // more rows than sqlite_history's first buffer
      REQUIRE(sampler->sample_once().has_value());
      now += 1'000'000'000;
    }
  }
  auto rows = lane::sqlite_history(path.c_str(), "llm", 0, INT64_MAX);
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 70);
  CHECK(rows->front().sampled_at_ns == 5'000'000'000);
  CHECK(rows->back().sampled_at_ns == 74'000'000'000);
  auto none = lane::sqlite_history((std::string(dir) + "/missing.db").c_str(), "llm", 0, INT64_MAX);
  CHECK_FALSE(none.has_value());
  for (const char *f : {"/history.db", "/history.db-wal", "/history.db-shm"}) unlink((std::string(dir) + f).c_str());
  rmdir(dir);
}
