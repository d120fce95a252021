#pragma once
// makeCredentialsProvider: the credentials a sink signs with, as the AWS
// SDKs find them: the default chain (credentials_chain.h), optionally a role
// assumed with the chain's credentials (the sink's role_arn), refreshed in
// the background (refreshing_credentials.h).
// Makes no call: the caller's start() fetches (bounded by each source's
// timeouts). A failure there is logged and the provider keeps trying; the
// sink stays paused until credentials arrive.

#include <memory>
#include <string>

#include "aws/credentials_provider.h"
#include "common/clock.h"
#include "common/env_lookup.h"

namespace prometheus {
class Registry;
}

namespace kinship::aws {

// The sink options that choose credentials (all optional).
struct CredentialsOptions {
  std::string profile;          // else AWS_PROFILE, else "default"
  std::string roleArn;          // assumed with the chain's credentials
  std::string externalId;       // with roleArn
  std::string roleSessionName;  // with roleArn; else "kinship-<unix time>"
  std::string stsEndpoint;      // else AWS_ENDPOINT_URL_STS, else the regional endpoint
  std::string region;           // for STS
};

struct CredentialsContext {
  prometheus::Registry& metrics;
  std::string pipelineName;
  const Clock& clock;
};

std::unique_ptr<CredentialsProvider> makeCredentialsProvider(const CredentialsOptions& options, const EnvLookup& env,
                                                             const CredentialsContext& context);

}  // namespace kinship::aws
