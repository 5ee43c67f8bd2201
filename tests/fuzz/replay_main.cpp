// Runs the fuzz target without libFuzzer: every file of the corpus folder
// given as argv[1], then 300 pseudo-random inputs from a fixed seed, so every
// build (plain, release, ASan/UBSan, TSan, valgrind) replays what the fuzzer
// found and a little more.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);

int main(int argc, char **argv) {
  std::size_t files = 0;
  if (argc > 1) {
    for (const auto &e : std::filesystem::directory_iterator(argv[1])) {
      if (!e.is_regular_file()) continue;
      std::ifstream f(e.path(), std::ios::binary);
      std::vector<std::uint8_t> buf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(buf.data(), buf.size());
      ++files;
    }
  }
  std::mt19937 rng(20261201);
  for (int i = 0; i < 300; ++i) {
    std::vector<std::uint8_t> buf(64 + rng() % 512);
    for (auto &b : buf) b = static_cast<std::uint8_t>(rng());
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("api_fuzz replay: %zu corpus files and 300 random inputs, no failure\n", files);
  return 0;
}
