// Where a registry lane's settings come from: lane names, the config key of
// a lane, the environment variable a key maps to, and reading one value from
// the host's callback or the environment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lane/lane.h"

namespace lane::registry {

// [A-Za-z0-9_.:-]{1,LANE_REGISTRY_NAME_MAX}: safe as a Prometheus label value
// and as part of an environment variable name. Sets *why when not.
bool valid_name(const char *name, std::string *why);

// "lanes.<name>.max_concurrent"
std::string max_concurrent_key(std::string_view name);

// "lanes.<name>.<option>", option one of the lane_options_t field names
// that the registry reads (see lane.h: "Registry lane options").
std::string lane_key(std::string_view name, std::string_view option);

// lanes.llm-transport.max_concurrent -> LANE_LLM_TRANSPORT_MAX_CONCURRENT
std::string env_var_for(std::string_view key);

struct ConfigValue {
  std::uint32_t value = 1;
  std::optional<std::string> bad;  // the rejected value as text (value is then the default)
};

// One integer option: the value to use, whether the source set it, and the
// rejected text when it was out of [lo, hi] (value is then the default).
struct IntValue {
  std::int64_t value = 0;
  bool set = false;
  std::optional<std::string> bad;
};

// A positive integer up to UINT32_MAX, or the default and what was wrong.
class ConfigSource {
 public:
  ConfigSource(lane_config_int_fn fn, void *ud) : fn_(fn), ud_(ud) {}
  // Calls the host's callback (or getenv): never under a library lock.
  [[nodiscard]] ConfigValue read(const std::string &key, std::uint32_t def) const;
  // Any integer in [lo, hi]; the callback's answer `def` means "not set".
  // The environment takes an optional '-' and decimal digits only.
  [[nodiscard]] IntValue read_int(const std::string &key, std::int64_t def, std::int64_t lo, std::int64_t hi) const;

 private:
  lane_config_int_fn fn_;
  void *ud_;
};

}  // namespace lane::registry
