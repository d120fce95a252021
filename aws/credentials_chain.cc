#include "aws/credentials_chain.h"

#include <utility>

namespace kinship::aws {

CredentialsChain::CredentialsChain(std::vector<std::unique_ptr<CredentialsSource>> sources)
    : sources_(std::move(sources)) {}

std::string_view CredentialsChain::name() const { return chosen_ != nullptr ? chosen_->name() : "none"; }

CredentialsSource* CredentialsChain::choose() {
  if (chosen_ == nullptr) {
    for (auto& source : sources_) {
      if (source->configured()) {
        chosen_ = source.get();
        break;
      }
    }
  }
  return chosen_;
}

bool CredentialsChain::configured() { return choose() != nullptr; }

Result<Credentials> CredentialsChain::fetch() {
  CredentialsSource* source = choose();
  if (source == nullptr) {
    std::string tried;
    for (const auto& s : sources_) {
      if (!tried.empty()) tried += ", ";
      tried += s->name();
    }
    return fail(Status::notFound("no AWS credentials found (tried: " + tried + ")"));
  }
  Result<Credentials> credentials = source->fetch();
  if (!credentials) {
    return fail(credentials.error().prefixed("credentials from " + std::string(source->name()) + ": "));
  }
  return credentials;
}

}  // namespace kinship::aws
