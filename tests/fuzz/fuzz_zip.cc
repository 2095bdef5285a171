// Fuzzes goproxy::hashModuleZip (zip.CheckZip rules + dirhash.HashZip; minizip for the central
// directory and local headers, ISA-L inflate) on the input as the zip of example.com/m@v1.0.0.
// The bytes go to one memfd reused for every run (no file system traffic). Invariants: ok ⇔ an
// "h1:" hash; failures have a message; a zip whose entries were hashed never reports more bytes
// than the input could inflate to under the 500 MiB limit; one thread and two threads give the
// same verdict, hash and error.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "goproxy/zip_hash.h"

namespace {

std::FILE* spoolFile() {
  const int fd = memfd_create("fuzz_zip", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  std::FILE* file = fdopen(fd, "w+b");
  if (file == nullptr) std::abort();
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::FILE* const file = spoolFile();
  const int fd = fileno(file);
  if (ftruncate(fd, 0) != 0) std::abort();
  if (size > 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  const auto result = gomodprobe::goproxy::hashModuleZip(file, "example.com/m", "v1.0.0", 1);
  const auto two = gomodprobe::goproxy::hashModuleZip(file, "example.com/m", "v1.0.0", 2);
  if (two.ok != result.ok || two.hash != result.hash || two.error != result.error) std::abort();
  if (result.ok) {
    if (result.hash.rfind("h1:", 0) != 0 || !result.error.empty()) std::abort();
  } else if (result.error.empty()) {
    std::abort();
  }
  if (result.bytes > (500ULL << 20)) std::abort();
  return 0;
}
