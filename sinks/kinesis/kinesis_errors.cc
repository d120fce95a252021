#include "sinks/kinesis/kinesis_errors.h"

namespace kinship::kinesis {

namespace {

enum class Match : uint8_t {
  kTransport,  // the exchange failed below HTTP with this TransportFailure
  kType,       // the answer's AWS error type is exactly this string
  kStatus,     // the HTTP status is in [low, high]
  kAny,        // anything else: the catch-all, last
};

struct Rule {
  Match match;
  ErrorAction action;
  std::string_view type = {};
  int low = 0;
  int high = 0;
  TransportFailure transport = TransportFailure::kNone;
};

constexpr Rule onTransport(TransportFailure failure, ErrorAction action) {
  return {.match = Match::kTransport, .action = action, .transport = failure};
}
constexpr Rule onType(std::string_view type, ErrorAction action) {
  return {.match = Match::kType, .action = action, .type = type};
}
constexpr Rule onStatus(int low, int high, ErrorAction action) {
  return {.match = Match::kStatus, .action = action, .low = low, .high = high};
}

using enum ErrorAction;
using TF = TransportFailure;

// THE table. First match wins; a transport row matches only a transport
// failure and every other row only an HTTP answer, so the order inside each
// group below is what sets precedence: known AWS type, then exact status,
// then status class, then the catch-all.
//
// The general rule: retry what time fixes, throttle what rate fixes, split
// what a bad record causes, and pause (keep the data, alert, probe) what
// only an operator fixes or what we do not recognise. Pausing an unknown
// error costs some delay; retrying a permanent one hides it, and bisecting
// a request-level one would dead-letter good records.
constexpr Rule kRules[] = {
    // -- Below HTTP ---------------------------------------------------------
    onTransport(TF::kConnect, kRetry),  // endpoint down or restarting
    onTransport(TF::kTimeout, kRetry),  // slow network or overloaded endpoint
    onTransport(TF::kReset, kRetry),    // connection dropped mid-exchange
    // A name that does not resolve is usually a passing resolver fault: the
    // endpoint's host is checked when the configuration is loaded.
    onTransport(TF::kDns, kRetry),
    // Certificate not trusted, hostname mismatch, bad CA file, no common
    // protocol: the same handshake fails the same way until someone fixes
    // the trust store, the endpoint or a proxy. (A handshake cut by a
    // network fault also lands here; the pause's probe then recovers it.)
    onTransport(TF::kTls, kPause),
    // Malformed URL, unsupported protocol, out of memory, ...: not a
    // network weather event, and we cannot tell more.
    onTransport(TF::kOther, kPause),

    // -- Errors PutRecord/PutRecords document --------------------------------
    // The stream (name or ARN) does not exist, is being deleted, or is in
    // another account/region. A shard-level variant, if any, cannot be told
    // apart: see the note at the end of ErrorAction.
    onType("ResourceNotFoundException", kPause),
    // A parameter is out of range (e.g. an ExplicitHashKey, a key length):
    // usually one record.
    onType("InvalidArgumentException", kBisect),
    onType("ProvisionedThroughputExceededException", kThrottle),
    onType("AccessDeniedException", kPause),  // IAM policy lacks kinesis:PutRecords
    // Server-side encryption: the stream's KMS key is disabled, scheduled
    // for deletion, gone, not accessible to us, or KMS is not enabled for
    // the account. All need an operator.
    onType("KMSDisabledException", kPause),
    onType("KMSInvalidStateException", kPause),
    onType("KMSAccessDeniedException", kPause),
    onType("KMSNotFoundException", kPause),
    onType("KMSOptInRequired", kPause),
    // KMS request rate exceeded: slowing down is what fixes it.
    onType("KMSThrottlingException", kThrottle),
    // Kinesis' name for "too many requests" (control-plane limits, and
    // stream-level limits on some paths).
    onType("LimitExceededException", kThrottle),

    // -- Errors common to AWS JSON APIs --------------------------------------
    // The body failed validation (record count, record size, key length,
    // bad base64) or did not parse (e.g. invalid UTF-8 in a partition key):
    // our encoder is right for valid records, so a record is the cause.
    onType("ValidationException", kBisect),
    onType("SerializationException", kBisect),
    onType("ThrottlingException", kThrottle),
    onType("InternalFailure", kRetry),
    onType("InternalServerError", kRetry),
    onType("ServiceUnavailable", kRetry),
    onType("ServiceUnavailableException", kRetry),
    // Credentials and signing. An expired session token asks the
    // credentials provider for new ones at once; an unknown or disabled
    // key, a wrong secret or a missing or partial Authorization header
    // needs the operator (a refreshed source fixes some: the pause's probe
    // picks that up).
    onType("ExpiredTokenException", kRefreshCredentials),
    onType("ExpiredToken", kRefreshCredentials),
    onType("UnrecognizedClientException", kPause),
    onType("InvalidSignatureException", kPause),
    onType("IncompleteSignature", kPause),
    onType("IncompleteSignatureException", kPause),
    onType("MissingAuthenticationToken", kPause),
    onType("MissingAuthenticationTokenException", kPause),
    onType("InvalidClientTokenId", kPause),
    onType("SignatureDoesNotMatch", kPause),
    onType("NotAuthorized", kPause),
    onType("OptInRequired", kPause),  // the account is not subscribed
    // The signature's time is more than 5 minutes off: the host clock is
    // skewed, and every re-signed request will be too.
    onType("RequestExpired", kPause),
    // The endpoint does not speak Kinesis_20131202 (wrong endpoint URL).
    onType("UnknownOperationException", kPause),
    onType("InvalidAction", kPause),

    // -- HTTP status without a known type -------------------------------------
    onStatus(413, 413, kTooLarge),  // body too large (kinesalite: over ~7 MiB, empty body)
    onStatus(429, 429, kThrottle),
    // A proxy or load balancer gave up waiting for our body: time fixes it.
    onStatus(408, 408, kRetry),
    onStatus(500, 599, kRetry),
    // Any other 4xx (and 3xx: an endpoint that redirects is misconfigured)
    // is something we do not understand: keep the data and alert.
    onStatus(400, 499, kPause),

    {.match = Match::kAny, .action = kPause},
};

const Rule& findRule(int httpStatus, std::string_view type, TransportFailure transport) {
  for (const Rule& rule : kRules) {
    switch (rule.match) {
      case Match::kTransport:
        if (transport == rule.transport) return rule;
        break;
      case Match::kType:
        if (transport == TF::kNone && !type.empty() && type == rule.type) return rule;
        break;
      case Match::kStatus:
        if (transport == TF::kNone && httpStatus >= rule.low && httpStatus <= rule.high) return rule;
        break;
      case Match::kAny:
        if (transport == TF::kNone) return rule;
        break;
    }
  }
  return kRules[std::size(kRules) - 1];  // unreachable: every TransportFailure has a row
}

}  // namespace

std::string_view errorActionName(ErrorAction action) {
  switch (action) {
    case kRetry: return "retry";
    case kThrottle: return "throttle";
    case kBisect: return "bisect";
    case kTooLarge: return "too_large";
    case kPause: return "pause";
    case kRefreshCredentials: return "refresh_credentials";
  }
  return "unknown";
}

ErrorClass classifyRequestError(int httpStatus, std::string_view awsErrorType, TransportFailure transport) {
  // No answer and no transport cause means the caller could not say what
  // failed below HTTP.
  if (httpStatus == 0 && transport == TF::kNone) transport = TF::kOther;
  // The type should come without its "namespace#" prefix; a raw "__type"
  // must not silently miss every row.
  if (auto hash = awsErrorType.rfind('#'); hash != std::string_view::npos) awsErrorType.remove_prefix(hash + 1);
  const Rule& rule = findRule(httpStatus, awsErrorType, transport);
  switch (rule.match) {
    case Match::kTransport: return {rule.action, "transport_" + std::string(transportFailureName(transport))};
    case Match::kType: return {rule.action, std::string(rule.type)};
    case Match::kStatus:
    case Match::kAny: break;
  }
  return {rule.action, "http_" + std::to_string(httpStatus)};
}

ErrorClass classifyRecordError(std::string_view errorCode) {
  for (const Rule& rule : kRules) {
    if (rule.match == Match::kType && rule.type == errorCode) return {rule.action, std::string(rule.type)};
  }
  return {kRetry, "other"};
}

}  // namespace kinship::kinesis
