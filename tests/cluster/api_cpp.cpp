// lane.hpp's shared lanes against a live Redis (URL in argv[1]) and a port
// where nothing listens (argv[2]). Run by cluster_test.py (scenario api).
#include <lane/lane.hpp>

#include <atomic>
#include <cstdio>

static int failures = 0;
#define EXPECT(cond)                                                      \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                         \
    }                                                                     \
  } while (0)

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  auto dead = lane::Cluster::create({.url = argv[2]});
  EXPECT(!dead && dead.error().status == LANE_ERR_UNAVAILABLE);
  auto bad = lane::Cluster::create({.url = argv[1], .lease = std::chrono::milliseconds(1)});
  EXPECT(!bad && bad.error().status == LANE_ERR_INVALID);

  auto cluster = lane::Cluster::create({.url = argv[1], .key_prefix = "cpp", .lease = std::chrono::seconds(2)});
  EXPECT(cluster.has_value());
  if (!cluster) return 1;
  {
    auto llm = lane::Lane::create("llm", {.max_concurrent = 2, .cluster = cluster->capi()});
    EXPECT(llm.has_value());
    if (!llm) return 1;
    std::atomic<std::uint64_t> fence{0};
    auto o = llm->submit_wait({.id = "a"}, [&](lane::Context &ctx) { fence = ctx.fence(); });
    EXPECT(o && o->status == LANE_OK);
    EXPECT(fence.load() > 0);
    auto st = llm->stats();
    EXPECT(st && st->shared && st->available && st->completed == 1);
    auto early = cluster->destroy();  // the lane still uses it
    EXPECT(!early && early.error().status == LANE_ERR_INVALID);
    EXPECT(llm->destroy().has_value());
  }
  {
    // A registry's lanes are members too, and the cluster outlives the registry.
    auto reg = lane::Registry::create({.default_max_concurrent = 2, .cluster = cluster->capi()});
    EXPECT(reg.has_value());
    if (!reg) return 1;
    auto llm = reg->lane("llm");
    EXPECT(llm.has_value());
    if (!llm) return 1;
    std::atomic<std::uint64_t> fence{0};
    auto o = llm->submit_wait({.id = "r"}, [&](lane::Context &ctx) { fence = ctx.fence(); });
    EXPECT(o && o->status == LANE_OK);
    EXPECT(fence.load() > 0);
    auto st = llm->stats();
    EXPECT(st && st->shared && st->available);
    auto early = cluster->destroy();  // the registry's lane still uses it
    EXPECT(!early && early.error().status == LANE_ERR_INVALID);
  }
  EXPECT(cluster->destroy().has_value());
  if (failures == 0) std::printf("api (C++): all checks passed\n");
  return failures == 0 ? 0 : 1;
}
