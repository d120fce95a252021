#pragma once
// Credentials and the sources they come from. Each source (environment, web
// identity, shared files, container, instance metadata, an assumed role) is
// one CredentialsSource in its own file; CredentialsChain (credentials_chain.h)
// is the only place that knows their order.
//
// Secrets (secret key, session token, web-identity and authorization
// tokens) never appear in a Status message, a log line or a metric: errors
// name the source, the file or URL, and the cause only.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kinship::aws {

struct Credentials {
  std::string accessKeyId{};
  std::string secretAccessKey{};
  std::string sessionToken{};  // empty for long-term keys
  // When temporary credentials stop working; nullopt for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration = std::nullopt;
};

// One place credentials can come from. Not thread-safe: the chain and the
// refresher call a source from one thread at a time.
class CredentialsSource {
 public:
  virtual ~CredentialsSource() = default;

  // A short, stable name for logs and metric labels: "environment",
  // "web_identity", "profile", "container", "imds", "assume_role".
  virtual std::string_view name() const = 0;

  // Whether this source is set up at all (its variables are set, its
  // profile exists...). Cheap, no network. The chain skips a source that is
  // not configured; a configured source that fails stops the chain, so that
  // a broken IRSA setup is an error, never a silent fall-through to the
  // node's identity.
  virtual bool configured() = 0;

  // Fetches credentials; may block on the network for at most the source's
  // own timeouts. Called again for every refresh, so files (web-identity
  // tokens, authorization tokens) are re-read each time.
  virtual Result<Credentials> fetch() = 0;
};

}  // namespace kinship::aws
