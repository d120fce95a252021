#pragma once
// The file input's options: schema table and typed form.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/schema.h"
#include "inputs/file/file_tailer.h"
#include "pipeline/pipeline.h"

namespace re2 {
class RE2;
}

namespace kinship::inputs {

struct MultilineConfig {
  std::shared_ptr<const re2::RE2> start;  // compiled once, shared by every file
  std::chrono::milliseconds timeout{1000};
  size_t maxSize = 1024 * 1024 - 1024;
};

struct FileInputConfig {
  std::vector<std::string> paths;  // glob patterns
  bool startAtEnd = true;          // for files present at the first start
  pipeline::Parser parser = pipeline::Parser::kRaw;
  std::chrono::milliseconds pollInterval{1000};
  std::chrono::milliseconds checkpointInterval{1000};
  size_t readBufferSize = 256 * 1024;
  size_t maxLineSize = 1024 * 1024 - 1024;
  LongLines longLines = LongLines::kDrop;
  std::chrono::milliseconds partialLineTimeout{5000};
  std::optional<MultilineConfig> multiline;
  std::vector<std::string> exclude;  // fnmatch patterns over the full path
};

config::Schema fileInputSchema();
// Throws ConfigError (through the section) for values the schema cannot check.
FileInputConfig fileInputConfigFrom(const config::Section& section);

}  // namespace kinship::inputs
