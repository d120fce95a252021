#pragma once
// The AWS shared files, ~/.aws/config and ~/.aws/credentials, read as the
// AWS CLI and SDKs read them:
//   - sections: in the config file `[default]` and `[profile NAME]` (also
//     `[profile default]`, whose keys win over `[default]`'s); in the
//     credentials file `[NAME]`. Other sections (`[sso-session x]`,
//     `[services x]`, a config-file `[NAME]` without "profile ") are skipped.
//   - `key = value`; keys are lowercased (the CLI's configparser does so),
//     values and profile names keep their case. An indented line after
//     `key =` with no value is a sub-property (`s3 =` / `  addressing_style
//     = path`) and is skipped; an indented line after a value continues it.
//   - comments: a line whose first non-blank character is `#` or `;`, and in
//     a value, `#` or `;` after a blank (the SDKs' rule; the CLI keeps them).
//   - a profile named twice in one file is merged, later keys winning; for
//     the same profile, the credentials file's values win over the config
//     file's.
// Files: AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, else
// $HOME/.aws/config and $HOME/.aws/credentials ("~/" is expanded with HOME).
// A missing file reads as empty; an unreadable file, one over
// kMaxSharedFileBytes or a line that is not a section, comment or `key =
// value` is an error naming the file (and line), never a value.
//
// Not Debian's inih: its build cuts lines at 200 bytes (a session token is
// 800+), strips only `;` inline comments, and reports sub-properties as
// values of their parent key.
//
// Thread-safe: no shared state; each load reads the files again, so a file
// rewritten by another tool is seen at the next refresh.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/env_lookup.h"
#include "common/status.h"

namespace kinship::aws {

inline constexpr std::size_t kMaxSharedFileBytes = 1024 * 1024;

enum class SharedFileKind { kConfig, kCredentials };

// A profile's keys, with the file each value came from (for errors).
struct ProfileValue {
  std::string value;
  SharedFileKind file = SharedFileKind::kConfig;
};
using ProfileProperties = std::map<std::string, ProfileValue, std::less<>>;

// Profiles of one file by name (sections already mapped to profile names).
using SharedFileProfiles = std::map<std::string, ProfileProperties, std::less<>>;

// Parses one file's text; `path` only names the file in errors.
Result<SharedFileProfiles> parseSharedFile(std::string_view text, SharedFileKind kind, std::string_view path);

struct SharedFilePaths {
  std::string config;       // empty when neither AWS_CONFIG_FILE nor HOME is set
  std::string credentials;  // likewise for AWS_SHARED_CREDENTIALS_FILE
};
SharedFilePaths sharedFilePaths(const EnvLookup& env);

// The profile to use: `explicitProfile` (the sink's `profile` option) if not
// empty, else AWS_PROFILE, else "default". `named` tells whether it was
// chosen (option or variable) rather than defaulted: a chosen profile that
// does not exist is an error, a missing "default" is not.
struct ProfileChoice {
  std::string name;
  bool named = false;
};
ProfileChoice chooseProfile(std::string_view explicitProfile, const EnvLookup& env);

class SharedConfig {
 public:
  // Reads both files.
  static Result<SharedConfig> load(const EnvLookup& env);
  // Reads only the config file (the region lives there, not in credentials).
  static Result<SharedConfig> loadConfigOnly(const EnvLookup& env);

  bool hasProfile(std::string_view name) const { return profiles_.count(name) != 0; }
  // nullptr when the profile is in neither file.
  const ProfileProperties* profile(std::string_view name) const;

  const std::string& path(SharedFileKind kind) const {
    return kind == SharedFileKind::kConfig ? paths_.config : paths_.credentials;
  }
  // "<credentials path> and <config path>" for "not found in" errors.
  std::string describeFiles() const;

 private:
  SharedFilePaths paths_;
  bool readCredentials_ = true;
  SharedFileProfiles profiles_;  // both files merged, credentials winning
};

// The `region` of a profile (chosen as chooseProfile does) in the config
// file; nullopt when there is none. An unreadable config file is an error.
Result<std::optional<std::string>> profileRegion(const EnvLookup& env, std::string_view explicitProfile = {});

}  // namespace kinship::aws
