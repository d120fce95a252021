#pragma once
// ImdsClient: the EC2 instance metadata service, IMDSv2 only (IMDSv1's
// unauthenticated GETs are what SSRF attacks use; the AWS guidance is to turn
// them off). A session token comes from PUT /latest/api/token and goes with
// every GET; a 401 means it expired, and it is fetched again once.
//
// Off EC2 nothing answers at 169.254.169.254, so the timeouts are short
// (1 s, one retry): a start-up on a laptop or in CI waits about 2 s at most
// for the token call, then gets an error naming the endpoint.
//
// The endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT, else
// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE ("IPv4", the default, or "IPv6")
// picks 169.254.169.254 or [fd00:ec2::254].
//
// Not thread-safe (it caches the session token): one owner at a time.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http_fetch.h"
#include "common/env_lookup.h"
#include "common/status.h"

namespace kinship::aws {

struct ImdsOptions {
  std::chrono::milliseconds connectTimeout{1000};
  std::chrono::milliseconds timeout{1000};  // each request, whole
  int attempts = 2;                         // the first and one retry
};

// AWS_EC2_METADATA_DISABLED is "true" (any case): neither credentials nor the
// region may come from the instance metadata service.
bool imdsDisabled(const EnvLookup& env);

class ImdsClient {
 public:
  ImdsClient(const EnvLookup& env, ImdsOptions options = {});

  // The instance profile's role: the first line of
  // /latest/meta-data/iam/security-credentials/. kNotFound when the instance
  // has no instance profile.
  Result<std::string> roleName();
  // The role's temporary credentials, with their expiration.
  Result<Credentials> roleCredentials(std::string_view role);
  // Both of the above.
  Result<Credentials> credentials();
  // The instance's region (/latest/meta-data/placement/region).
  Result<std::string> region();

  const std::string& endpoint() const { return endpoint_; }

 private:
  // GET `path` with the session token, fetching the token first if needed
  // and again once on a 401. Any other status is returned to the caller.
  Result<HttpFetchResponse> get(const std::string& path);
  Status fetchToken();
  // One request with the retry: a transport error or a 5xx is tried again.
  Result<HttpFetchResponse> send(HttpFetchRequest request) const;
  HttpFetchRequest request(std::string method, const std::string& path) const;

  ImdsOptions options_;
  std::string endpoint_;  // without a trailing slash
  std::string token_;     // empty until fetched
  std::chrono::steady_clock::time_point tokenFetched_;
};

}  // namespace kinship::aws
