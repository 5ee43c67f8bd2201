// lane.hpp: a fair-share lane, lambdas as jobs, expected results, a session.
#include <lane/lane.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

int main() {
  auto llm = lane::Lane::create("llm", {.max_concurrent = 1, .policy = LANE_POLICY_FAIR_SHARE});
  if (!llm) return std::fprintf(stderr, "%s: %s\n", llm.error().name(), llm.error().message.c_str()), 1;

  auto report = [](const lane::Outcome &o) {
    std::printf("%s: %s after %lld ms in the queue\n", o.job_id.c_str(), lane_status_name(o.status),
                static_cast<long long>(o.waited() / 1ms));
  };
  for (auto [id, tenant] : {std::pair{"alice-1", "alice"}, {"alice-2", "alice"}, {"bob-1", "bob"}}) {
    auto ticket = llm->submit({.id = id, .tenant = tenant, .on_done = report}, [](std::stop_token stop) {
      std::this_thread::sleep_for(50ms);  // the "LLM call"; a real one would watch `stop`
      return stop.stop_requested() ? 1 : 0;
    });
    if (ticket) std::printf("%s: position %d, eta %lld ms\n", id, ticket->position, static_cast<long long>(ticket->eta / 1ms));
  }
  // Too long a wait is refused, and the refusal says the ETA.
  auto busy = llm->submit({.id = "carol-1", .max_wait = 1ms}, [] {});
  if (!busy && busy.error().ticket) std::printf("carol-1: %s, eta %lld ms\n", busy.error().name(),
                                                static_cast<long long>(busy.error().ticket->eta / 1ms));
  // A job that throws ends failed, with the message kept.
  auto failed = llm->submit_wait({.id = "tool"}, [](lane::Context &) -> int { throw std::runtime_error("no such tool"); });
  if (failed) std::printf("tool: %s (%s)\n", lane_status_name(failed->status), failed->error.c_str());

  // A chat session: messages that arrive while a run is busy are merged into the next run.
  auto chat = lane::Session::create(*llm, "user-42", {.mode = LANE_SESSION_COLLECT, .debounce = 20ms},
                                    [](lane::Context &ctx) {
                                      std::printf("one run for %zu message(s)\n", ctx.batch().size());
                                    });
  if (!chat) return 1;
  for (std::string text : {"hi", "are you there?", "order #1234"}) {
    if (auto r = chat->enqueue({.id = "m-" + std::to_string(text.size())}, text); !r) return 1;
  }
  while (chat->queued() + chat->active() > 0) std::this_thread::sleep_for(5ms);
  return llm->wait_idle() ? 0 : 1;
}
