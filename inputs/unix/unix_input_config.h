#pragma once
// The Unix socket input's options: schema table and typed form.

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

#include "config/schema.h"
#include "pipeline/pipeline.h"

namespace kinship::inputs {

// Stream mode: each connection's receive buffer starts this large (big
// enough that a busy client costs few reads) and grows for a longer line.
inline constexpr size_t kStreamReadBufferSize = 64 * 1024;

struct UnixInputConfig {
  enum class Mode { kStream, kDatagram };
  enum class Framing { kNewline, kOctetCounted };

  std::string path;
  Mode mode = Mode::kStream;
  Framing framing = Framing::kNewline;  // stream mode
  pipeline::Parser parser = pipeline::Parser::kRaw;
  mode_t socketMode = 0660;
  std::optional<std::string> socketGroup;  // looked up at start
  size_t maxLineSize = 1024 * 1024 - 1024;
  int maxConnections = 256;
  // Stream mode: all connections' receive buffers together.
  size_t maxBufferSize = 64 * 1024 * 1024;
};

config::Schema unixInputSchema();
// Throws ConfigError (through the section) for values the schema cannot check.
UnixInputConfig unixInputConfigFrom(const config::Section& section);

}  // namespace kinship::inputs
