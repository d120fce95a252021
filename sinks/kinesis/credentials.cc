#include "sinks/kinesis/credentials.h"

#include <utility>

namespace kinship::kinesis {
namespace {

std::optional<std::string> lookupNonEmpty(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace

Result<Credentials> credentialsFromEnvironment(const EnvLookup& env) {
  std::optional<std::string> keyId = lookupNonEmpty(env, kAccessKeyIdVariable);
  std::optional<std::string> secret = lookupNonEmpty(env, kSecretAccessKeyVariable);
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
  Credentials credentials{.accessKeyId = std::move(*keyId), .secretAccessKey = std::move(*secret), .sessionToken = {}};
  if (std::optional<std::string> token = lookupNonEmpty(env, kSessionTokenVariable)) {
    credentials.sessionToken = std::move(*token);
  }
  return credentials;
}

EnvironmentCredentialsProvider::EnvironmentCredentialsProvider(EnvLookup env) : env_(std::move(env)) {}

// Re-read on every call rather than cached: it costs three lookups per HTTP
// request and lets a test (or a wrapper) change what the lookup returns.
Result<Credentials> EnvironmentCredentialsProvider::current() { return credentialsFromEnvironment(env_); }

}  // namespace kinship::kinesis
