#pragma once
// Pipeline: turns lines into records (parse → key) and hands batches to the
// pipeline's BatchQueue. One per configured pipeline; inputs call it on the
// I/O thread only (not thread-safe). No I/O of its own.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "pipeline/batch_queue.h"
#include "pipeline/key_template.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace kinship::pipeline {

enum class Parser { kRaw, kJson };

// Bytes that must be readable after every line passed to addLine(): the
// JSON parser reads ahead with SIMD loads.
inline constexpr size_t kParsePadding = simdjson::SIMDJSON_PADDING;

// Kinesis's ExplicitHashKey is a decimal number in [0, 2^128) written
// without leading zeros (pattern `0|([1-9]\d{0,38})`). Returns `text` in
// that form: 1 to 39 ASCII digits with the leading zeros dropped ("007" gives
// "7", "000" gives "0"), a view into `text`. Returns an empty view when
// `text` is not such a number: empty, longer than 39 characters, a sign, a
// non-digit, or 2^128 or more.
std::string_view canonicalExplicitHashKey(std::string_view text);

class Pipeline {
 public:
  // `key` absent: every record gets a random key.
  // `explicitHashKey` absent: no record carries an ExplicitHashKey (Kinesis
  // hashes the partition key). Present: each record whose rendering is a
  // valid hash key (see canonicalExplicitHashKey) carries it; the others go
  // without one and are counted.
  Pipeline(std::string name, std::optional<KeyTemplate> key, size_t queueCapacityBytes,
           prometheus::Registry& registry, std::optional<KeyTemplate> explicitHashKey = std::nullopt);
  ~Pipeline();

  const std::string& name() const { return name_; }
  BatchQueue& queue() { return queue_; }

  // Appends `line` (without its line ending) to `batch` as one record.
  // Precondition: kParsePadding bytes after line.end() are readable.
  void addLine(std::string_view line, Parser parser, RecordBatch& batch);

  // Records queued for the sink so far (kinship_pipeline_records_total).
  // Any thread.
  uint64_t recordsQueued() const;

  // Queues a filled batch for the sink and publishes the counters gathered
  // since the last submit (so the hot path never touches an atomic).
  void submit(BatchPtr batch);

 private:
  void randomKey(std::string& out);

  std::string name_;
  std::optional<KeyTemplate> key_;
  std::optional<KeyTemplate> explicitHashKey_;
  BatchQueue queue_;
  simdjson::dom::parser parser_;
  std::string keyScratch_;
  std::string explicitHashKeyScratch_;
  uint64_t rngState_;

  // Counted locally, published on submit().
  uint64_t randomNotJson_ = 0;
  uint64_t randomMissingField_ = 0;
  uint64_t randomNoTemplate_ = 0;
  uint64_t explicitHashKeyInvalid_ = 0;
  prometheus::Counter* randomNotJsonCounter_;
  prometheus::Counter* randomMissingFieldCounter_;
  prometheus::Counter* randomNoTemplateCounter_;
  prometheus::Counter* explicitHashKeyInvalidCounter_;
  prometheus::Counter* recordsCounter_;
  prometheus::Counter* bytesCounter_;
};

}  // namespace kinship::pipeline
