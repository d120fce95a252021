#pragma once
// SigV4Signer: AWS Signature Version 4 for one region and service, used to
// authorize every request to AWS (Kinesis, STS). Immutable after
// construction, so a signer may be shared between threads; each call is
// independent and allocates only its own result.
//
// The three intermediate steps AWS publishes in its test suite (canonical
// request, string to sign, signature) are public so each can be checked on
// its own against the published vectors.
//
// Not for S3: S3 wants the path encoded once and left un-normalized, whereas
// every other service (Kinesis included) wants it normalized and encoded again.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/http_headers.h"

namespace kinship::aws {

struct SigningRequest {
  std::string_view method;  // "POST"
  // The path as it appears in the request line. Percent signs in it are
  // encoded again, which is the double encoding non-S3 services expect.
  std::string_view path;
  std::string_view query;  // without the '?'; may be empty; encoded or not
  // Every header the request will carry; all of them are signed. Must include
  // "host". Names are case-insensitive; repeated names are kept in order.
  HeaderList headers;
  std::string_view payload;  // body bytes
};

struct CanonicalRequest {
  std::string text;           // the canonical request itself
  std::string signedHeaders;  // "host;x-amz-date", also needed for Authorization
};

class SigV4Signer {
 public:
  static constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

  SigV4Signer(std::string region, std::string service);

  // Returns the headers to add to the request: "X-Amz-Date", then
  // "X-Amz-Security-Token" when the credentials carry a session token, then
  // "Authorization". Both the date and the token are signed. Any X-Amz-Date
  // already in `request` (and any X-Amz-Security-Token, when the credentials
  // carry one) is replaced, so callers must not send their own copy too.
  HeaderList sign(const SigningRequest& request, const Credentials& credentials,
                  std::chrono::system_clock::time_point when) const;

  // Step 1: signs exactly the headers in `request`, nothing added.
  CanonicalRequest canonicalRequest(const SigningRequest& request) const;
  // Step 2: `amzDate` is "20150830T123600Z"; the scope's date is its first 8 chars.
  std::string stringToSign(std::string_view amzDate, std::string_view canonicalRequest) const;
  // Step 3: lowercase hex HMAC of `stringToSign` under the key derived for `date` ("20150830").
  std::string signature(const Credentials& credentials, std::string_view date, std::string_view stringToSign) const;

  // "20150830/us-east-1/kinesis/aws4_request"
  std::string credentialScope(std::string_view date) const;

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }

 private:
  std::string region_;
  std::string service_;
};

// Lowercase hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

// "20150830T123600Z" (UTC, whole seconds).
std::string formatAmzDate(std::chrono::system_clock::time_point when);

// RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - _ . ~ becomes %XX
// (uppercase hex); '/' is kept only when `keepSlash`.
std::string uriEncode(std::string_view text, bool keepSlash);

}  // namespace kinship::aws
