// Benchmark: hashModuleZip (check + streaming dirhash h1) over a ~200 MB deflate module zip.
//
// Builds a deterministic module zip "example.com/bench@v1.0.0" in an anonymous temp file with
// libarchive's writer (many small .go files, some JSON-ish testdata, several MB-sized
// incompressible assets), then measures hashModuleZip on 1 thread and on its default thread
// count: wall and process CPU time (best and median of kRuns), throughput over uncompressed
// bytes per wall second and per CPU second, and the peak RSS growth while hashing. Two
// baselines: libarchive (zlib) reading every entry without hashing, as the agent did before
// minizip + ISA-L, and OpenSSL EVP SHA-256 over an in-memory buffer (the hash side). On a shared
// machine the wall figures depend on the load average (printed); the CPU-second figures less so.
//
// It is a measurement, not a test: it exits 0 whether or not the goals are met, and 1 only when
// the benchmark itself cannot run (the zip cannot be built, or hashModuleZip rejects it or
// returns the wrong hash). MB means 10^6 bytes throughout.

#include <archive.h>
#include <archive_entry.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "goproxy/dirhash.h"
#include "goproxy/zip_hash.h"
#include "proc_status.h"

namespace {

using gomodprobe::bench::loadAverage;
using gomodprobe::bench::procStatusBytes;
using gomodprobe::bench::resetPeakRss;
using gomodprobe::goproxy::Hash1Builder;
using gomodprobe::goproxy::hashModuleZip;
using gomodprobe::goproxy::Sha256Stream;
using gomodprobe::goproxy::ZipHashResult;

constexpr std::string_view kModule = "example.com/bench";
constexpr std::string_view kVersion = "v1.0.0";
constexpr std::uint64_t kTargetBytes = 200'000'000;  // total uncompressed bytes of the zip
constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr double kMB = 1e6;
constexpr int kRuns = 3;
constexpr double kGoalMbPerS = 1000.0;
constexpr double kGoalRssGrowthMb = 8.0;
constexpr std::size_t kBlock = std::size_t{64} * 1024;  // read/update size, as in zip_hash.cc
constexpr std::uint64_t kSeed = 0x60d0'2024'be5c'a11dULL;

// ---------------------------------------------------------------------------------------------
// Deterministic content.

/// xoshiro256** seeded through splitmix64: the same bytes on every platform and run.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31U);
    }
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17U;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform-ish in [lo, hi] (modulo bias is irrelevant here).
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo + 1); }

  /// Fills `out` with pseudo-random (incompressible) bytes.
  void fill(char* out, std::size_t size) {
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
      const std::uint64_t v = next();
      std::memcpy(out + i, &v, 8);
    }
    if (i < size) {
      const std::uint64_t v = next();
      std::memcpy(out + i, &v, size - i);
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, unsigned k) { return (x << k) | (x >> (64U - k)); }

  std::array<std::uint64_t, 4> s_{};
};

constexpr std::array<std::string_view, 48> kWords = {
    "proxy",   "module",  "version", "cache",  "fetch",  "resolve", "checksum", "digest",
    "client",  "server",  "request", "reply",  "config", "target",  "probe",    "result",
    "reader",  "writer",  "buffer",  "stream", "entry",  "header",  "record",   "index",
    "tree",    "node",    "leaf",    "hash",   "tile",   "note",    "signer",   "verify",
    "timeout", "retry",   "backoff", "dial",   "conn",   "packet",  "query",    "answer",
    "metric",  "counter", "gauge",   "label",  "sample", "window",  "limit",    "error"};
constexpr std::array<std::string_view, 8> kTypes = {
    "int", "string", "[]byte", "error", "*Client", "map[string]int", "uint64", "time.Duration"};

std::string_view word(Rng& rng) { return kWords[rng.next() % kWords.size()]; }

std::string capitalized(std::string_view w) {
  std::string s(w);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string ident(Rng& rng) {
  std::string s(word(rng));
  s += capitalized(word(rng));
  if (rng.next() % 3 == 0) s += std::to_string(rng.next() % 100);
  return s;
}

std::string hex(Rng& rng, int digits) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string s;
  std::uint64_t v = rng.next();
  for (int i = 0; i < digits; ++i, v >>= 4U) {
    if (i == 16) v = rng.next();
    s.push_back(kHex[v & 0xFU]);
  }
  return s;
}

/// Go-looking source of exactly `size` bytes: a few templates filled with random identifiers,
/// strings and constants (deflate: about 2.6x, a little denser than typical Go code).
std::string goSource(Rng& rng, std::string_view package, std::size_t size) {
  std::string s =
      "// Copyright 2024 The Bench Authors. All rights reserved.\n"
      "// Use of this source code is governed by a BSD-style\n"
      "// license that can be found in the LICENSE file.\n\npackage ";
  s += package;
  s += "\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"time\"\n)\n\n";
  while (s.size() < size) {
    switch (rng.next() % 8) {
      case 0:
        s += "}\n\n// " + capitalized(ident(rng)) + " " + std::string(word(rng)) + "s the " +
             std::string(word(rng)) + " of the " + std::string(word(rng)) + ".\nfunc (" +
             std::string(word(rng)).substr(0, 1) + " *" + capitalized(ident(rng)) + ") " +
             capitalized(ident(rng)) + "(ctx context.Context, " + ident(rng) + " " +
             std::string(kTypes[rng.next() % kTypes.size()]) + ") (" +
             std::string(kTypes[rng.next() % kTypes.size()]) + ", error) {\n";
        break;
      case 1:
        s += "\tif err := " + ident(rng) + "." + capitalized(ident(rng)) + "(ctx, " + ident(rng) +
             "); err != nil {\n\t\treturn nil, fmt.Errorf(\"" + std::string(word(rng)) + " " +
             std::string(word(rng)) + ": %w\", err)\n\t}\n";
        break;
      case 2:
        s += "\t" + ident(rng) + " := " + ident(rng) + "." + capitalized(ident(rng)) + "(" +
             ident(rng) + ", " + std::to_string(rng.next() % 10000) + ")\n";
        break;
      case 3:
        s += "\tfor i := 0; i < len(" + ident(rng) + "); i++ {\n\t\t" + ident(rng) + "[i] ^= 0x" +
             hex(rng, 8) + "\n\t}\n";
        break;
      case 4:
        s += "\t// " + capitalized(word(rng)) + " " + std::string(word(rng)) + " before the " +
             std::string(word(rng)) + " " + std::string(word(rng)) + " times out.\n";
        break;
      case 5:
        s += "\t" + ident(rng) + " = append(" + ident(rng) + ", \"" + std::string(word(rng)) + "-" +
             hex(rng, 6) + "\")\n";
        break;
      case 6:
        s += "\tdeadline := time.Now().Add(" + std::to_string(rng.next() % 600) +
             " * time.Second)\n";
        break;
      default:
        s += "\t0x" + hex(rng, 16) + ", 0x" + hex(rng, 16) + ", 0x" + hex(rng, 16) + ",\n";
        break;
    }
  }
  s.resize(size);
  return s;
}

/// JSON-lines testdata of exactly `size` bytes (deflate: about 4x).
std::string jsonTestdata(Rng& rng, std::size_t size) {
  std::string s;
  s.reserve(size + 256);
  while (s.size() < size) {
    s += R"({"path":"example.com/)" + std::string(word(rng)) + "/" + std::string(word(rng)) +
         R"(","version":"v)" + std::to_string(rng.next() % 10) + "." +
         std::to_string(rng.next() % 40) + "." + std::to_string(rng.next() % 20) +
         R"(","sha256":")" + hex(rng, 64) + R"(","size":)" + std::to_string(rng.next() % 100000) +
         "}\n";
  }
  s.resize(size);
  return s;
}

enum class Kind { Text, Go, Json, Random };

struct FileSpec {
  std::string name;  // full zip name, "<module>@<version>/..."
  Kind kind = Kind::Random;
  std::uint64_t size = 0;
  std::uint64_t seed = 0;
  std::string package;  // Go package name, for Kind::Go
};

struct Layout {
  std::vector<FileSpec> files;
  std::uint64_t total = 0;
  std::uint64_t go_files = 0, json_files = 0, assets = 0;
};

/// The module's files: ~20 % small .go files (1-10 KiB) in packages of 25, ~10 % testdata JSON
/// (64 KiB-1 MiB), the rest incompressible assets (2-8 MiB), summing to exactly kTargetBytes.
Layout makeLayout() {
  Layout layout;
  Rng rng(kSeed);
  const std::string prefix = std::string(kModule) + "@" + std::string(kVersion) + "/";
  auto add = [&](const std::string& name, Kind kind, std::uint64_t size, std::string package = {}) {
    layout.files.push_back({prefix + name, kind, size, rng.next(), std::move(package)});
    layout.total += size;
  };
  add("go.mod", Kind::Text, 0);
  add("LICENSE", Kind::Text, 0);
  add("README.md", Kind::Text, 0);
  const std::uint64_t go_budget = kTargetBytes / 5;
  for (std::uint64_t pkg = 0, go = 0; go < go_budget; ++pkg) {
    const std::string package = std::string(kWords[pkg % kWords.size()]) + std::to_string(pkg);
    for (int f = 0; f < 25 && go < go_budget; ++f) {
      const std::uint64_t size = rng.between(1 * kKiB, 4 * kKiB) + rng.between(0, 6 * kKiB);
      add("internal/" + package + "/" + std::string(word(rng)) + "_" + std::to_string(f) + ".go",
          Kind::Go, size, package);
      go += size;
      ++layout.go_files;
    }
  }
  const std::uint64_t json_budget = layout.total + kTargetBytes / 10;
  for (int i = 0; layout.total < json_budget; ++i) {
    add("testdata/" + std::string(word(rng)) + "_" + std::to_string(i) + ".json", Kind::Json,
        std::min(rng.between(64 * kKiB, 1 * kMiB), json_budget - layout.total));
    ++layout.json_files;
  }
  for (int i = 0; layout.total < kTargetBytes; ++i) {
    add("assets/blob_" + std::to_string(i) + ".bin", Kind::Random,
        std::min(rng.between(2 * kMiB, 8 * kMiB), kTargetBytes - layout.total));
    ++layout.assets;
  }
  // Go's zip writer walks the module tree in lexical order; do the same.
  std::sort(layout.files.begin(), layout.files.end(),
            [](const FileSpec& a, const FileSpec& b) { return a.name < b.name; });
  return layout;
}

std::string textFile(const FileSpec& spec) {
  if (spec.name.ends_with("/go.mod")) return "module " + std::string(kModule) + "\n\ngo 1.21\n";
  if (spec.name.ends_with("/LICENSE")) {
    std::string s = "Copyright (c) 2024 The Bench Authors. All rights reserved.\n\n";
    for (int i = 0; i < 20; ++i) {
      s += "Redistribution and use in source and binary forms, with or without modification, "
           "are permitted provided that the following conditions are met.\n";
    }
    return s;
  }
  return "# bench\n\nA synthetic module for gomodprobe's zip hash benchmark.\n";
}

// ---------------------------------------------------------------------------------------------
// The zip.

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

struct WriteDeleter {
  void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct ReadDeleter {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};

struct BuiltZip {
  File file;
  std::uint64_t zip_bytes = 0;
  std::uint64_t uncompressed_bytes = 0;
  std::string expected_h1;  // computed from the bytes written, to check hashModuleZip's answer
};

/// Writes the layout as a deflate zip into a std::tmpfile(). Content is generated per file (at
/// most 1 MiB at a time), so building needs only a few MB. Returns std::nullopt with a message
/// on stderr on failure.
std::optional<BuiltZip> buildZip(const Layout& layout) {
  BuiltZip zip;
  zip.file.reset(std::tmpfile());
  if (!zip.file) {
    std::perror("zip_hash_bench: tmpfile");
    return std::nullopt;
  }
  std::unique_ptr<archive, WriteDeleter> a(archive_write_new());
  if (!a || archive_write_set_format_zip(a.get()) != ARCHIVE_OK ||
      archive_write_set_options(a.get(), "zip:compression=deflate") != ARCHIVE_OK ||
      archive_write_open_FILE(a.get(), zip.file.get()) != ARCHIVE_OK) {
    std::fprintf(stderr, "zip_hash_bench: cannot start the zip: %s\n",
                 a ? archive_error_string(a.get()) : "out of memory");
    return std::nullopt;
  }
  Hash1Builder h1;
  Sha256Stream sha;
  std::string chunk;
  for (const FileSpec& spec : layout.files) {
    Rng rng(spec.seed);
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    const std::string text = spec.kind == Kind::Text ? textFile(spec) : std::string();
    const std::uint64_t size = spec.kind == Kind::Text ? text.size() : spec.size;
    archive_entry_set_pathname(entry.get(), spec.name.c_str());
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_mtime(entry.get(), 1'700'000'000, 0);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      std::fprintf(stderr, "zip_hash_bench: %s: %s\n", spec.name.c_str(),
                   archive_error_string(a.get()));
      return std::nullopt;
    }
    for (std::uint64_t written = 0; written < size;) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - written, kMiB));
      switch (spec.kind) {
        case Kind::Text:
          chunk = text;
          break;
        case Kind::Go:
          chunk = goSource(rng, spec.package, n);
          break;
        case Kind::Json:
          chunk = jsonTestdata(rng, n);
          break;
        case Kind::Random:
          chunk.resize(n);
          rng.fill(chunk.data(), n);
          break;
      }
      if (archive_write_data(a.get(), chunk.data(), chunk.size()) !=
          static_cast<la_ssize_t>(chunk.size())) {
        std::fprintf(stderr, "zip_hash_bench: %s: %s\n", spec.name.c_str(),
                     archive_error_string(a.get()));
        return std::nullopt;
      }
      sha.update(chunk);
      written += chunk.size();
      zip.uncompressed_bytes += chunk.size();
    }
    (void)h1.addFile(spec.name, sha.final());
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    std::fprintf(stderr, "zip_hash_bench: cannot finish the zip: %s\n",
                 archive_error_string(a.get()));
    return std::nullopt;
  }
  a.reset();
  std::fflush(zip.file.get());
  struct stat st {};
  if (fstat(fileno(zip.file.get()), &st) != 0) {
    std::perror("zip_hash_bench: fstat");
    return std::nullopt;
  }
  zip.zip_bytes = static_cast<std::uint64_t>(st.st_size);
  zip.expected_h1 = h1.finish().value_or("");
  return zip;
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/// CPU seconds of the whole process (all hashing threads).
double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

using gomodprobe::bench::loadAverage;
using gomodprobe::bench::procStatusBytes;
using gomodprobe::bench::resetPeakRss;

struct Run {
  double wall_s = 0;
  double cpu_s = 0;
  std::uint64_t rss_growth = 0;  // bytes
  ZipHashResult result;
};

/// One hashModuleZip call with its wall time, CPU time and peak RSS growth. The growth is
/// VmHWM after minus VmRSS before, with VmHWM reset just before the call; where the reset is not
/// permitted, a thread samples VmRSS every 5 ms instead.
Run measureOnce(std::FILE* zip, unsigned threads, bool& used_hwm) {
  malloc_trim(0);  // memory freed by earlier work must not hide this call's growth
  Run run;
  used_hwm = resetPeakRss();
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> sampled_peak{0};
  std::thread sampler;
  const std::uint64_t rss_before = procStatusBytes("VmRSS");
  if (!used_hwm) {
    sampler = std::thread([&] {
      while (!done.load()) {
        sampled_peak = std::max(sampled_peak.load(), procStatusBytes("VmRSS"));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  const double cpu0 = cpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  run.result = hashModuleZip(zip, kModule, kVersion, threads);
  const auto t1 = std::chrono::steady_clock::now();
  run.cpu_s = cpuSeconds() - cpu0;
  run.wall_s = std::chrono::duration<double>(t1 - t0).count();
  std::uint64_t peak = 0;
  if (used_hwm) {
    peak = procStatusBytes("VmHWM");
  } else {
    done = true;
    sampler.join();
    peak = std::max(sampled_peak.load(), procStatusBytes("VmRSS"));
  }
  run.rss_growth = peak > rss_before ? peak - rss_before : 0;
  return run;
}

/// Baseline: libarchive (zlib inflate and CRC-32) reads every entry, without hashing, as
/// hashModuleZip did before it used minizip and ISA-L. Returns the best wall time of kRuns, or a
/// negative value on error.
double readOnlySeconds(std::FILE* zip) {
  const int fd = fileno(zip);
  std::vector<char> buffer(kBlock);
  double best = -1;
  for (int i = 0; i < kRuns; ++i) {
    if (lseek(fd, 0, SEEK_SET) != 0) return -1;
    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
    archive_read_support_format_zip_seekable(a.get());
    if (archive_read_open_fd(a.get(), fd, kBlock) != ARCHIVE_OK) return -1;
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a.get(), &entry) == ARCHIVE_OK) {
      la_ssize_t n = 0;
      while ((n = archive_read_data(a.get(), buffer.data(), buffer.size())) > 0) {
      }
      if (n < 0) return -1;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = best < 0 ? s : std::min(best, s);
  }
  return best;
}

/// Baseline: OpenSSL EVP SHA-256 over a 64 MiB in-memory buffer fed in kBlock updates, as
/// Sha256Stream is fed. Returns the best throughput of kRuns in MB/s.
double sha256MbPerS() {
  std::string data(64 * kMiB, '\0');
  Rng(kSeed ^ 1U).fill(data.data(), data.size());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  double best = 0;
  for (int i = 0; i < kRuns; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    for (std::size_t off = 0; off < data.size(); off += kBlock) {
      EVP_DigestUpdate(ctx.get(), data.data() + off, std::min(kBlock, data.size() - off));
    }
    EVP_DigestFinal_ex(ctx.get(), md.data(), nullptr);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(data.size()) / kMB / s);
  }
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

const char* verdict(bool met) { return met ? "GOAL MET" : "GOAL MISSED"; }

}  // namespace

int main() {
  std::printf("zip_hash_bench: hashModuleZip over a deflate module zip (MB = 10^6 bytes)\n");
  std::printf("  load average at start   %s (%u CPUs)\n", loadAverage().c_str(),
              std::thread::hardware_concurrency());
  // With TZ unset, glibc's mktime() stats /etc/localtime on every call, and libarchive calls it
  // for each zip header it parses: visible in the figures when a zip has many entries.
  const char* tz = std::getenv("TZ");  // NOLINT(concurrency-mt-unsafe): no other thread yet
  std::printf("  TZ                      %s\n", tz != nullptr ? tz : "(unset)");

  const Layout layout = makeLayout();
  const auto build0 = std::chrono::steady_clock::now();
  std::optional<BuiltZip> zip = buildZip(layout);
  if (!zip) return 1;
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - build0).count();
  const double uncompressed_mb = static_cast<double>(zip->uncompressed_bytes) / kMB;
  const double zip_mb = static_cast<double>(zip->zip_bytes) / kMB;
  std::printf("  module                  %s@%s\n", std::string(kModule).c_str(),
              std::string(kVersion).c_str());
  std::printf(
      "  entries                 %zu (%llu .go 1-10 KiB, %llu testdata .json, %llu assets "
      "2-8 MiB random)\n",
      layout.files.size(), static_cast<unsigned long long>(layout.go_files),
      static_cast<unsigned long long>(layout.json_files),
      static_cast<unsigned long long>(layout.assets));
  std::printf("  uncompressed            %.2f MB\n", uncompressed_mb);
  std::printf("  zip (deflate)           %.2f MB (ratio %.2f)\n", zip_mb, uncompressed_mb / zip_mb);
  std::printf("  built in                %.2f s\n\n", build_s);

  struct Series {
    unsigned threads = 0;
    double best_wall_s = 0;
    double best_cpu_s = 0;
    double median_wall_s = 0;
    std::uint64_t max_growth = 0;
  };
  // 1 thread, then hashModuleZip's default (min(hardware concurrency, kMaxZipHashThreads)).
  std::vector<unsigned> counts = {1};
  bool used_hwm = true;
  std::vector<Series> series;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    std::vector<Run> runs;
    for (int i = 0; i < kRuns; ++i) {
      bool hwm = false;
      runs.push_back(measureOnce(zip->file.get(), counts[c], hwm));
      used_hwm = used_hwm && hwm;
      const ZipHashResult& r = runs.back().result;
      if (!r.ok || r.hash != zip->expected_h1 || r.bytes != zip->uncompressed_bytes) {
        std::fprintf(stderr,
                     "zip_hash_bench: hashModuleZip failed: ok=%d error=%s hash=%s want=%s\n",
                     r.ok ? 1 : 0, r.error.c_str(), r.hash.c_str(), zip->expected_h1.c_str());
        return 1;
      }
    }
    if (c == 0) {
      bool dummy = false;
      const unsigned default_threads = measureOnce(zip->file.get(), 0, dummy).result.threads;
      if (default_threads > 1) counts.push_back(default_threads);
    }
    const unsigned used = runs.front().result.threads;
    std::printf("  threads %u (load average %s)\n", used, loadAverage().c_str());
    std::printf("  %-6s %8s %8s %8s %12s %14s %14s\n", "run", "wall_s", "cpu_s", "cpu/wall",
                "MB/s wall", "MB/s cpu_s", "rss_growth_MB");
    Series s;
    s.threads = used;
    std::vector<double> walls;
    std::vector<double> cpus;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const Run& r = runs[i];
      std::printf("  %-6zu %8.3f %8.3f %8.2f %12.1f %14.1f %14.2f\n", i + 1, r.wall_s, r.cpu_s,
                  r.cpu_s / r.wall_s, uncompressed_mb / r.wall_s, uncompressed_mb / r.cpu_s,
                  static_cast<double>(r.rss_growth) / kMB);
      walls.push_back(r.wall_s);
      cpus.push_back(r.cpu_s);
      s.max_growth = std::max(s.max_growth, r.rss_growth);
    }
    s.best_wall_s = *std::min_element(walls.begin(), walls.end());
    s.best_cpu_s = *std::min_element(cpus.begin(), cpus.end());
    s.median_wall_s = median(walls);
    std::printf("  %-6s %8.3f %8.3f %8s %12.1f %14.1f %14.2f (max)\n", "best", s.best_wall_s,
                s.best_cpu_s, "", uncompressed_mb / s.best_wall_s, uncompressed_mb / s.best_cpu_s,
                static_cast<double>(s.max_growth) / kMB);
    std::printf("  %-6s %8.3f %8.3f %8s %12.1f %14.1f\n\n", "median", s.median_wall_s, median(cpus),
                "", uncompressed_mb / s.median_wall_s, uncompressed_mb / median(cpus));
    series.push_back(s);
  }
  std::printf("  h1 %s (%zu files, matches the hash of the bytes written)\n",
              zip->expected_h1.c_str(), layout.files.size());
  std::printf("  rss method: %s\n\n", used_hwm
                                          ? "VmHWM reset via /proc/self/clear_refs before each run"
                                          : "VmRSS sampled every 5 ms (clear_refs not permitted)");
  const Series& best = *std::min_element(
      series.begin(), series.end(),
      [](const Series& a, const Series& b) { return a.best_wall_s < b.best_wall_s; });
  const double mb_per_s = uncompressed_mb / best.best_wall_s;
  const double cpu_mb_per_s = uncompressed_mb / series.front().best_cpu_s;
  std::uint64_t max_growth = 0;
  for (const Series& s : series) max_growth = std::max(max_growth, s.max_growth);
  const double rss_growth_mb = static_cast<double>(max_growth) / kMB;
  const double best_s = best.best_wall_s;

  const double read_s = readOnlySeconds(zip->file.get());
  const double sha_mb_per_s = sha256MbPerS();
  std::printf("  baselines (best of %d)\n", kRuns);
  if (read_s > 0) {
    std::printf("    libarchive read, no hash   %8.1f MB/s uncompressed (%.3f s wall)\n",
                uncompressed_mb / read_s, read_s);
  }
  std::printf("    SHA-256 (EVP) in memory    %8.1f MB/s\n", sha_mb_per_s);
  if (read_s > 0) {
    const double bound = 1.0 / (read_s / uncompressed_mb + 1.0 / sha_mb_per_s);
    std::printf("    libarchive + SHA-256       %8.1f MB/s (the sum of the two costs)\n\n", bound);
  }

  std::printf("  goals\n");
  std::printf("    hashing >= %.0f MB/s (wall)  %8.1f MB/s   %s (best of 1 and %u threads: %u)\n",
              kGoalMbPerS, mb_per_s, verdict(mb_per_s >= kGoalMbPerS), series.back().threads,
              best.threads);
  std::printf("    per CPU-second, 1 thread    %8.1f MB/s   (%s on one unshared core)\n",
              cpu_mb_per_s, cpu_mb_per_s >= kGoalMbPerS ? "goal reachable" : "goal out of reach");
  std::printf("    RSS growth < %.0f MB          %8.2f MB     %s\n", kGoalRssGrowthMb,
              rss_growth_mb, verdict(rss_growth_mb < kGoalRssGrowthMb));
  std::printf("  load average at end     %s\n", loadAverage().c_str());
  std::printf(
      "zip_hash_bench: uncompressed_mb=%.2f zip_mb=%.2f threads=%u best_s=%.3f mb_per_s=%.1f "
      "cpu_mb_per_s_1thread=%.1f rss_growth_mb=%.2f sha256_mb_per_s=%.1f\n",
      uncompressed_mb, zip_mb, best.threads, best_s, mb_per_s, cpu_mb_per_s, rss_growth_mb,
      sha_mb_per_s);
  return 0;
}
