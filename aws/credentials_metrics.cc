#include "aws/credentials_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <limits>

namespace kinship::aws {

CredentialsMetrics::CredentialsMetrics(prometheus::Registry& registry, std::string pipeline)
    : pipeline_(std::move(pipeline)),
      refreshes_(prometheus::BuildCounter()
                     .Name("kinship_credentials_refreshes_total")
                     .Help("Fetches of AWS credentials, by provider (environment, web_identity, profile, container, "
                           "imds, with assume_role when the sink's role_arn is set) and result (success, failure)")
                     .Register(registry)),
      secondsLeft_(prometheus::BuildGauge()
                       .Name("kinship_credentials_expiry_seconds")
                       .Help("Seconds until the credentials in use expire (+Inf: they do not; negative: expired)")
                       .Register(registry)
                       .Add({{"pipeline", pipeline_}})) {
  secondsLeft_.Set(std::numeric_limits<double>::infinity());
}

void CredentialsMetrics::refreshed(std::string_view provider, bool succeeded) {
  refreshes_
      .Add({{"pipeline", pipeline_}, {"provider", std::string(provider)}, {"result", succeeded ? "success" : "failure"}})
      .Increment();
}

void CredentialsMetrics::setSecondsLeft(double seconds) { secondsLeft_.Set(seconds); }

}  // namespace kinship::aws
