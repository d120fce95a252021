#pragma once
// AssumeRoleSource: a role's temporary credentials from STS AssumeRole,
// signed with other ("base") credentials: the sink's role_arn (a stream in
// another account, base = the chain) and a profile's role_arn +
// source_profile (base = the source profile). Not thread-safe (see
// CredentialsSource); the base getter is called from fetch() only.

#include <functional>
#include <string_view>

#include "aws/credentials.h"
#include "aws/sts_client.h"
#include "common/env_lookup.h"

namespace kinship::aws {

using CredentialsGetter = std::function<Result<Credentials>()>;

class AssumeRoleSource final : public CredentialsSource {
 public:
  // `request.roleSessionName` empty: defaultRoleSessionName() at each
  // fetch. `env` gives AWS_ENDPOINT_URL_STS.
  AssumeRoleSource(CredentialsGetter base, AssumeRoleRequest request, StsOptions sts, const EnvLookup& env);

  std::string_view name() const override { return "assume_role"; }
  bool configured() override { return true; }
  // The base getter's error (with its code) or STS's refusal, prefixed with
  // the role; never a key, a token or the external id.
  Result<Credentials> fetch() override;

 private:
  CredentialsGetter base_;
  AssumeRoleRequest request_;
  StsClient sts_;
};

}  // namespace kinship::aws
