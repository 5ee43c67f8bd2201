// Owners and borrowers over time: destroy order both ways, moved-from
// owners, owners in containers and out of factories, refusals that a
// destructor cannot return, and LaneRefs that outlive their lane.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "lane/lane.hpp"

using namespace std::chrono_literals;

namespace {

struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<lane::Outcome> got;
  lane::OnDone sink() {
    return [this](const lane::Outcome &o) {
      std::lock_guard lk(mu);
      got.push_back(o);
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, 10s, [&] { return got.size() >= n; });
  }
  std::optional<lane::Outcome> find(std::string_view id) {
    std::lock_guard lk(mu);
    for (const auto &o : got)
      if (o.job_id == id) return o;
    return std::nullopt;
  }
};

// Reports seen by the process-wide handler while a test installs it.
struct Reports {
  static inline std::mutex mu;
  static inline std::vector<std::string> seen;
  static void handler(const lane::Report &r) {
    std::lock_guard lk(mu);
    seen.push_back(std::string(r.where) + "|" + lane_status_name(r.status) + "|" + std::string(r.message));
  }
  lane::ReportHandler previous;
  Reports() : previous(lane::set_report_handler(&handler)) {
    std::lock_guard lk(mu);
    seen.clear();
  }
  ~Reports() { lane::set_report_handler(previous); }
  std::vector<std::string> get() {
    std::lock_guard lk(mu);
    return seen;
  }
};

lane::Lane make_lane(std::string name) {  // an owner out of a factory
  auto l = lane::Lane::create(name, {.max_concurrent = 2});
  REQUIRE(l.has_value());
  return std::move(*l);
}

}  // namespace

TEST_CASE("moved-from owners answer every call without crashing") {
  lane::Lane a = make_lane("moved-from");
  lane::Lane b = std::move(a);
  CHECK(b.name() == "moved-from");
  // NOLINTBEGIN(bugprone-use-after-move): the moved-from state is what is tested
  CHECK(a.name().empty());
  CHECK(a.capi() == nullptr);
  CHECK(a.submit({.id = "x"}, [] {}).error().status == LANE_ERR_INVALID);
  CHECK(a.stats().error().status == LANE_ERR_INVALID);
  CHECK(a.cancel("x").error().status == LANE_ERR_INVALID);
  CHECK(a.destroy().has_value());  // nothing to destroy
  CHECK(a.ref().stats().error().status == LANE_ERR_INVALID);

  auto s = lane::Session::create(b, "key", {}, [] {});
  REQUIRE(s.has_value());
  lane::Session s2 = std::move(*s);
  CHECK(s2.key() == "key");
  CHECK(s->key().empty());
  CHECK(s->active() == 0);
  CHECK(s->queued() == 0);
  CHECK(s->enqueue({.id = "m"}).error().status == LANE_ERR_INVALID);
  CHECK(s->enqueue_host({.id = "m"}).error().status == LANE_ERR_INVALID);
  CHECK(s->reset().error().status == LANE_ERR_INVALID);
  CHECK_FALSE(s->cancel_one());

  auto r = lane::Registry::create();
  REQUIRE(r.has_value());
  lane::Registry r2 = std::move(*r);
  CHECK(r->lane("x").error().status == LANE_ERR_INVALID);
  CHECK(r->names().empty());
  CHECK(r2.lane("x").has_value());

  auto p = lane::Port::create();
  REQUIRE(p.has_value());
  lane::Port p2 = std::move(*p);
  CHECK(p->poll(1, 0ns).error().status == LANE_ERR_INVALID);
  CHECK(p->fd() == -1);
  CHECK(p2.fd() >= 0);
  // NOLINTEND(bugprone-use-after-move)
}

TEST_CASE("owners live in containers and move between them") {
  std::vector<lane::Lane> lanes;
  for (int i = 0; i < 5; ++i) lanes.push_back(make_lane("in-vector-" + std::to_string(i)));
  lanes.reserve(64);  // reallocation moves every owner
  std::vector<lane::Session> sessions;
  for (auto &l : lanes) {
    auto s = lane::Session::create(l, l.name(), {.debounce = -1ns}, [](lane::Context &) { return 0; });
    REQUIRE(s.has_value());
    sessions.push_back(std::move(*s));
  }
  Outcomes outs;
  for (auto &s : sessions) REQUIRE(s.enqueue({.id = "m", .on_done = outs.sink()}).has_value());
  REQUIRE(outs.wait_for(5));
  lanes.erase(lanes.begin());  // a lane destroyed while its session lives on
  for (const auto &o : outs.got) CHECK(o.ok());
}

TEST_CASE("a Session declared after its Lane is destroyed first: the usual order") {
  Outcomes outs;
  auto l = lane::Lane::create("order-usual");
  REQUIRE(l.has_value());
  {
    auto s = lane::Session::create(*l, "k", {.debounce = -1ns}, [](lane::Context &ctx) { return ctx.wait(10s) == LANE_ERR_CANCELLED ? 0 : 1; });
    REQUIRE(s.has_value());
    REQUIRE(s->enqueue({.id = "running", .on_done = outs.sink()}).has_value());
    REQUIRE(s->enqueue({.id = "queued", .on_done = outs.sink()}).has_value());
  }  // ~Session: queued ends CANCELLED, the run is cancelled and waited for
  REQUIRE(outs.wait_for(2));
  CHECK(outs.find("running")->status == LANE_ERR_CANCELLED);
  CHECK(outs.find("queued")->status == LANE_ERR_CANCELLED);
  CHECK(l->stats()->running == 0);
}

TEST_CASE("a Session declared before its Lane outlives it: the lane closes, enqueue answers CLOSED") {
  Outcomes outs;
  Reports reports;
  std::optional<lane::Session> s;  // declared first, destroyed last
  std::atomic<int> clock_calls{0};
  std::atomic<bool> started{false};
  {
    auto l = lane::Lane::create("order-reversed", {.clock = [&] {
                                                     clock_calls++;
                                                     return lane::TimePoint(std::chrono::system_clock::now());
                                                   }});
    REQUIRE(l.has_value());
    auto created = lane::Session::create(*l, "k", {.debounce = -1ns}, [&](lane::Context &ctx) {
      started = true;
      return ctx.wait(10s) == LANE_ERR_TIMEOUT ? 1 : 0;
    });
    REQUIRE(created.has_value());
    s.emplace(std::move(*created));
    REQUIRE(s->enqueue({.id = "running", .on_done = outs.sink()}).has_value());
    REQUIRE(s->enqueue({.id = "queued", .on_done = outs.sink()}).has_value());
    while (!started) std::this_thread::sleep_for(1ms);
  }  // ~Lane with a live session: close(CANCEL) and wait; the session keeps the lane's memory and clock
  REQUIRE(outs.wait_for(2));
  CHECK(outs.find("queued")->status == LANE_ERR_CLOSED);
  CHECK(outs.find("running")->status == LANE_ERR_CLOSED);
  auto late = s->enqueue({.id = "late", .on_done = outs.sink()});
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().status == LANE_ERR_CLOSED);
  CHECK(s->active() == 0);
  s.reset();  // the last reference: the lane's memory goes now
  CHECK(outs.got.size() == 2);
  CHECK(clock_calls > 0);
  CHECK(reports.get().empty());  // nothing was refused
}

TEST_CASE("a registry destroyed while a session uses one of its lanes: the session outlives it") {
  Outcomes outs;
  std::optional<lane::Session> s;
  {
    auto reg = lane::Registry::create({.log = [](std::int32_t, std::string_view) {}});
    REQUIRE(reg.has_value());
    auto llm = reg->lane("llm");
    REQUIRE(llm.has_value());
    auto created = lane::Session::create(*llm, "k", {.debounce = -1ns}, [](lane::Context &ctx) { (void)ctx.wait(10s); });
    REQUIRE(created.has_value());
    s.emplace(std::move(*created));
    REQUIRE(s->enqueue({.id = "m", .on_done = outs.sink()}).has_value());
  }
  REQUIRE(outs.wait_for(1));
  CHECK(outs.find("m")->status == LANE_ERR_CLOSED);
  CHECK(s->enqueue({.id = "late"}).error().status == LANE_ERR_CLOSED);
}

TEST_CASE("destroy() from inside the lane's own job is refused with DEADLOCK and the owner keeps the lane") {
  auto l = lane::Lane::create("self-destroy");
  REQUIRE(l.has_value());
  lane::Lane *self = &*l;
  auto out = l->submit_wait({.id = "j"}, [&](lane::Context &) {
    auto r = self->destroy();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().status == LANE_ERR_DEADLOCK);
    CHECK(self->capi() != nullptr);
  });
  REQUIRE(out.has_value());
  CHECK(out->ok());
  CHECK(l->destroy().has_value());  // from outside: destroyed
  CHECK(l->capi() == nullptr);
}

TEST_CASE("Session::destroy() from inside its own run is refused with DEADLOCK") {
  auto l = lane::Lane::create("session-self-destroy");
  REQUIRE(l.has_value());
  Outcomes outs;
  std::optional<lane::Session> s;
  std::atomic<int> status{0};
  auto created = lane::Session::create(*l, "k", {.debounce = -1ns}, [&](lane::Context &) {
    auto r = s->destroy();
    status = r ? LANE_OK : r.error().status;
  });
  REQUIRE(created.has_value());
  s.emplace(std::move(*created));
  REQUIRE(s->enqueue({.id = "m", .on_done = outs.sink()}).has_value());
  REQUIRE(outs.wait_for(1));
  CHECK(status == LANE_ERR_DEADLOCK);
  CHECK(s->capi() != nullptr);
  CHECK(s->destroy().has_value());
}

TEST_CASE("a throwing on_done is reported through the report handler, and the job still counts once") {
  Reports reports;
  auto l = lane::Lane::create("throwing-done");
  REQUIRE(l.has_value());
  auto t = l->submit({.id = "j", .on_done = [](const lane::Outcome &) { throw std::runtime_error("listener broke"); }},
                     [] { return 0; });
  REQUIRE(t.has_value());
  REQUIRE(l->wait_idle(5s).has_value());
  for (int i = 0; i < 1000 && reports.get().empty(); ++i) std::this_thread::sleep_for(1ms);
  CHECK(reports.get() == std::vector<std::string>{"on_done|LANE_ERR_INTERNAL|listener broke"});
  CHECK(l->stats()->completed == 1);
}

TEST_CASE("a LaneRef of a destroyed Lane answers CLOSED instead of touching freed memory") {
  auto l = lane::Lane::create("ref-outlives");
  REQUIRE(l.has_value());
  lane::LaneRef r = l->ref();
  CHECK(r.live());
  CHECK(r.name() == "ref-outlives");
  REQUIRE(l->destroy().has_value());
  CHECK_FALSE(r.live());
  CHECK(r.name().empty());
  auto st = r.stats();
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().status == LANE_ERR_CLOSED);
  CHECK(r.submit({.id = "x"}, [] {}).error().status == LANE_ERR_CLOSED);
  CHECK(lane::Session::create(r, "k", {}, [] {}).error().status == LANE_ERR_CLOSED);
}

TEST_CASE("a registry LaneRef knows when its lane was removed or its registry destroyed") {
  auto reg = lane::Registry::create();
  REQUIRE(reg.has_value());
  auto old = reg->lane("a");
  REQUIRE(old.has_value());
  auto other = reg->lane("b");
  REQUIRE(other.has_value());
  REQUIRE(reg->remove("a").has_value());
  auto gone = old->pause();
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().status == LANE_ERR_CLOSED);
  CHECK(gone.error().message.find("removed") != std::string::npos);
  CHECK(other->pause().has_value());  // another name is untouched
  auto fresh = reg->lane("a");        // a new lane of the same name
  REQUIRE(fresh.has_value());
  CHECK(fresh->pause().has_value());
  CHECK(old->stats().error().status == LANE_ERR_CLOSED);  // the old handle stays dead

  const lane::LaneRef kept = *fresh;  // a const handle still submits
  REQUIRE(kept.resume().has_value());
  auto out = kept.submit_wait({.id = "j"}, [] {});
  REQUIRE(out.has_value());
  CHECK(out->ok());

  REQUIRE(reg->destroy().has_value());
  auto dead = kept.stats();
  REQUIRE_FALSE(dead.has_value());
  CHECK(dead.error().status == LANE_ERR_CLOSED);
  CHECK(dead.error().message.find("destroyed") != std::string::npos);
}
