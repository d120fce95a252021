#include "aws/default_credentials.h"

#include <utility>
#include <vector>

#include "aws/assume_role_source.h"
#include "aws/container_source.h"
#include "aws/credentials_chain.h"
#include "aws/credentials_metrics.h"
#include "aws/environment_source.h"
#include "aws/imds_source.h"
#include "aws/profile_source.h"
#include "aws/refreshing_credentials.h"
#include "aws/web_identity_source.h"

namespace kinship::aws {

namespace {

StsOptions stsOptionsOf(const CredentialsOptions& options) {
  StsOptions sts;
  sts.region = options.region;
  sts.endpoint = options.stsEndpoint;
  return sts;
}

// The AWS SDKs' order; this is the only place that knows it.
std::unique_ptr<CredentialsSource> defaultChain(const CredentialsOptions& options, const EnvLookup& env) {
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  sources.push_back(std::make_unique<EnvironmentSource>(env));
  sources.push_back(std::make_unique<WebIdentitySource>(env, stsOptionsOf(options)));
  ProfileSourceOptions profile;
  profile.profile = options.profile;
  profile.region = options.region;
  profile.stsEndpoint = options.stsEndpoint;
  sources.push_back(std::make_unique<ProfileSource>(std::move(profile), env));
  sources.push_back(std::make_unique<ContainerSource>(env));
  sources.push_back(std::make_unique<ImdsSource>(env));
  return std::make_unique<CredentialsChain>(std::move(sources));
}

}  // namespace

std::unique_ptr<CredentialsProvider> makeCredentialsProvider(const CredentialsOptions& options, const EnvLookup& env,
                                                             const CredentialsContext& context) {
  std::unique_ptr<CredentialsSource> source = defaultChain(options, env);
  if (!options.roleArn.empty()) {
    // The chain's credentials are fetched again only when the role's expire
    // (about hourly): one more call then is simpler than a second cache.
    std::shared_ptr<CredentialsSource> base = std::move(source);
    AssumeRoleRequest request;
    request.roleArn = options.roleArn;
    request.externalId = options.externalId;
    request.roleSessionName = options.roleSessionName;
    source = std::make_unique<AssumeRoleSource>([base] { return base->fetch(); }, std::move(request),
                                                stsOptionsOf(options), env);
  }
  return std::make_unique<RefreshingCredentials>(
      std::move(source), context.clock, RefreshingCredentials::Options{},
      std::make_shared<CredentialsMetrics>(context.metrics, context.pipelineName));
}

}  // namespace kinship::aws
