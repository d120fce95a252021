#pragma once
// ContainerSource: credentials from the container endpoint of ECS task
// roles and EKS Pod Identity.
//   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS): http://169.254.170.2 + the
//     URI. Wins when both variables are set, as in the AWS SDKs.
//   AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity, local servers):
//     https to any host, or http to a loopback address or one of the
//     documented ECS/EKS addresses only (checkContainerFullUri): anything
//     else would send the authorization token, and trust the answer, of a
//     host anyone on the network could be.
// The Authorization header is the content of
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, read again at every fetch because
// EKS rotates it, else AWS_CONTAINER_AUTHORIZATION_TOKEN.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "common/env_lookup.h"
#include "common/status.h"

namespace kinship::aws {

struct ContainerOptions {
  // Where RELATIVE_URI points. Tests put a local server here; users cannot
  // change it (the AWS SDKs offer no variable for it either).
  std::string relativeBase = "http://169.254.170.2";
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds timeout{5000};
  int attempts = 2;  // the first and one retry
  // A Pod Identity token is about 1 KiB; a longer file is not a token.
  std::size_t maxTokenBytes = 16 * 1024;
};

// The URL to ask for AWS_CONTAINER_CREDENTIALS_FULL_URI = `uri` (as libcurl
// normalizes it), or kInvalidArgument naming why it is refused: not an
// http(s) URL, user information in it, or plain http to a host other than
// 127.0.0.0/8, [::1], localhost, 169.254.170.2, 169.254.170.23 and
// [fd00:ec2::23]. Hosts are compared as written, never resolved.
Result<std::string> checkContainerFullUri(std::string_view uri);

class ContainerSource : public CredentialsSource {
 public:
  explicit ContainerSource(EnvLookup env, ContainerOptions options = {});

  std::string_view name() const override { return "container"; }
  bool configured() override;
  Result<Credentials> fetch() override;

 private:
  Result<std::string> url() const;
  // The Authorization header's value; empty when none is configured.
  Result<std::string> authorizationToken() const;

  EnvLookup env_;
  ContainerOptions options_;
};

}  // namespace kinship::aws
