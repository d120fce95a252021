#include "pipeline/pipeline.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <random>

namespace kinship::pipeline {

namespace {

const NoFields kNoFields;

uint64_t randomSeed() {
  std::random_device seed;
  return (static_cast<uint64_t>(seed()) << 32) ^ seed();
}

KeyRules defaultRules(std::optional<KeyTemplate> key, std::optional<KeyTemplate> explicitHashKey) {
  KeyRules rules;
  rules.partitionKey.keyTemplate = std::move(key);
  rules.explicitHashKey.keyTemplate = std::move(explicitHashKey);
  return rules;
}

void add(prometheus::Counter* counter, uint64_t n) {
  if (n != 0 && counter != nullptr) counter->Increment(static_cast<double>(n));
}

}  // namespace

Pipeline::Pipeline(std::string name, std::optional<KeyTemplate> key, size_t queueCapacityBytes,
                   prometheus::Registry& registry, std::optional<KeyTemplate> explicitHashKey)
    : Pipeline(std::move(name), defaultRules(std::move(key), std::move(explicitHashKey)), queueCapacityBytes,
               registry) {}

Pipeline::Pipeline(std::string name, KeyRules keys, size_t queueCapacityBytes, prometheus::Registry& registry,
                   RecordFilters filters, std::vector<AddedField> addedFields, EncodingOptions encoding,
                   const Clock& clock)
    : name_(std::move(name)),
      keys_(std::move(keys), randomSeed()),
      filters_(std::move(filters)),
      enrichment_(std::move(addedFields), clock, randomSeed()),
      encoder_(encoding, enrichment_),
      needsFields_(keys_.needsFields() || filters_.needsFields() || encoder_.needsFields()),
      shaped_(!enrichment_.empty() || !encoder_.copiesLine()),
      filtered_(filters_.size(), 0),
      queue_(queueCapacityBytes) {
  auto& filtered = prometheus::BuildCounter()
                       .Name("kinship_pipeline_filtered_total")
                       .Help("Records dropped by the pipeline's filters, by the filter that dropped them")
                       .Register(registry);
  for (size_t i = 0; i < filters_.size(); ++i) {
    filteredCounters_.push_back(&filtered.Add({{"pipeline", name_}, {"filter", filters_[i].name}}));
  }
  auto& randomKeys = prometheus::BuildCounter()
                         .Name("kinship_pipeline_random_keys_total")
                         .Help("Records that got a random partition key, by reason: not_json (the line did not "
                               "parse as JSON), not_parsed (another parser failed), missing_field (a template "
                               "reference had no alternative with a value), empty (the key rendered empty), "
                               "no_template (no partition_key configured, or a raw parser with field references)")
                         .Register(registry);
  auto& fallbacks = prometheus::BuildCounter()
                        .Name("kinship_pipeline_key_fallbacks_total")
                        .Help("Records whose partition key or explicit hash key (label key) came from its "
                              "fallback option, by reason (as for kinship_pipeline_random_keys_total, plus "
                              "invalid: an explicit hash key that is not a decimal number below 2^128)")
                        .Register(registry);
  for (KeyMiss miss : {KeyMiss::kNoTemplate, KeyMiss::kNotJson, KeyMiss::kNotParsed, KeyMiss::kMissingField,
                       KeyMiss::kEmpty, KeyMiss::kInvalid}) {
    const size_t i = static_cast<size_t>(miss);
    const std::string reason(keyMissName(miss));
    explicitHashKeyFallbackCounters_[i] =
        &fallbacks.Add({{"pipeline", name_}, {"key", "explicit_hash_key"}, {"reason", reason}});
    if (miss == KeyMiss::kInvalid) continue;  // any non-empty partition key is valid
    randomKeysCounters_[i] = &randomKeys.Add({{"pipeline", name_}, {"reason", reason}});
    partitionKeyFallbackCounters_[i] =
        &fallbacks.Add({{"pipeline", name_}, {"key", "partition_key"}, {"reason", reason}});
  }
  auto& parseFailures = prometheus::BuildCounter()
                            .Name("kinship_pipeline_parse_failures_total")
                            .Help("Lines the input's parser could not read, by parser and reason (" +
                                  parserFailuresText() +
                                  "). They are shipped as read, keyed as lines without fields. "
                                  "Lines are parsed only when a template, a filter or encoding json reads "
                                  "fields (the container formats cri and docker always are)")
                            .Register(registry);
  for (const auto& [kind, failure] : parserFailures()) {
    parseFailureCounters_[static_cast<size_t>(kind)][static_cast<size_t>(failure)] = &parseFailures.Add(
        {{"pipeline", name_}, {"parser", std::string(parserName(kind))}, {"reason", std::string(parseFailureName(failure))}});
  }
  explicitHashKeyInvalidCounter_ =
      &prometheus::BuildCounter()
           .Name("kinship_pipeline_explicit_hash_key_invalid_total")
           .Help("Records sent without an ExplicitHashKey although explicit_hash_key is configured "
                 "(explicit_hash_key_fallback: none): the template did not render (line not parsed, field "
                 "absent, null or not a scalar) or rendered something that is not a decimal number below "
                 "2^128")
           .Register(registry)
           .Add({{"pipeline", name_}});
  keysOverLimitCounter_ = &prometheus::BuildCounter()
                               .Name("kinship_pipeline_keys_over_limit_total")
                               .Help("Rendered partition keys longer than 256 UTF-16 code units, cut or "
                                     "hashed as partition_key_overflow says")
                               .Register(registry)
                               .Add({{"pipeline", name_}});
  invalidUtf8Counter_ = &prometheus::BuildCounter()
                            .Name("kinship_pipeline_invalid_utf8_total")
                            .Help("Records whose json encoding replaced bytes that are not UTF-8 (in the line, a "
                                  "field or an added source) with U+FFFD, so that the record is valid JSON")
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

std::pair<const RecordFields*, KeyMiss> Pipeline::parse(std::string_view line, const Parser& parser,
                                                       std::optional<JsonFields>& json,
                                                       const ContainerLine* container) {
  std::optional<ParseFailure> failure;
  switch (parser.kind()) {
    case ParserKind::kCri:
    case ParserKind::kDocker: {
      // The input unwrapped the application's line: read it with the inner
      // parser, under the runtime's time and stream.
      auto inner = parse(line, parser.inner(), json);
      if (container == nullptr) return inner;
      container_.reset(*container, line, *inner.first, inner.first != &kNoFields);
      // Even a raw inner parser leaves fields (time, stream) to miss.
      return {&container_, inner.second == KeyMiss::kNoTemplate ? KeyMiss::kMissingField : inner.second};
    }
    case ParserKind::kRaw:
      return {&kNoFields, KeyMiss::kNoTemplate};
    case ParserKind::kJson: {
      simdjson::dom::element doc;
      if (parser_.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc) != simdjson::SUCCESS) {
        failure = ParseFailure::kInvalidJson;
      } else if (!doc.is_object()) {
        failure = ParseFailure::kNotAnObject;
      } else {
        return {&json.emplace(doc), KeyMiss::kMissingField};
      }
      break;
    }
    case ParserKind::kLogfmt:
      if (!(failure = logfmt_.parse(line))) return {&logfmt_, KeyMiss::kMissingField};
      break;
    case ParserKind::kRegex:
      if (!(failure = regex_.match(*parser.pattern(), line))) return {&regex_, KeyMiss::kMissingField};
      break;
    case ParserKind::kSyslog:
      if (!(failure = syslog_.parse(line))) return {&syslog_, KeyMiss::kMissingField};
      break;
  }
  ++parseFailures_[static_cast<size_t>(parser.kind())][static_cast<size_t>(*failure)];
  return {&kNoFields, parser.kind() == ParserKind::kJson ? KeyMiss::kNotJson : KeyMiss::kNotParsed};
}

void Pipeline::addLine(std::string_view line, const Parser& parser, RecordBatch& batch,
                       const RecordOrigin& origin, const ContainerLine* container) {
  // Parse at most once, and only when a template, a filter or the encoding
  // reads fields.
  std::pair<const RecordFields*, KeyMiss> parsed{&kNoFields, KeyMiss::kNoTemplate};
  std::optional<JsonFields> json;
  if (container != nullptr && container->failure) {
    // Not of the container format: the whole line as read, without fields;
    // counted whether or not fields are read.
    ++parseFailures_[static_cast<size_t>(parser.kind())][static_cast<size_t>(*container->failure)];
    parsed = {&kNoFields, KeyMiss::kNotParsed};
  } else if (needsFields_) {
    parsed = parse(line, parser, json, container);
  }
  if (shaped_) {
    addShaped(line, parsed, json, batch, origin);
    return;
  }
  if (!filters_.empty()) {
    if (auto dropped = filters_.dropping(line, *parsed.first, filterScratch_)) {
      ++filtered_[*dropped];
      return;
    }
  }
  std::string_view key = keys_.partitionKey(*parsed.first, parsed.second, line);
  std::string_view explicitHashKey = keys_.explicitHashKey(*parsed.first, parsed.second, line);
  batch.append(line, key, explicitHashKey);
}

void Pipeline::addShaped(std::string_view line, std::pair<const RecordFields*, KeyMiss> parsed,
                         const std::optional<JsonFields>& json, RecordBatch& batch, const RecordOrigin& origin) {
  const RecordFields* fields = parsed.first;
  std::optional<EnrichedFields> enriched;
  if (!enrichment_.empty()) {
    enrichment_.begin(line, origin);
    fields = &enriched.emplace(enrichment_, *parsed.first);
  }
  if (!filters_.empty()) {
    if (auto dropped = filters_.dropping(line, *fields, filterScratch_)) {
      ++filtered_[*dropped];
      return;
    }
  }
  // The hash fallback hashes the line, whatever the encoding makes of it:
  // equal lines share a shard even with per-record added fields.
  std::string_view key = keys_.partitionKey(*fields, parsed.second, line);
  std::string_view explicitHashKey = keys_.explicitHashKey(*fields, parsed.second, line);
  if (encoder_.copiesLine()) {
    batch.append(line, key, explicitHashKey);
    return;
  }
  std::string& data = batch.dataBuffer();
  const size_t start = data.size();
  const RecordFields* found = parsed.first == &kNoFields ? nullptr : parsed.first;
  // A container's JSON line is not the record's whole object (see ContainerFields).
  const JsonFields* object = json && found != &container_ ? &*json : nullptr;
  if (encoder_.encode(line, found, object, enrichment_, data)) ++invalidUtf8_;
  batch.appendWritten(start, key, explicitHashKey);
}

uint64_t Pipeline::recordsQueued() const { return static_cast<uint64_t>(recordsCounter_->Value()); }

void Pipeline::publishCounts() {
  const RecordKeys::Counts counts = keys_.takeCounts();
  for (size_t i = 0; i < kKeyMissCount; ++i) {
    add(randomKeysCounters_[i], counts.randomPartitionKeys[i]);
    add(partitionKeyFallbackCounters_[i], counts.partitionKeyFallbacks[i]);
    add(explicitHashKeyFallbackCounters_[i], counts.explicitHashKeyFallbacks[i]);
  }
  for (size_t kind = 0; kind < parseFailures_.size(); ++kind) {
    for (size_t reason = 0; reason < kParseFailureCount; ++reason) {
      add(parseFailureCounters_[kind][reason], parseFailures_[kind][reason]);
      parseFailures_[kind][reason] = 0;
    }
  }
  add(explicitHashKeyInvalidCounter_, counts.withoutExplicitHashKey);
  add(keysOverLimitCounter_, counts.partitionKeysOverLimit);
  add(invalidUtf8Counter_, invalidUtf8_);
  invalidUtf8_ = 0;
  for (size_t i = 0; i < filtered_.size(); ++i) {
    add(filteredCounters_[i], filtered_[i]);
    filtered_[i] = 0;
  }
}

void Pipeline::submit(BatchPtr batch) {
  publishCounts();
  if (batch->empty()) {
    batch->notifyAcknowledged();
    return;
  }
  recordsCounter_->Increment(static_cast<double>(batch->size()));
  bytesCounter_->Increment(static_cast<double>(batch->limitBytes()));
  queue_.push(std::move(batch));
}

}  // namespace kinship::pipeline
