#include "pipeline/key_rules.h"

#include "config/schema.h"
#include "pipeline/explicit_hash_key.h"

namespace kinship::pipeline {

namespace {

constexpr std::string_view kConstantPrefix = "constant:";

std::optional<KeyTemplate> compileOption(const config::Section& options, std::string_view option) {
  if (!options.has(option)) return std::nullopt;
  auto compiled = KeyTemplate::compile(options.getString(option));
  if (!compiled) options.fail(option, compiled.error().message());
  return std::move(*compiled);
}

std::pair<KeyFallback, std::string> fallbackOption(const config::Section& options, std::string_view option,
                                                   bool allowNone) {
  auto parsed = parseKeyFallback(options.getString(option), allowNone);
  if (!parsed) options.fail(option, parsed.error().message());
  return std::move(*parsed);
}

}  // namespace

Result<std::pair<KeyFallback, std::string>> parseKeyFallback(std::string_view text, bool allowNone) {
  if (text == "random") return std::pair{KeyFallback::kRandom, std::string()};
  if (text == "hash") return std::pair{KeyFallback::kHash, std::string()};
  if (allowNone && text == "none") return std::pair{KeyFallback::kNone, std::string()};
  if (text.starts_with(kConstantPrefix)) {
    return std::pair{KeyFallback::kConstant, std::string(text.substr(kConstantPrefix.size()))};
  }
  return fail(Status::invalidArgument("'" + std::string(text) + "' is not " + (allowNone ? "none, " : "") +
                                      "random, hash or constant:TEXT"));
}

KeyRules keyRulesFrom(const config::Section& options) {
  KeyRules rules;
  PartitionKeyRule& key = rules.partitionKey;
  key.keyTemplate = compileOption(options, "partition_key");
  std::tie(key.fallback, key.constant) = fallbackOption(options, "partition_key_fallback", false);
  if (key.fallback == KeyFallback::kConstant && (key.constant.empty() || exceedsKeyLimit(key.constant))) {
    options.fail("partition_key_fallback", "a constant key is 1 to 256 characters");
  }
  key.overflow = options.getString("partition_key_overflow") == "hash" ? KeyOverflow::kHash : KeyOverflow::kCut;

  ExplicitHashKeyRule& hashKey = rules.explicitHashKey;
  hashKey.keyTemplate = compileOption(options, "explicit_hash_key");
  std::tie(hashKey.fallback, hashKey.constant) = fallbackOption(options, "explicit_hash_key_fallback", true);
  if (hashKey.fallback == KeyFallback::kConstant) {
    std::string_view canonical = canonicalExplicitHashKey(hashKey.constant);
    if (canonical.empty()) {
      options.fail("explicit_hash_key_fallback", "'" + hashKey.constant + "' is not a decimal number below 2^128");
    }
    hashKey.constant = std::string(canonical);
  }
  if (hashKey.keyTemplate && !hashKey.keyTemplate->hasFields()) {
    // A template without fields gives every record the same value: refuse
    // it now rather than count every record as invalid.
    std::string literal;
    hashKey.keyTemplate->render(NoFields(), literal);
    if (canonicalExplicitHashKey(literal).empty()) {
      options.fail("explicit_hash_key", "'" + literal + "' is not a decimal number below 2^128");
    }
  }
  return rules;
}

}  // namespace kinship::pipeline
