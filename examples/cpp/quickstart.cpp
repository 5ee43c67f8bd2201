// lane.hpp: a fair-share lane, lambdas as jobs, expected results.
#include <lane/lane.hpp>

#include <cstdio>
#include <stdexcept>

using namespace std::chrono_literals;

int main() {
  auto llm = lane::Lane::create("llm", {.max_concurrent = 1, .policy = LANE_POLICY_FAIR_SHARE});
  if (!llm) return std::fprintf(stderr, "%s: %s\n", llm.error().name(), llm.error().message.c_str()), 1;

  auto report = [](const lane::Outcome &o) {
    std::printf("%s: %s after %lld ms in the queue\n", o.job_id.c_str(), lane_status_name(o.status),
                static_cast<long long>(o.waited() / 1ms));
  };
  for (auto [id, tenant] : {std::pair{"alice-1", "alice"}, {"alice-2", "alice"}, {"bob-1", "bob"}}) {
    auto ticket = llm->submit({.id = id, .tenant = tenant, .on_done = report}, [](lane::Context &ctx) {
      return ctx.wait(50ms) == LANE_ERR_TIMEOUT ? 0 : 1;  // the "LLM call"; stops early if cancelled
    });
    if (ticket) std::printf("%s: position %d, eta %lld ms\n", id, ticket->position, static_cast<long long>(ticket->eta / 1ms));
  }
  // A job that throws ends failed, with the message kept.
  auto failed = llm->submit_wait({.id = "tool"}, [](lane::Context &) -> int { throw std::runtime_error("no such tool"); });
  if (failed) std::printf("tool: %s (%s)\n", lane_status_name(failed->status), failed->error.c_str());
  return llm->wait_idle() ? 0 : 1;
}
