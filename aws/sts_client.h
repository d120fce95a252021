#pragma once
// StsClient: the two STS calls credentials need, as Query-protocol POSTs
// (Version 2011-06-15) whose XML answers are read with pugixml.
//   AssumeRoleWithWebIdentity: IRSA and web_identity_token_file; unsigned.
//   AssumeRole: role_arn (on the sink or in a profile); SigV4-signed with
//   the caller's credentials, service "sts".
// Thread-safe (no mutable state); each call blocks for at most the timeouts.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "common/env_lookup.h"
#include "common/status.h"

namespace kinship::aws {

struct StsOptions {
  std::string region{};  // for the regional endpoint and for signing
  // "https://sts.<region>.amazonaws.com" unless set here or by
  // AWS_ENDPOINT_URL_STS (this field wins; sts_endpoint on the sink).
  std::string endpoint{};
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds timeout{10000};
};

struct AssumeRoleRequest {
  std::string roleArn{};
  std::string roleSessionName{};
  std::string externalId{};  // optional
  std::chrono::seconds duration{3600};
};

struct WebIdentityRequest {
  std::string roleArn{};
  std::string roleSessionName{};
  std::string webIdentityToken{};  // the token itself (a secret), not its file
  std::chrono::seconds duration{3600};
};

class StsClient {
 public:
  // Resolves the endpoint from `options` then `env` (AWS_ENDPOINT_URL_STS),
  // then the region. Without any of them (or with an endpoint that is not a
  // URL) every call fails with an error saying so.
  StsClient(StsOptions options, const EnvLookup& env);

  // Errors name the action, the endpoint and, for a refusal, the HTTP status
  // with STS's error Code and Message; never the token, a key or the answer.
  Result<Credentials> assumeRoleWithWebIdentity(const WebIdentityRequest& request) const;
  // Signed with `caller` for the region (us-east-1 when none is known or the
  // endpoint is the global sts.amazonaws.com).
  Result<Credentials> assumeRole(const AssumeRoleRequest& request, const Credentials& caller) const;

  const std::string& endpoint() const { return endpoint_; }

 private:
  Result<Credentials> call(std::string_view action, const std::string& body, const Credentials* caller) const;

  StsOptions options_;
  std::string endpoint_;
  // From endpoint_: what the request goes to and what is signed.
  std::string url_;
  std::string host_;  // with the port when the endpoint names one
  std::string path_;
  std::string signingRegion_;
  Status endpointError_;
};

// "kinship-<unix seconds>": the session name when none is configured, as
// the SDKs do (they use their own name and a timestamp).
std::string defaultRoleSessionName();

}  // namespace kinship::aws
