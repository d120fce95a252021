#pragma once
// The options of kinship-datagram-sender and their command line: what to
// send (count, size, tag, first sequence number), how fast, and where (a UDP
// host:port or a Unix datagram socket path).
//
// Threading: pure functions.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kinship::sender {

struct SenderOptions {
  enum class Kind { kUdp, kUnix };

  Kind kind = Kind::kUdp;
  std::string host;  // kUdp: a name, an IPv4 literal or an IPv6 literal without brackets
  uint16_t port = 0;
  std::string path;  // kUnix
  uint64_t count = 0;
  double rate = 0;    // datagrams per second; 0 = as fast as the kernel takes them
  size_t size = 200;  // bytes per datagram
  int burst = 0;      // datagrams per sendmmsg call; 0 = about one millisecond's worth
  std::string tag;    // the "src" field; default "udp" or "unix"
  uint64_t firstSeq = 0;
  bool newline = false;  // end each datagram with "\n" (counted in size)
  bool help = false;

  // "udp:127.0.0.1:5514" or "unix:/run/app.sock", for the summary.
  std::string targetText() const;
};

extern const std::string_view kSenderUsage;

// Parses argv[1..]; the message of an error says which flag and why.
Result<SenderOptions> parseSenderArgs(std::span<const char* const> args);

// The length of the shortest datagram that carries sequence number `seq`
// with `tag` (no padding); a datagram is at least this long.
size_t minimumDatagramSize(uint64_t seq, std::string_view tag, bool newline);

}  // namespace kinship::sender
