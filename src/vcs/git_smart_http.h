#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gomodprobe::vcs {

/// One pkt-line (gitprotocol-common "pkt-line Format"): four hex digits giving the length
/// including themselves, then the payload; 0000 flush-pkt, 0001 delim-pkt, 0002 response-end-pkt
/// (protocol v2); 0003 is invalid; at most 65520 bytes in all.
struct PktLine {
  enum class Type { Data, Flush, Delim, ResponseEnd };
  Type type = Type::Data;
  std::string_view payload;  ///< Data only; a trailing LF is kept
};

/// Reads pkt-lines from a buffer. next() returns nullopt at the end of the buffer or on a
/// malformed line (error() is then set; a line cut short by the end of the buffer is malformed).
class PktLineReader {
 public:
  explicit PktLineReader(std::string_view data) : data_(data) {}
  std::optional<PktLine> next();
  [[nodiscard]] bool atEnd() const { return pos_ >= data_.size(); }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  std::string error_;
};

/// The ref advertisement of `GET <repo>/info/refs?service=git-upload-pack`, checked as git's
/// remote-curl (check_smart_http, discover_refs) and gitprotocol-http "Smart Clients" require:
/// either `# service=git-upload-pack` then a flush-pkt then a v0/v1 ref list or a v2 capability
/// advertisement, or directly `version 2` (git http-backend omits the service line for v2). A
/// v0/v1 ref list is "<oid> <refname>[\0capabilities]" lines (oid 40 or 64 lowercase hex digits)
/// ending in a flush-pkt; v2 is capability lines ending in a flush-pkt.
struct Advertisement {
  bool valid = false;
  std::string protocol;  ///< "smart-v0", "smart-v1" or "smart-v2" when valid
  std::size_t refs = 0;  ///< v0/v1: ref lines (an empty repository advertises none)
  std::string error;     ///< when not valid: what is wrong, bounded, printable
};
[[nodiscard]] Advertisement parseUploadPackAdvertisement(std::string_view body);

/// A dumb-HTTP `info/refs` (gitprotocol-http "Dumb Clients", `git update-server-info`): lines
/// "<oid>\t<refname>\n", oid 40 or 64 lowercase hex digits; an empty file (no refs) is valid.
/// Returns the number of refs, or an error.
struct DumbRefs {
  bool valid = false;
  std::size_t refs = 0;
  std::string error;
};
[[nodiscard]] DumbRefs parseDumbInfoRefs(std::string_view body);

/// True if a Content-Type value names `application/x-git-upload-pack-advertisement`
/// (case-insensitive, parameters ignored, as git's extract_content_type does).
[[nodiscard]] bool isUploadPackAdvertisementType(std::string_view content_type);

/// Printable rendering of untrusted bytes for details: at most `max` bytes, non-printable ones as
/// \xNN.
[[nodiscard]] std::string printable(std::string_view bytes, std::size_t max = 60);

}  // namespace gomodprobe::vcs
