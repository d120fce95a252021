#pragma once
// KeyRules: how a pipeline derives each record's partition key and
// ExplicitHashKey: the templates, what to do when a template gives nothing
// (the fallback) and, for partition keys, when it gives too much (the
// overflow). Built once from the pipeline's options; immutable.

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "pipeline/key_template.h"

namespace kinship::config {
class Section;
}

namespace kinship::pipeline {

enum class KeyFallback {
  kNone,      // explicit hash keys only: the record goes without one
  kRandom,    // a random key (partition key: 32 hex digits; hash key: a random 128-bit number)
  kHash,      // MD5 of the record's data (partition key: 32 hex digits; hash key: its decimal value)
  kConstant,  // the configured text
};

enum class KeyOverflow {
  kCut,   // cut to 256 UTF-16 units on a character boundary
  kHash,  // the MD5 of the whole key in 32 hex digits, so distinct keys stay distinct
};

struct PartitionKeyRule {
  std::optional<KeyTemplate> keyTemplate;  // absent: every record takes the fallback
  KeyFallback fallback = KeyFallback::kRandom;
  std::string constant;  // kConstant: 1 to 256 UTF-16 units
  KeyOverflow overflow = KeyOverflow::kCut;
};

struct ExplicitHashKeyRule {
  std::optional<KeyTemplate> keyTemplate;  // absent: no record has an ExplicitHashKey
  KeyFallback fallback = KeyFallback::kNone;
  std::string constant;  // kConstant: a canonical ExplicitHashKey
};

struct KeyRules {
  PartitionKeyRule partitionKey{};
  ExplicitHashKeyRule explicitHashKey{};
};

// Reads a fallback option's value: `random`, `hash`, `constant:TEXT`, and
// `none` when `allowNone`. TEXT is taken as written (it may be empty here;
// the caller checks it).
Result<std::pair<KeyFallback, std::string>> parseKeyFallback(std::string_view text, bool allowNone);

// The rules from a pipeline's options (partition_key, partition_key_fallback,
// partition_key_overflow, explicit_hash_key, explicit_hash_key_fallback).
// Startup only: throws config::ConfigError at the offending option.
KeyRules keyRulesFrom(const config::Section& pipelineOptions);

}  // namespace kinship::pipeline
