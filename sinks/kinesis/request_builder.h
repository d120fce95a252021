#pragma once
// RequestBuilder: the body of one PutRecords request and the limits it must
// keep: at most maxRecords records and maxBytes of data plus partition keys
// (Kinesis: 500 and 5 MiB), each record at most maxRecordSize with its key.
// The encoder writes each record straight into the body as it is added, so
// a full request is ready to sign the moment the last record fits.
// One per request slot: the body stays valid while the request is in
// flight, and its buffer is reused by the next request.
// Not thread-safe: the sink's sender thread.

#include <cstddef>
#include <string_view>

#include "sinks/kinesis/pending_record.h"
#include "sinks/kinesis/put_records_encoder.h"

namespace kinship::kinesis {

struct RequestLimits {
  size_t maxRecords;
  size_t maxBytes;
  size_t maxRecordSize;

  // Whether a record of `bytes` (data plus key) can ever be sent; one that
  // cannot is a dead letter at admission.
  bool recordFits(size_t bytes) const { return bytes <= maxRecordSize; }
};

class RequestBuilder {
 public:
  RequestBuilder(std::string_view streamField, std::string_view streamValue, WireProtocol protocol,
                 const RequestLimits& limits)
      : encoder_(streamField, streamValue, protocol), limits_(limits) {}

  // Starts an empty request.
  void begin() {
    encoder_.begin();
    records_ = 0;
    bytes_ = 0;
  }
  // Whether a record of `bytes` still fits. A first record always fits (it
  // passed recordFits at admission).
  bool hasRoomFor(size_t bytes) const {
    return records_ < limits_.maxRecords && (records_ == 0 || bytes_ + bytes <= limits_.maxBytes);
  }
  // Adds a record; call after hasRoomFor.
  void add(const PendingRecord& p) {
    encoder_.add(p.data(), p.key(), p.explicitHashKey());
    ++records_;
    bytes_ += p.bytes;
  }
  // Adds a Kinesis record that is not one user record (an aggregated
  // record: kpl_aggregator.h); call after checking that it fits.
  void addKinesisRecord(std::string_view data, std::string_view partitionKey, std::string_view explicitHashKey) {
    encoder_.add(data, partitionKey, explicitHashKey);
    ++records_;
    bytes_ += data.size() + partitionKey.size();
  }
  // No other record can join: the record count is at its limit.
  bool full() const { return records_ >= limits_.maxRecords; }
  // Closes the body; it stays valid until the next begin().
  std::string_view finish() { return encoder_.finish(); }

  // Kinesis records, and their bytes of data plus keys.
  size_t records() const { return records_; }
  size_t bytes() const { return bytes_; }
  const RequestLimits& limits() const { return limits_; }
  // New limits (the stream's record size, learned at start) for the next
  // records added.
  void setLimits(const RequestLimits& limits) { limits_ = limits; }

 private:
  PutRecordsEncoder encoder_;
  RequestLimits limits_;
  size_t records_ = 0;
  size_t bytes_ = 0;
};

}  // namespace kinship::kinesis
