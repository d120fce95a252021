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

class Pipeline {
 public:
  // `key` absent: every record gets a random key.
  Pipeline(std::string name, std::optional<KeyTemplate> key, size_t queueCapacityBytes,
           prometheus::Registry& registry);
  ~Pipeline();

  const std::string& name() const { return name_; }
  BatchQueue& queue() { return queue_; }

  // Appends `line` (without its line ending) to `batch` as one record.
  // Precondition: kParsePadding bytes after line.end() are readable.
  void addLine(std::string_view line, Parser parser, RecordBatch& batch);

  // Queues a filled batch for the sink and publishes the counters gathered
  // since the last submit (so the hot path never touches an atomic).
  void submit(BatchPtr batch);

 private:
  void randomKey(std::string& out);

  std::string name_;
  std::optional<KeyTemplate> key_;
  BatchQueue queue_;
  simdjson::dom::parser parser_;
  std::string keyScratch_;
  uint64_t rngState_;

  // Counted locally, published on submit().
  uint64_t randomNotJson_ = 0;
  uint64_t randomMissingField_ = 0;
  uint64_t randomNoTemplate_ = 0;
  prometheus::Counter* randomNotJsonCounter_;
  prometheus::Counter* randomMissingFieldCounter_;
  prometheus::Counter* randomNoTemplateCounter_;
  prometheus::Counter* recordsCounter_;
  prometheus::Counter* bytesCounter_;
};

}  // namespace kinship::pipeline
