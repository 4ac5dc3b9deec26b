// Corpus replay for the fuzz targets, so every CI run exercises them without libFuzzer.
//
//   <target>_replay DIR [MUTATIONS]
// Feeds every file in DIR to LLVMFuzzerTestOneInput, then MUTATIONS (default 2000) deterministic
// mutations of them (byte flips, insertions, deletions, truncations, splices; fixed seed).
// A crash or a failed invariant (the target aborts) fails the test. Built with clang and
// -DGATELAB_BUILD_FUZZERS=ON, the same targets link against libFuzzer instead.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::string mutate(const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  std::string s = corpus[rng() % corpus.size()];
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    const std::size_t pos = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 6) {
      case 0:
        if (!s.empty()) s[pos] = static_cast<char>(rng() & 0xFF);
        break;
      case 1: s.insert(pos, 1, static_cast<char>(rng() & 0xFF)); break;
      case 2:
        if (!s.empty()) s.erase(pos, 1 + rng() % 8);
        break;
      case 3: s.resize(pos); break;
      case 4: {
        const std::string& other = corpus[rng() % corpus.size()];
        if (!other.empty()) s.insert(pos, other.substr(rng() % other.size(), 1 + rng() % 32));
        break;
      }
      default: {
        static const char* kTokens[] = {"%", "%2e", "%2F", "..", "/", "//", ":", "-", "\n", "  ", "\t", "{", "}", "[", "]",
                                        "\"", "'", "&", "*", "!", "#", "0", "-1", "99999999999999999999", "\xff", "\0"};
        s.insert(pos, kTokens[rng() % (sizeof kTokens / sizeof kTokens[0])]);
        break;
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS]\n", argv[0]);
    return 2;
  }
  const long mutations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 2000;
  std::vector<std::string> corpus;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no corpus files in %s\n", argv[1]);
    return 1;
  }
  for (const std::string& s : corpus) LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  std::mt19937_64 rng(20261123);
  for (long i = 0; i < mutations; ++i) {
    const std::string s = mutate(corpus, rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  std::printf("replayed %zu corpus files and %ld mutations: no crash, every invariant held\n", corpus.size(), mutations);
  return 0;
}
