#pragma once
// EnvironmentSource: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optionally
// AWS_SESSION_TOKEN, the first source of the chain. A variable set to the
// empty string counts as unset, as it does for the AWS SDKs.

#include <string_view>

#include "aws/credentials.h"
#include "common/env_lookup.h"

namespace kinship::aws {

inline constexpr std::string_view kAccessKeyIdVariable = "AWS_ACCESS_KEY_ID";
inline constexpr std::string_view kSecretAccessKeyVariable = "AWS_SECRET_ACCESS_KEY";
inline constexpr std::string_view kSessionTokenVariable = "AWS_SESSION_TOKEN";

class EnvironmentSource final : public CredentialsSource {
 public:
  explicit EnvironmentSource(EnvLookup env) : env_(std::move(env)) {}
  std::string_view name() const override { return "environment"; }
  // Either key variable set: a half-set pair is an error, not a reason to
  // try the next source.
  bool configured() override;
  // The error names every missing variable.
  Result<Credentials> fetch() override;

 private:
  EnvLookup env_;
};

}  // namespace kinship::aws
