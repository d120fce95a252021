#include "aws/sts_client.h"

#include <curl/curl.h>
#include <pugixml.hpp>

#include <memory>
#include <utility>

#include "aws/credentials_json.h"
#include "aws/http_fetch.h"
#include "aws/sigv4.h"

namespace kinship::aws {

namespace {

constexpr std::string_view kVersion = "2011-06-15";
constexpr std::string_view kGlobalHost = "sts.amazonaws.com";
constexpr std::string_view kGlobalRegion = "us-east-1";
constexpr std::string_view kContentType = "application/x-www-form-urlencoded; charset=utf-8";
// An STS answer is a few KiB (a session token is at most ~2 KiB).
constexpr std::size_t kMaxAnswerBytes = 256 * 1024;
// What of STS's own error we repeat: enough to read, bounded.
constexpr std::size_t kMaxCodeBytes = 128;
constexpr std::size_t kMaxMessageBytes = 512;

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// One part of a parsed URL, or "" when it has none.
std::string urlPart(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

void appendParam(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body += '&';
  body += name;
  body += '=';
  body += uriEncode(value, false);
}

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string bounded(std::string_view text, size_t limit) {
  text = trimmed(text);
  if (text.size() <= limit) return std::string(text);
  return std::string(text.substr(0, limit)) + "...";
}

std::string actionAt(std::string_view action, const std::string& endpoint) {
  return "STS " + std::string(action) + " at " + endpoint;
}

// Reads <ErrorResponse><Error><Code/><Message/></Error></ErrorResponse>;
// nullopt when the answer is not one.
std::optional<std::string> stsError(const pugi::xml_document& doc) {
  pugi::xml_node error = doc.child("ErrorResponse").child("Error");
  if (!error) return std::nullopt;
  std::string out = bounded(error.child_value("Code"), kMaxCodeBytes);
  if (out.empty()) out = "(no error code)";
  std::string message = bounded(error.child_value("Message"), kMaxMessageBytes);
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace

std::string defaultRoleSessionName() {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return "kinship-" + std::to_string(now.count());
}

StsClient::StsClient(StsOptions options, const EnvLookup& env) : options_(std::move(options)) {
  if (!options_.endpoint.empty()) {
    endpoint_ = options_.endpoint;
  } else if (auto fromEnv = env ? env("AWS_ENDPOINT_URL_STS") : std::nullopt; fromEnv && !fromEnv->empty()) {
    endpoint_ = *fromEnv;
  } else if (!options_.region.empty()) {
    endpoint_ = "https://sts." + options_.region + ".amazonaws.com";
  } else {
    endpointError_ = Status::invalidArgument(
        "STS: no endpoint: set the region (the sink's region, AWS_REGION or AWS_DEFAULT_REGION) or an STS "
        "endpoint (sts_endpoint, AWS_ENDPOINT_URL_STS)");
    return;
  }

  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  const std::string scheme = url && curl_url_set(url.get(), CURLUPART_URL, endpoint_.c_str(), 0) == CURLUE_OK
                                 ? urlPart(url.get(), CURLUPART_SCHEME)
                                 : std::string();
  if (scheme != "http" && scheme != "https") {
    endpointError_ = Status::invalidArgument("STS endpoint " + endpoint_ + " is not an http:// or https:// URL");
    return;
  }
  url_ = urlPart(url.get(), CURLUPART_URL);
  host_ = urlPart(url.get(), CURLUPART_HOST);
  const std::string port = urlPart(url.get(), CURLUPART_PORT);
  if (!port.empty()) host_ += ":" + port;
  path_ = urlPart(url.get(), CURLUPART_PATH);
  if (path_.empty()) path_ = "/";
  if (!urlPart(url.get(), CURLUPART_QUERY).empty() || !urlPart(url.get(), CURLUPART_USER).empty()) {
    endpointError_ =
        Status::invalidArgument("STS endpoint " + endpoint_ + " must not carry a query or user information");
    return;
  }
  const bool global = urlPart(url.get(), CURLUPART_HOST) == kGlobalHost;
  signingRegion_ = global || options_.region.empty() ? std::string(kGlobalRegion) : options_.region;
}

Result<Credentials> StsClient::assumeRoleWithWebIdentity(const WebIdentityRequest& request) const {
  std::string body;
  appendParam(body, "Action", "AssumeRoleWithWebIdentity");
  appendParam(body, "Version", kVersion);
  appendParam(body, "RoleArn", request.roleArn);
  appendParam(body, "RoleSessionName", request.roleSessionName);
  appendParam(body, "WebIdentityToken", request.webIdentityToken);
  appendParam(body, "DurationSeconds", std::to_string(request.duration.count()));
  return call("AssumeRoleWithWebIdentity", body, nullptr);
}

Result<Credentials> StsClient::assumeRole(const AssumeRoleRequest& request, const Credentials& caller) const {
  std::string body;
  appendParam(body, "Action", "AssumeRole");
  appendParam(body, "Version", kVersion);
  appendParam(body, "RoleArn", request.roleArn);
  appendParam(body, "RoleSessionName", request.roleSessionName);
  appendParam(body, "DurationSeconds", std::to_string(request.duration.count()));
  if (!request.externalId.empty()) appendParam(body, "ExternalId", request.externalId);
  return call("AssumeRole", body, &caller);
}

Result<Credentials> StsClient::call(std::string_view action, const std::string& body, const Credentials* caller) const {
  if (!endpointError_.isOk()) return fail(endpointError_);

  HttpFetchRequest http{.method = "POST",
                        .url = url_,
                        .headers = {{"Host", host_}, {"Content-Type", std::string(kContentType)}},
                        .body = body,
                        .connectTimeout = options_.connectTimeout,
                        .timeout = options_.timeout,
                        .maxResponseBytes = kMaxAnswerBytes};
  if (caller != nullptr) {
    const SigV4Signer signer(signingRegion_, "sts");
    SigningRequest signing{.method = "POST", .path = path_, .query = "", .headers = http.headers, .payload = body};
    for (auto& header : signer.sign(signing, *caller, std::chrono::system_clock::now())) {
      http.headers.push_back(std::move(header));
    }
  }

  auto answer = httpFetch(http);
  if (!answer) return fail(Status::unavailable("STS " + std::string(action) + ": " + answer.error().message()));

  // Default parse options: no DOCTYPE, so no entity expansion from the answer.
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(answer->body.data(), answer->body.size());
  const std::string where = actionAt(action, endpoint_);
  const std::string httpStatus = "HTTP " + std::to_string(answer->status);
  if (answer->status != 200 || (parsed && doc.child("ErrorResponse"))) {
    if (parsed) {
      if (auto error = stsError(doc)) {
        return fail(Status::unavailable(where + " refused: " + httpStatus + " " + *error));
      }
    }
    return fail(Status::unavailable(where + " refused: " + httpStatus + " (the answer is not an STS error)"));
  }
  if (!parsed) {
    return fail(Status::unavailable(where + ": " + httpStatus + " answer is not well-formed XML (" +
                                    parsed.description() + " at byte " + std::to_string(parsed.offset) + ")"));
  }

  const std::string response = std::string(action) + "Response";
  const std::string result = std::string(action) + "Result";
  pugi::xml_node credentials = doc.child(response.c_str()).child(result.c_str()).child("Credentials");
  if (!credentials) {
    return fail(Status::unavailable(where + ": " + httpStatus + " answer is not an " + std::string(action) +
                                    " answer (no " + response + "/" + result + "/Credentials)"));
  }
  Credentials out{.accessKeyId = std::string(trimmed(credentials.child_value("AccessKeyId"))),
                  .secretAccessKey = std::string(trimmed(credentials.child_value("SecretAccessKey"))),
                  .sessionToken = std::string(trimmed(credentials.child_value("SessionToken")))};
  for (auto [name, value] : {std::pair<std::string_view, const std::string*>{"AccessKeyId", &out.accessKeyId},
                             {"SecretAccessKey", &out.secretAccessKey},
                             {"SessionToken", &out.sessionToken}}) {
    if (value->empty()) {
      return fail(Status::unavailable(where + ": the answer's Credentials lack " + std::string(name)));
    }
  }
  const std::string_view expirationText = trimmed(credentials.child_value("Expiration"));
  if (expirationText.empty()) return fail(Status::unavailable(where + ": the answer's Credentials lack Expiration"));
  auto expiration = parseIso8601Utc(expirationText);
  if (!expiration) {
    return fail(Status::unavailable(where + ": the answer's Expiration is " + expiration.error().message()));
  }
  out.expiration = *expiration;
  return out;
}

}  // namespace kinship::aws
