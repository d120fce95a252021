#include "aws/assume_role_source.h"

#include <utility>

namespace kinship::aws {

AssumeRoleSource::AssumeRoleSource(CredentialsGetter base, AssumeRoleRequest request, StsOptions sts,
                                   const EnvLookup& env)
    : base_(std::move(base)), request_(std::move(request)), sts_(std::move(sts), env) {}

Result<Credentials> AssumeRoleSource::fetch() {
  const std::string prefix = "assuming role " + request_.roleArn + ": ";
  if (request_.roleArn.empty()) return fail(Status::invalidArgument("assuming a role: no role_arn"));
  if (!base_) return fail(Status::internal(prefix + "no base credentials to sign with"));
  auto caller = base_();
  if (!caller) return fail(caller.error().prefixed(prefix + "base credentials: "));

  AssumeRoleRequest request = request_;
  if (request.roleSessionName.empty()) request.roleSessionName = defaultRoleSessionName();
  auto credentials = sts_.assumeRole(request, *caller);
  if (!credentials) return fail(credentials.error().prefixed(prefix));
  return credentials;
}

}  // namespace kinship::aws
