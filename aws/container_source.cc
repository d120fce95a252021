#include "aws/container_source.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "aws/credentials_json.h"
#include "aws/http_fetch.h"
#include "common/bounded_file.h"

namespace kinship::aws {
namespace {

constexpr std::string_view kSource = "container credentials";
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

// One part of a parsed URL; nullopt when the URL has none.
std::optional<std::string> urlPart(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return std::nullopt;
  std::string out(value);
  curl_free(value);
  return out;
}

struct ParsedUrl {
  std::string url;  // as libcurl writes it back
  std::string scheme;
  std::string host;  // IPv6 in brackets, as libcurl gives it
  bool hasUserInfo = false;
};

Result<ParsedUrl> parseUrl(const std::string& text) {
  UrlHandle url(curl_url());
  if (!url) return fail(Status::internal("curl_url: out of memory"));
  // No CURLU_DEFAULT_SCHEME: a URL without a scheme is refused, not guessed.
  if (curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return fail(Status::invalidArgument("not a URL"));
  }
  ParsedUrl parsed;
  auto full = urlPart(url.get(), CURLUPART_URL);
  auto scheme = urlPart(url.get(), CURLUPART_SCHEME);
  auto host = urlPart(url.get(), CURLUPART_HOST);
  if (!full || !scheme || !host) return fail(Status::invalidArgument("not a URL with a scheme and a host"));
  parsed.url = std::move(*full);
  parsed.scheme = std::move(*scheme);
  std::transform(parsed.scheme.begin(), parsed.scheme.end(), parsed.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  parsed.host = std::move(*host);
  parsed.hasUserInfo = urlPart(url.get(), CURLUPART_USER).has_value() ||
                       urlPart(url.get(), CURLUPART_PASSWORD).has_value();
  return parsed;
}

bool isAllowedHttpHost(std::string_view host) {
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, lower.c_str(), &v4) == 1) {
    const uint32_t address = ntohl(v4.s_addr);
    return (address >> 24) == 127 || lower == "169.254.170.2" || lower == "169.254.170.23";
  }
  if (lower.size() > 2 && lower.front() == '[' && lower.back() == ']') {
    const std::string inner = lower.substr(1, lower.size() - 2);
    in6_addr v6{}, loopback{}, eksPodIdentity{};
    if (inet_pton(AF_INET6, inner.c_str(), &v6) != 1) return false;
    inet_pton(AF_INET6, "::1", &loopback);
    inet_pton(AF_INET6, "fd00:ec2::23", &eksPodIdentity);
    return std::memcmp(&v6, &loopback, sizeof v6) == 0 || std::memcmp(&v6, &eksPodIdentity, sizeof v6) == 0;
  }
  return false;
}

// A header value must stay one header: no line breaks, no other controls.
bool isHeaderSafe(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

}  // namespace

Result<std::string> checkContainerFullUri(std::string_view uri) {
  const std::string named = std::string(kSource) + ": AWS_CONTAINER_CREDENTIALS_FULL_URI " + std::string(uri);
  auto parsed = parseUrl(std::string(uri));
  if (!parsed) return fail(Status::invalidArgument(named + " is refused: " + parsed.error().message()));
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    return fail(Status::invalidArgument(named + " is refused: only http and https are allowed"));
  }
  if (parsed->hasUserInfo) {
    return fail(Status::invalidArgument(named + " is refused: it carries a user name or password"));
  }
  if (parsed->scheme == "http" && !isAllowedHttpHost(parsed->host)) {
    return fail(Status::invalidArgument(
        named + " is refused: plain http is allowed only to a loopback address (127.0.0.0/8, [::1], localhost) "
                "or the ECS/EKS addresses 169.254.170.2, 169.254.170.23, [fd00:ec2::23]; use https otherwise"));
  }
  return std::move(parsed->url);
}

ContainerSource::ContainerSource(EnvLookup env, ContainerOptions options)
    : env_(std::move(env)), options_(std::move(options)) {
  if (options_.attempts < 1) options_.attempts = 1;
}

bool ContainerSource::configured() {
  auto relative = env_("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  auto full = env_("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  return (relative && !relative->empty()) || (full && !full->empty());
}

Result<std::string> ContainerSource::url() const {
  if (auto relative = env_("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); relative && !relative->empty()) {
    const std::string named =
        std::string(kSource) + ": AWS_CONTAINER_CREDENTIALS_RELATIVE_URI " + *relative + " is refused: ";
    // Appended to the base, anything but a path ("@host/", ".example.com/")
    // would name another host; the host comparison below is the backstop.
    if (relative->front() != '/') return fail(Status::invalidArgument(named + "it does not start with /"));
    auto base = parseUrl(options_.relativeBase);
    auto parsed = parseUrl(options_.relativeBase + *relative);
    if (!base || !parsed) return fail(Status::invalidArgument(named + "not a URL path"));
    if (parsed->host != base->host || parsed->hasUserInfo) {
      return fail(Status::invalidArgument(named + "it leads away from " + options_.relativeBase));
    }
    return std::move(parsed->url);
  }
  if (auto full = env_("AWS_CONTAINER_CREDENTIALS_FULL_URI"); full && !full->empty()) {
    return checkContainerFullUri(*full);
  }
  return fail(Status::notFound(std::string(kSource) +
                               ": neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                               "AWS_CONTAINER_CREDENTIALS_FULL_URI is set"));
}

Result<std::string> ContainerSource::authorizationToken() const {
  std::string token;
  std::string from;
  if (auto file = env_("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file && !file->empty()) {
    from = "the token file " + *file;
    auto read = readFileAtMost(*file, options_.maxTokenBytes);
    if (!read) {
      return fail(read.error().prefixed(std::string(kSource) + ": " + from + " (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE): "));
    }
    token = std::move(*read);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.empty()) return fail(Status::invalidArgument(std::string(kSource) + ": " + from + " is empty"));
  } else if (auto value = env_("AWS_CONTAINER_AUTHORIZATION_TOKEN"); value && !value->empty()) {
    from = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
    token = *value;
  } else {
    return std::string();
  }
  if (!isHeaderSafe(token)) {
    return fail(Status::invalidArgument(std::string(kSource) + ": " + from +
                                        " holds a line break or another control character, which would split "
                                        "the Authorization header"));
  }
  return token;
}

Result<Credentials> ContainerSource::fetch() {
  auto url = this->url();
  if (!url) return fail(url.error());
  auto token = authorizationToken();
  if (!token) return fail(token.error());

  HttpFetchRequest request;
  request.method = "GET";
  request.url = *url;
  request.headers.emplace_back("Accept", "application/json");
  if (!token->empty()) request.headers.emplace_back("Authorization", std::move(*token));
  request.connectTimeout = options_.connectTimeout;
  request.timeout = options_.timeout;
  request.maxResponseBytes = kMaxAnswerBytes;

  Result<HttpFetchResponse> response = fail(Status::internal("no attempt"));
  for (int attempt = 0; attempt < options_.attempts; ++attempt) {
    response = httpFetch(request);
    // 429 and 5xx are the endpoint's own trouble; anything else will not change.
    if (response && response->status < 500 && response->status != 429) break;
  }
  if (!response) {
    return fail(Status::unavailable(std::string(kSource) + ": GET " + *url + " failed after " +
                                    std::to_string(options_.attempts) + " attempts: " + response.error().message()));
  }
  if (response->status != 200) {
    return fail(Status::unavailable(std::string(kSource) + ": GET " + *url + " answered HTTP " +
                                    std::to_string(response->status)));
  }
  return parseCredentialsJson(response->body, CredentialsJsonContext{kSource, *url, false});
}

}  // namespace kinship::aws
