// Prometheus text exposition format 0.0.4: the pieces that need care.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace lane::registry::prom {

// A label value between double quotes: backslash, double quote and newline
// are escaped as \\, \" and \n.
inline void append_label_value(std::string &out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

// A sample value: shortest round-trip decimal; NaN and infinities spelled
// the way Prometheus reads them.
inline void append_value(std::string &out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

inline void append_value(std::string &out, std::uint64_t v) { out += std::to_string(v); }

}  // namespace lane::registry::prom
