#pragma once
// The "host:port" listen addresses of network inputs: parsing (at config
// time, so a typo is a config error with a line number) and resolving (at
// start). The daemon's admin endpoint has its own parser in kinship_daemon,
// which depends on this library, so inputs cannot call it.
//
// Threading: pure functions; resolve...() may block on DNS, so call them at
// startup only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/udp.hpp>

#include "common/status.h"

namespace kinship::inputs {

struct HostPort {
  std::string host;  // a name, an IPv4 literal, or an IPv6 literal without its brackets
  uint16_t port = 0;
};

// "127.0.0.1:5514", "0.0.0.0:5514", "[::1]:5514", "[::]:5514",
// "localhost:5514"; port 0 asks the kernel for a free port. An IPv6 literal
// must be bracketed. The error message quotes the text and says what is wrong.
Result<HostPort> parseHostPort(std::string_view text);

// The UDP endpoints to try binding, in order: the literal address itself, or
// what the resolver returns for a name (passive lookup, so "localhost" may
// give both ::1 and 127.0.0.1).
Result<std::vector<asio::ip::udp::endpoint>> resolveUdpEndpoints(const HostPort& address);

}  // namespace kinship::inputs
