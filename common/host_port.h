#pragma once
// "host:port" listen addresses, parsed without resolving anything: the UDP
// input and the admin endpoint take them, and the config loader checks them,
// so a typo is a config error with a line number rather than a failure at
// start.
//
// Threading: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kinship {

struct HostPort {
  std::string host;  // a name, an IPv4 literal, or an IPv6 literal without its brackets
  uint16_t port = 0;
};

// "127.0.0.1:5514", "0.0.0.0:5514", "[::1]:5514", "[::]:5514",
// "localhost:5514"; port 0 asks the kernel for a free port. An IPv6 literal
// must be bracketed. The error message quotes the text and says what is wrong.
Result<HostPort> parseHostPort(std::string_view text);

// The inverse of parseHostPort: "host:port", an IPv6 literal in brackets
// ("[::1]:9464"), as a URL or a log line writes it.
std::string formatHostPort(std::string_view host, uint16_t port);

// True for the addresses that listen on every interface (0.0.0.0, ::): a
// socket bound there takes the port on every address too.
bool isWildcardHost(std::string_view host);

}  // namespace kinship
