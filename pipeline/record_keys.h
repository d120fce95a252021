#pragma once
// RecordKeys: derives each record's partition key and ExplicitHashKey from
// the pipeline's KeyRules: renders the template over the record's fields,
// applies the overflow rule to a long key and the fallback when there is no
// key, and counts why. Owned by one Pipeline and called on its thread only;
// allocates nothing per record once its scratch buffers have grown.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/key_rules.h"
#include "pipeline/md5_digest.h"
#include "pipeline/record_fields.h"

namespace kinship::pipeline {

// Why a key came from its fallback (the `reason` label of the metrics).
enum class KeyMiss : uint8_t {
  kNoTemplate,    // no template, or one with fields over a record that is not parsed (parser: raw)
  kNotJson,       // parser json: the line is not a JSON object
  kNotParsed,     // another parser: the line did not parse
  kMissingField,  // a reference with no alternative that had a value
  kEmpty,         // the key rendered empty
  kInvalid,       // explicit hash keys: rendered, but not a decimal number below 2^128
};
inline constexpr size_t kKeyMissCount = 6;
std::string_view keyMissName(KeyMiss miss);

class RecordKeys {
 public:
  struct Counts {
    std::array<uint64_t, kKeyMissCount> randomPartitionKeys{};
    std::array<uint64_t, kKeyMissCount> partitionKeyFallbacks{};
    std::array<uint64_t, kKeyMissCount> explicitHashKeyFallbacks{};
    uint64_t withoutExplicitHashKey = 0;  // fallback none taken
    uint64_t partitionKeysOverLimit = 0;  // rendered longer than 256 UTF-16 units
  };

  RecordKeys(KeyRules rules, uint64_t seed);

  // True when a template names fields: the record must be parsed first.
  bool needsFields() const { return needsFields_; }

  // Each returns a view valid until the next call of the same method.
  // `fieldsMiss` is why `fields` may lack a value: kMissingField for a parsed
  // record, else kNoTemplate, kNotJson or kNotParsed. `data` is the record's
  // data (hashed by the hash fallback).
  std::string_view partitionKey(const RecordFields& fields, KeyMiss fieldsMiss, std::string_view data);
  // Empty: the record goes without an ExplicitHashKey.
  std::string_view explicitHashKey(const RecordFields& fields, KeyMiss fieldsMiss, std::string_view data);

  // What was counted since the last call; the counts start again from zero.
  Counts takeCounts();

 private:
  std::string_view partitionKeyFallback(KeyMiss miss, std::string_view data);
  std::string_view explicitHashKeyFallback(KeyMiss miss, std::string_view data);
  std::array<uint8_t, 16> randomBytes();

  KeyRules rules_;
  bool needsFields_;
  uint64_t rngState_;
  Md5Digest md5_;
  std::string key_;
  std::string hashKey_;
  std::string overflowScratch_;
  Counts counts_;
};

}  // namespace kinship::pipeline
