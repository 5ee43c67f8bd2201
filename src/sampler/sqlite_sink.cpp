#include "sampler/sqlite_sink.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace lane::sampler {

namespace {

constexpr int kBusyTimeoutMs = 10'000;

const char *const kSchema =
    "CREATE TABLE IF NOT EXISTS lane_samples ("
    " lane TEXT NOT NULL, running INTEGER NOT NULL, queued INTEGER NOT NULL, sampled_at_ns INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS lane_samples_by_lane_time ON lane_samples (lane, sampled_at_ns);";

std::string err(sqlite3 *db, const std::string &what) {
  return "sqlite: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
}

bool exec(sqlite3 *db, const char *sql, std::string *why, int *rc_out = nullptr) {
  char *msg = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
  if (rc_out) *rc_out = rc;
  if (rc == SQLITE_OK) return true;
  *why = std::string("sqlite: ") + (msg ? msg : sqlite3_errmsg(db)) + " (in: " + std::string(sql).substr(0, 40) + ")";
  sqlite3_free(msg);
  return false;
}

// Setting up a new file (the switch to WAL, the schema) can answer BUSY at
// once, without the busy handler, while another process does the same: the
// journal-mode change needs the file to itself. Retry those with a short
// back-off, up to the busy timeout.
bool exec_setup(sqlite3 *db, const char *sql, std::string *why) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int rc = SQLITE_OK;
    if (exec(db, sql, why, &rc)) return true;
    const int primary = rc & 0xff;
    if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

// A prepared statement that finalizes itself.
struct Stmt {
  sqlite3_stmt *s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

class SqliteSink final : public Sink {
 public:
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

}  // namespace

std::unique_ptr<Sink> open_sqlite_sink(const std::string &path, lane_status_t *status, std::string *why) {
  std::unique_ptr<Sink> s = SqliteSink::open(path, why);
  *status = s ? LANE_OK : LANE_ERR_IO;
  return s;
}

std::unique_ptr<SqliteSink> SqliteSink::open(const std::string &path, std::string *why) {
  sqlite3 *db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    *why = err(db, "cannot open '" + path + "'");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (!exec_setup(db, "PRAGMA journal_mode=WAL;", why) || !exec_setup(db, "PRAGMA synchronous=NORMAL;", why) ||
      !exec_setup(db, kSchema, why)) {
    *why = "'" + path + "': " + *why;
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<SqliteSink>(new SqliteSink(db));
}

SqliteSink::~SqliteSink() { sqlite3_close(db_); }

bool SqliteSink::write(const std::vector<registry::Occupancy> &rows, std::int64_t at_ns, std::string *why) {
  if (rows.empty()) return true;
  std::lock_guard lk(mu_);
  // IMMEDIATE: take the write lock (waiting up to the busy timeout) before
  // reading anything, so two writers never deadlock upgrading a read lock.
  if (!exec(db_, "BEGIN IMMEDIATE;", why)) return false;
  Stmt st;
  bool ok = sqlite3_prepare_v2(db_, "INSERT INTO lane_samples (lane, running, queued, sampled_at_ns) VALUES (?, ?, ?, ?)",
                               -1, &st.s, nullptr) == SQLITE_OK;
  if (!ok) *why = err(db_, "prepare insert");
  for (std::size_t i = 0; ok && i < rows.size(); ++i) {
    const auto &r = rows[i];
    sqlite3_bind_text(st.s, 1, r.lane.data(), static_cast<int>(r.lane.size()), SQLITE_STATIC);
    sqlite3_bind_int64(st.s, 2, r.running);
    sqlite3_bind_int64(st.s, 3, r.queued);
    sqlite3_bind_int64(st.s, 4, at_ns);
    if (sqlite3_step(st.s) != SQLITE_DONE) {
      *why = err(db_, "insert");
      ok = false;
    }
    sqlite3_reset(st.s);
  }
  if (ok) ok = exec(db_, "COMMIT;", why);
  if (!ok) {
    std::string ignored;
    exec(db_, "ROLLBACK;", &ignored);
  }
  return ok;
}

std::int64_t SqliteSink::purge(std::int64_t older_than_ns, std::string *why) {
  std::lock_guard lk(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "DELETE FROM lane_samples WHERE sampled_at_ns < ?", -1, &st.s, nullptr) != SQLITE_OK) {
    *why = err(db_, "prepare delete");
    return -1;
  }
  sqlite3_bind_int64(st.s, 1, older_than_ns);
  if (sqlite3_step(st.s) != SQLITE_DONE) {
    *why = err(db_, "delete");
    return -1;
  }
  return sqlite3_changes(db_);
}

lane_status_t sqlite_query(const char *path, const char *lane, std::int64_t from_ns, std::int64_t to_ns,
                           lane_sample_t *out, std::size_t cap, std::size_t *total, std::string *why) {
  sqlite3 *db = nullptr;
  struct Closer {
    sqlite3 *&db;
    ~Closer() { sqlite3_close(db); }
  } closer{db};
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    *why = err(db, "cannot open '" + std::string(path) + "'");
    return LANE_ERR_IO;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  Stmt count;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM lane_samples WHERE lane = ? AND sampled_at_ns >= ? AND sampled_at_ns < ?",
                         -1, &count.s, nullptr) != SQLITE_OK) {
    // Not "'" + std::string(path): GCC 12 -O3 reports a false -Wrestrict in
    // operator+(const char *, std::string &&), which -Werror turns fatal.
    std::string quoted = "'";
    quoted.append(path).append("'");
    *why = err(db, quoted);
    return LANE_ERR_IO;
  }
  // One read transaction, so the count and the rows agree.
  if (!exec(db, "BEGIN;", why)) return LANE_ERR_IO;
  sqlite3_bind_text(count.s, 1, lane, -1, SQLITE_STATIC);
  sqlite3_bind_int64(count.s, 2, from_ns);
  sqlite3_bind_int64(count.s, 3, to_ns);
  if (sqlite3_step(count.s) != SQLITE_ROW) {
    *why = err(db, "count");
    return LANE_ERR_IO;
  }
  *total = static_cast<std::size_t>(sqlite3_column_int64(count.s, 0));
  if (cap > 0) {
    Stmt rows;
    if (sqlite3_prepare_v2(db,
                           "SELECT running, queued, sampled_at_ns FROM lane_samples WHERE lane = ? AND "
                           "sampled_at_ns >= ? AND sampled_at_ns < ? ORDER BY sampled_at_ns LIMIT ?",
                           -1, &rows.s, nullptr) != SQLITE_OK) {
      *why = err(db, "select");
      return LANE_ERR_IO;
    }
    sqlite3_bind_text(rows.s, 1, lane, -1, SQLITE_STATIC);
    sqlite3_bind_int64(rows.s, 2, from_ns);
    sqlite3_bind_int64(rows.s, 3, to_ns);
    sqlite3_bind_int64(rows.s, 4, static_cast<sqlite3_int64>(cap));
    const std::uint32_t size = out[0].struct_size;
    auto *base = reinterpret_cast<unsigned char *>(out);
    std::size_t i = 0;
    int rc;
    while ((rc = sqlite3_step(rows.s)) == SQLITE_ROW && i < cap) {
      lane_sample_t s{};
      s.struct_size = size;
      s.running = static_cast<std::uint32_t>(sqlite3_column_int64(rows.s, 0));
      s.queued = static_cast<std::uint32_t>(sqlite3_column_int64(rows.s, 1));
      s.sampled_at_ns = sqlite3_column_int64(rows.s, 2);
      const std::size_t n = std::min<std::size_t>(size, sizeof s);
      std::memcpy(base + i * size, &s, n);
      if (size > n) std::memset(base + i * size + n, 0, size - n);  // a newer host's fields: not reported
      ++i;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      *why = err(db, "select");
      return LANE_ERR_IO;
    }
  }
  std::string ignored;
  exec(db, "COMMIT;", &ignored);
  return LANE_OK;
}

}  // namespace lane::sampler
