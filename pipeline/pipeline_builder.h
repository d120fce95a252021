#pragma once
// Building a Pipeline from its configured options: the key templates are
// compiled and the fallbacks checked (KeyRules), the filters, added fields
// and encoding read. The daemon
// hands over a pipeline's option section and gets a Pipeline back, so it
// knows neither templates nor key rules. The daemon sizes the queue: the
// default of `queue_size` depends on the spool mode (daemon/pipeline_buffers.h).
//
// Startup and reload only (the key templates are compiled here, never on the
// data path); both functions throw config::ConfigError naming the offending
// option. Threading: call from the thread that builds the daemon's runtimes;
// no shared state.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/added_fields.h"
#include "pipeline/key_rules.h"
#include "pipeline/pipeline.h"

namespace kinship::config {
class Section;
}

namespace prometheus {
class Registry;
}

namespace kinship::pipeline {

// What a pipeline is built from, read from its options (config's
// pipelineSchema()).
struct PipelineSettings {
  KeyRules keys;                       // partition_key, explicit_hash_key and their fallbacks
  RecordFilters filters;               // filters
  std::vector<AddedField> addedFields;  // add_fields, add_metadata
  EncodingOptions encoding;            // encoding, trailing_newline
};

// Reads and checks the options; compiles the templates. An `add_metadata`
// hostname is read here, once.
PipelineSettings pipelineSettingsFrom(const config::Section& pipelineOptions);

// The pipeline named `name`, its queue bounded at `queueCapacityBytes`, its
// metrics registered in `registry` (which must outlive it).
std::unique_ptr<Pipeline> buildPipeline(std::string name, PipelineSettings settings, size_t queueCapacityBytes,
                                        prometheus::Registry& registry);

}  // namespace kinship::pipeline
