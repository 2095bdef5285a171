// Fuzzes signed-note handling: sumdb::openNote with three known Ed25519 verifiers (the keys of
// tests/data/sumdb/note_keys.txt), sumdb::Verifier::parse on the first line, and parseTree on an
// opened note's text. Invariants: Ok ⇔ a note with at least one verified signature and a text
// ending in '\n'; every failure has a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "sumdb/note.h"
#include "sumdb/tlog.h"

namespace sumdb = gomodprobe::sumdb;

namespace {

std::vector<sumdb::Verifier> knownVerifiers() {
  std::vector<sumdb::Verifier> known;
  for (const char* vkey :
       {"example.com/alpha+97072dde+ASvHk8n2VDlh8eWVpFDeTCjG447ybu6XUGt1fJpS7+c+",
        "example.com/beta+7ee67a9d+AbKZYTRE4fcVNNfOU7tYNyRWRqzVmwU5uqT0zj0r4zy0",
        "example.com/gamma+0502fc57+Abw0qtXHeTPUic9CpGPdoToKzOWM0FNNZZXID19qu5T9"}) {
    auto parsed = sumdb::Verifier::parse(vkey);
    if (!parsed.ok()) std::abort();
    known.push_back(*parsed.verifier);
  }
  return known;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<sumdb::Verifier> known = knownVerifiers();
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  const auto opened = sumdb::openNote(msg, known);
  if (opened.ok()) {
    if (!opened.note || opened.note->signatures.empty() || opened.note->text.empty() ||
        opened.note->text.back() != '\n') {
      std::abort();
    }
    (void)sumdb::parseTree(opened.note->text);
  } else if (opened.note || opened.error.empty()) {
    std::abort();
  }
  const auto vkey = sumdb::Verifier::parse(msg.substr(0, msg.find('\n')));
  if (vkey.ok() == !vkey.error.empty()) std::abort();
  if (vkey.ok()) (void)vkey.verifier->verify(msg, msg.substr(0, 64));
  return 0;
}
