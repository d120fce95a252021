#include "inputs/file/file_input_config.h"

#include <re2/re2.h>

#include "inputs/parser_option.h"

namespace kinship::inputs {

namespace {

using config::Option;
using config::ValueType;

using config::kKiB;
using config::kMiB;
using config::kSecond;

const Option kFileInputOptions[] = {
    {.name = "paths",
     .type = ValueType::kStringList,
     .required = true,
     .help = "Glob patterns of the files to tail, e.g. [\"/var/log/app/*.log\"]. Files that appear later are "
             "picked up and read from their beginning."},
    {.name = "exclude",
     .type = ValueType::kStringList,
     .defaultValue = "[]",
     .help = "Glob patterns (fnmatch, where `*` also matches `/`) of paths not to tail even though `paths` "
             "matches them, e.g. [\"*.gz\", \"/var/log/app/debug-*\"]. Each is matched against the file's full "
             "path as `paths` found it. A followed file renamed to an excluded name is read to its end, then "
             "closed."},
    {.name = "start_at",
     .type = ValueType::kEnum,
     .defaultValue = "end",
     .choices = "beginning|end",
     .help = "Where to start in files that already exist when kinship starts: `beginning` ships their "
             "whole content, `end` only what is appended from now on."},
    kFileParserOption,
    kInnerParserOption,
    kPatternOption,
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
             "resumes each file (recognised by device, inode, its first 64 bytes and the 64 bytes before its "
             "checkpoint) at its checkpoint, whatever "
             "`start_at` says, so a clean stop neither loses nor repeats a line; after a crash or kill -9, lines "
             "acknowledged since the last save are sent again (at-least-once). A file shorter than its checkpoint "
             "was truncated and is read from its start."},
    {.name = "read_buffer_size",
     .type = ValueType::kSize,
     .defaultValue = "256KiB",
     .minValue = 4 * kKiB,
     .maxValue = 64 * kMiB,
     .help = "Bytes read from a file per system call, into one buffer that all the files of the input share (they "
             "are read one at a time): memory per input, not per file. A file keeps of its own only its unfinished "
             "last line, while it is held."},
    {.name = "max_line_size",
     .type = ValueType::kSize,
     .defaultValue = "1023KiB",
     .minValue = 1,
     .maxValue = 10 * kMiB,
     .help = "Longest line kept whole, in bytes without the line ending. The default is Kinesis's 1 MiB record "
             "limit less 1 KiB of room for the partition key. With `parser: cri` or `docker`, also the longest "
             "application line joined from the runtime's pieces. What happens to longer lines: see `long_lines`."},
    {.name = "long_lines",
     .type = ValueType::kEnum,
     .defaultValue = "drop",
     .choices = "drop|split",
     .help = "Lines longer than `max_line_size`: `drop` drops them, counted in "
             "kinship_input_dropped_total{reason=\"line_too_long\"} and logged; `split` ships them as consecutive "
             "records of `max_line_size` bytes (the last one shorter), each cut counted in "
             "kinship_input_records_split_total{reason=\"line_too_long\"}. Either way the file keeps being "
             "followed."},
    {.name = "partial_line_timeout",
     .type = ValueType::kDuration,
     .defaultValue = "5s",
     .minValue = 10,
     .maxValue = 60 * 60 * kSecond,
     .help = "A last line without a newline that has not grown for this long is shipped as a record (a newline "
             "written later just ends it). It is also shipped when its file is closed after rotation or deletion. "
             "Until then it is held, and checkpoints stay before it. With `parser: cri` or `docker`, an "
             "application line the runtime cut whose next piece has not come for this long is shipped as far as "
             "it came, in the same way."},
    {.name = "multiline",
     .type = ValueType::kSection,
     .help = "Joins lines into multiline records, such as stack traces: a map with `start` (required: an RE2 "
             "regular expression; a line in which it matches begins a record), `timeout` (default `1s`, from 10ms "
             "to 1h: a record with no new line for this long is shipped) and `max_size` (default `1023KiB`, from "
             "1KiB to 10MiB: a record that would grow past it is shipped and the rest continues as a new record, "
             "each cut counted in kinship_input_records_split_total{reason=\"multiline_max_size\"}). Lines that "
             "follow a start line and do not match are appended, joined with \"\\n\". A record is shipped when the "
             "next start line arrives, on its timeout, at max_size and when its file is closed. Lines before a "
             "file's first start line are records of their own. Checkpoints stay before a record still being "
             "joined, so a restart reads it again whole. Absent: each line is a record."},
};

const Option kMultilineOptions[] = {
    {.name = "start",
     .type = ValueType::kString,
     .required = true,
     .help = "RE2 regular expression; a line in which it matches begins a record, e.g. \"^\\\\d{4}-\\\\d{2}-\\\\d{2} \"."},
    {.name = "timeout",
     .type = ValueType::kDuration,
     .defaultValue = "1s",
     .minValue = 10,
     .maxValue = 60 * 60 * kSecond,
     .help = "A record with no new line for this long is shipped."},
    {.name = "max_size",
     .type = ValueType::kSize,
     .defaultValue = "1023KiB",
     .minValue = kKiB,
     .maxValue = 10 * kMiB,
     .help = "Largest record; a record that would grow past it is shipped and the rest continues as a new record."},
};

MultilineConfig multilineConfigFrom(const config::Section& parent) {
  config::Section section = parent.nested("multiline", kMultilineOptions);
  MultilineConfig c;
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto start = std::make_shared<const re2::RE2>(section.getString("start"), options);
  if (!start->ok()) section.fail("start", "not a valid RE2 regular expression: " + start->error());
  c.start = std::move(start);
  c.timeout = section.getDuration("timeout");
  c.maxSize = section.getSize("max_size");
  return c;
}

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
  c.parser = fileParserFrom(section);
  c.pollInterval = section.getDuration("poll_interval");
  c.checkpointInterval = section.getDuration("checkpoint_interval");
  c.readBufferSize = section.getSize("read_buffer_size");
  c.maxLineSize = section.getSize("max_line_size");
  c.longLines = section.getString("long_lines") == "split" ? LongLines::kSplit : LongLines::kDrop;
  c.partialLineTimeout = section.getDuration("partial_line_timeout");
  if (section.isSet("multiline")) c.multiline = multilineConfigFrom(section);
  c.exclude = section.getStringList("exclude");
  for (const auto& p : c.exclude) {
    if (p.empty()) section.fail("exclude", "a pattern is empty");
  }
  return c;
}

}  // namespace kinship::inputs
