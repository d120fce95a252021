#include "config/schema.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>

namespace kinship::config {

namespace {

// The parsed form of one option. Section::Value (private) derives from it so
// the helpers below can fill it.
struct ParsedValue {
  ValueType type = ValueType::kString;
  bool present = false;  // set or defaulted
  bool set = false;      // written in the YAML
  Location location;
  std::string string;  // kString, kEnum
  bool boolean = false;
  int64_t integer = 0;
  std::chrono::milliseconds duration{0};
  uint64_t size = 0;
  std::vector<std::string> list;
  std::vector<std::pair<std::string, std::string>> map;
  std::vector<Location> mapKeyLocations;  // kStringMap: where each key was written
  YAML::Node node;
};

struct Unit {
  std::string_view name;
  uint64_t factor;
};

constexpr Unit kDurationUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}, {"d", 24 * 60 * 60 * 1000},
};

constexpr Unit kSizeUnits[] = {
    {"", 1},
    {"B", 1},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"KiB", uint64_t{1} << 10},
    {"MiB", uint64_t{1} << 20},
    {"GiB", uint64_t{1} << 30},
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Only ASCII digits: no sign, no spaces, no base prefix.
std::optional<uint64_t> parseDigits(std::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), isDigit)) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Splits "64KiB" into 64 and the factor of "KiB"; nullopt on an unknown unit
// or overflow.
std::optional<uint64_t> parseWithUnit(std::string_view text, std::span<const Unit> units, uint64_t limit) {
  size_t digits = 0;
  while (digits < text.size() && isDigit(text[digits])) ++digits;
  auto number = parseDigits(text.substr(0, digits));
  if (!number) return std::nullopt;
  std::string_view unit = text.substr(digits);
  for (const Unit& u : units) {
    if (u.name != unit) continue;
    if (*number > limit / u.factor) return std::nullopt;
    return *number * u.factor;
  }
  return std::nullopt;
}

// The shape of a duration or size, whatever its magnitude: tells "too
// large" apart from "not a number".
bool isNumberWithUnit(std::string_view text, std::span<const Unit> units) {
  size_t digits = 0;
  while (digits < text.size() && isDigit(text[digits])) ++digits;
  if (digits == 0) return false;
  std::string_view unit = text.substr(digits);
  return std::any_of(units.begin(), units.end(), [&](const Unit& u) { return u.name == unit; });
}

std::string_view typeName(ValueType type) {
  switch (type) {
    case ValueType::kString: return "string";
    case ValueType::kBool: return "bool";
    case ValueType::kInt: return "integer";
    case ValueType::kDuration: return "duration";
    case ValueType::kSize: return "size";
    case ValueType::kEnum: return "enum";
    case ValueType::kStringList: return "list of strings";
    case ValueType::kStringMap: return "map of strings";
    case ValueType::kSection: return "section";
  }
  return "?";
}

std::vector<std::string_view> splitChoices(std::string_view choices) {
  std::vector<std::string_view> out;
  while (!choices.empty()) {
    size_t bar = choices.find('|');
    out.push_back(choices.substr(0, bar));
    if (bar == std::string_view::npos) break;
    choices.remove_prefix(bar + 1);
  }
  return out;
}

std::string join(std::span<const std::string_view> items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  auto match = closestMatch(word, candidates);
  return match ? fmt::format(" (did you mean '{}'?)", *match) : std::string();
}

bool hasBounds(const Option& option) { return option.minValue < option.maxValue; }

std::string rangeText(const Option& option) {
  switch (option.type) {
    case ValueType::kDuration:
      return fmt::format("[{}, {}]", formatDuration(std::chrono::milliseconds(option.minValue)),
                         formatDuration(std::chrono::milliseconds(option.maxValue)));
    case ValueType::kSize:
      return fmt::format("[{}, {}]", formatSize(static_cast<uint64_t>(std::max<int64_t>(option.minValue, 0))),
                         formatSize(static_cast<uint64_t>(std::max<int64_t>(option.maxValue, 0))));
    default:
      return fmt::format("[{}, {}]", option.minValue, option.maxValue);
  }
}

// Only for a sign-free value: sizes are unsigned and may exceed int64_t.
bool outOfRange(const Option& option, uint64_t value) {
  if (!hasBounds(option)) return false;
  if (option.minValue > 0 && value < static_cast<uint64_t>(option.minValue)) return true;
  return option.maxValue < 0 || value > static_cast<uint64_t>(option.maxValue);
}

std::string outOfRangeMessage(const Option& option, std::string_view text) {
  return fmt::format("value {} is out of range {}", text, rangeText(option));
}

// Converts a scalar already through env substitution (or a default) into
// `out`. Returns the message on failure.
std::optional<std::string> convertScalar(const Option& option, std::string_view text, ParsedValue& out) {
  switch (option.type) {
    case ValueType::kString:
      if (option.nonEmpty && text.empty()) return std::string("must not be empty");
      out.string = std::string(text);
      return std::nullopt;
    case ValueType::kBool:
      // YAML 1.1 also has yes/no/on/off; they surprise people ("no" as a
      // country code), so only the two words are accepted.
      if (text == "true") {
        out.boolean = true;
      } else if (text == "false") {
        out.boolean = false;
      } else {
        return fmt::format("invalid boolean '{}': use true or false", text);
      }
      return std::nullopt;
    case ValueType::kInt: {
      int64_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return fmt::format("invalid integer '{}'", text);
      }
      if (hasBounds(option) && (value < option.minValue || value > option.maxValue)) {
        return outOfRangeMessage(option, text);
      }
      out.integer = value;
      return std::nullopt;
    }
    case ValueType::kDuration: {
      auto value = parseDuration(text);
      if (!value && isNumberWithUnit(text, kDurationUnits)) {
        return fmt::format("duration '{}' is too long: at most {}", text,
                           formatDuration(std::chrono::milliseconds(kMaxDuration)));
      }
      if (!value) return fmt::format("invalid duration '{}': use a number and a unit: ms, s, m, h, d", text);
      if (outOfRange(option, static_cast<uint64_t>(value->count()))) return outOfRangeMessage(option, text);
      out.duration = *value;
      return std::nullopt;
    }
    case ValueType::kSize: {
      auto value = parseSize(text);
      if (!value && isNumberWithUnit(text, kSizeUnits)) return fmt::format("size '{}' is too large", text);
      if (!value) {
        return fmt::format("invalid size '{}': use a number and an optional unit: B, KB, MB, GB, KiB, MiB, GiB",
                           text);
      }
      if (outOfRange(option, *value)) return outOfRangeMessage(option, text);
      out.size = *value;
      return std::nullopt;
    }
    case ValueType::kEnum: {
      auto choices = splitChoices(option.choices);
      if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
        return fmt::format("invalid value '{}': expected one of {}{}", text, join(choices, ", "),
                           didYouMean(text, choices));
      }
      out.string = std::string(text);
      return std::nullopt;
    }
    default:
      return fmt::format("a {} cannot be written as a single value", typeName(option.type));
  }
}

std::string_view expectedText(ValueType type) {
  switch (type) {
    case ValueType::kString: return "a string";
    case ValueType::kBool: return "true or false";
    case ValueType::kInt: return "an integer";
    case ValueType::kDuration: return "a duration";
    case ValueType::kSize: return "a size";
    case ValueType::kEnum: return "a string";
    case ValueType::kStringList: return "a list of strings";
    case ValueType::kStringMap: return "a map of strings";
    case ValueType::kSection: return "a section";
  }
  return "?";
}

// Null nodes carry the mark of the token after them (often the next line),
// so errors about them point at `fallback` (the key or the container).
Location valueLocation(const YAML::Node& node, const std::string& file, const Location& fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  Location where = nodeLocation(node, file);
  return where.line == 0 ? fallback : where;
}

constexpr std::string_view kNulMessage = "contains a NUL character (\\0), which no value may hold";

std::string scalarText(const YAML::Node& node, const Location& where, const std::string& path,
                       std::string_view expected, const EnvLookup& env) {
  if (!node.IsDefined() || !node.IsScalar()) {
    throw ConfigError(where, path, fmt::format("expected {}, got {}", expected, describeNode(node)));
  }
  auto text = substituteEnv(node.Scalar(), env);
  if (!text) throw ConfigError(where, path, text.error());
  // A YAML "\0" escape: C APIs (paths, names) would silently cut the value
  // there.
  if (text->find('\0') != std::string::npos) throw ConfigError(where, path, kNulMessage);
  return std::move(*text);
}

// Fills `out` from a written value (or a default loaded as YAML).
void convertNode(const Option& option, const YAML::Node& node, const Location& where, const std::string& file,
                 const std::string& path, const EnvLookup& env, ParsedValue& out) {
  out.location = where;
  switch (option.type) {
    case ValueType::kSection:
      // `out.node` is still empty, so this binds it to `node`; assigning to a
      // bound yaml-cpp node would rewrite the node it refers to instead.
      out.node = node;
      return;
    case ValueType::kStringList: {
      if (!node.IsDefined() || !node.IsSequence()) {
        throw ConfigError(where, path, fmt::format("expected a list of strings, got {}", describeNode(node)));
      }
      size_t index = 0;
      for (const YAML::Node& item : node) {
        std::string itemPath = fmt::format("{}[{}]", path, index++);
        out.list.push_back(scalarText(item, valueLocation(item, file, where), itemPath, "a string", env));
      }
      return;
    }
    case ValueType::kStringMap: {
      if (!node.IsDefined() || !node.IsMap()) {
        throw ConfigError(where, path, fmt::format("expected a map of strings, got {}", describeNode(node)));
      }
      std::map<std::string, int, std::less<>> seen;
      for (const auto& entry : node) {
        Location keyWhere = valueLocation(entry.first, file, where);
        std::string key = scalarText(entry.first, keyWhere, path, "a string as key", env);
        std::string keyPath = fmt::format("{}.{}", path, key);
        if (auto [first, inserted] = seen.emplace(key, keyWhere.line); !inserted) {
          throw ConfigError(keyWhere, keyPath,
                            fmt::format("duplicate key '{}' (first defined at line {})", key, first->second));
        }
        std::string value =
            scalarText(entry.second, valueLocation(entry.second, file, keyWhere), keyPath, "a string", env);
        out.map.emplace_back(std::move(key), std::move(value));
        out.mapKeyLocations.push_back(keyWhere);
      }
      return;
    }
    default: {
      std::string text = scalarText(node, where, path, expectedText(option.type), env);
      if (auto error = convertScalar(option, text, out)) throw ConfigError(where, path, *error);
      return;
    }
  }
}

}  // namespace

struct Section::Value : ParsedValue {};

// --- Location and ConfigError -------------------------------------------

std::string Location::str() const {
  if (line <= 0) return file;
  std::string prefix = file.empty() ? std::string() : file + ":";
  if (column <= 0) return fmt::format("{}{}", prefix, line);
  return fmt::format("{}{}:{}", prefix, line, column);
}

namespace {
std::string formatError(const Location& where, std::string_view path, std::string_view message) {
  std::string out = where.str();
  if (!path.empty()) {
    if (!out.empty()) out += ": ";
    out += path;
  }
  if (!out.empty()) out += ": ";
  out += message;
  return out;
}
}  // namespace

ConfigError::ConfigError(const Location& where, std::string_view path, std::string_view message)
    : std::runtime_error(formatError(where, path, message)) {}

// --- Parsers -------------------------------------------------------------

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  // A bare number has no obvious unit; zero is the same in all of them.
  if (text == "0") return std::chrono::milliseconds(0);
  auto ms = parseWithUnit(text, std::span<const Unit>(kDurationUnits), static_cast<uint64_t>(kMaxDuration));
  if (!ms) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(*ms));
}

std::optional<uint64_t> parseSize(std::string_view text) {
  return parseWithUnit(text, std::span<const Unit>(kSizeUnits), std::numeric_limits<uint64_t>::max());
}

std::string formatDuration(std::chrono::milliseconds value) {
  int64_t ms = value.count();
  if (ms == 0) return "0";
  for (auto it = std::rbegin(kDurationUnits); it != std::rend(kDurationUnits); ++it) {
    auto factor = static_cast<int64_t>(it->factor);
    if (ms % factor == 0) return fmt::format("{}{}", ms / factor, it->name);
  }
  return fmt::format("{}ms", ms);
}

std::string formatSize(uint64_t bytes) {
  if (bytes == 0) return "0";
  static constexpr Unit kLargestFirst[] = {
      {"GiB", uint64_t{1} << 30}, {"GB", 1000 * 1000 * 1000}, {"MiB", uint64_t{1} << 20},
      {"MB", 1000 * 1000},        {"KiB", uint64_t{1} << 10}, {"KB", 1000},
  };
  for (const Unit& unit : kLargestFirst) {
    if (bytes % unit.factor == 0) return fmt::format("{}{}", bytes / unit.factor, unit.name);
  }
  return fmt::format("{}B", bytes);
}

namespace {

bool isNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

namespace {

// Messages quote what was written; a value can be megabytes long.
std::string shortened(std::string_view text) {
  constexpr size_t kMaxShown = 60;
  if (text.size() <= kMaxShown) return std::string(text);
  return fmt::format("{}...", text.substr(0, kMaxShown));
}

constexpr size_t kUnterminated = std::string_view::npos;
constexpr size_t kTooDeep = kUnterminated - 1;

// The index of the '}' that closes the reference whose body starts at
// `start` (just past its "${"). Braces are matched by depth so that a default
// may itself hold braces or a nested ${...}, e.g. ${KEY:-{service}-{host}}.
// kTooDeep when references nest deeper than kMaxEnvNesting inside, so that
// the caller recurses at most that deep.
size_t closingBrace(std::string_view text, size_t start) {
  // The brace depth at which each open reference started.
  int openedAt[kMaxEnvNesting];
  int references = 1;
  openedAt[0] = 1;
  int depth = 1;
  for (size_t i = start; i < text.size(); ++i) {
    char c = text[i];
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      ++i;  // "$$" is a literal '$', never the start of a reference
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      if (references == kMaxEnvNesting) return kTooDeep;
      openedAt[references++] = ++depth;
      ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (openedAt[references - 1] == depth) --references;
      if (--depth == 0) return i;
    }
  }
  return kUnterminated;
}

// Appends the expansion of `text` to `out`, which all levels share: a
// nested default costs no copy. Recursion is bounded by closingBrace.
std::optional<std::string> expandInto(std::string_view text, const EnvLookup& env, std::string& out) {
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
      out += c;
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    size_t start = i + 2;
    size_t end = closingBrace(text, start);
    if (end == kUnterminated) {
      return fmt::format("unterminated '${{' in '{}' (write $$ for a literal $)", shortened(text));
    }
    if (end == kTooDeep) {
      return fmt::format("'{}' nests ${{...}} more than {} levels deep", shortened(text.substr(i)),
                         kMaxEnvNesting);
    }
    std::string_view body = text.substr(start, end - start);
    size_t nameEnd = 0;
    while (nameEnd < body.size() && isNameChar(body[nameEnd])) ++nameEnd;
    std::string_view name = body.substr(0, nameEnd);
    std::string_view rest = body.substr(nameEnd);
    if (name.empty() || !isNameStart(name[0]) || (!rest.empty() && !rest.starts_with(":-"))) {
      return fmt::format(
          "invalid variable reference '${{{}}}': use ${{NAME}} or ${{NAME:-default}} (write $$ for a literal $)",
          shortened(body));
    }
    std::optional<std::string> value = env(name);
    if (rest.empty()) {
      if (!value) {
        return fmt::format("environment variable '{}' is not set (use ${{{}:-default}} to give a default)",
                           shortened(name), shortened(name));
      }
      out += *value;
    } else if (value && !value->empty()) {
      out += *value;
    } else {
      // As in the shell, ":-" also replaces a variable that is set but empty.
      if (auto error = expandInto(rest.substr(2), env, out)) return error;
    }
    i = end + 1;
  }
  return std::nullopt;
}

}  // namespace

expected<std::string, std::string> substituteEnv(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  if (auto error = expandInto(text, env, out)) return unexpected(std::move(*error));
  return out;
}

EnvLookup processEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    std::string key(name);
    const char* value = std::getenv(key.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

// --- Helpers -------------------------------------------------------------

Location nodeLocation(const YAML::Node& node, const std::string& file) {
  Location where{file, 0, 0};
  if (!node.IsDefined()) return where;
  YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return where;
  where.line = mark.line + 1;
  where.column = mark.column + 1;
  return where;
}

std::string describeNode(const YAML::Node& node) {
  if (!node.IsDefined()) return "nothing";
  switch (node.Type()) {
    case YAML::NodeType::Null: return "an empty value";
    case YAML::NodeType::Scalar: return fmt::format("a string ('{}')", node.Scalar());
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "nothing";
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Optimal string alignment distance: a swap of two neighbours counts as one
// edit, the commonest typo ("strema").
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> closestMatch(std::string_view word, std::span<const std::string_view> candidates) {
  constexpr size_t kMaxDistance = 2;
  std::string lowered = lower(word);
  std::optional<std::string> best;
  size_t bestDistance = kMaxDistance + 1;
  for (std::string_view candidate : candidates) {
    size_t distance = editDistance(lowered, lower(candidate));
    // Replacing every letter of a short word is no hint ("x" is not a typo of "id").
    if (distance >= std::max<size_t>(word.size(), 1) && distance > 0) continue;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

// --- Section -------------------------------------------------------------

Section Section::validate(const YAML::Node& node, Schema schema, const std::string& file, const std::string& path,
                          const EnvLookup& env, std::span<const std::string_view> ignoreKeys) {
  Section section;
  section.file_ = file;
  section.path_ = path;
  section.env_ = env;
  section.location_ = nodeLocation(node, file);
  if (!node.IsDefined() || !node.IsMap()) {
    throw ConfigError(section.location_, path, fmt::format("expected a map, got {}", describeNode(node)));
  }

  std::vector<std::string_view> names;
  for (const Option& option : schema) names.push_back(option.name);

  // Checked in document order so the first problem reported is the first in
  // the file.
  std::map<std::string, int, std::less<>> seen;
  // Range-for keeps each entry alive for the body; `it->first` would refer
  // into a temporary proxy that dies at the end of its statement.
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    const YAML::Node& value = entry.second;
    Location keyWhere = valueLocation(key, file, section.location_);
    if (!key.IsScalar()) {
      throw ConfigError(keyWhere, path, fmt::format("expected an option name, got {}", describeNode(key)));
    }
    const std::string& name = key.Scalar();
    std::string optionPath = section.pathOf(name);
    if (auto [first, inserted] = seen.emplace(name, keyWhere.line); !inserted) {
      throw ConfigError(keyWhere, optionPath,
                        fmt::format("duplicate key '{}' (first defined at line {})", name, first->second));
    }
    if (std::find(ignoreKeys.begin(), ignoreKeys.end(), name) != ignoreKeys.end()) continue;
    auto option = std::find_if(schema.begin(), schema.end(), [&](const Option& o) { return o.name == name; });
    if (option == schema.end()) {
      throw ConfigError(keyWhere, optionPath, fmt::format("unknown option '{}'{}", name, didYouMean(name, names)));
    }
    auto parsed = std::make_shared<Value>();
    parsed->type = option->type;
    parsed->present = true;
    parsed->set = true;
    convertNode(*option, value, valueLocation(value, file, keyWhere), file, optionPath, env, *parsed);
    section.values_[std::string(option->name)] = std::move(parsed);
  }

  for (const Option& option : schema) {
    if (section.values_.contains(option.name)) continue;
    if (option.required) {
      throw ConfigError(section.location_, section.pathOf(option.name),
                        fmt::format("missing required option '{}'", option.name));
    }
    auto value = std::make_shared<Value>();
    value->type = option.type;
    value->location = section.location_;
    if (!option.defaultValue.empty()) {
      value->present = true;
      // A bad default is a bug in the schema table, not in the user's file.
      try {
        if (option.type == ValueType::kStringList || option.type == ValueType::kStringMap ||
            option.type == ValueType::kSection) {
          convertNode(option, YAML::Load(std::string(option.defaultValue)), section.location_, file,
                      section.pathOf(option.name), env, *value);
        } else if (auto error = convertScalar(option, option.defaultValue, *value)) {
          throw std::logic_error(*error);
        }
      } catch (const std::exception& e) {
        throw std::logic_error(
            fmt::format("schema bug: bad default for option '{}': {}", section.pathOf(option.name), e.what()));
      }
    }
    section.values_[std::string(option.name)] = std::move(value);
  }
  return section;
}

const Section::Value& Section::lookup(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    throw std::logic_error(fmt::format("option '{}' is not in the schema of '{}'", name, path_));
  }
  return *it->second;
}

namespace {

const ParsedValue& checked(const ParsedValue& value, std::string_view name, std::initializer_list<ValueType> types) {
  if (std::find(types.begin(), types.end(), value.type) == types.end()) {
    throw std::logic_error(fmt::format("option '{}' is a {}, read with the wrong getter", name, typeName(value.type)));
  }
  if (!value.present) throw std::logic_error(fmt::format("option '{}' has no value; check has() first", name));
  return value;
}

}  // namespace

bool Section::has(std::string_view name) const { return lookup(name).present; }

bool Section::isSet(std::string_view name) const { return lookup(name).set; }

std::string Section::getString(std::string_view name) const {
  return checked(lookup(name), name, {ValueType::kString, ValueType::kEnum}).string;
}

bool Section::getBool(std::string_view name) const {
  return checked(lookup(name), name, {ValueType::kBool}).boolean;
}

int64_t Section::getInt(std::string_view name) const {
  return checked(lookup(name), name, {ValueType::kInt}).integer;
}

std::chrono::milliseconds Section::getDuration(std::string_view name) const {
  return checked(lookup(name), name, {ValueType::kDuration}).duration;
}

uint64_t Section::getSize(std::string_view name) const {
  return checked(lookup(name), name, {ValueType::kSize}).size;
}

std::vector<std::string> Section::getStringList(std::string_view name) const {
  return checked(lookup(name), name, {ValueType::kStringList}).list;
}

std::vector<std::pair<std::string, std::string>> Section::getStringMap(std::string_view name) const {
  return checked(lookup(name), name, {ValueType::kStringMap}).map;
}

const YAML::Node& Section::getNode(std::string_view name) const {
  return checked(lookup(name), name, {ValueType::kSection}).node;
}

Section Section::nested(std::string_view name, Schema schema) const {
  return validate(getNode(name), schema, file_, pathOf(name), env_);
}

std::vector<Section> Section::nestedList(std::string_view name, Schema schema) const {
  std::vector<Section> items;
  if (!has(name)) return items;
  const YAML::Node& list = getNode(name);
  if (!list.IsSequence()) fail(name, "expected a list of maps");
  size_t index = 0;
  for (const YAML::Node& item : list) {
    items.push_back(validate(item, schema, file_, fmt::format("{}[{}]", pathOf(name), index++), env_));
  }
  return items;
}

Location Section::locationOf(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || !it->second->set) return location_;
  return it->second->location;
}

std::string Section::pathOf(std::string_view name) const {
  if (path_.empty()) return std::string(name);
  return fmt::format("{}.{}", path_, name);
}

void Section::fail(std::string_view name, std::string_view message) const {
  throw ConfigError(locationOf(name), pathOf(name), message);
}

void Section::failEntry(std::string_view name, std::string_view key, std::string_view message) const {
  const ParsedValue& value = checked(lookup(name), name, {ValueType::kStringMap});
  Location where = locationOf(name);
  for (size_t i = 0; i < value.map.size() && i < value.mapKeyLocations.size(); ++i) {
    if (value.map[i].first == key) {
      where = value.mapKeyLocations[i];
      break;
    }
  }
  throw ConfigError(where, fmt::format("{}.{}", pathOf(name), key), message);
}

// --- Docs ----------------------------------------------------------------

namespace {

// Keeps a cell inside its column.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string code(std::string_view text) { return fmt::format("`{}`", cell(text)); }

}  // namespace

std::string schemaToMarkdown(Schema schema) {
  std::string out = "| option | type | default | range / values | description |\n";
  out += "|---|---|---|---|---|\n";
  for (const Option& option : schema) {
    std::string defaultCell = option.required ? "required"
                              : option.defaultValue.empty() ? std::string()
                                                            : code(option.defaultValue);
    std::string range;
    if (option.type == ValueType::kEnum) {
      for (std::string_view choice : splitChoices(option.choices)) {
        if (!range.empty()) range += ", ";
        range += code(choice);
      }
    } else if (hasBounds(option) && (option.type == ValueType::kInt || option.type == ValueType::kDuration ||
                                     option.type == ValueType::kSize)) {
      range = rangeText(option);
    }
    out += fmt::format("| {} | {} | {} | {} | {} |\n", code(option.name), typeName(option.type), defaultCell,
                       range, cell(option.help));
  }
  return out;
}

}  // namespace kinship::config
