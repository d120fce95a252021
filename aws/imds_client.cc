#include "aws/imds_client.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "aws/credentials_json.h"

namespace kinship::aws {
namespace {

constexpr std::string_view kSource = "instance metadata";
constexpr std::string_view kTokenPath = "/latest/api/token";
constexpr std::string_view kRolesPath = "/latest/meta-data/iam/security-credentials/";
constexpr std::string_view kRegionPath = "/latest/meta-data/placement/region";
// The longest a session token may live (6 h); it is fetched again a few
// minutes before, so that a GET never carries one that just expired.
constexpr std::chrono::seconds kTokenTtl{21600};
constexpr std::chrono::seconds kTokenReuse = kTokenTtl - std::chrono::minutes(5);
// Every IMDS answer kinship reads is a few hundred bytes.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trimLine(std::string_view text) {
  const size_t end = text.find_first_of("\r\n");
  text = text.substr(0, end);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

// IAM role names: letters, digits and +=,.@_- (at most 64). The name goes
// into a URL path, so nothing else is let through.
bool isRoleName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("+=,.@_-").find(c) != std::string_view::npos;
  });
}

bool isRegionName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// The token goes back in a header: visible ASCII only.
bool isToken(std::string_view token) {
  if (token.empty() || token.size() > 4096) return false;
  return std::all_of(token.begin(), token.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::string statusError(std::string_view method, const std::string& url, long status) {
  return std::string(kSource) + ": " + std::string(method) + " " + url + " answered HTTP " + std::to_string(status);
}

}  // namespace

bool imdsDisabled(const EnvLookup& env) {
  auto value = env("AWS_EC2_METADATA_DISABLED");
  return value && equalsIgnoreCase(*value, "true");
}

ImdsClient::ImdsClient(const EnvLookup& env, ImdsOptions options) : options_(options) {
  if (auto endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT"); endpoint && !endpoint->empty()) {
    endpoint_ = *endpoint;
  } else if (auto mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"); mode && equalsIgnoreCase(*mode, "IPv6")) {
    endpoint_ = "http://[fd00:ec2::254]";
  } else {
    endpoint_ = "http://169.254.169.254";
  }
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  if (options_.attempts < 1) options_.attempts = 1;
}

HttpFetchRequest ImdsClient::request(std::string method, const std::string& path) const {
  HttpFetchRequest request;
  request.method = std::move(method);
  request.url = endpoint_ + path;
  request.connectTimeout = options_.connectTimeout;
  request.timeout = options_.timeout;
  request.maxResponseBytes = kMaxAnswerBytes;
  return request;
}

Result<HttpFetchResponse> ImdsClient::send(HttpFetchRequest request) const {
  Result<HttpFetchResponse> response = fail(Status::internal("no attempt"));
  for (int attempt = 0; attempt < options_.attempts; ++attempt) {
    response = httpFetch(request);
    if (response && response->status < 500) return response;
  }
  if (response) return response;  // a 5xx both times: the caller names the status
  return fail(Status::unavailable(std::string(kSource) + ": the metadata service did not answer at " + endpoint_ +
                                  " within " + std::to_string(options_.timeout.count()) + " ms (" +
                                  std::to_string(options_.attempts) + " attempts; " + response.error().message() +
                                  ")"));
}

Status ImdsClient::fetchToken() {
  token_.clear();
  HttpFetchRequest put = request("PUT", std::string(kTokenPath));
  put.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", std::to_string(kTokenTtl.count()));
  auto response = send(std::move(put));
  if (!response) return response.error();
  if (response->status != 200) {
    // 403: IMDS is turned off for this instance; 404/405: a service without
    // IMDSv2, which kinship does not fall back from.
    return Status::unavailable(statusError("PUT", endpoint_ + std::string(kTokenPath), response->status) +
                               " to the session token request (IMDSv2)");
  }
  std::string_view token = trimLine(response->body);
  if (!isToken(token)) {
    return Status::corruption(std::string(kSource) + ": the session token from " + endpoint_ +
                              std::string(kTokenPath) + " is empty, too long or not visible ASCII");
  }
  token_.assign(token);
  tokenFetched_ = std::chrono::steady_clock::now();
  return Status::ok();
}

Result<HttpFetchResponse> ImdsClient::get(const std::string& path) {
  if (token_.empty() || std::chrono::steady_clock::now() - tokenFetched_ > kTokenReuse) {
    if (Status s = fetchToken(); !s) return fail(s);
  }
  for (int round = 0;; ++round) {
    HttpFetchRequest request = this->request("GET", path);
    request.headers.emplace_back("X-aws-ec2-metadata-token", token_);
    auto response = send(std::move(request));
    if (!response || response->status != 401 || round == 1) return response;
    if (Status s = fetchToken(); !s) return fail(s);
  }
}

Result<std::string> ImdsClient::roleName() {
  const std::string path(kRolesPath);
  auto response = get(path);
  if (!response) return fail(response.error());
  if (response->status == 404) {
    return fail(Status::notFound(std::string(kSource) + ": no instance profile attached to this instance (GET " +
                                 endpoint_ + path + " answered HTTP 404)"));
  }
  if (response->status != 200) return fail(Status::unavailable(statusError("GET", endpoint_ + path, response->status)));
  std::string_view role = trimLine(response->body);
  if (role.empty()) {
    return fail(Status::notFound(std::string(kSource) + ": no instance profile attached to this instance (GET " +
                                 endpoint_ + path + " listed no role)"));
  }
  if (!isRoleName(role)) {
    return fail(Status::corruption(std::string(kSource) + ": GET " + endpoint_ + path +
                                   " answered with something that is not an IAM role name"));
  }
  return std::string(role);
}

Result<Credentials> ImdsClient::roleCredentials(std::string_view role) {
  if (!isRoleName(role)) return fail(Status::invalidArgument(std::string(kSource) + ": not an IAM role name"));
  const std::string path = std::string(kRolesPath) + std::string(role);
  auto response = get(path);
  if (!response) return fail(response.error());
  if (response->status != 200) return fail(Status::unavailable(statusError("GET", endpoint_ + path, response->status)));
  const std::string url = endpoint_ + path;
  return parseCredentialsJson(response->body, CredentialsJsonContext{kSource, url, true});
}

Result<Credentials> ImdsClient::credentials() {
  auto role = roleName();
  if (!role) return fail(role.error());
  return roleCredentials(*role);
}

Result<std::string> ImdsClient::region() {
  const std::string path(kRegionPath);
  auto response = get(path);
  if (!response) return fail(response.error());
  if (response->status != 200) return fail(Status::unavailable(statusError("GET", endpoint_ + path, response->status)));
  std::string_view region = trimLine(response->body);
  if (!isRegionName(region)) {
    return fail(Status::corruption(std::string(kSource) + ": GET " + endpoint_ + path +
                                   " answered with something that is not a region name"));
  }
  return std::string(region);
}

}  // namespace kinship::aws
