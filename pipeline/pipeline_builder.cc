#include "pipeline/pipeline_builder.h"

#include "config/schema.h"
#include "pipeline/enrichment_options.h"
#include "pipeline/record_filter_options.h"

namespace kinship::pipeline {

PipelineSettings pipelineSettingsFrom(const config::Section& options) {
  PipelineSettings settings;
  settings.keys = keyRulesFrom(options);
  settings.filters = recordFiltersFrom(options);
  settings.addedFields = addedFieldsFrom(options, hostName());
  settings.encoding = encodingOptionsFrom(options);
  return settings;
}

std::unique_ptr<Pipeline> buildPipeline(std::string name, PipelineSettings settings, size_t queueCapacityBytes,
                                        prometheus::Registry& registry) {
  return std::make_unique<Pipeline>(std::move(name), std::move(settings.keys), queueCapacityBytes,
                                    registry, std::move(settings.filters), std::move(settings.addedFields),
                                    settings.encoding);
}

}  // namespace kinship::pipeline
