#pragma once
// The `filters` option of a pipeline, read into RecordFilters: a list of
// maps (config's filterSchema()), each with a name, an action and one
// condition. Startup and reload only; throws config::ConfigError naming the
// offending entry and option ("pipelines.app.filters[1].matches").

#include "pipeline/record_filter.h"

namespace kinship::config {
class Section;
}

namespace kinship::pipeline {

// Absent: no filters.
RecordFilters recordFiltersFrom(const config::Section& pipelineOptions);

}  // namespace kinship::pipeline
