#include "aws/imds_source.h"

#include <utility>

namespace kinship::aws {

ImdsSource::ImdsSource(EnvLookup env, ImdsOptions options) : env_(std::move(env)), client_(env_, options) {}

bool ImdsSource::configured() { return !imdsDisabled(env_); }

Result<Credentials> ImdsSource::fetch() {
  if (!configured()) {
    return fail(Status::invalidArgument("instance metadata: disabled by AWS_EC2_METADATA_DISABLED"));
  }
  return client_.credentials();
}

}  // namespace kinship::aws
