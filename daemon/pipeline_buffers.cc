#include "daemon/pipeline_buffers.h"

#include "config/schema.h"

namespace kinship::daemon {

PipelineBuffers pipelineBuffersFor(const config::Section& pipelineOptions, bool diskSpool) {
  PipelineBuffers buffers;
  if (pipelineOptions.isSet("queue_size")) {
    buffers.queueBytes = pipelineOptions.getSize("queue_size");
  } else {
    buffers.queueBytes = diskSpool ? kDiskModeQueueSize : kMemoryModeQueueSize;
  }
  if (diskSpool) buffers.readAheadBytes = buffers.queueBytes / 2;
  return buffers;
}

}  // namespace kinship::daemon
