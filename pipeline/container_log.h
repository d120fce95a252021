#pragma once
// Container log lines, as a Kubernetes node keeps them (/var/log/pods/...,
// linked from /var/log/containers/*.log), with the application's line inside
// what the container runtime wrote around it:
//
//   CRI (containerd, CRI-O): `<time> <stream> <tag> <log>`
//     2024-03-05T10:11:12.345678901Z stdout F {"level":"info","msg":"up"}
//   `time` is RFC 3339 with nanoseconds, `stream` stdout or stderr, `tag` F
//   (full: the line ends here) or P (partial: the runtime cut the
//   application's line, at 16 KiB by default, and the rest follows in later
//   lines of the same stream); further tags may follow after a `:`, as the
//   CRI allows. `log` is the application's line as written, without its
//   newline.
//
//   Docker json-file: one JSON object a line,
//     {"log":"{\"level\":\"info\"}\n","stream":"stdout","time":"2024-03-05T10:11:12.345678901Z"}
//   `log` holds the application's line JSON-escaped, with its newline; a
//   `log` without one is a piece the daemon cut (at 16 KiB), continued by
//   the following lines of the same stream. Other members (`attrs`) are
//   ignored.
//
// ContainerLogReader reads one such line into a ContainerLogEntry; joining a
// line's pieces is the file input's job (inputs/file/container_log_assembler.h).
// The pipeline then receives the application's line with a ContainerLine
// (its time and stream), and reads the line with the input's inner parser;
// ContainerFields shows a template both.

#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "pipeline/parser.h"
#include "pipeline/record_fields.h"

namespace kinship::pipeline {

// One line of a container log file, read. The views point into the line
// (CRI) or into the reader (docker's unescaped log): valid until the next
// read() and while the line's bytes are.
struct ContainerLogEntry {
  std::string_view time;
  std::string_view stream;
  std::string_view log;  // the application's bytes, without the newline
  bool partial = false;  // the application's line goes on in the next entry of this stream
};

// Reads the lines of one container log format (kCri or kDocker). One per
// input, used on its thread; a docker reader keeps a JSON parser, whose
// buffers grow to the longest line and are reused.
class ContainerLogReader {
 public:
  explicit ContainerLogReader(ParserKind format) : format_(format) {}

  ParserKind format() const { return format_; }

  // Reads `line`; returns why it is not a line of the format, or nothing
  // when `entry` holds it. Precondition: kParsePadding (simdjson's padding)
  // bytes after line.end() are readable.
  std::optional<ParseFailure> read(std::string_view line, ContainerLogEntry& entry);

 private:
  ParserKind format_;
  simdjson::dom::parser json_;
};

// Reads a CRI line (no padding needed); what ContainerLogReader does for kCri.
std::optional<ParseFailure> readCriLine(std::string_view line, ContainerLogEntry& entry);

// What the pipeline receives with a line from a container log file: the
// runtime's time and stream of the application's line (of its first piece
// when it came in several), or, for a line that is not of the format, why:
// the line then is the whole line as read, and has no fields.
struct ContainerLine {
  std::string_view time;
  std::string_view stream;
  std::optional<ParseFailure> failure;
};

// A ContainerLine kept beyond the line it came with (while pieces are
// joined). Its strings keep their capacity: no allocation once grown.
class HeldContainerLine {
 public:
  void assign(const ContainerLine& line) {
    time_.assign(line.time);
    stream_.assign(line.stream);
    failure_ = line.failure;
  }
  ContainerLine view() const { return {time_, stream_, failure_}; }

 private:
  std::string time_;
  std::string stream_;
  std::optional<ParseFailure> failure_;
};

// The fields of a container log line: `time` and `stream` from the runtime
// (when the line has them), then whatever the inner parser found in the
// application's line. The runtime's two come first: an application field
// named `time` or `stream` is hidden behind them (and reached when the
// runtime wrote none). Used on the pipeline's thread; valid while the line
// and the inner fields are.
//
// In the json encoding a record keeps the runtime's shape (Docker's own):
// `{"time":..., "stream":..., "log":...}`, where `log` is the application's
// fields as an object when the inner parser read them (so no name of the
// application's clashes with the runtime's), or else its line as a string.
class ContainerFields final : public RecordFields {
 public:
  // `line`: the application's line; `innerListed`: `inner` holds what a
  // parser read from it (not a raw line's, or a failed parse's, no fields).
  void reset(const ContainerLine& container, std::string_view line, const RecordFields& inner, bool innerListed) {
    container_ = container;
    line_ = line;
    inner_ = &inner;
    innerListed_ = innerListed;
  }
  bool appendValue(const FieldPath& path, std::string& out) const override;
  bool writeJson(JsonWriter& out) const override;

 private:
  ContainerLine container_;
  std::string_view line_;
  const RecordFields* inner_ = nullptr;
  bool innerListed_ = false;
};

}  // namespace kinship::pipeline
