#include "common/host_port.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

namespace kinship {

namespace {

Status bad(std::string_view text, std::string_view why) {
  return Status::invalidArgument(fmt::format("'{}': {}", text, why));
}

// Host names and IPv4 literals: anything else would only fail later inside
// the resolver, with a vaguer message.
bool isHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool isIpv6Literal(std::string_view host) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, std::string(host).c_str(), &address) == 1;
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
    if (!isIpv6Literal(host)) return fail(bad(text, fmt::format("'{}' is not an IPv6 address", host)));
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

std::string formatHostPort(std::string_view host, uint16_t port) {
  // Only an IPv6 literal holds a colon: names and IPv4 literals cannot.
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

bool isWildcardHost(std::string_view host) {
  if (host == "0.0.0.0") return true;
  in6_addr address{};
  return ::inet_pton(AF_INET6, std::string(host).c_str(), &address) == 1 && IN6_IS_ADDR_UNSPECIFIED(&address);
}

}  // namespace kinship
