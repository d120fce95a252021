#include "inputs/socket_address.h"

#include <fmt/format.h>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

#include <charconv>

namespace kinship::inputs {

namespace {

Status bad(std::string_view text, std::string_view why) {
  return Status::invalidArgument(fmt::format("'{}': {}", text, why));
}

bool isHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

}  // namespace

Result<HostPort> parseHostPort(std::string_view text) {
  HostPort out;
  std::string_view portText;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail(bad(text, "missing ']' after the IPv6 address"));
    std::string_view host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (host.empty()) return fail(bad(text, "empty host"));
    if (!rest.starts_with(':')) return fail(bad(text, "missing port (expected [address]:port)"));
    asio::error_code ec;
    asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return fail(bad(text, fmt::format("'{}' is not an IPv6 address", host)));
    out.host = std::string(host);
    portText = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail(bad(text, "missing port (expected host:port)"));
    std::string_view host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return fail(bad(text, "an IPv6 address must be in brackets, e.g. [::1]:5514"));
    }
    if (host.empty()) return fail(bad(text, "empty host"));
    for (char c : host) {
      if (!isHostNameChar(c)) return fail(bad(text, fmt::format("invalid host '{}'", host)));
    }
    out.host = std::string(host);
    portText = text.substr(colon + 1);
  }
  if (portText.empty()) return fail(bad(text, "missing port"));
  unsigned port = 0;
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || port > 65535) {
    return fail(bad(text, fmt::format("port '{}' is not a number from 0 to 65535", portText)));
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

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
