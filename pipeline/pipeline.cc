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

Pipeline::Pipeline(std::string name, std::optional<KeyTemplate> key, size_t queueCapacityBytes,
                   prometheus::Registry& registry)
    : name_(std::move(name)), key_(std::move(key)), queue_(queueCapacityBytes) {
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
  recordsCounter_ = &prometheus::BuildCounter()
                         .Name("kinship_pipeline_records_total")
                         .Help("Records built by the pipeline and queued for the sink")
                         .Register(registry)
                         .Add({{"pipeline", name_}});
  bytesCounter_ = &prometheus::BuildCounter()
                       .Name("kinship_pipeline_bytes_total")
                       .Help("Bytes of record data and partition keys queued for the sink")
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
  bool keyed = false;
  if (key_) {
    if (!key_->hasFields()) {
      keyed = key_->renderLiteral(keyScratch_);
    } else if (parser == Parser::kJson) {
      simdjson::dom::element doc;
      if (parser_.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc) != simdjson::SUCCESS ||
          !doc.is_object()) {
        ++randomNotJson_;
      } else if (!(keyed = key_->render(doc, keyScratch_))) {
        ++randomMissingField_;
      }
    } else {
      ++randomNoTemplate_;
    }
  } else {
    ++randomNoTemplate_;
  }
  if (!keyed) randomKey(keyScratch_);
  batch.append(line, keyScratch_);
}

void Pipeline::submit(BatchPtr batch) {
  if (randomNotJson_ != 0) randomNotJsonCounter_->Increment(static_cast<double>(randomNotJson_));
  if (randomMissingField_ != 0) randomMissingFieldCounter_->Increment(static_cast<double>(randomMissingField_));
  if (randomNoTemplate_ != 0) randomNoTemplateCounter_->Increment(static_cast<double>(randomNoTemplate_));
  randomNotJson_ = randomMissingField_ = randomNoTemplate_ = 0;
  if (batch->empty()) return;
  recordsCounter_->Increment(static_cast<double>(batch->size()));
  bytesCounter_->Increment(static_cast<double>(batch->bytes()));
  queue_.push(std::move(batch));
}

}  // namespace kinship::pipeline
