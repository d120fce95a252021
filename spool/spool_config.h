#pragma once
// A pipeline's `spool` options in typed form (the schema table is
// config::spoolSchema(), with the daemon's own tables).

#include <string>

#include "config/schema.h"
#include "spool/spool.h"

namespace kinship::spool {

enum class WhenFull { kBlock, kDropNewest, kDropOldest };

struct SpoolConfig {
  bool disk = true;  // false: mode memory, no spool
  SpoolOptions options;
  WhenFull whenFull = WhenFull::kBlock;
};

std::string_view whenFullName(WhenFull policy);

// Throws config::ConfigError (through `section`) for values the schema
// cannot check: an fsync that is neither always, never nor a duration; a
// max_size under two segments.
SpoolConfig spoolConfigFrom(const config::Section& section, const std::string& dataDir,
                            const std::string& pipelineName);

}  // namespace kinship::spool
