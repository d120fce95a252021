#include "aws/environment_source.h"

#include <optional>
#include <string>
#include <utility>

namespace kinship::aws {
namespace {

std::optional<std::string> lookupNonEmpty(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace

bool EnvironmentSource::configured() {
  return lookupNonEmpty(env_, kAccessKeyIdVariable) || lookupNonEmpty(env_, kSecretAccessKeyVariable);
}

Result<Credentials> EnvironmentSource::fetch() {
  std::optional<std::string> keyId = lookupNonEmpty(env_, kAccessKeyIdVariable);
  std::optional<std::string> secret = lookupNonEmpty(env_, kSecretAccessKeyVariable);
  if (!keyId || !secret) {
    std::string missing;
    if (!keyId) missing += kAccessKeyIdVariable;
    if (!secret) {
      if (!missing.empty()) missing += " and ";
      missing += kSecretAccessKeyVariable;
    }
    return fail(Status::notFound("AWS credentials not found in the environment: " + missing +
                                 (keyId || secret ? " is" : " are") + " not set"));
  }
  Credentials credentials{.accessKeyId = std::move(*keyId), .secretAccessKey = std::move(*secret)};
  if (std::optional<std::string> token = lookupNonEmpty(env_, kSessionTokenVariable)) {
    credentials.sessionToken = std::move(*token);
  }
  return credentials;
}

}  // namespace kinship::aws
