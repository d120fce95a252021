#pragma once
// RecordOrigin: where one line came from, as its input knows it when it
// hands the line to Pipeline::addLine(): the pipeline's `add_metadata`
// fields read it (`source`, `record_id`). Built on the input's stack for
// each line and passed by reference, so it costs no allocation; the views
// must stay valid for the call only.
//
// What each input gives:
//   file          source = the file's path; a position (device, inode and
//                 the offset just past the record), which a restart reads
//                 again the same, so ids made from it are stable
//   udp           source = the sender's address, "ip:port" ("[::1]:5514"),
//                 formatted only when the pipeline asks for it
//                 (Pipeline::wantsSource())
//   unix          source = the socket's path (stream and datagram)

#include <cstdint>
#include <string_view>

namespace kinship::pipeline {

struct RecordOrigin {
  std::string_view source{};  // empty: unknown (the `source` field is then absent)
  // Files only (hasPosition): the file's identity and the offset just past
  // the record in it.
  bool hasPosition = false;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t endOffset = 0;
};

// For a pipeline that reads no origin (Pipeline::wantsOrigin()).
inline constexpr RecordOrigin kNoOrigin{};

}  // namespace kinship::pipeline
