#include "aws/profile_source.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <utility>

#include "aws/assume_role_source.h"
#include "aws/sts_client.h"
#include "aws/web_identity_source.h"

namespace kinship::aws {
namespace {

constexpr std::chrono::seconds kMinRoleDuration{900};
constexpr std::chrono::seconds kMaxRoleDuration{43200};

// A key set to the empty string counts as unset ("aws_session_token =" is
// how people blank a value out).
const ProfileValue* get(const ProfileProperties& properties, std::string_view key) {
  const auto found = properties.find(key);
  if (found == properties.end() || found->second.value.empty()) return nullptr;
  return &found->second;
}

bool hasAnySso(const ProfileProperties& properties) {
  for (std::string_view key : {"sso_session", "sso_start_url", "sso_account_id", "sso_role_name", "sso_region"}) {
    if (get(properties, key) != nullptr) return true;
  }
  return false;
}

bool holdsCredentials(const ProfileProperties& properties) {
  for (std::string_view key : {"role_arn", "aws_access_key_id", "aws_secret_access_key", "credential_process"}) {
    if (get(properties, key) != nullptr) return true;
  }
  return hasAnySso(properties);
}

// "profile x in /home/u/.aws/config": the file of `key` when the profile
// has it, else of any key the profile has.
std::string where(const SharedConfig& config, const std::string& profile, const ProfileProperties& properties,
                  std::string_view key) {
  const ProfileValue* value = get(properties, key);
  SharedFileKind file = SharedFileKind::kConfig;
  if (value != nullptr) {
    file = value->file;
  } else if (!properties.empty()) {
    file = properties.begin()->second.file;
  }
  return "profile " + profile + " in " + config.path(file);
}

bool isVisibleAscii(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Result<Credentials> staticKeys(const SharedConfig& config, const std::string& profile,
                               const ProfileProperties& properties) {
  const ProfileValue* id = get(properties, "aws_access_key_id");
  const ProfileValue* secret = get(properties, "aws_secret_access_key");
  const ProfileValue* token = get(properties, "aws_session_token");
  if (id == nullptr || secret == nullptr) {
    const std::string_view missing = id == nullptr ? "aws_access_key_id" : "aws_secret_access_key";
    const std::string_view present = id == nullptr ? "aws_secret_access_key" : "aws_access_key_id";
    return fail(Status::invalidArgument(where(config, profile, properties, present) + " has " +
                                        std::string(present) + " but no " + std::string(missing)));
  }
  // Keys go into request headers; a continuation line would put a newline in.
  for (const auto& [key, value] : {std::pair{"aws_access_key_id", id}, std::pair{"aws_secret_access_key", secret},
                                   std::pair{"aws_session_token", token}}) {
    if (value != nullptr && !isVisibleAscii(value->value)) {
      return fail(Status::invalidArgument(where(config, profile, properties, key) + ": " + key +
                                          " holds characters other than visible ASCII"));
    }
  }
  Credentials credentials;
  credentials.accessKeyId = id->value;
  credentials.secretAccessKey = secret->value;
  if (token != nullptr) credentials.sessionToken = token->value;
  return credentials;
}

Result<std::chrono::seconds> roleDuration(const SharedConfig& config, const std::string& profile,
                                          const ProfileProperties& properties) {
  const ProfileValue* text = get(properties, "duration_seconds");
  if (text == nullptr) return std::chrono::seconds(3600);
  long long seconds = 0;
  const char* begin = text->value.data();
  const char* end = begin + text->value.size();
  const auto [ptr, ec] = std::from_chars(begin, end, seconds);
  if (ec != std::errc() || ptr != end || seconds < kMinRoleDuration.count() || seconds > kMaxRoleDuration.count()) {
    return fail(Status::invalidArgument(where(config, profile, properties, "duration_seconds") +
                                        ": duration_seconds is not a whole number of seconds in [900, 43200]"));
  }
  return std::chrono::seconds(seconds);
}

// The same kind of error, its message after `prefix`.
Status withContext(const Status& status, const std::string& prefix) {
  std::string message = prefix + status.message();
  switch (status.code()) {
    case Status::Code::kOk:
      return status;
    case Status::Code::kInvalidArgument:
      return Status::invalidArgument(std::move(message));
    case Status::Code::kNotFound:
      return Status::notFound(std::move(message));
    case Status::Code::kIoError:
      return Status::ioError(std::move(message));
    case Status::Code::kUnavailable:
      return Status::unavailable(std::move(message));
    case Status::Code::kCorruption:
      return Status::corruption(std::move(message));
    case Status::Code::kInternal:
      break;
  }
  return Status::internal(std::move(message));
}

std::string describeChain(const std::vector<std::string>& chain, const std::string& last) {
  std::string out;
  for (const auto& name : chain) out += name + " -> ";
  return out + last;
}

}  // namespace

ProfileSource::ProfileSource(ProfileSourceOptions options, EnvLookup env)
    : options_(std::move(options)), env_(std::move(env)) {}

bool ProfileSource::configured() {
  const ProfileChoice choice = chooseProfile(options_.profile, env_);
  if (choice.named) return true;
  auto config = SharedConfig::load(env_);
  // A file that cannot be read is reported by fetch(), not skipped.
  if (!config) return true;
  const ProfileProperties* properties = config->profile(choice.name);
  return properties != nullptr && holdsCredentials(*properties);
}

Result<Credentials> ProfileSource::fetch() {
  auto config = SharedConfig::load(env_);
  if (!config) return fail(config.error());
  const ProfileChoice choice = chooseProfile(options_.profile, env_);
  if (!config->hasProfile(choice.name)) {
    return fail(Status::notFound("profile " + choice.name + " not found in " + config->describeFiles()));
  }
  std::vector<std::string> chain;
  return resolve(*config, choice.name, chain);
}

Result<Credentials> ProfileSource::resolve(const SharedConfig& config, const std::string& profile,
                                           std::vector<std::string>& chain) const {
  if (std::find(chain.begin(), chain.end(), profile) != chain.end()) {
    return fail(Status::invalidArgument("source_profile loop: " + describeChain(chain, profile)));
  }
  if (chain.size() >= kMaxSourceProfileDepth) {
    return fail(Status::invalidArgument("source_profile chain longer than " + std::to_string(kMaxSourceProfileDepth) +
                                        " profiles: " + describeChain(chain, profile)));
  }
  const ProfileProperties* properties = config.profile(profile);
  if (properties == nullptr) {
    const std::string of = chain.empty() ? std::string() : " (source_profile of " + chain.back() + ")";
    return fail(Status::notFound("profile " + profile + of + " not found in " + config.describeFiles()));
  }

  if (get(*properties, "role_arn") != nullptr) {
    const bool hasSourceProfile = get(*properties, "source_profile") != nullptr;
    const bool hasCredentialSource = get(*properties, "credential_source") != nullptr;
    if (hasSourceProfile && hasCredentialSource) {
      return fail(Status::invalidArgument(where(config, profile, *properties, "role_arn") +
                                          " has both source_profile and credential_source"));
    }
    if (hasSourceProfile) return assumeRole(config, profile, *properties, chain);
    if (hasCredentialSource) {
      return fail(Status::invalidArgument(where(config, profile, *properties, "credential_source") +
                                          ": credential_source is not supported; use source_profile, or "
                                          "leave the profile out and let the chain find those credentials"));
    }
    if (get(*properties, "web_identity_token_file") != nullptr) return webIdentity(config, profile, *properties);
    return fail(Status::invalidArgument(where(config, profile, *properties, "role_arn") +
                                        " has role_arn but no source_profile, credential_source or "
                                        "web_identity_token_file"));
  }
  if (get(*properties, "aws_access_key_id") != nullptr || get(*properties, "aws_secret_access_key") != nullptr) {
    return staticKeys(config, profile, *properties);
  }
  if (const ProfileValue* command = get(*properties, "credential_process")) {
    CredentialProcessOptions process;
    process.command = command->value;
    process.context = where(config, profile, *properties, "credential_process");
    process.timeout = options_.processTimeout;
    return runCredentialProcess(process);
  }
  if (hasAnySso(*properties)) {
    return fail(Status::invalidArgument(where(config, profile, *properties, "sso_start_url") +
                                        ": IAM Identity Center (sso_*) profiles are not supported yet; a profile with "
                                        "credential_process = aws configure export-credentials --profile " +
                                        profile + " --format process can use them"));
  }
  return fail(Status::invalidArgument(where(config, profile, *properties, "region") +
                                      " holds no credentials (no role_arn, aws_access_key_id or "
                                      "credential_process)"));
}

Result<Credentials> ProfileSource::assumeRole(const SharedConfig& config, const std::string& profile,
                                              const ProfileProperties& properties,
                                              std::vector<std::string>& chain) const {
  const std::string& source = get(properties, "source_profile")->value;
  Result<Credentials> caller = fail(Status::internal("unset"));
  if (source == profile) {
    // A profile that names itself holds the long-term keys that assume its
    // own role_arn, as the SDKs allow.
    caller = staticKeys(config, profile, properties);
  } else {
    chain.push_back(profile);
    caller = resolve(config, source, chain);
    chain.pop_back();
  }
  if (!caller) return fail(caller.error());

  auto duration = roleDuration(config, profile, properties);
  if (!duration) return fail(duration.error());
  AssumeRoleRequest request;
  request.roleArn = get(properties, "role_arn")->value;
  // Empty: AssumeRoleSource picks the default name.
  if (const ProfileValue* sessionName = get(properties, "role_session_name")) {
    request.roleSessionName = sessionName->value;
  }
  if (const ProfileValue* externalId = get(properties, "external_id")) request.externalId = externalId->value;
  request.duration = *duration;

  AssumeRoleSource role([&caller] { return caller; }, std::move(request), stsOptions(properties), env_);
  auto assumed = role.fetch();
  if (!assumed) return fail(withContext(assumed.error(), where(config, profile, properties, "role_arn") + ": "));
  return assumed;
}

Result<Credentials> ProfileSource::webIdentity(const SharedConfig& config, const std::string& profile,
                                               const ProfileProperties& properties) const {
  const ProfileValue* sessionName = get(properties, "role_session_name");
  WebIdentitySource source(get(properties, "web_identity_token_file")->value, get(properties, "role_arn")->value,
                           sessionName != nullptr ? sessionName->value : std::string(), stsOptions(properties), env_);
  auto credentials = source.fetch();
  if (!credentials) {
    return fail(withContext(credentials.error(), where(config, profile, properties, "web_identity_token_file") + ": "));
  }
  return credentials;
}

StsOptions ProfileSource::stsOptions(const ProfileProperties& properties) const {
  StsOptions sts;
  sts.region = options_.region;
  if (sts.region.empty()) {
    if (const ProfileValue* region = get(properties, "region")) sts.region = region->value;
  }
  sts.endpoint = options_.stsEndpoint;
  return sts;
}

}  // namespace kinship::aws
