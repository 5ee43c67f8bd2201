// A handle of the wrong kind (a port where a job context belongs, a sampler
// where a lane belongs, ...) is refused with LANE_ERR_INVALID and a message,
// and is never read beyond the tag every handle starts with (AddressSanitizer
// reports an overread of the smaller object otherwise).
#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

int32_t sink(const char *, uint32_t, uint32_t, int64_t, void *) { return 0; }

struct Handles {
  lane_t *lane = nullptr;
  lane_port_t *port = nullptr;
  lane_registry_t *reg = nullptr;
  lane_sampler_t *sampler = nullptr;
  lane_session_t *session = nullptr;

  Handles() {
    REQUIRE(lane_create("wrong-kind", nullptr, &lane) == LANE_OK);
    REQUIRE(lane_port_create(&port) == LANE_OK);
    REQUIRE(lane_registry_create(nullptr, &reg) == LANE_OK);
    lane_sampler_options_t so = LANE_SAMPLER_OPTIONS_INIT;
    so.sink = sink;
    REQUIRE(lane_sampler_create(reg, &so, &sampler) == LANE_OK);
    REQUIRE(lane_session_create(lane, "s", nullptr, &session) == LANE_OK);
  }
  ~Handles() {
    lane_session_destroy(session);
    lane_sampler_destroy(sampler);
    lane_registry_destroy(reg);
    lane_port_destroy(port);
    lane_destroy(lane);
  }
  // Every handle but the one of the kind asked for, as raw pointers.
  std::vector<void *> all() const { return {lane, port, reg, sampler, session}; }
};

bool refused_with_message(lane_status_t s) { return s == LANE_ERR_INVALID && *lane_last_error() != '\0'; }

}  // namespace

TEST_CASE("job context functions refuse every other kind of handle") {
  Handles h;
  for (void *p : h.all()) {
    auto *ctx = static_cast<lane_ctx_t *>(p);
    CHECK(lane_ctx_cancelled(ctx) == 0);
    CHECK(refused_with_message(lane_ctx_cause(ctx)));
    CHECK(refused_with_message(lane_ctx_wait(ctx, 0)));
    CHECK(lane_ctx_job_id(ctx) == nullptr);
    CHECK(lane_ctx_user_data(ctx) == nullptr);
    CHECK(lane_ctx_lane(ctx) == nullptr);
    CHECK(lane_ctx_batch_count(ctx) == 0);
    CHECK(refused_with_message(lane_ctx_batch_item(ctx, 0, nullptr, nullptr)));
    CHECK(lane_ctx_next_message(ctx, nullptr, nullptr) == 0);
    CHECK(lane_ctx_dropped_count(ctx) == 0);
    CHECK(lane_ctx_dropped_id(ctx, 0) == nullptr);
  }
}

TEST_CASE("lane, port, registry, sampler and session functions refuse the other kinds") {
  Handles h;
  lane_job_t j = LANE_JOB_INIT;
  j.id = "never";
  j.run = [](lane_ctx_t *, void *) -> int32_t { return 0; };
  for (void *p : h.all()) {
    if (p != h.lane) {
      auto *l = static_cast<lane_t *>(p);
      CHECK(refused_with_message(lane_submit(l, &j, nullptr)));
      CHECK(refused_with_message(lane_cancel(l, "x", 0)));
      lane_stats_t s = {};
      s.struct_size = sizeof s;
      CHECK(refused_with_message(lane_stats(l, &s)));
      CHECK(refused_with_message(lane_close(l, LANE_CLOSE_DRAIN)));
      CHECK(refused_with_message(lane_job_finish(l, 1, 0)));
      CHECK(lane_name(l) == nullptr);
      lane_session_t *s2 = nullptr;
      CHECK(refused_with_message(lane_session_create(l, "k", nullptr, &s2)));
    }
    if (p != h.port) {
      auto *port = static_cast<lane_port_t *>(p);
      CHECK(lane_port_fd(port) == -1);
      lane_event_t ev[1] = {};
      ev[0].struct_size = sizeof ev[0];
      CHECK(lane_port_poll(port, ev, 1, 0) == LANE_ERR_INVALID);
      CHECK(refused_with_message(lane_port_wake(port)));
      lane_job_t hj = LANE_JOB_INIT;
      hj.id = "host";
      hj.port = port;
      CHECK(refused_with_message(lane_submit(h.lane, &hj, nullptr)));
    }
    if (p != h.reg) {
      auto *reg = static_cast<lane_registry_t *>(p);
      lane_t *l = nullptr;
      CHECK(refused_with_message(lane_registry_get_or_create(reg, "x", &l)));
      CHECK(lane_registry_get(reg, "x") == nullptr);
      CHECK(refused_with_message(lane_registry_reload(reg)));
      size_t len = 0;
      CHECK(refused_with_message(lane_registry_metrics(reg, nullptr, 0, &len)));
      lane_sampler_options_t so = LANE_SAMPLER_OPTIONS_INIT;
      so.sink = sink;
      lane_sampler_t *smp = nullptr;
      CHECK(refused_with_message(lane_sampler_create(reg, &so, &smp)));
    }
    if (p != h.sampler) {
      auto *smp = static_cast<lane_sampler_t *>(p);
      CHECK(refused_with_message(lane_sampler_start(smp)));
      CHECK(refused_with_message(lane_sampler_stop(smp)));
      CHECK(refused_with_message(lane_sampler_sample_once(smp)));
      CHECK(refused_with_message(lane_sampler_purge_once(smp)));
    }
    if (p != h.session) {
      auto *s = static_cast<lane_session_t *>(p);
      CHECK(refused_with_message(lane_session_enqueue(s, &j)));
      CHECK(lane_session_cancel_one(s) == 0);
      CHECK(lane_session_cancel_all(s) == 0);
      CHECK(refused_with_message(lane_session_reset(s)));
      CHECK(lane_session_active(s) == 0);
      CHECK(lane_session_queued(s) == 0);
      CHECK(refused_with_message(lane_session_set_max_concurrent(s, 2)));
      CHECK(lane_session_key(s) == nullptr);
    }
  }
  // Nothing above reached a real object: the lane still has no job.
  lane_stats_t s = stats_of(h.lane);
  CHECK(s.submitted == 0);
  CHECK(s.refused == 0);
}
