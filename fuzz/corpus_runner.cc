// Runs a fuzz target over its seed corpus and, for each seed, a fixed set of mutations
// (truncations and byte flips), so the corpus runs as an ordinary CTest test under g++ and
// the sanitizers. Built with clang and CONCIERGE_LIBFUZZER=ON, libFuzzer's own main is used
// instead.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::vector<uint8_t>& input) {
  // A copy of exactly the input's size, so reads past the end are caught by ASan.
  std::vector<uint8_t> copy(input);
  LLVMFuzzerTestOneInput(copy.data(), copy.size());
}

void RunMutations(const std::vector<uint8_t>& seed) {
  Run(seed);
  for (size_t cut :
       {size_t{0}, size_t{1}, seed.size() / 2, seed.size() > 0 ? seed.size() - 1 : 0}) {
    Run(std::vector<uint8_t>(seed.begin(),
                             seed.begin() + static_cast<long>(std::min(cut, seed.size()))));
  }
  uint32_t state = 2166136261u;
  for (uint8_t b : seed) {
    state = (state ^ b) * 16777619u;
  }
  for (int i = 0; i < 64 && !seed.empty(); ++i) {
    std::vector<uint8_t> mutated(seed);
    state = state * 1103515245u + 12345u;
    size_t at = state % mutated.size();
    state = state * 1103515245u + 12345u;
    mutated[at] ^= static_cast<uint8_t>(1u << (state % 8));
    Run(mutated);
  }
}

}  // namespace

int main(int argc, char** argv) {
  size_t seeds = 0;
  for (int i = 1; i < argc; ++i) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i])) {
      if (!entry.is_regular_file()) {
        continue;
      }
      std::ifstream in(entry.path(), std::ios::binary);
      std::vector<uint8_t> seed((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
      RunMutations(seed);
      ++seeds;
    }
  }
  if (seeds == 0) {
    (void)std::fprintf(stderr, "no seeds found in the corpus directories given\n");
    return 1;
  }
  (void)std::printf("%zu seeds and their mutations ran\n", seeds);
  return 0;
}
