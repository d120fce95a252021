#pragma once
// ShardLister: keeps the sink's shard map current. It writes the ListShards
// requests (one page at a time), reads the answers into a ShardMap, and
// decides when to list again: every refresh interval, at once when an
// accepted record lands in a shard the map lacks (the stream was
// resharded), after a failure sooner (at most 30 s), and after
// AccessDenied only at the refresh interval (the sink then sends unpaced).
// It neither signs nor sends: the sink sends its bodies through the same
// transport as PutRecords.
// Not thread-safe: the sink's sender thread.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http_transport.h"
#include "common/clock.h"
#include "common/status.h"
#include "sinks/kinesis/shard_map.h"

namespace kinship::kinesis {

class ShardLister {
 public:
  // `streamField` is "StreamName" or "StreamARN".
  ShardLister(std::string streamField, std::string streamValue, std::chrono::milliseconds refreshInterval);

  // Whether a listing should begin now.
  bool due(Clock::TimePoint now) const { return !listing_ && now >= nextRefresh_; }
  bool listing() const { return listing_; }
  // When the next listing is due (while none runs).
  Clock::TimePoint nextRefresh() const { return nextRefresh_; }
  // Lists again at the next turn (a record landed in an unknown shard).
  void refreshAt(Clock::TimePoint when) { nextRefresh_ = when; }

  // Begins a listing; returns the first page's request body, valid until
  // the next call.
  std::string_view begin();

  struct Step {
    enum class Kind {
      kNextPage,  // send body() for the next page
      kMap,       // the listing is complete: `map`
      kFailed,    // the listing failed; `errorLabel` for the metric
    };
    Kind kind;
    ShardMap map{};
    std::string errorLabel{};
  };
  // Reads the answer to the last page request.
  Step onAnswer(aws::HttpRequest& http, Clock::TimePoint now);
  // The page request could not be sent (no usable credentials).
  Step onNotSent(const Status& why, Clock::TimePoint now);
  std::string_view body() const { return body_; }

 private:
  void writeBody(const std::string& nextToken);
  Step failed(const std::string& type, const std::string& problem, Clock::TimePoint now);

  std::string streamField_;
  std::string streamValue_;
  std::chrono::milliseconds refreshInterval_;
  std::string body_;
  std::vector<ShardRange> listed_;
  bool listing_ = false;
  bool warnedDenied_ = false;
  Clock::TimePoint nextRefresh_{};
};

}  // namespace kinship::kinesis
