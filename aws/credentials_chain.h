#pragma once
// CredentialsChain: the AWS SDKs' default chain. The first source that is
// configured answers, and the chain stays with it for every later refresh,
// so the identity never flips between sources. A configured source that
// fails is an error: the chain never falls through to the next identity
// (a broken IRSA setup must not quietly become the node's role).
// The chain takes its sources in the order given; default_credentials.cc is
// the only place that knows the SDKs' order.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"

namespace kinship::aws {

class CredentialsChain final : public CredentialsSource {
 public:
  explicit CredentialsChain(std::vector<std::unique_ptr<CredentialsSource>> sources);

  // The name of the source that answers ("environment", "web_identity",
  // ...), or "none" while no source is configured.
  std::string_view name() const override;
  bool configured() override;
  // Errors name the source; with no source configured, they list the ones
  // tried.
  Result<Credentials> fetch() override;

 private:
  CredentialsSource* choose();

  std::vector<std::unique_ptr<CredentialsSource>> sources_;
  CredentialsSource* chosen_ = nullptr;
};

}  // namespace kinship::aws
