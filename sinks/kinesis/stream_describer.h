#pragma once
// StreamDescriber: asks the stream once, at start, how large its records may
// be (DescribeStreamSummary's MaxRecordSizeInKiB: 1 MiB unless the stream was
// configured for up to 10 MiB), for a sink whose config does not set
// max_record_size. It writes the request body and reads the answer; the sink
// sends it through the same transport as PutRecords. An answer without the
// field (an older endpoint, kinesalite) or a failure (no
// kinesis:DescribeStreamSummary permission) leaves the 1 MiB default, with
// one log line saying how to set it.
// Not thread-safe: the sink's sender thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "aws/http_transport.h"
#include "common/status.h"

namespace kinship::kinesis {

class StreamDescriber {
 public:
  // What Kinesis allows a stream's records to be configured to.
  static constexpr size_t kMinRecordSize = 1024 * 1024;
  static constexpr size_t kMaxRecordSize = 10 * 1024 * 1024;

  // `streamField` is "StreamName" or "StreamARN".
  StreamDescriber(std::string_view streamField, std::string_view streamValue);

  std::string_view body() const { return body_; }

  // The stream's record size limit in bytes from the answer, or nullopt
  // (then logged once, with the reason): the answer failed, lacks
  // MaxRecordSizeInKiB, or holds a value outside 1,024..10,240 KiB.
  std::optional<size_t> onAnswer(const aws::HttpRequest& http);
  // The request could not be sent (no usable credentials yet).
  void onNotSent(const Status& why);

  // The size a DescribeStreamSummary answer body gives, or an error saying
  // why there is none. Public for tests.
  static Result<size_t> maxRecordSizeOf(std::string_view answerBody);

 private:
  void keepDefault(std::string_view why);

  std::string streamValue_;
  std::string body_;
};

}  // namespace kinship::kinesis
