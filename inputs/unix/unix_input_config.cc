#include "inputs/unix/unix_input_config.h"

#include <sys/un.h>

#include <fmt/format.h>

#include "inputs/parser_option.h"

namespace kinship::inputs {

namespace {

using config::Option;
using config::ValueType;

using config::kGiB;
using config::kKiB;
using config::kMiB;

const Option kUnixInputOptions[] = {
    {.name = "path",
     .type = ValueType::kString,
     .required = true,
     .help = "Filesystem path of the socket kinship creates, e.g. /run/kinship/app.sock. Its directory must "
             "exist. A stale socket left by an earlier run is replaced; kinship refuses to start if another "
             "process is listening on it or if the path is not a socket."},
    {.name = "mode",
     .type = ValueType::kEnum,
     .defaultValue = "stream",
     .choices = "stream|datagram",
     .help = "`stream`: clients connect and write newline-delimited lines (a last line without newline "
             "counts when the client closes), or octet-counted frames (see `framing`); reading pauses while the "
             "pipeline queue is full. `datagram`: "
             "each datagram is one record, less one trailing newline, like /dev/log; datagrams that arrive "
             "while the queue is full are dropped and counted in "
             "kinship_input_dropped_total{reason=\"queue_full\"}."},
    {.name = "framing",
     .type = ValueType::kEnum,
     .defaultValue = "newline",
     .choices = "newline|octet_counted",
     .help = "Stream mode: how records are told apart. `newline`: each line is a record. `octet_counted` (RFC "
             "6587, as rsyslog's omfwd with TCP_Framing=\"octet-counted\" and syslog-ng send syslog): each record "
             "is `<length> <message>`, the length in decimal bytes, so a message may hold newlines; newlines "
             "between frames are skipped and one at the end of a message is left out. A frame over "
             "`max_line_size` is skipped and counted in kinship_input_dropped_total{reason=\"line_too_long\"}, "
             "and the connection goes on; a length that is not a number (where the next frame starts is then "
             "unknown) or a frame cut short by the client closing is counted in "
             "kinship_input_dropped_total{reason=\"bad_frame\"}, logged, and the connection closed."},
    kParserOption,
    kPatternOption,
    {.name = "socket_mode",
     .type = ValueType::kString,
     .defaultValue = "0660",
     .help = "Permissions of the socket file, in octal (\"0660\": owner and group may connect). Applied "
             "exactly, whatever the umask."},
    {.name = "socket_group",
     .type = ValueType::kString,
     .help = "Group name to give the socket file, so that its members may connect (with socket_mode 0660). "
             "kinship refuses to start if the group does not exist. Default: the daemon's group."},
    {.name = "max_line_size",
     .type = ValueType::kSize,
     .defaultValue = "1023KiB",
     .minValue = 1,
     .maxValue = 10 * kMiB,
     .help = "Longest record kept, in bytes without the line ending (a whole datagram in datagram mode). "
             "Longer ones are dropped and counted in kinship_input_dropped_total{reason=\"line_too_long\"}; "
             "the connection keeps being read."},
    {.name = "max_connections",
     .type = ValueType::kInt,
     .defaultValue = "256",
     .minValue = 1,
     .maxValue = 65536,
     .help = "Stream mode: most clients connected at once. Further connections are closed as soon as they are "
             "accepted and counted in kinship_input_connections_rejected_total."},
    {.name = "max_buffer_size",
     .type = ValueType::kSize,
     .defaultValue = "64MiB",
     .minValue = 128 * kKiB,
     .maxValue = 16 * kGiB,
     .help = "Stream mode: most memory the receive buffers of all connections take together, which bounds what "
             "clients can make kinship hold in unfinished lines. Each connection takes 64 KiB, more while it "
             "sends a longer line. A line whose buffer would have to grow past this is dropped and counted in "
             "kinship_input_dropped_total{reason=\"buffer_limit\"} (the connection keeps being read); a new "
             "connection that does not fit is closed and counted in kinship_input_connections_rejected_total. "
             "At least max_line_size + 64KiB, so that one client alone can always send a line of "
             "max_line_size."},
};

}  // namespace

config::Schema unixInputSchema() { return kUnixInputOptions; }

UnixInputConfig unixInputConfigFrom(const config::Section& section) {
  UnixInputConfig c;
  c.path = section.getString("path");
  if (c.path.empty()) section.fail("path", "the path is empty");
  // sun_path holds the path and its terminating NUL.
  constexpr size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
  if (c.path.size() > kMaxPath) {
    section.fail("path", fmt::format("{} bytes long; a Unix socket path may have at most {}", c.path.size(), kMaxPath));
  }
  c.mode = section.getString("mode") == "datagram" ? UnixInputConfig::Mode::kDatagram : UnixInputConfig::Mode::kStream;
  c.parser = parserFrom(section);
  c.framing = section.getString("framing") == "octet_counted" ? UnixInputConfig::Framing::kOctetCounted
                                                                : UnixInputConfig::Framing::kNewline;
  if (c.mode == UnixInputConfig::Mode::kDatagram && section.isSet("framing")) {
    section.fail("framing", "`framing` applies to mode: stream only (a datagram is one record)");
  }

  std::string modeText = section.getString("socket_mode");
  bool octal = !modeText.empty() && modeText.size() <= 4 && modeText.find_first_not_of("01234567") == std::string::npos;
  if (!octal) {
    section.fail("socket_mode", fmt::format("'{}' is not an octal permission such as \"0660\"", modeText));
  }
  c.socketMode = static_cast<mode_t>(std::stoul(modeText, nullptr, 8));
  if (c.socketMode > 0777) {
    section.fail("socket_mode", fmt::format("'{}': only permission bits (at most 0777) apply to a socket", modeText));
  }

  if (section.has("socket_group")) {
    c.socketGroup = section.getString("socket_group");
    if (c.socketGroup->empty()) section.fail("socket_group", "the group name is empty");
  }
  c.maxLineSize = section.getSize("max_line_size");
  c.maxConnections = static_cast<int>(section.getInt("max_connections"));
  c.maxBufferSize = section.getSize("max_buffer_size");
  if (c.mode == UnixInputConfig::Mode::kStream && c.maxBufferSize < c.maxLineSize + kStreamReadBufferSize) {
    section.fail("max_buffer_size",
                 fmt::format("{} bytes is less than max_line_size + 64KiB ({} bytes): a line of max_line_size could "
                             "never be received",
                             c.maxBufferSize, c.maxLineSize + kStreamReadBufferSize));
  }
  return c;
}

}  // namespace kinship::inputs
