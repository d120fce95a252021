#include "inputs/socket_address.h"

#include <fmt/format.h>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

namespace kinship::inputs {

Result<std::vector<asio::ip::udp::endpoint>> resolveUdpEndpoints(const HostPort& address) {
  std::vector<asio::ip::udp::endpoint> endpoints;
  asio::error_code ec;
  // Literal addresses skip the resolver: no DNS round trip, and a clear error.
  if (auto literal = asio::ip::make_address(address.host, ec); !ec) {
    endpoints.emplace_back(literal, address.port);
    return endpoints;
  }
  asio::io_context io;
  asio::ip::udp::resolver resolver(io);
  auto results = resolver.resolve(address.host, std::to_string(address.port),
                                  asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service |
                                      asio::ip::resolver_base::address_configured,
                                  ec);
  if (ec) return fail(Status::invalidArgument(fmt::format("cannot resolve '{}': {}", address.host, ec.message())));
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) {
    return fail(Status::invalidArgument(fmt::format("'{}' resolved to no address", address.host)));
  }
  return endpoints;
}

}  // namespace kinship::inputs
