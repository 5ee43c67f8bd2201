// The built-in history: a SQLite database file in WAL mode with a busy
// timeout, so several samplers (threads or processes) can write one file.
// Two implementations behind this one interface: sqlite_sink.cpp, and
// sqlite_none.cpp for a build without SQLite (-Dsqlite=disabled), which
// answers LANE_ERR_UNSUPPORTED.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sampler/sink.hpp"

namespace lane::sampler {

// Opens (creating if needed) the file and its table and index. nullptr on
// failure, with *status (LANE_ERR_IO, or LANE_ERR_UNSUPPORTED) and *why.
std::unique_ptr<Sink> open_sqlite_sink(const std::string &path, lane_status_t *status, std::string *why);

// lane_sqlite_query.
lane_status_t sqlite_query(const char *path, const char *lane, std::int64_t from_ns, std::int64_t to_ns,
                           lane_sample_t *out, std::size_t cap, std::size_t *total, std::string *why);

}  // namespace lane::sampler
