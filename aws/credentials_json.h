#pragma once
// The JSON credentials answer that the EC2 instance metadata service and the
// container endpoints (ECS task roles, EKS Pod Identity) share:
//   {"Code": "Success",                  (IMDS only; optional here)
//    "AccessKeyId": "...", "SecretAccessKey": "...", "Token": "...",
//    "Expiration": "2026-12-07T03:00:00Z"}
// Read with simdjson. The body holds secrets, so no error ever quotes it:
// errors name the source and URL given by the caller and what was wrong.
// Thread-safe (no shared state).

#include <chrono>
#include <string_view>

#include "aws/credentials.h"
#include "common/status.h"

namespace kinship::aws {

struct CredentialsJsonContext {
  std::string_view source;  // "instance metadata", "container credentials"
  std::string_view url;     // where the answer came from, for errors
  // Token and Expiration must be present (IMDS always sends them); when
  // false, an answer without them gives long-term keys, as some local
  // container-credential servers do.
  bool requireTemporary = true;
};

Result<Credentials> parseCredentialsJson(std::string_view body, const CredentialsJsonContext& context);

// An AWS timestamp in ISO 8601 UTC: "2026-12-07T03:00:00Z", with or without
// fractional seconds (kept to the millisecond); "+00:00" is taken for "Z".
// Anything else (another offset, a date that does not exist) is an error.
Result<std::chrono::system_clock::time_point> parseIso8601Utc(std::string_view text);

}  // namespace kinship::aws
