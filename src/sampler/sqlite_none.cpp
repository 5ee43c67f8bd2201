// The SQLite history in a build without SQLite (-Dsqlite=disabled, or no
// libsqlite3 found): every use answers LANE_ERR_UNSUPPORTED, so a host can
// tell "this build has no history" from a file it cannot open.
#include "sampler/sqlite_sink.hpp"

namespace lane::sampler {

namespace {
constexpr const char *kNoSqlite = "this liblane was built without SQLite (meson -Dsqlite=disabled or no libsqlite3): "
                                  "use a sampler sink callback instead of sqlite_path";
}

std::unique_ptr<Sink> open_sqlite_sink(const std::string &, lane_status_t *status, std::string *why) {
  *status = LANE_ERR_UNSUPPORTED;
  *why = kNoSqlite;
  return nullptr;
}

lane_status_t sqlite_query(const char *, const char *, std::int64_t, std::int64_t, lane_sample_t *, std::size_t,
                           std::size_t *, std::string *why) {
  *why = kNoSqlite;
  return LANE_ERR_UNSUPPORTED;
}

}  // namespace lane::sampler
