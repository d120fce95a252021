#pragma once
// How many bytes of records a pipeline holds in memory between its stages,
// which depends on where its backlog waits.
//
// In memory mode (spool.mode: memory) the pipeline's queue is the only
// buffer between the inputs and the sink: it rides out bursts and short
// outages, so it is large by default. In disk mode the spool holds the
// backlog, and memory only has to keep the spool writer and the sink busy:
// a small queue does that as fast (bench/RESULTS.md, "queue_size in disk
// mode") and keeps the daemon's peak memory low. `queue_size`, when set,
// wins in both modes.
//
// Startup and reload only.

#include <cstddef>

namespace kinship::config {
class Section;
}

namespace kinship::daemon {

// queue_size's defaults; the option's help in config/daemon_schema.cc
// states them.
inline constexpr size_t kDiskModeQueueSize = size_t{1} << 20;    // 1MiB
inline constexpr size_t kMemoryModeQueueSize = size_t{8} << 20;  // 8MiB

struct PipelineBuffers {
  // The pipeline's queue: inputs -> spool writer (disk) or sink (memory).
  size_t queueBytes = 0;
  // Disk mode: read ahead from the spool for the sink (half the queue);
  // 0 in memory mode, where the sink reads the queue itself.
  size_t readAheadBytes = 0;
};

// `pipelineOptions` validated against config::pipelineSchema().
PipelineBuffers pipelineBuffersFor(const config::Section& pipelineOptions, bool diskSpool);

}  // namespace kinship::daemon
