// The occupancy sampler: host sinks, the SQLite history, purge, restart,
// failing sinks, several writers on one file, a registry destroyed first.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "../registry/registry_fixture.hpp"

using namespace registry_test;

namespace {

// A temporary directory, removed with everything in it.
struct TempDir {
  TempDir() {
    // A fresh directory of our own under the system's temporary directory
    // (create_directory fails on a name that exists, so none is shared).
    std::random_device rd;
    const auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 100 && path.empty(); ++attempt) {
      auto d = base / ("lane-sampler-" + std::to_string(rd()));
      std::error_code ec;
      if (std::filesystem::create_directory(d, ec)) path = d.string();
    }
    REQUIRE(!path.empty());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const char *name) const { return path + "/" + name; }
  std::string path;
};

struct Row {
  std::string lane;
  std::uint32_t running, queued;
  std::int64_t at;
};

// A host sink that records rows and can be told to fail.
struct HostSink {
  std::mutex m;
  std::condition_variable cv;
  std::vector<Row> rows;
  std::vector<std::int64_t> purges;
  std::atomic<bool> fail{false};
  std::size_t count() {
    std::lock_guard lk(m);
    return rows.size();
  }
  bool wait_rows(std::size_t n) {
    std::unique_lock lk(m);
    return cv.wait_for(lk, kDeadline, [&] { return rows.size() >= n; });
  }
};
extern "C" std::int32_t host_sink(const char *lane, std::uint32_t running, std::uint32_t queued, std::int64_t at,
                                  void *ud) {
  auto *s = static_cast<HostSink *>(ud);
  if (s->fail) return -1;
  std::lock_guard lk(s->m);
  s->rows.push_back({lane, running, queued, at});
  s->cv.notify_all();  // under the lock: the waiting test may destroy *s once it sees the row
  return 0;
}
extern "C" std::int64_t host_purge(std::int64_t older_than, void *ud) {
  auto *s = static_cast<HostSink *>(ud);
  std::lock_guard lk(s->m);
  s->purges.push_back(older_than);
  return s->fail ? -1 : 0;
}

lane_sampler_t *make_sampler(RegistryFixture &f, lane_sampler_options_t o) {
  if (!o.clock) {
    o.clock = fake_clock_fn;
    o.clock_ud = &f.clock;
  }
  lane_sampler_t *s = nullptr;
  lane_status_t st = lane_sampler_create(f.reg, &o, &s);
  REQUIRE_MESSAGE(st == LANE_OK, lane_last_error());
  return s;
}

lane_sampler_options_t host_options(HostSink &sink) {
  lane_sampler_options_t o = LANE_SAMPLER_OPTIONS_INIT;
  o.sink = host_sink;
  o.purger = host_purge;
  o.sink_ud = &sink;
  return o;
}

lane_sampler_options_t sqlite_options(const std::string &path) {
  lane_sampler_options_t o = LANE_SAMPLER_OPTIONS_INIT;
  o.sqlite_path = path.c_str();
  return o;
}

[[maybe_unused]] std::vector<lane_sample_t> query(const std::string &path, const char *lane, std::int64_t from, std::int64_t to) {
  std::size_t total = 0;
  lane_status_t st = lane_sqlite_query(path.c_str(), lane, from, to, nullptr, 0, &total);
  REQUIRE_MESSAGE(st == LANE_OK, lane_last_error());
  // Room for rows a running sampler adds between the two calls.
  std::vector<lane_sample_t> out(total + 64);
  out[0].struct_size = sizeof(lane_sample_t);
  std::size_t total2 = 0;
  st = lane_sqlite_query(path.c_str(), lane, from, to, out.data(), out.size(), &total2);
  REQUIRE_MESSAGE(st == LANE_OK, lane_last_error());
  CHECK(total2 >= total);
  out.resize(std::min(total2, out.size()));
  return out;
}

// Jobs that block until the gate opens (for non-zero running/queued).
struct Blockers {
  Recorder rec;
  Gate gate;
  std::deque<std::unique_ptr<Probe>> probes;
  void submit(lane_t *lane, const std::string &id) {
    auto p = std::make_unique<Probe>();
    p->rec = &rec;
    p->id = id;
    Gate *g = &gate;
    p->body = [g](lane_ctx_t *ctx) -> std::int32_t { return block(ctx, *g) == LANE_OK ? 0 : 1; };
    lane_job_t j = make_job(p->id.c_str());
    j.run = probe_run;
    j.on_done = probe_done;
    j.user_data = p.get();
    probes.push_back(std::move(p));
    REQUIRE(lane_submit(lane, &j, nullptr) == LANE_OK);
  }
  ~Blockers() { gate.open(); }
};

}  // namespace

TEST_CASE("sample_once writes one row per lane to a host sink, stamped by the injected clock") {
  Blockers b;  // outlives the registry, which ends its jobs
  RegistryFixture f;
  f.config.set("lanes.llm.max_concurrent", 1);
  b.submit(f.lane("llm"), "a");
  b.submit(f.lane("llm"), "b");
  f.lane("tools");
  REQUIRE(b.rec.wait_started("a"));
  HostSink sink;
  lane_sampler_t *s = make_sampler(f, host_options(sink));
  CHECK(lane_sampler_sample_once(s) == LANE_OK);
  REQUIRE(sink.count() == 2);
  CHECK(sink.rows[0].lane == "llm");
  CHECK(sink.rows[0].running == 1);
  CHECK(sink.rows[0].queued == 1);
  CHECK(sink.rows[0].at == f.clock.now.load());
  CHECK(sink.rows[1].lane == "tools");
  CHECK(sink.rows[1].running == 0);
  f.clock.advance(kSec);
  CHECK(lane_sampler_sample_once(s) == LANE_OK);
  CHECK(sink.count() == 4);
  CHECK(sink.rows[2].at == sink.rows[0].at + kSec);
  lane_sampler_destroy(s);
  b.gate.open();
}

TEST_CASE("purge_once asks for rows older than now - retention (default 7 days)") {
  RegistryFixture f;
  HostSink sink;
  lane_sampler_t *s = make_sampler(f, host_options(sink));
  CHECK(lane_sampler_purge_once(s) == LANE_OK);
  REQUIRE(sink.purges.size() == 1);
  CHECK(sink.purges[0] == f.clock.now.load() - 7 * 24 * 3600 * kSec);
  lane_sampler_destroy(s);
}

TEST_CASE("a failing sink is logged, reported by sample_once, and the sampler goes on") {
  RegistryFixture f;
  f.lane("x");
  HostSink sink;
  lane_sampler_options_t o = host_options(sink);
  o.interval_ns = 2 * kMs;
  lane_sampler_t *s = make_sampler(f, o);
  sink.fail = true;
  CHECK(lane_sampler_sample_once(s) == LANE_ERR_IO);
  CHECK(has_message());
  CHECK(f.log.count_containing("sink returned -1") == 1);
  CHECK(lane_sampler_purge_once(s) == LANE_ERR_IO);
  REQUIRE(lane_sampler_start(s) == LANE_OK);
  REQUIRE(f.log.count_containing("sampler") >= 2);
  // The thread keeps sampling after failures: it writes once the sink recovers.
  for (int i = 0; i < 1000 && f.log.count_containing("sink returned") < 3; ++i) std::this_thread::sleep_for(2ms);
  CHECK(f.log.count_containing("sink returned") >= 3);
  sink.fail = false;
  CHECK(sink.wait_rows(2));
  CHECK(lane_sampler_stop(s) == LANE_OK);
  lane_sampler_destroy(s);
}

TEST_CASE("start and stop are idempotent, and a stopped sampler starts again") {
  RegistryFixture f;
  f.lane("x");
  HostSink sink;
  lane_sampler_options_t o = host_options(sink);
  o.interval_ns = 1 * kMs;
  lane_sampler_t *s = make_sampler(f, o);
  CHECK(lane_sampler_stop(s) == LANE_OK);  // never started
  CHECK(lane_sampler_start(s) == LANE_OK);
  CHECK(lane_sampler_start(s) == LANE_OK);
  CHECK(sink.wait_rows(3));
  CHECK(lane_sampler_stop(s) == LANE_OK);
  CHECK(lane_sampler_stop(s) == LANE_OK);
  const std::size_t n = sink.count();
  std::this_thread::sleep_for(20ms);
  CHECK(sink.count() == n);  // stopped: no more rows
  CHECK(lane_sampler_start(s) == LANE_OK);
  CHECK(sink.wait_rows(n + 3));
  std::lock_guard lk(sink.m);
  CHECK(sink.purges.size() >= 2);  // one purge at each start
  lane_sampler_destroy(s);  // destroys a running sampler
}

#ifdef LANE_TEST_NO_SQLITE
// A build without SQLite keeps the API and says so: no crash, no IO error.
TEST_CASE("without SQLite, a sqlite_path and lane_sqlite_query answer LANE_ERR_UNSUPPORTED") {
  RegistryFixture f;
  TempDir dir;
  const std::string db = dir.file("h.db");
  lane_sampler_options_t o = sqlite_options(db);
  lane_sampler_t *s = reinterpret_cast<lane_sampler_t *>(1);
  CHECK(lane_sampler_create(f.reg, &o, &s) == LANE_ERR_UNSUPPORTED);
  CHECK(s == nullptr);
  CHECK(std::string(lane_last_error()).find("without SQLite") != std::string::npos);
  std::size_t total = 7;
  CHECK(lane_sqlite_query(db.c_str(), "x", 0, 1, nullptr, 0, &total) == LANE_ERR_UNSUPPORTED);
  CHECK(total == 0);
  CHECK(::access(db.c_str(), F_OK) != 0);  // nothing was created
}
#else
TEST_CASE("the SQLite history: rows, a time-range query per lane, purge by age") {
  TempDir dir;
  const std::string db = dir.file("history.db");
  Blockers b;  // outlives the registry, which ends its jobs
  RegistryFixture f;
  f.config.set("lanes.llm.max_concurrent", 2);
  lane_t *llm = f.lane("llm");
  f.lane("tools");
  lane_sampler_options_t o = sqlite_options(db);
  o.retention_ns = 10 * kSec;
  lane_sampler_t *s = make_sampler(f, o);
  const std::int64_t t0 = f.clock.now.load();
  for (int i = 0; i < 5; ++i) {
    if (i == 2) {
      b.submit(llm, "a");
      b.submit(llm, "b");
      b.submit(llm, "c");
      REQUIRE(b.rec.wait_started("b"));
    }
    REQUIRE(lane_sampler_sample_once(s) == LANE_OK);
    f.clock.advance(5 * kSec);
  }
  auto rows = query(db, "llm", t0, t0 + 100 * kSec);
  REQUIRE(rows.size() == 5);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].sampled_at_ns == t0 + static_cast<std::int64_t>(i) * 5 * kSec);
    CHECK(rows[i].running == (i >= 2 ? 2u : 0u));
    CHECK(rows[i].queued == (i >= 2 ? 1u : 0u));
  }
  CHECK(query(db, "tools", t0, t0 + 100 * kSec).size() == 5);
  CHECK(query(db, "llm", t0 + 5 * kSec, t0 + 15 * kSec).size() == 2);  // [from, to)
  CHECK(query(db, "nobody", t0, t0 + 100 * kSec).empty());

  // A small buffer: cap rows, total says how many match.
  lane_sample_t two[2];
  two[0].struct_size = sizeof(lane_sample_t);
  std::size_t total = 0;
  REQUIRE(lane_sqlite_query(db.c_str(), "llm", t0, t0 + 100 * kSec, two, 2, &total) == LANE_OK);
  CHECK(total == 5);
  CHECK(two[1].sampled_at_ns == t0 + 5 * kSec);

  // now = t0 + 25 s, retention 10 s: rows before t0 + 15 s go.
  REQUIRE(lane_sampler_purge_once(s) == LANE_OK);
  rows = query(db, "llm", t0, t0 + 100 * kSec);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].sampled_at_ns == t0 + 15 * kSec);
  lane_sampler_destroy(s);
  b.gate.open();
}

TEST_CASE("the SQLite sink survives a restart of the sampler and a new sampler on the same file") {
  TempDir dir;
  const std::string db = dir.file("h.db");
  RegistryFixture f;
  f.lane("x");
  lane_sampler_options_t o = sqlite_options(db);
  o.interval_ns = 1 * kMs;
  lane_sampler_t *s = make_sampler(f, o);
  REQUIRE(lane_sampler_start(s) == LANE_OK);
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (query(db, "x", 0, INT64_MAX).size() < 3 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(2ms);
  }
  REQUIRE(lane_sampler_stop(s) == LANE_OK);
  const std::size_t n = query(db, "x", 0, INT64_MAX).size();
  CHECK(n >= 3);
  REQUIRE(lane_sampler_start(s) == LANE_OK);
  REQUIRE(lane_sampler_stop(s) == LANE_OK);
  lane_sampler_destroy(s);
  lane_sampler_t *again = make_sampler(f, sqlite_options(db));
  REQUIRE(lane_sampler_sample_once(again) == LANE_OK);
  CHECK(query(db, "x", 0, INT64_MAX).size() >= n + 1);
  lane_sampler_destroy(again);
}

TEST_CASE("two samplers on two threads writing one SQLite file lose no row") {
  TempDir dir;
  const std::string db = dir.file("shared.db");
  RegistryFixture f1, f2;
  f1.lane("one");
  f2.lane("two");
  lane_sampler_t *s1 = make_sampler(f1, sqlite_options(db));
  lane_sampler_t *s2 = make_sampler(f2, sqlite_options(db));
  constexpr int kRounds = 50;
  std::atomic<int> failures{0};
  auto writer = [&](lane_sampler_t *s, FakeClock &c) {
    for (int i = 0; i < kRounds; ++i) {
      if (lane_sampler_sample_once(s) != LANE_OK) ++failures;
      c.advance(kSec);
    }
  };
  std::thread t1(writer, s1, std::ref(f1.clock));
  std::thread t2(writer, s2, std::ref(f2.clock));
  t1.join();
  t2.join();
  CHECK(failures == 0);
  CHECK(query(db, "one", 0, INT64_MAX).size() == kRounds);
  CHECK(query(db, "two", 0, INT64_MAX).size() == kRounds);
  lane_sampler_destroy(s1);
  lane_sampler_destroy(s2);
}

#endif  // LANE_TEST_NO_SQLITE

TEST_CASE("a sampler whose registry was destroyed answers LANE_ERR_CLOSED and can still be destroyed") {
  HostSink sink;
  lane_sampler_t *s = nullptr;
  {
    RegistryFixture f;
    f.lane("x");
    lane_sampler_options_t o = host_options(sink);
    o.interval_ns = 1 * kMs;
    s = make_sampler(f, o);
    REQUIRE(lane_sampler_start(s) == LANE_OK);
    CHECK(sink.wait_rows(1));
  }  // the registry goes first: the sampler is stopped and detached
  CHECK(lane_sampler_sample_once(s) == LANE_ERR_CLOSED);
  CHECK(std::string(lane_last_error()).find("registry") != std::string::npos);
  CHECK(lane_sampler_start(s) == LANE_ERR_CLOSED);
  CHECK(lane_sampler_stop(s) == LANE_ERR_CLOSED);
  CHECK(lane_sampler_purge_once(s) == LANE_ERR_CLOSED);
  lane_sampler_destroy(s);
}

TEST_CASE("bad input: no sink, struct_size, negative intervals, an unwritable path, bad queries") {
  RegistryFixture f;
  lane_sampler_t *s = reinterpret_cast<lane_sampler_t *>(1);
  lane_sampler_options_t o = LANE_SAMPLER_OPTIONS_INIT;
  CHECK(lane_sampler_create(f.reg, &o, &s) == LANE_ERR_INVALID);  // neither sink nor sqlite_path
  CHECK(s == nullptr);
  CHECK(has_message());
  CHECK(lane_sampler_create(f.reg, nullptr, &s) == LANE_ERR_INVALID);
  CHECK(lane_sampler_create(nullptr, &o, &s) == LANE_ERR_INVALID);
  HostSink sink;
  o = host_options(sink);
  CHECK(lane_sampler_create(f.reg, &o, nullptr) == LANE_ERR_INVALID);
  o.struct_size = 0;
  CHECK(lane_sampler_create(f.reg, &o, &s) == LANE_ERR_INVALID);
  o.struct_size = sizeof o - 1;
  CHECK(lane_sampler_create(f.reg, &o, &s) == LANE_ERR_INVALID);
  o = host_options(sink);
  o.interval_ns = -1;
  CHECK(lane_sampler_create(f.reg, &o, &s) == LANE_ERR_INVALID);

  TempDir dir;
  const std::string unwritable = dir.file("no/such/dir/h.db");
#ifndef LANE_TEST_NO_SQLITE
  o = sqlite_options(unwritable);
  CHECK(lane_sampler_create(f.reg, &o, &s) == LANE_ERR_IO);
  CHECK(std::string(lane_last_error()).find("sqlite") != std::string::npos);
  if (::geteuid() != 0) {  // root writes anywhere
    ::chmod(dir.path.c_str(), 0500);
    const std::string ro = dir.file("h.db");
    o = sqlite_options(ro);
    CHECK(lane_sampler_create(f.reg, &o, &s) == LANE_ERR_IO);
    ::chmod(dir.path.c_str(), 0700);
  }
#endif

  CHECK(lane_sampler_start(nullptr) == LANE_ERR_INVALID);
  CHECK(lane_sampler_stop(nullptr) == LANE_ERR_INVALID);
  CHECK(lane_sampler_sample_once(nullptr) == LANE_ERR_INVALID);
  CHECK(lane_sampler_purge_once(nullptr) == LANE_ERR_INVALID);
  lane_sampler_destroy(nullptr);

  std::size_t total = 7;
  CHECK(lane_sqlite_query(nullptr, "x", 0, 1, nullptr, 0, &total) == LANE_ERR_INVALID);
#ifndef LANE_TEST_NO_SQLITE
  CHECK(lane_sqlite_query(unwritable.c_str(), "x", 0, 1, nullptr, 0, &total) == LANE_ERR_IO);
  CHECK(has_message());
#endif
  CHECK(lane_sqlite_query(unwritable.c_str(), "", 0, 1, nullptr, 0, &total) == LANE_ERR_INVALID);
  CHECK(lane_sqlite_query(unwritable.c_str(), "x", 0, 1, nullptr, 0, nullptr) == LANE_ERR_INVALID);
  CHECK(lane_sqlite_query(unwritable.c_str(), "x", 0, 1, nullptr, 3, &total) == LANE_ERR_INVALID);
  CHECK(lane_sqlite_query(unwritable.c_str(), "x", 2, 1, nullptr, 0, &total) == LANE_ERR_INVALID);
  lane_sample_t small{};
  small.struct_size = 4;
  CHECK(lane_sqlite_query(unwritable.c_str(), "x", 0, 1, &small, 1, &total) == LANE_ERR_INVALID);
}
