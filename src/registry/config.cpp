#include "config.hpp"

#include <cctype>
#include <cstdlib>
#include <optional>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#endif

namespace lane::registry {

namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '-';
}

// The variable's value, or nothing when it is not set.
std::optional<std::string> env_value(const std::string &var) {
#ifdef _WIN32
  // The process environment, not the C runtime's copy of it (what getenv
  // reads, made at start-up): a host that sets a variable through the Win32
  // API, as Go's os.Setenv does, changes only the former; _putenv both.
  for (;;) {
    const DWORD need = GetEnvironmentVariableA(var.c_str(), nullptr, 0);
    if (need == 0) return std::nullopt;
    std::string v(need, '\0');
    SetLastError(0);
    const DWORD got = GetEnvironmentVariableA(var.c_str(), v.data(), need);
    if (got < need) {
      if (got == 0 && GetLastError() == ERROR_ENVVAR_NOT_FOUND) return std::nullopt;  // removed meanwhile
      v.resize(got);
      return v;
    }
    // It grew meanwhile: ask again.
  }
#else
  const char *s = std::getenv(var.c_str());
  if (!s) return std::nullopt;
  return std::string(s);
#endif
}

}  // namespace

bool valid_name(const char *name, std::string *why) {
  if (!name || !*name) {
    *why = "lane name is NULL or empty";
    return false;
  }
  std::size_t n = 0;
  for (const char *p = name; *p; ++p, ++n) {
    if (n >= LANE_REGISTRY_NAME_MAX) {
      *why = "lane name is longer than " + std::to_string(LANE_REGISTRY_NAME_MAX) + " characters";
      return false;
    }
    if (!name_char(*p)) {
      *why = "lane name has character code " + std::to_string(static_cast<unsigned char>(*p)) +
             " at offset " + std::to_string(n) + "; allowed: A-Z a-z 0-9 _ . : -";
      return false;
    }
  }
  return true;
}

std::string max_concurrent_key(std::string_view name) {
  std::string k = "lanes.";
  k += name;
  k += ".max_concurrent";
  return k;
}

std::string lane_key(std::string_view name, std::string_view option) {
  std::string k = "lanes.";
  k += name;
  k += '.';
  k += option;
  return k;
}

std::string env_var_for(std::string_view key) {
  constexpr std::string_view prefix = "lanes.";
  if (key.substr(0, prefix.size()) == prefix) key.remove_prefix(prefix.size());
  std::string v = "LANE_";
  for (char c : key) {
    v += (c == '.' || c == '-' || c == ':') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return v;
}

ConfigValue ConfigSource::read(const std::string &key, std::uint32_t def) const {
  const IntValue v = read_int(key, def, 1, static_cast<std::int64_t>(UINT32_MAX));
  ConfigValue out;
  out.value = static_cast<std::uint32_t>(v.value);
  out.bad = v.bad;
  return out;
}

IntValue ConfigSource::read_int(const std::string &key, std::int64_t def, std::int64_t lo, std::int64_t hi) const {
  IntValue out;
  out.value = def;
  if (fn_) {
    const std::int64_t v = fn_(key.c_str(), def, ud_);
    if (v == def) return out;
    if (v >= lo && v <= hi) {
      out.value = v;
      out.set = true;
    } else {
      out.bad = std::to_string(v);
    }
    return out;
  }
  const std::string var = env_var_for(key);
  const std::optional<std::string> value = env_value(var);
  if (!value) return out;
  const char *s = value->c_str();
  // An optional '-' and digits only: "8", not " 8", "+8", "8x" or "0x8".
  const char *p = s;
  const bool neg = *p == '-';
  if (neg) ++p;
  std::uint64_t mag = 0;
  bool ok = *p != '\0';
  const std::uint64_t limit = neg ? static_cast<std::uint64_t>(INT64_MAX) + 1 : static_cast<std::uint64_t>(INT64_MAX);
  for (; *p && ok; ++p) {
    if (*p < '0' || *p > '9') {
      ok = false;
    } else {
      const auto d = static_cast<std::uint64_t>(*p - '0');
      if (mag > (limit - d) / 10) ok = false;
      else mag = mag * 10 + d;
    }
  }
  std::int64_t v = 0;
  if (ok) v = neg ? static_cast<std::int64_t>(0 - mag) : static_cast<std::int64_t>(mag);
  if (ok && v >= lo && v <= hi) {
    out.value = v;
    out.set = true;
  } else {
    out.bad = std::string(s).substr(0, 64);
  }
  return out;
}

}  // namespace lane::registry
