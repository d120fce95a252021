#include "pipeline/regex_parser.h"

#include "pipeline/json_writer.h"

namespace kinship::pipeline {

namespace {

RE2::Options patternOptions() {
  RE2::Options options;
  options.set_log_errors(false);  // the error is reported as a config error instead
  return options;
}

}  // namespace

RegexPattern::RegexPattern(std::string_view pattern)
    : re2_(re2::StringPiece(pattern.data(), pattern.size()), patternOptions()) {}

Result<std::shared_ptr<const RegexPattern>> RegexPattern::compile(std::string_view pattern) {
  std::shared_ptr<RegexPattern> compiled(new RegexPattern(pattern));
  if (!compiled->re2_.ok()) return fail(Status::invalidArgument("invalid pattern: " + compiled->re2_.error()));
  for (const auto& [group, name] : compiled->re2_.CapturingGroupNames()) compiled->groups_.emplace_back(name, group);
  if (compiled->groups_.empty()) {
    return fail(Status::invalidArgument("the pattern has no named group, such as (?P<level>\\w+)"));
  }
  return std::shared_ptr<const RegexPattern>(std::move(compiled));
}

std::optional<ParseFailure> RegexMatcher::match(const RegexPattern& pattern, std::string_view line) {
  const size_t groups = static_cast<size_t>(pattern.re2().NumberOfCapturingGroups()) + 1;
  if (submatches_.size() < groups) submatches_.resize(groups);  // grows once per pattern
  const bool matched = pattern.re2().Match(re2::StringPiece(line.data(), line.size()), 0, line.size(),
                                           RE2::UNANCHORED, submatches_.data(), static_cast<int>(groups));
  pattern_ = matched ? &pattern : nullptr;
  if (!matched) return ParseFailure::kNoMatch;
  return std::nullopt;
}

bool RegexMatcher::appendValue(const FieldPath& path, std::string& out) const {
  if (pattern_ == nullptr) return false;
  for (const auto& [name, group] : pattern_->groups()) {
    if (name != path.text) continue;
    const re2::StringPiece& text = submatches_[static_cast<size_t>(group)];
    // A group that took no part in the match has no value; another group
    // of the same name may have one (`(?P<v>\d+)s|(?P<v>\d+)ms`).
    if (text.data() == nullptr) continue;
    out.append(text.data(), text.size());
    return true;
  }
  return false;
}

}  // namespace kinship::pipeline

namespace kinship::pipeline {

bool RegexMatcher::writeJson(JsonWriter& out) const {
  if (pattern_ == nullptr) return false;
  const auto& groups = pattern_->groups();
  auto matched = [this](int group) { return submatches_[static_cast<size_t>(group)].data() != nullptr; };
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto& [name, group] = groups[i];
    if (!matched(group)) continue;
    // The pattern bounds the groups: comparing with each earlier one is cheap.
    bool written = false;
    for (size_t j = 0; j < i && !written; ++j) written = groups[j].first == name && matched(groups[j].second);
    if (written || !out.key(name)) continue;
    const re2::StringPiece& text = submatches_[static_cast<size_t>(group)];
    out.string(std::string_view(text.data(), text.size()));
  }
  return true;
}

}  // namespace kinship::pipeline
