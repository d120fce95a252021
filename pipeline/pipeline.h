#pragma once
// Pipeline: turns lines into records (parse → enrich → filter → key →
// encode) and hands batches to the pipeline's BatchQueue. One per
// configured pipeline; inputs call it on the I/O thread only (not
// thread-safe). No I/O of its own.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <simdjson.h>

#include "common/clock.h"
#include "pipeline/added_fields.h"
#include "pipeline/batch_queue.h"
#include "pipeline/container_log.h"
#include "pipeline/explicit_hash_key.h"
#include "pipeline/json_fields.h"
#include "pipeline/key_rules.h"
#include "pipeline/key_template.h"
#include "pipeline/logfmt_parser.h"
#include "pipeline/syslog_parser.h"
#include "pipeline/parser.h"
#include "pipeline/record_encoder.h"
#include "pipeline/record_filter.h"
#include "pipeline/record_keys.h"
#include "pipeline/record_origin.h"
#include "pipeline/regex_parser.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace kinship::pipeline {

// Bytes that must be readable after every line passed to addLine(): the
// JSON parser reads ahead with SIMD loads.
inline constexpr size_t kParsePadding = simdjson::SIMDJSON_PADDING;

class Pipeline {
 public:
  // See KeyRules: how partition keys and explicit hash keys are made;
  // RecordFilters: which records are dropped before that; AddedField: the
  // fields added to every record (read from `clock`); EncodingOptions: the
  // bytes each record ships.
  Pipeline(std::string name, KeyRules keys, size_t queueCapacityBytes, prometheus::Registry& registry,
           RecordFilters filters = {}, std::vector<AddedField> addedFields = {}, EncodingOptions encoding = {},
           const Clock& clock = SystemClock::instance());
  // `key` absent: every record gets a random key.
  // `explicitHashKey` absent: no record carries an ExplicitHashKey (Kinesis
  // hashes the partition key). Present: each record whose rendering is a
  // valid hash key (see canonicalExplicitHashKey) carries it; the others go
  // without one and are counted. (The default fallbacks and overflow.)
  Pipeline(std::string name, std::optional<KeyTemplate> key, size_t queueCapacityBytes,
           prometheus::Registry& registry, std::optional<KeyTemplate> explicitHashKey = std::nullopt);
  ~Pipeline();

  const std::string& name() const { return name_; }
  BatchQueue& queue() { return queue_; }

  // Appends `line` (without its line ending) to `batch` as one record,
  // unless a filter drops it (counted in kinship_pipeline_filtered_total).
  // Its data is the line as given (encoding raw) or what the encoder makes
  // of the record (see record_encoder.h). The line is parsed only when a
  // template, a filter or the json encoding reads fields; a line that does
  // not parse is counted (kinship_pipeline_parse_failures_total) and keyed
  // as a line without fields. The added fields (added_fields.h) lie over
  // the parsed ones; `origin` is where the line came from, for those that
  // read it.
  // `container`: for a container log format (parser cri or docker), what
  // the runtime wrote around `line`, the application's line the input
  // unwrapped (see pipeline/container_log.h): its time and stream are fields
  // beside the inner parser's; or why `line` (then the whole line as read)
  // was not of the format, counted here whether or not fields are read.
  // Precondition: kParsePadding bytes after line.end() are readable.
  void addLine(std::string_view line, const Parser& parser, RecordBatch& batch,
               const RecordOrigin& origin = RecordOrigin{}, const ContainerLine* container = nullptr);
  void addLine(std::string_view line, const Parser& parser, RecordBatch& batch, const ContainerLine* container) {
    addLine(line, parser, batch, RecordOrigin{}, container);
  }

  // An added field reads the record's source: inputs that would have to
  // format it for each record (a UDP sender's address) do so only then.
  bool wantsSource() const { return enrichment_.wantsSource(); }
  // An added field reads the record's origin (its source or position): an
  // input may pass kNoOrigin otherwise, saving the default path the work.
  bool wantsOrigin() const { return enrichment_.wantsOrigin(); }

  // Records queued for the sink so far (kinship_pipeline_records_total).
  // Any thread.
  uint64_t recordsQueued() const;

  // Queues a filled batch for the sink and publishes the counters gathered
  // since the last submit (so the hot path never touches an atomic). A
  // batch left empty (its every line filtered out) is acknowledged to its
  // source at once: nothing of it needs delivering.
  void submit(BatchPtr batch);

 private:
  void publishCounts();
  // addLine() once the line is parsed, for a pipeline that adds fields or
  // encodes.
  void addShaped(std::string_view line, std::pair<const RecordFields*, KeyMiss> parsed,
                 const std::optional<JsonFields>& json, RecordBatch& batch, const RecordOrigin& origin);
  // Parses `line` with `parser`; returns its fields (NoFields after a
  // failure, which is counted) and why a template may miss a field there.
  std::pair<const RecordFields*, KeyMiss> parse(std::string_view line, const Parser& parser,
                                                std::optional<JsonFields>& json,
                                                const ContainerLine* container = nullptr);

  std::string name_;
  RecordKeys keys_;
  RecordFilters filters_;
  Enrichment enrichment_;
  RecordEncoder encoder_;
  bool needsFields_;
  // Fields are added or the data encoded: addShaped() makes the record (the
  // other records take the plain path, as before either existed).
  bool shaped_;
  uint64_t invalidUtf8_ = 0;  // counted locally
  std::string filterScratch_;
  std::vector<uint64_t> filtered_;                  // by filter, counted locally
  std::vector<prometheus::Counter*> filteredCounters_;
  BatchQueue queue_;
  simdjson::dom::parser parser_;
  LogfmtParser logfmt_;
  SyslogParser syslog_;
  RegexMatcher regex_;
  ContainerFields container_;
  // Parse failures by [parser kind][reason], counted locally.
  std::array<std::array<uint64_t, kParseFailureCount>, kParserKindCount> parseFailures_{};

  // Indexed by KeyMiss; null where a reason cannot occur.
  std::array<prometheus::Counter*, kKeyMissCount> randomKeysCounters_{};
  std::array<prometheus::Counter*, kKeyMissCount> partitionKeyFallbackCounters_{};
  std::array<prometheus::Counter*, kKeyMissCount> explicitHashKeyFallbackCounters_{};
  std::array<std::array<prometheus::Counter*, kParseFailureCount>, kParserKindCount> parseFailureCounters_{};
  prometheus::Counter* explicitHashKeyInvalidCounter_;
  prometheus::Counter* keysOverLimitCounter_;
  prometheus::Counter* invalidUtf8Counter_;
  prometheus::Counter* recordsCounter_;
  prometheus::Counter* bytesCounter_;
};

}  // namespace kinship::pipeline
