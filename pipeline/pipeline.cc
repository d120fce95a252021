#include "pipeline/pipeline.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <random>

namespace kinship::pipeline {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

std::string_view canonicalExplicitHashKey(std::string_view text) {
  static constexpr std::string_view kMax = "340282366920938463463374607431768211455";  // 2^128 - 1
  if (text.empty() || text.size() > kMax.size()) return {};
  for (char c : text) {
    if (c < '0' || c > '9') return {};
  }
  // Digit strings of equal length compare as their values do.
  if (text.size() == kMax.size() && text > kMax) return {};
  size_t first = text.find_first_not_of('0');
  return first == std::string_view::npos ? text.substr(text.size() - 1) : text.substr(first);
}

Pipeline::Pipeline(std::string name, std::optional<KeyTemplate> key, size_t queueCapacityBytes,
                   prometheus::Registry& registry, std::optional<KeyTemplate> explicitHashKey)
    : name_(std::move(name)),
      key_(std::move(key)),
      explicitHashKey_(std::move(explicitHashKey)),
      queue_(queueCapacityBytes) {
  std::random_device seed;
  rngState_ = (static_cast<uint64_t>(seed()) << 32) ^ seed();

  auto& randomKeys = prometheus::BuildCounter()
                         .Name("kinship_pipeline_random_keys_total")
                         .Help("Records that got a random partition key, by reason: not_json (the line did not "
                               "parse), missing_field (a template field was absent, null or not a scalar), "
                               "no_template (no partition_key configured, or a raw parser with field references)")
                         .Register(registry);
  randomNotJsonCounter_ = &randomKeys.Add({{"pipeline", name_}, {"reason", "not_json"}});
  randomMissingFieldCounter_ = &randomKeys.Add({{"pipeline", name_}, {"reason", "missing_field"}});
  randomNoTemplateCounter_ = &randomKeys.Add({{"pipeline", name_}, {"reason", "no_template"}});
  explicitHashKeyInvalidCounter_ =
      &prometheus::BuildCounter()
           .Name("kinship_pipeline_explicit_hash_key_invalid_total")
           .Help("Records sent without an ExplicitHashKey although explicit_hash_key is configured: the "
                 "template did not render (line not JSON, field absent, null or not a scalar, or a raw "
                 "parser with field references) or rendered something that is not a decimal number below "
                 "2^128")
           .Register(registry)
           .Add({{"pipeline", name_}});
  recordsCounter_ = &prometheus::BuildCounter()
                         .Name("kinship_pipeline_records_total")
                         .Help("Records built by the pipeline and queued for the sink")
                         .Register(registry)
                         .Add({{"pipeline", name_}});
  bytesCounter_ = &prometheus::BuildCounter()
                       .Name("kinship_pipeline_bytes_total")
                       .Help("Bytes of record data and partition keys queued for the sink (explicit hash "
                             "keys, which Kinesis does not count, are left out)")
                       .Register(registry)
                       .Add({{"pipeline", name_}});
}

Pipeline::~Pipeline() = default;

void Pipeline::randomKey(std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(32);
  uint64_t a = splitmix64(rngState_);
  uint64_t b = splitmix64(rngState_);
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(a >> (i * 4)) & 0xF];
    out[16 + i] = kHex[(b >> (i * 4)) & 0xF];
  }
}

void Pipeline::addLine(std::string_view line, Parser parser, RecordBatch& batch) {
  // Parse at most once, and only when a template reads fields.
  simdjson::dom::element doc;
  bool isObject = false;
  bool needFields = (key_ && key_->hasFields()) || (explicitHashKey_ && explicitHashKey_->hasFields());
  if (parser == Parser::kJson && needFields) {
    isObject = parser_.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc) == simdjson::SUCCESS &&
               doc.is_object();
  }

  bool keyed = false;
  if (!key_) {
    ++randomNoTemplate_;
  } else if (!key_->hasFields()) {
    keyed = key_->renderLiteral(keyScratch_);
  } else if (parser != Parser::kJson) {
    ++randomNoTemplate_;
  } else if (!isObject) {
    ++randomNotJson_;
  } else if (!(keyed = key_->render(doc, keyScratch_))) {
    ++randomMissingField_;
  }
  if (!keyed) randomKey(keyScratch_);

  std::string_view explicitHashKey;
  if (explicitHashKey_) {
    bool rendered = explicitHashKey_->hasFields() ? isObject && explicitHashKey_->render(doc, explicitHashKeyScratch_)
                                                  : explicitHashKey_->renderLiteral(explicitHashKeyScratch_);
    if (rendered) explicitHashKey = canonicalExplicitHashKey(explicitHashKeyScratch_);
    if (explicitHashKey.empty()) ++explicitHashKeyInvalid_;
  }
  batch.append(line, keyScratch_, explicitHashKey);
}

uint64_t Pipeline::recordsQueued() const { return static_cast<uint64_t>(recordsCounter_->Value()); }

void Pipeline::submit(BatchPtr batch) {
  if (randomNotJson_ != 0) randomNotJsonCounter_->Increment(static_cast<double>(randomNotJson_));
  if (randomMissingField_ != 0) randomMissingFieldCounter_->Increment(static_cast<double>(randomMissingField_));
  if (randomNoTemplate_ != 0) randomNoTemplateCounter_->Increment(static_cast<double>(randomNoTemplate_));
  if (explicitHashKeyInvalid_ != 0) {
    explicitHashKeyInvalidCounter_->Increment(static_cast<double>(explicitHashKeyInvalid_));
  }
  randomNotJson_ = randomMissingField_ = randomNoTemplate_ = explicitHashKeyInvalid_ = 0;
  if (batch->empty()) return;
  recordsCounter_->Increment(static_cast<double>(batch->size()));
  bytesCounter_->Increment(static_cast<double>(batch->limitBytes()));
  queue_.push(std::move(batch));
}

}  // namespace kinship::pipeline
