#include "aws/web_identity_source.h"

#include <cstring>
#include <optional>
#include <utility>

#include "common/bounded_file.h"

namespace kinship::aws {

namespace {

std::optional<std::string> nonEmpty(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

// The whole file, bounded; trailing line breaks dropped (a token written by
// hand often ends with one, and no JWT contains whitespace).
Result<std::string> readTokenFile(const std::string& path) {
  auto token = readFileAtMost(path, kMaxWebIdentityTokenBytes);
  if (!token) return fail(token.error().prefixed("the web identity token file " + path + ": "));
  while (!token->empty() && (token->back() == '\n' || token->back() == '\r' || token->back() == ' ')) token->pop_back();
  if (token->empty()) return fail(Status::invalidArgument("the web identity token file " + path + " is empty"));
  return token;
}

}  // namespace

WebIdentitySource::WebIdentitySource(EnvLookup env, StsOptions sts)
    : env_(std::move(env)), sts_(std::move(sts), env_) {}

WebIdentitySource::WebIdentitySource(std::string tokenFile, std::string roleArn, std::string sessionName,
                                     StsOptions sts, const EnvLookup& env)
    : tokenFile_(std::move(tokenFile)),
      roleArn_(std::move(roleArn)),
      sessionName_(std::move(sessionName)),
      sts_(std::move(sts), env) {}

bool WebIdentitySource::configured() {
  if (!env_) return true;
  return nonEmpty(env_, kWebIdentityTokenFileVariable) || nonEmpty(env_, kRoleArnVariable);
}

Result<Credentials> WebIdentitySource::fetch() {
  std::string tokenFile = tokenFile_;
  std::string roleArn = roleArn_;
  std::string sessionName = sessionName_;
  if (env_) {
    auto file = nonEmpty(env_, kWebIdentityTokenFileVariable);
    auto arn = nonEmpty(env_, kRoleArnVariable);
    if (!file || !arn) {
      std::string missing =
          !file && !arn ? std::string(kWebIdentityTokenFileVariable) + " and " + std::string(kRoleArnVariable) + " are"
          : !file       ? std::string(kWebIdentityTokenFileVariable) + " is"
                        : std::string(kRoleArnVariable) + " is";
      return fail(Status::invalidArgument("web identity: " + missing + " not set; IRSA needs both " +
                                          std::string(kWebIdentityTokenFileVariable) + " and " +
                                          std::string(kRoleArnVariable)));
    }
    tokenFile = std::move(*file);
    roleArn = std::move(*arn);
    sessionName = nonEmpty(env_, kRoleSessionNameVariable).value_or(std::string());
  } else if (tokenFile.empty() || roleArn.empty()) {
    return fail(Status::invalidArgument(tokenFile.empty() ? "web identity: no token file (web_identity_token_file)"
                                                          : "web identity: no role_arn"));
  }

  auto token = readTokenFile(tokenFile);
  if (!token) return fail(token.error().prefixed("web identity: "));
  auto credentials =
      sts_.assumeRoleWithWebIdentity({.roleArn = roleArn,
                                      .roleSessionName = sessionName.empty() ? defaultRoleSessionName() : sessionName,
                                      .webIdentityToken = std::move(*token)});
  if (!credentials) return fail(credentials.error().prefixed("web identity for role " + roleArn + ": "));
  return credentials;
}

}  // namespace kinship::aws
