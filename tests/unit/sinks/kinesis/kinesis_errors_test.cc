#include "sinks/kinesis/kinesis_errors.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "aws/curl_http_transport.h"

using namespace kinship::kinesis;

namespace kinship::kinesis {
void PrintTo(ErrorAction action, std::ostream* os) { *os << errorActionName(action); }
}  // namespace kinship::kinesis
namespace kinship::aws {
void PrintTo(TransportFailure failure, std::ostream* os) { *os << transportFailureName(failure); }
}  // namespace kinship::aws

namespace {

using enum ErrorAction;
using TF = TransportFailure;
using kinship::aws::transportFailureFromCurl;

struct Case {
  std::string_view name;  // test name suffix
  int status;
  std::string_view type;
  TransportFailure transport;
  ErrorAction action;
  std::string_view label;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

// One case per row of the table in kinesis_errors.cc, in its order, then
// the precedence rules between groups.
constexpr Case kCases[] = {
    // Below HTTP.
    {"TransportConnect", 0, "", TF::kConnect, kRetry, "transport_connect"},
    {"TransportTimeout", 0, "", TF::kTimeout, kRetry, "transport_timeout"},
    {"TransportReset", 0, "", TF::kReset, kRetry, "transport_reset"},
    {"TransportDns", 0, "", TF::kDns, kRetry, "transport_dns"},
    {"TransportTls", 0, "", TF::kTls, kPause, "transport_tls"},
    {"TransportOther", 0, "", TF::kOther, kPause, "transport_other"},

    // Errors PutRecord/PutRecords document.
    {"ResourceNotFound", 400, "ResourceNotFoundException", TF::kNone, kPause, "ResourceNotFoundException"},
    {"InvalidArgument", 400, "InvalidArgumentException", TF::kNone, kBisect, "InvalidArgumentException"},
    {"ProvisionedThroughputExceeded", 400, "ProvisionedThroughputExceededException", TF::kNone, kThrottle,
     "ProvisionedThroughputExceededException"},
    {"AccessDenied", 400, "AccessDeniedException", TF::kNone, kPause, "AccessDeniedException"},
    {"KmsDisabled", 400, "KMSDisabledException", TF::kNone, kPause, "KMSDisabledException"},
    {"KmsInvalidState", 400, "KMSInvalidStateException", TF::kNone, kPause, "KMSInvalidStateException"},
    {"KmsAccessDenied", 400, "KMSAccessDeniedException", TF::kNone, kPause, "KMSAccessDeniedException"},
    {"KmsNotFound", 400, "KMSNotFoundException", TF::kNone, kPause, "KMSNotFoundException"},
    {"KmsOptInRequired", 400, "KMSOptInRequired", TF::kNone, kPause, "KMSOptInRequired"},
    {"KmsThrottling", 400, "KMSThrottlingException", TF::kNone, kThrottle, "KMSThrottlingException"},
    {"LimitExceeded", 400, "LimitExceededException", TF::kNone, kThrottle, "LimitExceededException"},

    // Errors common to AWS JSON APIs.
    {"Validation", 400, "ValidationException", TF::kNone, kBisect, "ValidationException"},
    {"Serialization", 400, "SerializationException", TF::kNone, kBisect, "SerializationException"},
    {"Throttling", 400, "ThrottlingException", TF::kNone, kThrottle, "ThrottlingException"},
    {"InternalFailure", 500, "InternalFailure", TF::kNone, kRetry, "InternalFailure"},
    {"InternalServerError", 500, "InternalServerError", TF::kNone, kRetry, "InternalServerError"},
    {"ServiceUnavailable", 503, "ServiceUnavailable", TF::kNone, kRetry, "ServiceUnavailable"},
    {"ServiceUnavailableException", 503, "ServiceUnavailableException", TF::kNone, kRetry,
     "ServiceUnavailableException"},
    {"ExpiredTokenException", 400, "ExpiredTokenException", TF::kNone, kRefreshCredentials, "ExpiredTokenException"},
    {"ExpiredToken", 400, "ExpiredToken", TF::kNone, kRefreshCredentials, "ExpiredToken"},
    {"UnrecognizedClient", 400, "UnrecognizedClientException", TF::kNone, kPause, "UnrecognizedClientException"},
    {"InvalidSignature", 400, "InvalidSignatureException", TF::kNone, kPause, "InvalidSignatureException"},
    {"IncompleteSignature", 400, "IncompleteSignature", TF::kNone, kPause, "IncompleteSignature"},
    {"IncompleteSignatureException", 400, "IncompleteSignatureException", TF::kNone, kPause,
     "IncompleteSignatureException"},
    {"MissingAuthenticationToken", 403, "MissingAuthenticationToken", TF::kNone, kPause,
     "MissingAuthenticationToken"},
    {"MissingAuthenticationTokenException", 403, "MissingAuthenticationTokenException", TF::kNone, kPause,
     "MissingAuthenticationTokenException"},
    {"InvalidClientTokenId", 403, "InvalidClientTokenId", TF::kNone, kPause, "InvalidClientTokenId"},
    {"SignatureDoesNotMatch", 403, "SignatureDoesNotMatch", TF::kNone, kPause, "SignatureDoesNotMatch"},
    {"NotAuthorized", 400, "NotAuthorized", TF::kNone, kPause, "NotAuthorized"},
    {"OptInRequired", 403, "OptInRequired", TF::kNone, kPause, "OptInRequired"},
    {"RequestExpired", 400, "RequestExpired", TF::kNone, kPause, "RequestExpired"},
    {"UnknownOperation", 400, "UnknownOperationException", TF::kNone, kPause, "UnknownOperationException"},
    {"InvalidAction", 400, "InvalidAction", TF::kNone, kPause, "InvalidAction"},

    // HTTP status without a known type.
    {"Http413", 413, "", TF::kNone, kTooLarge, "http_413"},
    {"Http429", 429, "", TF::kNone, kThrottle, "http_429"},
    {"Http408", 408, "", TF::kNone, kRetry, "http_408"},
    {"Http500", 500, "", TF::kNone, kRetry, "http_500"},
    {"Http502", 502, "", TF::kNone, kRetry, "http_502"},
    {"Http504", 504, "", TF::kNone, kRetry, "http_504"},
    {"Http599", 599, "", TF::kNone, kRetry, "http_599"},
    {"Http400", 400, "", TF::kNone, kPause, "http_400"},
    {"Http403", 403, "", TF::kNone, kPause, "http_403"},
    {"Http404", 404, "", TF::kNone, kPause, "http_404"},
    {"Http499", 499, "", TF::kNone, kPause, "http_499"},
    {"Http301CatchAll", 301, "", TF::kNone, kPause, "http_301"},
    {"Http600CatchAll", 600, "", TF::kNone, kPause, "http_600"},

    // Precedence and edges.
    {"UnknownTypeOn4xxPausesWithStatusLabel", 400, "SomeNewException", TF::kNone, kPause, "http_400"},
    {"UnknownTypeOn5xxRetriesWithStatusLabel", 503, "SomeNewException", TF::kNone, kRetry, "http_503"},
    {"UnknownTypeOn413IsTooLarge", 413, "RequestEntityTooLarge", TF::kNone, kTooLarge, "http_413"},
    {"KnownTypeWinsOverStatus", 500, "AccessDeniedException", TF::kNone, kPause, "AccessDeniedException"},
    {"ThrottlingTypeWinsOver4xx", 403, "ThrottlingException", TF::kNone, kThrottle, "ThrottlingException"},
    {"TypesAreCaseSensitive", 400, "accessdeniedexception", TF::kNone, kPause, "http_400"},
    {"NamespacePrefixIgnored", 400, "com.amazonaws.kinesis.v20131202#ThrottlingException", TF::kNone, kThrottle,
     "ThrottlingException"},
    {"TransportWinsOverStatus", 502, "", TF::kReset, kRetry, "transport_reset"},
    {"TransportWinsOverType", 400, "AccessDeniedException", TF::kTimeout, kRetry, "transport_timeout"},
    {"NoStatusNoTransportIsTransportOther", 0, "", TF::kNone, kPause, "transport_other"},
};

class ClassifyRequestError : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifyRequestError, ActionAndLabel) {
  const Case& c = GetParam();
  ErrorClass got = classifyRequestError(c.status, c.type, c.transport);
  EXPECT_EQ(got.action, c.action) << "status " << c.status << " type '" << c.type << "' transport "
                                  << transportFailureName(c.transport);
  EXPECT_EQ(got.label, c.label);
}

INSTANTIATE_TEST_SUITE_P(Table, ClassifyRequestError, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(ClassifyRequestError, EveryTransportFailureHasALabel) {
  for (TF failure : {TF::kConnect, TF::kTimeout, TF::kReset, TF::kTls, TF::kDns, TF::kOther}) {
    EXPECT_EQ(classifyRequestError(0, "", failure).label, "transport_" + std::string(transportFailureName(failure)));
  }
}

TEST(ClassifyRecordError, DocumentedCodes) {
  EXPECT_EQ(classifyRecordError("ProvisionedThroughputExceededException").action, kThrottle);
  EXPECT_EQ(classifyRecordError("ProvisionedThroughputExceededException").label,
            "ProvisionedThroughputExceededException");
  EXPECT_EQ(classifyRecordError("InternalFailure").action, kRetry);
  EXPECT_EQ(classifyRecordError("InternalFailure").label, "InternalFailure");
}

TEST(ClassifyRecordError, OtherKnownCodesUseTheTable) {
  EXPECT_EQ(classifyRecordError("KMSAccessDeniedException").action, kPause);
  EXPECT_EQ(classifyRecordError("KMSThrottlingException").action, kThrottle);
  EXPECT_EQ(classifyRecordError("InvalidArgumentException").action, kBisect);
}

TEST(ClassifyRecordError, UnknownCodeRetriesAsOther) {
  ErrorClass got = classifyRecordError("SomethingNew");
  EXPECT_EQ(got.action, kRetry);
  EXPECT_EQ(got.label, "other");
  EXPECT_EQ(classifyRecordError("").label, "other");
}

TEST(TransportFailureFromCurl, CertificateProblemPausesEndToEnd) {
  ErrorClass got = classifyRequestError(0, "", transportFailureFromCurl(CURLE_PEER_FAILED_VERIFICATION));
  EXPECT_EQ(got.action, kPause);
  EXPECT_EQ(got.label, "transport_tls");
  got = classifyRequestError(0, "", transportFailureFromCurl(CURLE_COULDNT_CONNECT));
  EXPECT_EQ(got.action, kRetry);
  EXPECT_EQ(got.label, "transport_connect");
}

TEST(ErrorNames, ForLogs) {
  EXPECT_EQ(errorActionName(kRetry), "retry");
  EXPECT_EQ(errorActionName(kThrottle), "throttle");
  EXPECT_EQ(errorActionName(kBisect), "bisect");
  EXPECT_EQ(errorActionName(kTooLarge), "too_large");
  EXPECT_EQ(errorActionName(kPause), "pause");
  EXPECT_EQ(errorActionName(kRefreshCredentials), "refresh_credentials");
  EXPECT_EQ(transportFailureName(TF::kNone), "none");
}

}  // namespace
