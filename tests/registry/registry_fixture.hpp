// Helpers for the registry and sampler tests: lane.h only (plus the C API
// test helpers), a config callback backed by a map, a log that records.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../capi/capi_fixture.hpp"

namespace registry_test {

using namespace capi_test;

// A config source the test edits: key -> value (absent: the default).
struct Config {
  std::mutex m;
  std::map<std::string, std::int64_t> values;
  std::vector<std::string> keys_read;
  void set(const std::string &k, std::int64_t v) {
    std::lock_guard lk(m);
    values[k] = v;
  }
};
extern "C" inline std::int64_t config_fn(const char *key, std::int64_t def, void *ud) {
  auto *c = static_cast<Config *>(ud);
  std::lock_guard lk(c->m);
  c->keys_read.emplace_back(key);
  auto it = c->values.find(key);
  return it == c->values.end() ? def : it->second;
}

struct Log {
  std::mutex m;
  std::vector<std::pair<int, std::string>> lines;
  std::size_t count_containing(const std::string &s) {
    std::lock_guard lk(m);
    std::size_t n = 0;
    for (auto &l : lines) n += l.second.find(s) != std::string::npos ? 1 : 0;
    return n;
  }
  std::size_t size() {
    std::lock_guard lk(m);
    return lines.size();
  }
};
extern "C" inline void log_fn(std::int32_t level, const char *msg, void *ud) {
  auto *l = static_cast<Log *>(ud);
  std::lock_guard lk(l->m);
  l->lines.emplace_back(level, msg);
}

// Owns a registry with a map config, a recording log and a fake clock.
struct RegistryFixture {
  explicit RegistryFixture(std::int64_t idle_retire_ns = 0, bool use_config = true) {
    lane_registry_options_t o = LANE_REGISTRY_OPTIONS_INIT;
    if (use_config) {
      o.config_int = config_fn;
      o.config_ud = &config;
    }
    o.log = log_fn;
    o.log_ud = &log;
    o.idle_retire_ns = idle_retire_ns;
    o.clock = fake_clock_fn;
    o.clock_ud = &clock;
    lane_status_t st = lane_registry_create(&o, &reg);
    REQUIRE_MESSAGE(st == LANE_OK, lane_last_error());
  }
  ~RegistryFixture() { lane_registry_destroy(reg); }
  RegistryFixture(const RegistryFixture &) = delete;
  RegistryFixture &operator=(const RegistryFixture &) = delete;

  lane_t *lane(const char *name) {
    lane_t *l = nullptr;
    lane_status_t st = lane_registry_get_or_create(reg, name, &l);
    REQUIRE_MESSAGE(st == LANE_OK, name << ": " << lane_last_error());
    REQUIRE(l != nullptr);
    return l;
  }

  Config config;
  Log log;
  FakeClock clock;
  lane_registry_t *reg = nullptr;
};

}  // namespace registry_test
