#pragma once
// WebIdentitySource: IRSA and web_identity_token_file. Exchanges the token
// in a file for a role's temporary credentials with STS
// AssumeRoleWithWebIdentity. The file is read again at every fetch, since
// the kubelet rotates it. Not thread-safe (see CredentialsSource).

#include <cstddef>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/sts_client.h"
#include "common/env_lookup.h"

namespace kinship::aws {

inline constexpr std::string_view kWebIdentityTokenFileVariable = "AWS_WEB_IDENTITY_TOKEN_FILE";
inline constexpr std::string_view kRoleArnVariable = "AWS_ROLE_ARN";
inline constexpr std::string_view kRoleSessionNameVariable = "AWS_ROLE_SESSION_NAME";

// A projected service-account token is about 1 KiB; a file far larger is
// not a token.
inline constexpr std::size_t kMaxWebIdentityTokenBytes = 64 * 1024;

class WebIdentitySource final : public CredentialsSource {
 public:
  // IRSA: AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and optionally
  // AWS_ROLE_SESSION_NAME, read from `env` at each call. `env` also gives
  // AWS_ENDPOINT_URL_STS.
  WebIdentitySource(EnvLookup env, StsOptions sts);

  // A profile's web_identity_token_file and role_arn (and role_session_name,
  // empty for the default). Pass the process's `env` so that
  // AWS_ENDPOINT_URL_STS applies here too.
  WebIdentitySource(std::string tokenFile, std::string roleArn, std::string sessionName, StsOptions sts,
                    const EnvLookup& env);

  std::string_view name() const override { return "web_identity"; }
  // From the environment: either variable set (non-empty). Half a setup is
  // configured so that fetch() reports what is missing instead of the
  // chain quietly trying the node's identity. From a profile: always.
  bool configured() override;
  // Errors name a missing variable, the token file and what is wrong with
  // it, or STS's refusal; never the token.
  Result<Credentials> fetch() override;

 private:
  EnvLookup env_;  // set for IRSA; empty for a profile
  std::string tokenFile_;
  std::string roleArn_;
  std::string sessionName_;
  StsClient sts_;
};

}  // namespace kinship::aws
