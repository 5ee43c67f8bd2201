// One timer thread for all lanes: many lanes with queue timeouts add no
// thread each, and every deadline still fires.
#include <dirent.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "capi_fixture.hpp"

namespace {

int threads_in_process() {
  int n = 0;
  if (DIR *d = opendir("/proc/self/task")) {
    while (dirent *e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

std::int32_t nothing(lane_ctx_t *, void *) { return 0; }

struct Ends {
  std::atomic<int> timeouts{0}, others{0};
};

void count_end(const lane_outcome_t *o, void *ud) {
  auto *e = static_cast<Ends *>(ud);
  (o->status == LANE_ERR_TIMEOUT ? e->timeouts : e->others).fetch_add(1);
}

}  // namespace

TEST_CASE("300 lanes with queue timeouts share one timer thread, and every timeout fires") {
  constexpr int kLanes = 300;
  Ends ends;
  lane_port_t *port = nullptr;
  REQUIRE(lane_port_create(&port) == LANE_OK);
  lane_options_t o = LANE_OPTIONS_INIT;
  // One timeout first, so the worker pool and the timer thread exist before
  // we count (a process has them once, whatever the number of lanes).
  lane_t *warm = nullptr;
  REQUIRE(lane_create("warm", &o, &warm) == LANE_OK);
  lane_job_t w = LANE_JOB_INIT;
  w.id = "w";
  w.run = nothing;
  w.queue_timeout_ns = 1'000'000;
  REQUIRE(lane_submit_wait(warm, &w, -1, nullptr) == LANE_OK);
  const int before = threads_in_process();

  std::vector<lane_t *> lanes;
  std::vector<std::uint64_t> blockers;
  for (int i = 0; i < kLanes; ++i) {
    lane_t *l = nullptr;
    REQUIRE(lane_create(("t" + std::to_string(i)).c_str(), &o, &l) == LANE_OK);
    lanes.push_back(l);
    // A host-run job holds the one slot without holding a thread.
    lane_job_t blocker = LANE_JOB_INIT;
    blocker.id = "blocker";
    blocker.port = port;
    lane_ticket_t t = LANE_TICKET_INIT;
    REQUIRE(lane_submit(l, &blocker, &t) == LANE_OK);
    blockers.push_back(t.job_token);
    lane_job_t queued = LANE_JOB_INIT;
    queued.id = "queued";
    queued.run = nothing;
    queued.on_done = count_end;
    queued.user_data = &ends;
    queued.queue_timeout_ns = 20 * capi_test::kMs + i * 100'000;  // 20-50 ms: distinct deadlines
    REQUIRE(lane_submit(l, &queued, nullptr) == LANE_OK);
  }
  const int during = threads_in_process();
  for (int spin = 0; spin < 5'000 && ends.timeouts.load() < kLanes; ++spin) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(ends.timeouts.load() == kLanes);
  CHECK(ends.others.load() == 0);
  // A timer thread per lane made this kLanes.
  CHECK(during - before <= 1);
  for (int i = 0; i < kLanes; ++i) {
    CHECK(lane_job_finish(lanes[i], blockers[i], 0) == LANE_OK);
    CHECK(lane_destroy(lanes[i]) == LANE_OK);
  }
  CHECK(lane_destroy(warm) == LANE_OK);
  CHECK(lane_port_destroy(port) == LANE_OK);
}
