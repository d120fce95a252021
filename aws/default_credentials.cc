#include "aws/default_credentials.h"

#include <utility>
#include <vector>

#include "aws/credentials_chain.h"
#include "aws/credentials_metrics.h"
#include "aws/container_source.h"
#include "aws/environment_source.h"
#include "aws/imds_source.h"
#include "aws/refreshing_credentials.h"

namespace kinship::aws {

namespace {

// The AWS SDKs' order; this is the only place that knows it.
std::unique_ptr<CredentialsSource> defaultChain(const CredentialsOptions&, const EnvLookup& env) {
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  sources.push_back(std::make_unique<EnvironmentSource>(env));
  sources.push_back(std::make_unique<ContainerSource>(env));
  sources.push_back(std::make_unique<ImdsSource>(env));
  return std::make_unique<CredentialsChain>(std::move(sources));
}

}  // namespace

std::unique_ptr<CredentialsProvider> makeCredentialsProvider(const CredentialsOptions& options, const EnvLookup& env,
                                                             const CredentialsContext& context) {
  std::unique_ptr<CredentialsSource> source = defaultChain(options, env);
  auto provider = std::make_unique<RefreshingCredentials>(
      std::move(source), context.clock, RefreshingCredentials::Options{},
      std::make_shared<CredentialsMetrics>(context.metrics, context.pipelineName));
  // A failure is logged by the provider, which keeps trying; the sink waits.
  (void)provider->start();
  return provider;
}

}  // namespace kinship::aws
