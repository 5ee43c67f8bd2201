// The built-in history: a SQLite database file in WAL mode with a busy
// timeout, so several samplers (threads or processes) can write one file.
#pragma once

#include <memory>
#include <mutex>

#include "sampler/sink.hpp"

struct sqlite3;

namespace lane::sampler {

class SqliteSink final : public Sink {
 public:
  // Opens (creating if needed) the file and its table and index; nullptr with *why.
  static std::unique_ptr<SqliteSink> open(const std::string &path, std::string *why);
  ~SqliteSink() override;
  SqliteSink(const SqliteSink &) = delete;
  SqliteSink &operator=(const SqliteSink &) = delete;

  bool write(const std::vector<registry::Occupancy> &rows, std::int64_t at_ns, std::string *why) override;
  std::int64_t purge(std::int64_t older_than_ns, std::string *why) override;

 private:
  explicit SqliteSink(sqlite3 *db) : db_(db) {}
  std::mutex mu_;  // one connection, used by the sampler thread and sample_once/purge_once callers
  sqlite3 *db_;
};

// lane_sqlite_query.
lane_status_t sqlite_query(const char *path, const char *lane, std::int64_t from_ns, std::int64_t to_ns,
                           lane_sample_t *out, std::size_t cap, std::size_t *total, std::string *why);

}  // namespace lane::sampler
