// Replays checked-in libFuzzer corpora without libFuzzer, so that the ordinary build (gcc, the
// CI's test command) and the sanitizer build run every fuzz harness over every input that ever
// mattered: each argument is a corpus directory or a file; every file is passed once to the
// harness's LLVMFuzzerTestOneInput, which aborts on a broken invariant (the same contract as
// under libFuzzer, whose driver main() this replaces; see tests/fuzz/CMakeLists.txt). Prints
// how many inputs ran; exits 1 when a path cannot be read or no input was found.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool runFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, so that ASan sees reads past its end (as libFuzzer).
  const std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.data(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path root(argv[i]);
    std::error_code error;
    if (!std::filesystem::is_directory(root, error)) {
      if (!runFile(root)) return 1;
      ++inputs;
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root, error)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (error) {
      std::fprintf(stderr, "cannot list %s: %s\n", root.c_str(), error.message().c_str());
      return 1;
    }
    std::sort(files.begin(), files.end());  // the same order on every machine
    for (const auto& file : files) {
      if (!runFile(file)) return 1;
      ++inputs;
    }
  }
  std::printf("replayed %zu inputs\n", inputs);
  return inputs == 0 ? 1 : 0;
}
