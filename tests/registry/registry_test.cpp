// The registry: lazy lanes from config, reload in place, remove and
// retirement, names, and bad input.
#include <cstdlib>
#include <set>
#include <thread>

#include "registry/prom.hpp"
#include "registry_fixture.hpp"

#ifdef _WIN32
// Windows has no setenv/unsetenv: _putenv_s sets a variable, and removes it
// when given "".
static int setenv(const char *name, const char *value, int) { return _putenv_s(name, value); }
static int unsetenv(const char *name) { return _putenv_s(name, ""); }
#endif

using namespace registry_test;

namespace {

// A job on a registry lane that blocks until its gate opens.
struct Blocker {
  Recorder rec;
  Gate gate;
  std::deque<std::unique_ptr<Probe>> probes;

  lane_status_t submit(lane_t *lane, const std::string &id) {
    auto p = std::make_unique<Probe>();
    p->rec = &rec;
    p->id = id;
    Gate *g = &gate;
    p->body = [g](lane_ctx_t *ctx) -> std::int32_t {
      block(ctx, *g);
      return 0;
    };
    lane_job_t j = make_job(p->id.c_str());
    j.run = probe_run;
    j.on_done = probe_done;
    j.user_data = p.get();
    probes.push_back(std::move(p));
    return lane_submit(lane, &j, nullptr);
  }
  // A blocking job with a priority and flags; the ticket goes to *t.
  lane_status_t submit(lane_t *lane, const std::string &id, std::int32_t priority, std::uint32_t flags,
                       lane_ticket_t *t) {
    auto p = std::make_unique<Probe>();
    p->rec = &rec;
    p->id = id;
    Gate *g = &gate;
    p->body = [g](lane_ctx_t *ctx) -> std::int32_t {
      block(ctx, *g);
      return 0;
    };
    lane_job_t j = make_job(p->id.c_str());
    j.priority = priority;
    j.flags = flags;
    j.run = probe_run;
    j.on_done = probe_done;
    j.user_data = p.get();
    probes.push_back(std::move(p));
    return lane_submit(lane, &j, t);
  }
  ~Blocker() { gate.open(); }
};

}  // namespace

TEST_CASE("get_or_create makes a lane once, with its max_concurrent from the config and FAIR_SHARE") {
  RegistryFixture f;
  f.config.set("lanes.llm.max_concurrent", 3);
  lane_t *a = f.lane("llm");
  CHECK(f.lane("llm") == a);
  CHECK(lane_registry_get(f.reg, "llm") == a);
  lane_stats_t s = stats_of(a);
  CHECK(s.max_concurrent == 3);
  CHECK(std::string(s.name) == "llm");
  // FAIR_SHARE: tenant weights are accepted (a FIFO lane refuses them).
  CHECK(lane_set_tenant_weight(a, "alice", 2) == LANE_OK);
  lane_t *b = f.lane("tools");
  CHECK(stats_of(b).max_concurrent == 1);  // absent key: the default
}

TEST_CASE("get never creates a lane") {
  RegistryFixture f;
  CHECK(lane_registry_get(f.reg, "nothing") == nullptr);
  CHECK(has_message());
  CHECK(lane_registry_names(f.reg, nullptr, 0) == 0);
}

TEST_CASE("names lists every lane in sorted order and returns the total") {
  RegistryFixture f;
  f.lane("b");
  f.lane("a");
  f.lane("c");
  const char *names[2] = {nullptr, nullptr};
  CHECK(lane_registry_names(f.reg, names, 2) == 3);
  CHECK(std::string(names[0]) == "a");
  CHECK(std::string(names[1]) == "b");
  CHECK(lane_registry_names(f.reg, nullptr, 0) == 3);
}

TEST_CASE("get_or_create racing from 8 threads returns one lane") {
  RegistryFixture f;
  for (int round = 0; round < 20; ++round) {
    const std::string name = "race-" + std::to_string(round);
    std::vector<lane_t *> got(8, nullptr);
    std::vector<std::thread> ts;
    std::atomic<int> go{0};
    for (int i = 0; i < 8; ++i) {
      ts.emplace_back([&, i] {
        while (go.load() == 0) std::this_thread::yield();
        lane_registry_get_or_create(f.reg, name.c_str(), &got[static_cast<std::size_t>(i)]);
      });
    }
    go = 1;
    for (auto &t : ts) t.join();
    for (auto *l : got) CHECK(l == got[0]);
    CHECK(got[0] != nullptr);
  }
  CHECK(lane_registry_names(f.reg, nullptr, 0) == 20);
}

TEST_CASE("reload resizes lanes in place and keeps in-flight work") {
  RegistryFixture f;
  f.config.set("lanes.gpu.max_concurrent", 1);
  lane_t *gpu = f.lane("gpu");
  Blocker b;
  REQUIRE(b.submit(gpu, "j1") == LANE_OK);
  REQUIRE(b.submit(gpu, "j2") == LANE_OK);
  REQUIRE(b.rec.wait_started("j1"));
  CHECK(stats_of(gpu).queued == 1);
  f.config.set("lanes.gpu.max_concurrent", 2);
  CHECK(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(lane_registry_get(f.reg, "gpu") == gpu);  // the same lane
  REQUIRE(b.rec.wait_started("j2"));              // the raise dispatched the queued job
  CHECK(stats_of(gpu).max_concurrent == 2);
  f.config.set("lanes.gpu.max_concurrent", 1);
  CHECK(lane_registry_reload(f.reg) == LANE_OK);
  lane_stats_t s = stats_of(gpu);
  CHECK(s.max_concurrent == 1);
  CHECK(s.running == 2);  // lowering lets in-flight jobs finish
  b.gate.open();
  REQUIRE(b.rec.wait_outcomes(2));
  CHECK(b.rec.outcome("j1").status == LANE_OK);
  CHECK(b.rec.outcome("j2").status == LANE_OK);
}

TEST_CASE("a bad config value falls back to the default and is logged once per key and value") {
  RegistryFixture f;
  f.config.set("lanes.x.max_concurrent", -4);
  lane_t *x = f.lane("x");
  CHECK(stats_of(x).max_concurrent == 1);
  CHECK(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(f.log.count_containing("lanes.x.max_concurrent") == 1);
  f.config.set("lanes.x.max_concurrent", 0);
  CHECK(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(f.log.count_containing("lanes.x.max_concurrent") == 2);
  f.config.set("lanes.x.max_concurrent", 5);
  CHECK(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(stats_of(x).max_concurrent == 5);
  CHECK(f.log.count_containing("lanes.x.max_concurrent") == 2);
}

TEST_CASE("without a config callback the environment is read: lanes.llm-transport -> LANE_LLM_TRANSPORT_MAX_CONCURRENT") {
  ::setenv("LANE_LLM_TRANSPORT_MAX_CONCURRENT", "4", 1);
  ::setenv("LANE_BAD_ENV_MAX_CONCURRENT", "4x", 1);
  {
    RegistryFixture f(0, false);
    CHECK(stats_of(f.lane("llm-transport")).max_concurrent == 4);
    CHECK(stats_of(f.lane("bad.env")).max_concurrent == 1);
    CHECK(f.log.count_containing("lanes.bad.env.max_concurrent") == 1);
    ::setenv("LANE_LLM_TRANSPORT_MAX_CONCURRENT", "6", 1);
    CHECK(lane_registry_reload(f.reg) == LANE_OK);
    CHECK(stats_of(f.lane("llm-transport")).max_concurrent == 6);
    CHECK(f.log.count_containing("lanes.bad.env.max_concurrent") == 1);
  }
  ::unsetenv("LANE_LLM_TRANSPORT_MAX_CONCURRENT");
  ::unsetenv("LANE_BAD_ENV_MAX_CONCURRENT");
}

TEST_CASE("lanes.<name>.max_queued and eta_default_runtime_ns from the config shape a new lane") {
  Blocker b;  // outlives the registry, which cancels and awaits its jobs
  RegistryFixture f;
  f.config.set("lanes.q.max_queued", 1);
  f.config.set("lanes.q.eta_default_runtime_ns", 5 * kSec);
  lane_t *q = f.lane("q");
  lane_t *other = f.lane("other");  // keys of one lane do not leak into another
  REQUIRE(b.submit(q, "run") == LANE_OK);
  lane_ticket_t t = LANE_TICKET_INIT;
  REQUIRE(b.submit(q, "queued", 0, 0, &t) == LANE_OK);
  CHECK(t.position == 1);
  CHECK(t.eta_ns == 5 * kSec);  // no history: eta_default_runtime_ns per slot-round
  CHECK(b.submit(q, "third") == LANE_ERR_QUEUE_FULL);
  REQUIRE(b.submit(other, "o1") == LANE_OK);
  REQUIRE(b.submit(other, "o2", 0, 0, &t) == LANE_OK);
  CHECK(t.eta_ns == kSec);
  CHECK(b.submit(other, "o3") == LANE_OK);
  CHECK(f.log.size() == 0);
}

TEST_CASE("preemption_off and preempt_min_runtime_ns from the config; reload applies them to a live lane") {
  Blocker b;  // outlives the registry, which cancels and awaits its jobs
  RegistryFixture f;
  f.config.set("lanes.gpu.preempt_min_runtime_ns", -1);  // no guard
  f.config.set("lanes.cpu.preemption_off", 1);
  lane_t *gpu = f.lane("gpu");
  lane_t *cpu = f.lane("cpu");
  REQUIRE(b.submit(gpu, "g-low", 0, LANE_JOB_PREEMPTIBLE, nullptr) == LANE_OK);
  REQUIRE(b.submit(cpu, "c-low", 0, LANE_JOB_PREEMPTIBLE, nullptr) == LANE_OK);
  REQUIRE(b.rec.wait_started("g-low"));
  REQUIRE(b.rec.wait_started("c-low"));
  REQUIRE(b.submit(gpu, "g-high", 5, 0, nullptr) == LANE_OK);
  REQUIRE(b.submit(cpu, "c-high", 5, 0, nullptr) == LANE_OK);
  REQUIRE(b.rec.wait_outcome("g-low"));
  CHECK(b.rec.outcome("g-low").status == LANE_ERR_PREEMPTED);  // no guard: preempted at once
  REQUIRE(b.rec.wait_started("g-high"));
  CHECK(stats_of(cpu).preempted == 0);  // preemption off: c-high waits
  CHECK(stats_of(cpu).queued == 1);
  // Turned on (no guard) by a reload: the waiting c-high now preempts.
  f.config.set("lanes.cpu.preemption_off", 0);
  f.config.set("lanes.cpu.preempt_min_runtime_ns", -1);
  REQUIRE(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(lane_registry_get(f.reg, "cpu") == cpu);
  lane_ticket_t t = LANE_TICKET_INIT;
  REQUIRE(b.submit(cpu, "c-higher", 9, 0, &t) == LANE_OK);
  REQUIRE(b.rec.wait_outcome("c-low"));
  CHECK(b.rec.outcome("c-low").status == LANE_ERR_PREEMPTED);
  CHECK(f.log.size() == 0);
}

TEST_CASE("reload leaves preemption alone when the config does not set it") {
  Blocker b;  // outlives the registry, which cancels and awaits its jobs
  RegistryFixture f;
  lane_t *l = f.lane("keep");
  REQUIRE(lane_set_preemption(l, 0, 0) == LANE_OK);
  REQUIRE(lane_registry_reload(f.reg) == LANE_OK);
  REQUIRE(b.submit(l, "low", 0, LANE_JOB_PREEMPTIBLE, nullptr) == LANE_OK);
  REQUIRE(b.rec.wait_started("low"));
  REQUIRE(b.submit(l, "high", 5, 0, nullptr) == LANE_OK);
  CHECK(stats_of(l).queued == 1);  // still off: nothing preempted
  CHECK(stats_of(l).preempted == 0);
}

TEST_CASE("a lane option out of range falls back to its default and is logged once") {
  Blocker b;  // outlives the registry, which cancels and awaits its jobs
  RegistryFixture f;
  f.config.set("lanes.bad.max_queued", -1);
  f.config.set("lanes.bad.preemption_off", 2);
  f.config.set("lanes.bad.policy", 7);
  f.config.set("lanes.bad.aging_ns", -3);
  f.config.set("lanes.bad.eta_window", -1);
  f.config.set("lanes.zero.eta_window", 0);  // 0 means the default, as in lane_options_t
  f.config.set("lanes.zero.policy", 0);
  f.lane("zero");
  CHECK(f.log.count_containing("lanes.zero.") == 0);
  lane_t *l = f.lane("bad");
  for (const char *key : {"lanes.bad.max_queued", "lanes.bad.preemption_off", "lanes.bad.policy",
                          "lanes.bad.aging_ns", "lanes.bad.eta_window"}) {
    CAPTURE(key);
    CHECK(f.log.count_containing(key) == 1);
  }
  CHECK(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(f.log.count_containing("lanes.bad.") == 5);  // once per key and value
  REQUIRE(b.submit(l, "a") == LANE_OK);
  CHECK(b.submit(l, "b") == LANE_OK);  // max_queued stayed unbounded
  CHECK(b.submit(l, "c") == LANE_OK);
}

TEST_CASE("lane options from the environment: LANE_<NAME>_<OPTION>, negative numbers allowed where valid") {
  ::setenv("LANE_ENVQ_MAX_QUEUED", "1", 1);
  ::setenv("LANE_ENVQ_ETA_DEFAULT_RUNTIME_NS", "2000000000", 1);
  ::setenv("LANE_ENVP_PREEMPT_MIN_RUNTIME_NS", "-1", 1);
  ::setenv("LANE_ENVBAD_MAX_QUEUED", "-1", 1);
  {
    Blocker b;
    RegistryFixture f(0, false);
    lane_t *q = f.lane("envq");
    REQUIRE(b.submit(q, "first") == LANE_OK);
    REQUIRE(b.rec.wait_started("first"));
    lane_ticket_t t = LANE_TICKET_INIT;
    REQUIRE(b.submit(q, "next", 0, 0, &t) == LANE_OK);
    CHECK(t.eta_ns == 2 * kSec);
    CHECK(b.submit(q, "full") == LANE_ERR_QUEUE_FULL);
    lane_t *p = f.lane("envp");
    REQUIRE(b.submit(p, "low", 0, LANE_JOB_PREEMPTIBLE, nullptr) == LANE_OK);
    REQUIRE(b.rec.wait_started("low"));
    REQUIRE(b.submit(p, "high", 5, 0, nullptr) == LANE_OK);
    REQUIRE(b.rec.wait_outcome("low"));
    CHECK(b.rec.outcome("low").status == LANE_ERR_PREEMPTED);  // -1: no guard
    f.lane("envbad");
    CHECK(f.log.count_containing("lanes.envbad.max_queued") == 1);
    CHECK(f.log.count_containing("lanes.envq.") == 0);
  }
  ::unsetenv("LANE_ENVQ_MAX_QUEUED");
  ::unsetenv("LANE_ENVQ_ETA_DEFAULT_RUNTIME_NS");
  ::unsetenv("LANE_ENVP_PREEMPT_MIN_RUNTIME_NS");
  ::unsetenv("LANE_ENVBAD_MAX_QUEUED");
}

TEST_CASE("remove refuses a lane with work and removes an idle one") {
  RegistryFixture f;
  lane_t *l = f.lane("chat-42");
  {
    Blocker b;
    REQUIRE(b.submit(l, "j") == LANE_OK);
    CHECK(lane_registry_remove(f.reg, "chat-42") == LANE_ERR_BUSY);
    CHECK(has_message());
    CHECK(lane_registry_get(f.reg, "chat-42") == l);
    b.gate.open();
    REQUIRE(b.rec.wait_outcome("j"));
    REQUIRE(lane_wait_idle(l, 10 * kSec) == LANE_OK);
  }
  CHECK(lane_registry_remove(f.reg, "chat-42") == LANE_OK);
  CHECK(lane_registry_get(f.reg, "chat-42") == nullptr);
  CHECK(lane_registry_remove(f.reg, "chat-42") == LANE_ERR_INVALID);
  CHECK(lane_registry_names(f.reg, nullptr, 0) == 0);
  lane_t *again = f.lane("chat-42");  // a fresh lane under the old name
  CHECK(stats_of(again).submitted == 0);
}

TEST_CASE("idle lanes not borrowed for idle_retire_ns are retired; busy or borrowed ones stay") {
  RegistryFixture f(60 * kSec);
  lane_t *idle = f.lane("idle");
  lane_t *busy = f.lane("busy");
  f.lane("borrowed");
  Blocker b;
  REQUIRE(b.submit(busy, "j") == LANE_OK);
  f.clock.advance(30 * kSec);
  CHECK(lane_registry_get(f.reg, "borrowed") != nullptr);  // borrowing again keeps it
  f.clock.advance(31 * kSec);
  const char *names[4] = {};
  REQUIRE(lane_registry_names(f.reg, names, 4) == 2);
  CHECK(std::string(names[0]) == "borrowed");
  CHECK(std::string(names[1]) == "busy");
  CHECK(lane_registry_get(f.reg, "idle") == nullptr);
  (void)idle;
  b.gate.open();
  REQUIRE(b.rec.wait_outcome("j"));
  REQUIRE(lane_wait_idle(busy, 10 * kSec) == LANE_OK);
  f.clock.advance(61 * kSec);
  CHECK(lane_registry_names(f.reg, nullptr, 0) == 0);
}

TEST_CASE("lane_destroy refuses a registry lane; the registry destroys it, cancelling its jobs") {
  Blocker b;
  lane_registry_t *reg = nullptr;
  REQUIRE(lane_registry_create(nullptr, &reg) == LANE_OK);
  lane_t *l = nullptr;
  REQUIRE(lane_registry_get_or_create(reg, "owned", &l) == LANE_OK);
  REQUIRE(b.submit(l, "running") == LANE_OK);
  REQUIRE(b.submit(l, "queued") == LANE_OK);
  REQUIRE(b.rec.wait_started("running"));
  lane_destroy(l);
  CHECK(std::string(lane_last_error()).find("registry") != std::string::npos);
  CHECK(stats_of(l).running == 1);  // still alive
  lane_registry_destroy(reg);
  CHECK(b.rec.outcome("queued").status == LANE_ERR_CLOSED);
  CHECK(b.rec.outcome("running").status == LANE_ERR_CLOSED);
}

TEST_CASE("bad input: NULL handles, bad names, bad options") {
  RegistryFixture f;
  lane_t *l = reinterpret_cast<lane_t *>(1);
  CHECK(lane_registry_get_or_create(nullptr, "a", &l) == LANE_ERR_INVALID);
  CHECK(l == nullptr);
  CHECK(has_message());
  CHECK(lane_registry_get_or_create(f.reg, "a", nullptr) == LANE_ERR_INVALID);
  for (const char *bad : {"", "with space", "quote\"", "back\\slash", "new\nline", "{x}", "a=b", "sl/ash", "é"}) {
    CAPTURE(bad);
    CHECK(lane_registry_get_or_create(f.reg, bad, &l) == LANE_ERR_INVALID);
    CHECK(has_message());
    CHECK(lane_registry_remove(f.reg, bad) == LANE_ERR_INVALID);
  }
  CHECK(lane_registry_get_or_create(f.reg, nullptr, &l) == LANE_ERR_INVALID);
  CHECK(lane_registry_get(f.reg, nullptr) == nullptr);
  CHECK(lane_registry_get(f.reg, "") == nullptr);
  CHECK(lane_registry_remove(f.reg, nullptr) == LANE_ERR_INVALID);
  const std::string long_name(LANE_REGISTRY_NAME_MAX + 1, 'a');
  CHECK(lane_registry_get_or_create(f.reg, long_name.c_str(), &l) == LANE_ERR_INVALID);
  const std::string max_name(LANE_REGISTRY_NAME_MAX, 'a');
  CHECK(lane_registry_get_or_create(f.reg, max_name.c_str(), &l) == LANE_OK);
  CHECK(lane_registry_get_or_create(f.reg, "Az09_.:-", &l) == LANE_OK);

  CHECK(lane_registry_names(nullptr, nullptr, 0) == 0);
  CHECK(lane_registry_names(f.reg, nullptr, 3) == 0);
  CHECK(lane_registry_reload(nullptr) == LANE_ERR_INVALID);
  CHECK(lane_registry_remove(nullptr, "a") == LANE_ERR_INVALID);
  std::size_t len = 0;
  CHECK(lane_registry_metrics(nullptr, nullptr, 0, &len) == LANE_ERR_INVALID);
  CHECK(lane_registry_metrics(f.reg, nullptr, 0, nullptr) == LANE_ERR_INVALID);
  lane_registry_destroy(nullptr);

  lane_registry_t *r = nullptr;
  CHECK(lane_registry_create(nullptr, nullptr) == LANE_ERR_INVALID);
  lane_registry_options_t o = LANE_REGISTRY_OPTIONS_INIT;
  o.struct_size = 0;
  CHECK(lane_registry_create(&o, &r) == LANE_ERR_INVALID);
  CHECK(r == nullptr);
  o.struct_size = offsetof(lane_registry_options_t, clock_ud) + sizeof o.clock_ud - 1;  // below 0.1.0's fields
  CHECK(lane_registry_create(&o, &r) == LANE_ERR_INVALID);
  o = LANE_REGISTRY_OPTIONS_INIT;
  o.idle_retire_ns = -1;
  CHECK(lane_registry_create(&o, &r) == LANE_ERR_INVALID);
  o = LANE_REGISTRY_OPTIONS_INIT;
  int bad_policy = 7;
  std::memcpy(&o.default_policy, &bad_policy, sizeof bad_policy);
  CHECK(lane_registry_create(&o, &r) == LANE_ERR_INVALID);
  CHECK(has_message());
}

TEST_CASE("default_policy and default_max_concurrent apply to new lanes") {
  lane_registry_options_t o = LANE_REGISTRY_OPTIONS_INIT;
  o.default_policy = LANE_POLICY_FIFO;
  o.default_max_concurrent = 3;
  Config c;
  o.config_int = config_fn;
  o.config_ud = &c;
  lane_registry_t *reg = nullptr;
  REQUIRE(lane_registry_create(&o, &reg) == LANE_OK);
  lane_t *l = nullptr;
  REQUIRE(lane_registry_get_or_create(reg, "fifo", &l) == LANE_OK);
  CHECK(stats_of(l).max_concurrent == 3);
  CHECK(lane_set_tenant_weight(l, "t", 2) == LANE_ERR_INVALID);  // FIFO
  CHECK(c.keys_read.at(0) == "lanes.fifo.max_concurrent");
  lane_registry_destroy(reg);
}

TEST_CASE("label values escape backslash, double quote and newline") {
  std::string out;
  lane::registry::prom::append_label_value(out, "a\\b\"c\nd");
  CHECK(out == "a\\\\b\\\"c\\nd");
}

TEST_CASE("budget options from config: adaptive width at creation, rate limits at creation and on reload") {
  Blocker b;  // outlives the registry, which cancels and awaits its jobs
  RegistryFixture f;
  f.config.set("lanes.llm.max_concurrent", 20);
  f.config.set("lanes.llm.adaptive_min", 1);
  f.config.set("lanes.llm.adaptive_max", 8);
  // Two requests at once, then one per 1000 s: the third waits.
  f.config.set("lanes.llm.rate_requests", 1);
  f.config.set("lanes.llm.rate_requests_per_ns", 1'000'000'000'000);
  f.config.set("lanes.llm.rate_requests_burst", 2);
  lane_t *l = f.lane("llm");
  CHECK(stats_of(l).width == 8);  // max_concurrent clamped into adaptive's range
  lane_ticket_t t = LANE_TICKET_INIT;
  REQUIRE(b.submit(l, "r1", 0, 0, &t) == LANE_OK);
  REQUIRE(b.submit(l, "r2", 0, 0, &t) == LANE_OK);
  REQUIRE(b.submit(l, "r3", 0, 0, &t) == LANE_OK);
  CHECK(t.blocked_by == LANE_BLOCKED_RATE);
  const std::int64_t ready = stats_of(l).rate_ready_at_ns;
  CHECK(ready > 0);
  CHECK(stats_of(l).running == 2);
  // An unchanged limit keeps its bucket: r3 still waits for the same time.
  REQUIRE(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(stats_of(l).rate_ready_at_ns == ready);
  CHECK(stats_of(l).queued == 1);
  // A host's own limit on another kind stays when the config names none.
  REQUIRE(lane_set_rate_limit(l, LANE_RATE_COST, 1000, 1'000'000'000, 1000) == LANE_OK);
  // rate_requests 0 turns it off on reload: r3 starts.
  f.config.set("lanes.llm.rate_requests", 0);
  REQUIRE(lane_registry_reload(f.reg) == LANE_OK);
  REQUIRE(b.rec.wait_started("r3"));
  CHECK(stats_of(l).rate_ready_at_ns == 0);
  CHECK(f.log.size() == 0);
}

TEST_CASE("an adaptive range the lane cannot take is logged once and leaves the width fixed") {
  Blocker b;
  RegistryFixture f;
  f.config.set("lanes.aimd.max_concurrent", 4);
  f.config.set("lanes.aimd.adaptive_min", 5);
  f.config.set("lanes.aimd.adaptive_max", 2);
  lane_t *l = f.lane("aimd");
  CHECK(stats_of(l).width == 4);
  CHECK(f.log.count_containing("lanes.aimd.adaptive_min") == 1);
  REQUIRE(lane_registry_reload(f.reg) == LANE_OK);
  CHECK(f.log.count_containing("lanes.aimd.adaptive_min") == 1);
}
