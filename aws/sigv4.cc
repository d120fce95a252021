#include "aws/sigv4.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

namespace kinship::aws {
namespace {

constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kDateHeader = "x-amz-date";
constexpr std::string_view kTokenHeader = "x-amz-security-token";
constexpr std::string_view kAuthorizationHeader = "authorization";
constexpr size_t kDigestSize = 32;
constexpr size_t kAmzDateLength = 16;  // 20150830T123600Z
constexpr size_t kDateLength = 8;      // 20150830

using Digest = std::array<unsigned char, kDigestSize>;

// Only reachable if libcrypto itself is broken (no SHA-256 provider); a
// request signed with garbage would fail anyway, and far less legibly.
[[noreturn]] void cryptoFailure(const char* what) {
  std::fprintf(stderr, "kinship: OpenSSL %s failed\n", what);
  std::abort();
}

Digest hmacSha256(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out.data(), &length) == nullptr ||
      length != kDigestSize) {
    cryptoFailure("HMAC-SHA256");
  }
  return out;
}

std::string_view asView(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string toHex(const unsigned char* bytes, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
  return out;
}

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

void appendUriEncoded(std::string& out, std::string_view text, bool keepSlash) {
  static constexpr char kHexUpper[] = "0123456789ABCDEF";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (isUnreserved(c) || (keepSlash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0xF]);
    }
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query parameters may arrive encoded or raw; decoding first makes both give
// the same canonical form. A '%' not followed by two hex digits is literal,
// and so is '+' (AWS does not read it as a space).
std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hexValue(text[i + 1]);
      const int low = hexValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// Removes "." and empty segments and resolves "..", then encodes each
// segment. A trailing slash survives because services treat "/a/" and "/a"
// as different resources.
std::string canonicalUri(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    appendUriEncoded(out, segments[i], /*keepSlash=*/false);
  }
  if (!segments.empty() && path.back() == '/') out.push_back('/');
  return out;
}

std::string canonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view param = query.substr(start, end - start);
    start = end + 1;
    if (param.empty()) continue;
    const size_t equals = param.find('=');
    const std::string_view name = param.substr(0, equals);
    const std::string_view value = equals == std::string_view::npos ? std::string_view() : param.substr(equals + 1);
    std::pair<std::string, std::string>& encoded = params.emplace_back();
    appendUriEncoded(encoded.first, percentDecode(name), /*keepSlash=*/false);
    appendUriEncoded(encoded.second, percentDecode(value), /*keepSlash=*/false);
  }
  // Sorting the encoded forms is what the spec asks: byte order of the
  // encoded name, then of the encoded value.
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

bool isHeaderSpace(char c) { return c == ' ' || c == '\t'; }

// Trims the value and collapses every inner run of blanks into one space.
void appendTrimmedValue(std::string& out, std::string_view value) {
  bool pendingSpace = false;
  bool started = false;
  for (char c : value) {
    if (isHeaderSpace(c)) {
      pendingSpace = started;
      continue;
    }
    if (pendingSpace) out.push_back(' ');
    pendingSpace = false;
    started = true;
    out.push_back(c);
  }
}

std::string toLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A header as it goes into the canonical request: lowercased name, value
// borrowed from the caller.
struct HeaderEntry {
  std::string name;
  std::string_view value;
};

CanonicalRequest buildCanonicalRequest(const SigningRequest& request, std::vector<HeaderEntry> headers) {
  // Stable, so repeated headers keep the order they are sent in.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const HeaderEntry& a, const HeaderEntry& b) { return a.name < b.name; });

  CanonicalRequest result;
  std::string& text = result.text;
  text.reserve(256 + request.path.size() + request.query.size());
  text += request.method;
  text.push_back('\n');
  text += canonicalUri(request.path);
  text.push_back('\n');
  text += canonicalQuery(request.query);
  text.push_back('\n');
  for (size_t i = 0; i < headers.size(); ++i) {
    const bool repeat = i > 0 && headers[i].name == headers[i - 1].name;
    if (repeat) {
      text.push_back(',');
    } else {
      if (i > 0) text.push_back('\n');
      text += headers[i].name;
      text.push_back(':');
      if (!result.signedHeaders.empty()) result.signedHeaders.push_back(';');
      result.signedHeaders += headers[i].name;
    }
    appendTrimmedValue(text, headers[i].value);
  }
  // The header block ends with its own newline, then a blank separator line.
  text += "\n\n";
  text += result.signedHeaders;
  text.push_back('\n');
  text += sha256Hex(request.payload);
  return result;
}

std::vector<HeaderEntry> entriesOf(const HeaderList& headers) {
  std::vector<HeaderEntry> entries;
  entries.reserve(headers.size() + 2);
  for (const auto& [name, value] : headers) entries.push_back({toLower(name), value});
  return entries;
}

}  // namespace

SigV4Signer::SigV4Signer(std::string region, std::string service)
    : region_(std::move(region)), service_(std::move(service)) {}

HeaderList SigV4Signer::sign(const SigningRequest& request, const Credentials& credentials,
                             std::chrono::system_clock::time_point when) const {
  const std::string amzDate = formatAmzDate(when);
  const bool withToken = !credentials.sessionToken.empty();

  std::vector<HeaderEntry> entries = entriesOf(request.headers);
  // Headers this call defines itself must not be signed twice.
  std::erase_if(entries, [withToken](const HeaderEntry& entry) {
    return entry.name == kDateHeader || entry.name == kAuthorizationHeader ||
           (withToken && entry.name == kTokenHeader);
  });
  entries.push_back({std::string(kDateHeader), amzDate});
  if (withToken) entries.push_back({std::string(kTokenHeader), credentials.sessionToken});

  const CanonicalRequest canonical = buildCanonicalRequest(request, std::move(entries));
  const std::string_view date = std::string_view(amzDate).substr(0, kDateLength);
  const std::string sig = signature(credentials, date, stringToSign(amzDate, canonical.text));

  HeaderList out;
  out.reserve(3);
  out.emplace_back("X-Amz-Date", amzDate);
  if (withToken) out.emplace_back("X-Amz-Security-Token", credentials.sessionToken);
  out.emplace_back("Authorization", fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                                                credentials.accessKeyId, credentialScope(date),
                                                canonical.signedHeaders, sig));
  return out;
}

CanonicalRequest SigV4Signer::canonicalRequest(const SigningRequest& request) const {
  return buildCanonicalRequest(request, entriesOf(request.headers));
}

std::string SigV4Signer::stringToSign(std::string_view amzDate, std::string_view canonicalRequest) const {
  std::string out;
  out.reserve(kAlgorithm.size() + kAmzDateLength + 64 + region_.size() + service_.size() + 2 * kDigestSize);
  out += kAlgorithm;
  out.push_back('\n');
  out += amzDate;
  out.push_back('\n');
  out += credentialScope(amzDate.substr(0, kDateLength));
  out.push_back('\n');
  out += sha256Hex(canonicalRequest);
  return out;
}

std::string SigV4Signer::signature(const Credentials& credentials, std::string_view date,
                                   std::string_view stringToSign) const {
  std::string secret = "AWS4" + credentials.secretAccessKey;
  Digest key = hmacSha256(secret, date);
  OPENSSL_cleanse(secret.data(), secret.size());
  key = hmacSha256(asView(key), region_);
  key = hmacSha256(asView(key), service_);
  key = hmacSha256(asView(key), kTerminator);
  const Digest mac = hmacSha256(asView(key), stringToSign);
  OPENSSL_cleanse(key.data(), key.size());
  return toHex(mac.data(), mac.size());
}

std::string SigV4Signer::credentialScope(std::string_view date) const {
  std::string out;
  out.reserve(date.size() + region_.size() + service_.size() + kTerminator.size() + 3);
  out += date;
  out.push_back('/');
  out += region_;
  out.push_back('/');
  out += service_;
  out.push_back('/');
  out += kTerminator;
  return out;
}

std::string sha256Hex(std::string_view data) {
  Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != kDigestSize) {
    cryptoFailure("SHA-256");
  }
  return toHex(digest.data(), digest.size());
}

std::string formatAmzDate(std::chrono::system_clock::time_point when) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(when);
  const auto days = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss<std::chrono::seconds> time{seconds - days};
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count());
}

std::string uriEncode(std::string_view text, bool keepSlash) {
  std::string out;
  out.reserve(text.size());
  appendUriEncoded(out, text, keepSlash);
  return out;
}

}  // namespace kinship::aws
