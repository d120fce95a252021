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
  // Each batch just appended goes to the sink from memory when the reader
  // has caught up, rather than being read back (spool_stage.h). On for the
  // daemon (spoolConfigFrom); off by default, so a test can exercise reading.
  bool deliverFromMemory = false;
  // With deliverFromMemory: how long the writer waits, when the batches
  // handed on are not yet taken, before it appends more for the disk alone
  // (0: never waits). For pipelines whose inputs can all pause (files: the
  // file keeps the backlog); not for sockets, which would drop instead.
  std::chrono::milliseconds holdBack{0};
};

std::string_view whenFullName(WhenFull policy);

// Throws config::ConfigError (through `section`) for values the schema
// cannot check: an fsync that is neither always, never nor a duration; a
// max_size under two segments.
SpoolConfig spoolConfigFrom(const config::Section& section, const std::string& dataDir,
                            const std::string& pipelineName);

}  // namespace kinship::spool
