#pragma once
// ImdsSource: the EC2 instance profile's credentials from the instance
// metadata service (IMDSv2, see imds_client.h). Last in the chain: it is
// configured unless AWS_EC2_METADATA_DISABLED is "true", so off EC2 it
// costs one short timeout and then names the endpoint that did not answer.

#include <string_view>

#include "aws/credentials.h"
#include "aws/imds_client.h"
#include "common/env_lookup.h"

namespace kinship::aws {

class ImdsSource : public CredentialsSource {
 public:
  explicit ImdsSource(EnvLookup env, ImdsOptions options = {});

  std::string_view name() const override { return "imds"; }
  bool configured() override;
  // The role name is asked again at each fetch: an instance profile can be
  // replaced while the instance runs.
  Result<Credentials> fetch() override;

 private:
  EnvLookup env_;
  ImdsClient client_;
};

}  // namespace kinship::aws
