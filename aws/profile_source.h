#pragma once
// ProfileSource: credentials from a profile of the shared files
// (shared_config.h), the chain's third source.
//
// The profile: ProfileSourceOptions::profile (the sink's `profile`), else
// AWS_PROFILE, else "default". Within it, the first of these that is set
// gives the credentials, in the AWS SDKs' order:
//   1. role_arn + source_profile: the source profile's credentials (resolved
//      the same way, so chains work; a profile that names itself uses its
//      own static keys), then STS AssumeRole with external_id,
//      role_session_name and duration_seconds;
//   2. role_arn + credential_source: not supported (an error saying so);
//   3. role_arn + web_identity_token_file: STS AssumeRoleWithWebIdentity,
//      the token file read again at every fetch;
//   4. aws_access_key_id + aws_secret_access_key (+ aws_session_token);
//   5. credential_process (credential_process.h);
//   6. sso_*: not supported yet (an error saying so).
// STS calls go to the region of the sink (ProfileSourceOptions::region, as
// resolved from its option and AWS_REGION), else the profile's `region`, and
// to sts_endpoint / AWS_ENDPOINT_URL_STS when set.
//
// configured(): the profile was named (option or AWS_PROFILE) — a named
// profile that is missing is then an error, as with the SDKs — or it
// holds any of the keys above, or a file cannot be read. A "default" profile
// with only a region is not a credentials source: the chain goes on to the
// container and instance metadata, as the SDKs' chains do.
//
// Both files are read again at every configured() and fetch(). Errors name
// the profile and the file, never a value.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credential_process.h"
#include "aws/credentials.h"
#include "aws/shared_config.h"
#include "aws/sts_client.h"
#include "common/env_lookup.h"

namespace kinship::aws {

inline constexpr size_t kMaxSourceProfileDepth = 8;

struct ProfileSourceOptions {
  std::string profile{};      // the sink's `profile`; empty: AWS_PROFILE, then "default"
  std::string region{};       // the sink's region, for STS
  std::string stsEndpoint{};  // the sink's sts_endpoint
  std::chrono::milliseconds processTimeout = kDefaultCredentialProcessTimeout;
};

class ProfileSource final : public CredentialsSource {
 public:
  ProfileSource(ProfileSourceOptions options, EnvLookup env);

  std::string_view name() const override { return "profile"; }
  bool configured() override;
  Result<Credentials> fetch() override;

 private:
  // `chain` holds the profiles that led here (for cycles and depth).
  Result<Credentials> resolve(const SharedConfig& config, const std::string& profile,
                              std::vector<std::string>& chain) const;
  Result<Credentials> assumeRole(const SharedConfig& config, const std::string& profile,
                                 const ProfileProperties& properties, std::vector<std::string>& chain) const;
  Result<Credentials> webIdentity(const SharedConfig& config, const std::string& profile,
                                  const ProfileProperties& properties) const;
  StsOptions stsOptions(const ProfileProperties& properties) const;

  ProfileSourceOptions options_;
  EnvLookup env_;
};

}  // namespace kinship::aws
