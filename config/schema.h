#pragma once
// Schema tables and validated sections.
//
// Every configurable component declares its options as a table of `Option`
// (name, type, default, bounds, help). `Section::validate` checks a YAML map
// against such a table: unknown keys, wrong types, missing required keys,
// out-of-range values and bad duration/size syntax are all ConfigErrors that
// name file, line, column and the option's dotted path. `${NAME}` and
// `${NAME:-default}` are substituted from the environment in every scalar.
// The same tables generate the option reference (`kinship --print-schema`).
//
// Startup only: these functions throw ConfigError; nothing here runs on the
// data path.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/env_lookup.h"
#include "common/expected.h"

namespace YAML {
class Node;
}

namespace kinship::config {

struct Location {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string str() const;  // "file:line:column" (or "file" when unknown)
};

// A fatal configuration error. what() is the full message:
// "FILE:LINE:COL: OPTION.PATH: what is wrong".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const Location& where, std::string_view path, std::string_view message);
  explicit ConfigError(std::string message) : std::runtime_error(std::move(message)) {}
};

enum class ValueType {
  kString,
  kBool,
  kInt,
  kDuration,    // "200ms", "1s", "5m", "1h", "1d"; a bare 0 is allowed
  kSize,        // "512", "64KiB", "1MiB", "1GiB", "10MB", "1KB"
  kEnum,        // one of `choices`, written "a|b|c"
  kStringList,  // a YAML sequence of strings (a single string is not accepted)
  kStringMap,   // a YAML map of string to string
  kSection,     // a nested map or list that the owner validates itself
};

// Every member has a default initializer so tables can use designated
// initializers and skip members without tripping -Wmissing-field-initializers.
struct Option {
  std::string_view name{};
  ValueType type = ValueType::kString;
  // The default written as it would be in YAML ("200ms", "true", "info").
  // Empty means no default: the option is absent unless set (or, with
  // `required`, must be set).
  std::string_view defaultValue{};
  bool required = false;
  // kString only: an empty value is refused (paths and names, where "" would
  // silently mean the current directory or nothing).
  bool nonEmpty = false;
  // Bounds for kInt (the value), kDuration (milliseconds) and kSize (bytes).
  // Checked only when minValue < maxValue.
  int64_t minValue = 0;
  int64_t maxValue = 0;
  std::string_view choices{};  // kEnum only
  std::string_view help{};
};

using Schema = std::span<const Option>;

// Units for the bounds of option tables: sizes in bytes, durations in
// milliseconds.
inline constexpr int64_t kKiB = 1024;
inline constexpr int64_t kMiB = 1024 * kKiB;
inline constexpr int64_t kGiB = 1024 * kMiB;
inline constexpr int64_t kSecond = 1000;
inline constexpr int64_t kMinute = 60 * kSecond;
inline constexpr int64_t kDay = 24 * 60 * kMinute;
// The longest duration parseDuration accepts, 100 years: any clock can add
// it to its now without overflowing (nanoseconds overflow near 292 years).
inline constexpr int64_t kMaxDuration = 36500 * kDay;
// Environment references nest at most this deep: ${A:-${B:-...}}.
inline constexpr int kMaxEnvNesting = 16;

// Looks an environment variable up; injectable so tests need not touch the
// process environment.
using kinship::EnvLookup;
EnvLookup processEnvironment();

// A YAML map checked against a schema. Cheap to copy. Getters take the name
// of an option that is in the schema with the matching type and that has a
// value (set or defaulted; check has() first): a programming error otherwise,
// it throws std::logic_error.
class Section {
 public:
  Section() = default;

  // Throws ConfigError. `path` is the dotted path of the map itself
  // ("pipelines.app.sink"); `ignoreKeys` are keys the caller has already
  // consumed (such as an input's `type`).
  static Section validate(const YAML::Node& node, Schema schema, const std::string& file,
                          const std::string& path, const EnvLookup& env,
                          std::span<const std::string_view> ignoreKeys = {});

  // Set in the YAML, or has a default.
  bool has(std::string_view name) const;
  // Set in the YAML (not only by default).
  bool isSet(std::string_view name) const;

  std::string getString(std::string_view name) const;  // kString, kEnum
  bool getBool(std::string_view name) const;
  int64_t getInt(std::string_view name) const;
  std::chrono::milliseconds getDuration(std::string_view name) const;
  uint64_t getSize(std::string_view name) const;
  std::vector<std::string> getStringList(std::string_view name) const;
  std::vector<std::pair<std::string, std::string>> getStringMap(std::string_view name) const;
  // kSection: the raw node, for the owner to validate.
  const YAML::Node& getNode(std::string_view name) const;
  // kSection holding a map of options: that map validated against `schema`
  // with this section's file and environment (throws ConfigError).
  Section nested(std::string_view name, Schema schema) const;
  // The same for a kSection option holding a list of maps, each validated
  // against `schema` ("filters[2].equals" in errors); throws ConfigError when
  // it is not a list. Absent: empty.
  std::vector<Section> nestedList(std::string_view name, Schema schema) const;

  // Where the option was written; the section's own location when it was not.
  Location locationOf(std::string_view name) const;
  const Location& location() const { return location_; }
  const std::string& path() const { return path_; }
  std::string pathOf(std::string_view name) const;  // "pipelines.app.sink.stream"

  // Throws a ConfigError at the option (for checks the schema cannot express).
  [[noreturn]] void fail(std::string_view name, std::string_view message) const;
  // The same for one entry of a kStringMap option: at the line of its key,
  // named "option.key".
  [[noreturn]] void failEntry(std::string_view name, std::string_view key, std::string_view message) const;

 private:
  struct Value;
  const Value& lookup(std::string_view name) const;

  std::string file_;
  std::string path_;
  EnvLookup env_;
  Location location_;
  std::map<std::string, std::shared_ptr<const Value>, std::less<>> values_;
};

// Parsers shared with the validator; exposed for tests and other callers.
// nullopt also when the value overflows: a duration above kMaxDuration, a
// size above 2^64-1 bytes.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);
std::optional<uint64_t> parseSize(std::string_view text);
// Expands ${NAME} and ${NAME:-default}; "$$" is a literal "$". The error is a
// complete message: it names the first unset variable (without a default),
// or describes a malformed "${" or one nested deeper than kMaxEnvNesting.
// Time and memory are linear in the size of `text` and of the values.
expected<std::string, std::string> substituteEnv(std::string_view text, const EnvLookup& env);

// Short human forms used in messages and docs: "200ms", "10m"; "64KiB", "10MB".
std::string formatDuration(std::chrono::milliseconds value);
std::string formatSize(uint64_t bytes);

// Helpers for owners that check a kSection node themselves.
// Where a node was written (line 0 when yaml-cpp does not know).
Location nodeLocation(const YAML::Node& node, const std::string& file);
// "a list", "a map", "a string", "an empty value": for "expected X, got Y".
std::string describeNode(const YAML::Node& node);
// The candidate closest to `word` when it is within edit distance 2, for
// "did you mean ...?" hints.
std::optional<std::string> closestMatch(std::string_view word, std::span<const std::string_view> candidates);

// Markdown table of a schema, for docs (`kinship --print-schema`).
std::string schemaToMarkdown(Schema schema);

}  // namespace kinship::config
