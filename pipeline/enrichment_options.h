#pragma once
// A pipeline's `add_fields`, `add_metadata`, `encoding` and
// `trailing_newline` options, read into what the Pipeline takes. Startup
// and reload only; throws config::ConfigError naming the offending entry
// ("pipelines.app.add_metadata.host") at its line.

#include <string>
#include <string_view>
#include <vector>

#include "pipeline/added_fields.h"
#include "pipeline/record_encoder.h"

namespace kinship::config {
class Section;
}

namespace kinship::pipeline {

// `add_fields` in their order, then `add_metadata` in theirs; a `hostname`
// is `hostName` as text. Names are checked (isAddedFieldName) and unique
// across both.
std::vector<AddedField> addedFieldsFrom(const config::Section& pipelineOptions, std::string_view hostName);

EncodingOptions encodingOptionsFrom(const config::Section& pipelineOptions);

// This host's name (gethostname); "" when it cannot be read.
std::string hostName();

}  // namespace kinship::pipeline
