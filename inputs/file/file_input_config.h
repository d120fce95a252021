#pragma once
// The file input's options: schema table and typed form.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "config/schema.h"
#include "pipeline/pipeline.h"

namespace kinship::inputs {

struct FileInputConfig {
  std::vector<std::string> paths;  // glob patterns
  bool startAtEnd = true;          // for files present at the first start
  pipeline::Parser parser = pipeline::Parser::kRaw;
  std::chrono::milliseconds pollInterval{1000};
  std::chrono::milliseconds checkpointInterval{1000};
  size_t readBufferSize = 256 * 1024;
  size_t maxLineSize = 1024 * 1024 - 1024;
};

config::Schema fileInputSchema();
// Throws ConfigError (through the section) for values the schema cannot check.
FileInputConfig fileInputConfigFrom(const config::Section& section);

}  // namespace kinship::inputs
