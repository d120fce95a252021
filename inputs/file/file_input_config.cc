#include "inputs/file/file_input_config.h"

#include "inputs/parser_option.h"

namespace kinship::inputs {

namespace {

using config::Option;
using config::ValueType;

using config::kKiB;
using config::kMiB;

const Option kFileInputOptions[] = {
    {.name = "paths",
     .type = ValueType::kStringList,
     .required = true,
     .help = "Glob patterns of the files to tail, e.g. [\"/var/log/app/*.log\"]. Files that appear later are "
             "picked up and read from their beginning."},
    {.name = "start_at",
     .type = ValueType::kEnum,
     .defaultValue = "end",
     .choices = "beginning|end",
     .help = "Where to start in files that already exist when kinship starts: `beginning` ships their "
             "whole content, `end` only what is appended from now on."},
    kParserOption,
    {.name = "poll_interval",
     .type = ValueType::kDuration,
     .defaultValue = "1s",
     .minValue = 10,
     .maxValue = 60 * 60 * 1000,
     .help = "How often to look for new files and for growth that inotify did not report (network "
             "filesystems, paths under wildcard directories)."},
    {.name = "checkpoint_interval",
     .type = ValueType::kDuration,
     .defaultValue = "1s",
     .minValue = 10,
     .maxValue = 60 * 60 * 1000,
     .help = "How often to save the input's checkpoints (when they changed): for each file, the offset up to "
             "which Kinesis has acknowledged every line, in `<data_dir>/checkpoints/<pipeline>.<input>.json`, "
             "written atomically. They are saved once more at shutdown, after the sink has drained. A restart "
             "resumes each file (recognised by device, inode and its first 64 bytes) at its checkpoint, whatever "
             "`start_at` says, so a clean stop neither loses nor repeats a line; after a crash or kill -9, lines "
             "acknowledged since the last save are sent again (at-least-once). A file shorter than its checkpoint "
             "was truncated and is read from its start."},
    {.name = "read_buffer_size",
     .type = ValueType::kSize,
     .defaultValue = "256KiB",
     .minValue = 4 * kKiB,
     .maxValue = 64 * kMiB,
     .help = "Bytes read from a file per system call."},
    {.name = "max_line_size",
     .type = ValueType::kSize,
     .defaultValue = "1023KiB",
     .minValue = 1,
     .maxValue = 10 * kMiB,
     .help = "Longest line kept, in bytes without the line ending. The default is Kinesis's 1 MiB record limit "
             "less 1 KiB of room for the partition key. Longer lines are dropped, counted in "
             "kinship_input_dropped_total{reason=\"line_too_long\"} and logged; the file keeps being followed."},
};

}  // namespace

config::Schema fileInputSchema() { return kFileInputOptions; }

FileInputConfig fileInputConfigFrom(const config::Section& section) {
  FileInputConfig c;
  c.paths = section.getStringList("paths");
  if (c.paths.empty()) section.fail("paths", "at least one path is needed");
  for (const auto& p : c.paths) {
    if (p.empty()) section.fail("paths", "a path is empty");
  }
  c.startAtEnd = section.getString("start_at") == "end";
  c.parser = parserFrom(section);
  c.pollInterval = section.getDuration("poll_interval");
  c.checkpointInterval = section.getDuration("checkpoint_interval");
  c.readBufferSize = section.getSize("read_buffer_size");
  c.maxLineSize = section.getSize("max_line_size");
  return c;
}

}  // namespace kinship::inputs
