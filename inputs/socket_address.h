#pragma once
// The "host:port" listen addresses of network inputs: parsing (at config
// time, so a typo is a config error with a line number; common/host_port.h)
// and resolving (at start).
//
// Threading: pure functions; resolve...() may block on DNS, so call them at
// startup only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/udp.hpp>

#include "common/host_port.h"
#include "common/status.h"

namespace kinship::inputs {

// Parsing lives in common/ so that the config loader can check addresses too.
using ::kinship::HostPort;
using ::kinship::parseHostPort;

// The UDP endpoints to try binding, in order: the literal address itself, or
// what the resolver returns for a name (passive lookup, so "localhost" may
// give both ::1 and 127.0.0.1).
Result<std::vector<asio::ip::udp::endpoint>> resolveUdpEndpoints(const HostPort& address);

}  // namespace kinship::inputs
