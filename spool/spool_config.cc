#include "spool/spool_config.h"

namespace kinship::spool {

std::string_view whenFullName(WhenFull policy) {
  switch (policy) {
    case WhenFull::kBlock: return "block";
    case WhenFull::kDropNewest: return "drop_newest";
    case WhenFull::kDropOldest: return "drop_oldest";
  }
  return "block";
}

SpoolConfig spoolConfigFrom(const config::Section& section, const std::string& dataDir,
                            const std::string& pipelineName) {
  SpoolConfig c;
  c.disk = section.getString("mode") == "disk";
  c.options.dir = section.has("dir") ? section.getString("dir") : dataDir + "/spool/" + pipelineName;
  if (c.options.dir.empty()) section.fail("dir", "the spool directory is empty");
  c.options.maxTotalBytes = section.getSize("max_size");
  c.options.segmentBytes = section.getSize("segment_size");
  if (c.options.maxTotalBytes < 2 * c.options.segmentBytes) {
    section.fail("max_size", "must be at least twice segment_size (" + config::formatSize(c.options.segmentBytes) +
                                 "), so that a full segment can be deleted while the next one fills");
  }
  std::string fsync = section.getString("fsync");
  if (fsync == "always") {
    c.options.fsync = FsyncPolicy::kAlways;
  } else if (fsync == "never") {
    c.options.fsync = FsyncPolicy::kNever;
  } else if (auto interval = config::parseDuration(fsync); interval && interval->count() > 0) {
    c.options.fsync = FsyncPolicy::kInterval;
    c.options.fsyncInterval = *interval;
  } else {
    // parseDuration refuses what would overflow a clock: such an interval
    // once wrapped around to negative and fsynced on every append.
    section.fail("fsync", "'" + fsync + "' is not `always`, `never` or a duration from 1ms to " +
                              config::formatDuration(std::chrono::milliseconds(config::kMaxDuration)) +
                              " such as 1s");
  }
  std::string whenFull = section.getString("when_full");
  c.whenFull = whenFull == "drop_newest"   ? WhenFull::kDropNewest
               : whenFull == "drop_oldest" ? WhenFull::kDropOldest
                                           : WhenFull::kBlock;
  return c;
}

}  // namespace kinship::spool
