#include "pipeline/record_keys.h"

#include "pipeline/explicit_hash_key.h"

namespace kinship::pipeline {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

size_t index(KeyMiss miss) { return static_cast<size_t>(miss); }

}  // namespace

std::string_view keyMissName(KeyMiss miss) {
  switch (miss) {
    case KeyMiss::kNoTemplate: return "no_template";
    case KeyMiss::kNotJson: return "not_json";
    case KeyMiss::kNotParsed: return "not_parsed";
    case KeyMiss::kMissingField: return "missing_field";
    case KeyMiss::kEmpty: return "empty";
    case KeyMiss::kInvalid: return "invalid";
  }
  return "unknown";
}

RecordKeys::RecordKeys(KeyRules rules, uint64_t seed)
    : rules_(std::move(rules)),
      needsFields_((rules_.partitionKey.keyTemplate && rules_.partitionKey.keyTemplate->hasFields()) ||
                   (rules_.explicitHashKey.keyTemplate && rules_.explicitHashKey.keyTemplate->hasFields())),
      rngState_(seed) {}

std::array<uint8_t, 16> RecordKeys::randomBytes() {
  std::array<uint8_t, 16> bytes;
  uint64_t a = splitmix64(rngState_);
  uint64_t b = splitmix64(rngState_);
  for (size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(a >> (8 * i));
    bytes[8 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
  return bytes;
}

std::string_view RecordKeys::partitionKey(const RecordFields& fields, KeyMiss fieldsMiss, std::string_view data) {
  const PartitionKeyRule& rule = rules_.partitionKey;
  if (!rule.keyTemplate) return partitionKeyFallback(KeyMiss::kNoTemplate, data);
  switch (rule.keyTemplate->render(fields, key_)) {
    case KeyTemplate::Outcome::kMissingField: return partitionKeyFallback(fieldsMiss, data);
    case KeyTemplate::Outcome::kEmpty: return partitionKeyFallback(KeyMiss::kEmpty, data);
    case KeyTemplate::Outcome::kRendered: break;
  }
  if (exceedsKeyLimit(key_)) {
    ++counts_.partitionKeysOverLimit;
    if (rule.overflow == KeyOverflow::kHash) {
      writeHex(md5_.digest(key_), overflowScratch_);
      key_.swap(overflowScratch_);
    } else {
      truncateToKeyLimit(key_);
    }
  }
  return key_;
}

std::string_view RecordKeys::partitionKeyFallback(KeyMiss miss, std::string_view data) {
  const PartitionKeyRule& rule = rules_.partitionKey;
  ++counts_.partitionKeyFallbacks[index(miss)];
  switch (rule.fallback) {
    case KeyFallback::kNone:  // not allowed for partition keys: random, as the default
    case KeyFallback::kRandom: {
      ++counts_.randomPartitionKeys[index(miss)];
      // Straight from the generator's two words: the default for raw lines,
      // so every record takes this path (going through randomBytes() and
      // writeHex() cost about 10 ns a record more).
      static constexpr char kHex[] = "0123456789abcdef";
      const uint64_t a = splitmix64(rngState_);
      const uint64_t b = splitmix64(rngState_);
      key_.resize(32);
      for (int i = 0; i < 16; ++i) {
        key_[i] = kHex[(a >> (i * 4)) & 0xF];
        key_[16 + i] = kHex[(b >> (i * 4)) & 0xF];
      }
      return key_;
    }
    case KeyFallback::kHash:
      writeHex(md5_.digest(data), key_);
      return key_;
    case KeyFallback::kConstant:
      return rule.constant;
  }
  return rule.constant;
}

std::string_view RecordKeys::explicitHashKey(const RecordFields& fields, KeyMiss fieldsMiss, std::string_view data) {
  const ExplicitHashKeyRule& rule = rules_.explicitHashKey;
  if (!rule.keyTemplate) return {};
  switch (rule.keyTemplate->render(fields, hashKey_)) {
    case KeyTemplate::Outcome::kMissingField: return explicitHashKeyFallback(fieldsMiss, data);
    case KeyTemplate::Outcome::kEmpty: return explicitHashKeyFallback(KeyMiss::kEmpty, data);
    case KeyTemplate::Outcome::kRendered: break;
  }
  std::string_view canonical = canonicalExplicitHashKey(hashKey_);
  return canonical.empty() ? explicitHashKeyFallback(KeyMiss::kInvalid, data) : canonical;
}

std::string_view RecordKeys::explicitHashKeyFallback(KeyMiss miss, std::string_view data) {
  const ExplicitHashKeyRule& rule = rules_.explicitHashKey;
  ++counts_.explicitHashKeyFallbacks[index(miss)];
  switch (rule.fallback) {
    case KeyFallback::kNone:
      ++counts_.withoutExplicitHashKey;
      return {};
    case KeyFallback::kRandom:
      writeDecimal(randomBytes(), hashKey_);
      return hashKey_;
    case KeyFallback::kHash:
      writeDecimal(md5_.digest(data), hashKey_);
      return hashKey_;
    case KeyFallback::kConstant:
      return rule.constant;
  }
  return {};
}

RecordKeys::Counts RecordKeys::takeCounts() {
  Counts taken = counts_;
  counts_ = Counts();
  return taken;
}

}  // namespace kinship::pipeline
