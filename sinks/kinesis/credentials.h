#pragma once
// Credentials and where they come from. CredentialsProvider is the seam for
// the sources the sink may use (environment today; STS or instance metadata
// later). Providers are not thread-safe: current() is called from the sink
// thread only.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "common/status.h"
#include "config/schema.h"

namespace kinship::kinesis {

using aws::Credentials;

// The environment lookup shared with the config loader (injectable in tests).
using config::EnvLookup;
using config::processEnvironment;

inline constexpr std::string_view kAccessKeyIdVariable = "AWS_ACCESS_KEY_ID";
inline constexpr std::string_view kSecretAccessKeyVariable = "AWS_SECRET_ACCESS_KEY";
inline constexpr std::string_view kSessionTokenVariable = "AWS_SESSION_TOKEN";

// Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, optionally,
// AWS_SESSION_TOKEN. A variable set to the empty string counts as unset, as it
// does for the AWS SDKs. The error names every missing variable.
Result<Credentials> credentialsFromEnvironment(const EnvLookup& env);

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // The credentials to sign the next request with. Cheap enough to call once
  // per request; providers with expiring credentials refresh inside.
  virtual Result<Credentials> current() = 0;
};

class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(EnvLookup env = processEnvironment());
  Result<Credentials> current() override;

 private:
  EnvLookup env_;
};

}  // namespace kinship::kinesis
