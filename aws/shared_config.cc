#include "aws/shared_config.h"

#include <cstring>
#include <string>

#include "common/bounded_file.h"

namespace kinship::aws {
namespace {

constexpr std::string_view kBlanks = " \t";

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  const size_t start = text.find_first_not_of(kBlanks);
  if (start == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(kBlanks);
  return text.substr(start, end - start + 1);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A value ends at `#` or `;` after a blank: "eu-west-1 # mine" is eu-west-1,
// "abc#def" stays whole.
std::string_view stripInlineComment(std::string_view value) {
  for (size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') && isBlank(value[i - 1])) return trim(value.substr(0, i));
  }
  return value;
}

Status lineError(std::string_view path, size_t lineNumber, std::string_view what) {
  // Only the place and the kind of problem: the line may hold a secret.
  return Status::invalidArgument(std::string(path) + ":" + std::to_string(lineNumber) + ": " + std::string(what));
}

// Maps a section header's inside to a profile name; nullopt for sections
// that hold no profile in this kind of file.
struct SectionName {
  std::optional<std::string> profile;
  bool prefixedDefault = false;  // config file's [profile default]
};
SectionName profileOfSection(std::string_view inside, SharedFileKind kind) {
  if (kind == SharedFileKind::kCredentials) return {std::string(inside), false};
  if (inside == "default") return {std::string("default"), false};
  constexpr std::string_view kPrefix = "profile";
  if (inside.size() > kPrefix.size() && inside.substr(0, kPrefix.size()) == kPrefix &&
      isBlank(inside[kPrefix.size()])) {
    const std::string_view name = trim(inside.substr(kPrefix.size()));
    return {std::string(name), name == "default"};
  }
  return {};
}

std::string expandHome(const std::string& path, const EnvLookup& env) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const auto home = env("HOME");
    if (!home || home->empty()) return path;  // left as given: reads as missing
    return *home + path.substr(1);
  }
  return path;
}

// The file's bytes; an empty string for a file that does not exist.
Result<std::string> readSharedFile(const std::string& path) {
  if (path.empty()) return std::string();
  auto data = readFileAtMost(path, kMaxSharedFileBytes);
  if (!data && data.error().code() == Status::Code::kNotFound) return std::string();
  if (!data) return fail(data.error().prefixed(path + ": "));
  return data;
}

void overlay(ProfileProperties& into, const ProfileProperties& from) {
  for (const auto& [key, value] : from) into[key] = value;
}

}  // namespace

Result<SharedFileProfiles> parseSharedFile(std::string_view text, SharedFileKind kind, std::string_view path) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  SharedFileProfiles profiles;
  ProfileProperties prefixedDefault;  // [profile default]: wins over [default]
  bool sawPrefixedDefault = false;

  bool inSection = false;                  // any section seen yet
  ProfileProperties* current = nullptr;    // nullptr in a skipped section
  ProfileValue* lastValue = nullptr;       // for continuation lines
  bool inSubProperties = false;            // after "key =" with no value

  size_t lineNumber = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineNumber;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#' || content.front() == ';') continue;

    if (isBlank(line.front()) && lastValue != nullptr) {
      if (!inSubProperties) {
        lastValue->value += '\n';
        lastValue->value += content;
      }
      continue;
    }

    if (content.front() == '[') {
      const size_t close = content.find(']');
      if (close == std::string_view::npos) return fail(lineError(path, lineNumber, "section header without ']'"));
      const std::string_view rest = trim(content.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';') {
        return fail(lineError(path, lineNumber, "text after a section header"));
      }
      const std::string_view inside = trim(content.substr(1, close - 1));
      if (inside.empty()) return fail(lineError(path, lineNumber, "empty section name"));
      inSection = true;
      lastValue = nullptr;
      inSubProperties = false;
      const SectionName section = profileOfSection(inside, kind);
      if (!section.profile) {
        current = nullptr;
      } else if (section.prefixedDefault) {
        sawPrefixedDefault = true;
        current = &prefixedDefault;
      } else {
        current = &profiles[*section.profile];
      }
      continue;
    }

    if (!inSection) return fail(lineError(path, lineNumber, "a property before any [section]"));
    if (current == nullptr) continue;  // a section that is not a profile: not ours to check
    const size_t equals = content.find('=');
    if (equals == std::string_view::npos) return fail(lineError(path, lineNumber, "expected 'key = value'"));
    const std::string_view key = trim(content.substr(0, equals));
    if (key.empty()) return fail(lineError(path, lineNumber, "a property without a name"));
    const std::string_view value = stripInlineComment(trim(content.substr(equals + 1)));
    ProfileValue& slot = (*current)[lowercase(key)];
    slot = ProfileValue{std::string(value), kind};
    lastValue = &slot;
    inSubProperties = value.empty();
  }

  if (sawPrefixedDefault) profiles["default"] = std::move(prefixedDefault);
  return profiles;
}

SharedFilePaths sharedFilePaths(const EnvLookup& env) {
  SharedFilePaths paths;
  const auto home = env("HOME");
  auto pick = [&](std::string_view variable, std::string_view fallback) -> std::string {
    if (auto set = env(variable); set && !set->empty()) return expandHome(*set, env);
    if (!home || home->empty()) return {};
    return *home + std::string(fallback);
  };
  paths.config = pick("AWS_CONFIG_FILE", "/.aws/config");
  paths.credentials = pick("AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials");
  return paths;
}

ProfileChoice chooseProfile(std::string_view explicitProfile, const EnvLookup& env) {
  if (!explicitProfile.empty()) return {std::string(explicitProfile), true};
  if (auto named = env("AWS_PROFILE"); named && !named->empty()) return {*named, true};
  return {"default", false};
}

Result<SharedConfig> SharedConfig::load(const EnvLookup& env) {
  SharedConfig config;
  config.paths_ = sharedFilePaths(env);
  auto configText = readSharedFile(config.paths_.config);
  if (!configText) return fail(configText.error());
  auto configProfiles = parseSharedFile(*configText, SharedFileKind::kConfig, config.paths_.config);
  if (!configProfiles) return fail(configProfiles.error());
  auto credentialsText = readSharedFile(config.paths_.credentials);
  if (!credentialsText) return fail(credentialsText.error());
  auto credentialsProfiles =
      parseSharedFile(*credentialsText, SharedFileKind::kCredentials, config.paths_.credentials);
  if (!credentialsProfiles) return fail(credentialsProfiles.error());

  config.profiles_ = std::move(*configProfiles);
  for (const auto& [name, properties] : *credentialsProfiles) overlay(config.profiles_[name], properties);
  return config;
}

Result<SharedConfig> SharedConfig::loadConfigOnly(const EnvLookup& env) {
  SharedConfig config;
  config.paths_ = sharedFilePaths(env);
  config.readCredentials_ = false;
  auto configText = readSharedFile(config.paths_.config);
  if (!configText) return fail(configText.error());
  auto configProfiles = parseSharedFile(*configText, SharedFileKind::kConfig, config.paths_.config);
  if (!configProfiles) return fail(configProfiles.error());
  config.profiles_ = std::move(*configProfiles);
  return config;
}

const ProfileProperties* SharedConfig::profile(std::string_view name) const {
  const auto found = profiles_.find(name);
  return found == profiles_.end() ? nullptr : &found->second;
}

std::string SharedConfig::describeFiles() const {
  auto shown = [](const std::string& path) { return path.empty() ? std::string("(no HOME)") : path; };
  if (!readCredentials_) return shown(paths_.config);
  return shown(paths_.credentials) + " and " + shown(paths_.config);
}

Result<std::optional<std::string>> profileRegion(const EnvLookup& env, std::string_view explicitProfile) {
  auto config = SharedConfig::loadConfigOnly(env);
  if (!config) return fail(config.error());
  const ProfileChoice choice = chooseProfile(explicitProfile, env);
  const ProfileProperties* properties = config->profile(choice.name);
  if (properties == nullptr) return std::optional<std::string>();
  const auto region = properties->find("region");
  if (region == properties->end() || region->second.value.empty()) return std::optional<std::string>();
  return std::optional<std::string>(region->second.value);
}

}  // namespace kinship::aws
