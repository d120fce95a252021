#pragma once
// Kinesis error taxonomy: turns a failed PutRecords exchange (a transport
// failure, an HTTP status, an AWS error type) into the one thing the sink
// must do about it, plus a bounded metric label. The decisions live in one
// table in kinesis_errors.cc, so what the sink does for each error can be
// read (and reviewed) in one place.
//
// Pure functions over constant data: thread-safe, no allocation except the
// returned label.

#include <cstdint>
#include <string>
#include <string_view>

#include "aws/http_transport.h"

namespace kinship::kinesis {

enum class ErrorAction : uint8_t {
  // A passing fault (5xx, reset, timeout): back off and retry the same
  // records.
  kRetry,
  // Throughput exceeded (stream, shard, account or KMS): back off and slow
  // down; the caller reduces its send rate.
  kThrottle,
  // The request was refused as invalid: split it to find the bad record(s).
  // A single record refused this way goes to the dead-letter file.
  kBisect,
  // HTTP 413: the request body is too large; split it. A single record
  // refused this way goes to the dead-letter file.
  kTooLarge,
  // Retrying cannot fix it (permissions, missing stream, KMS key state,
  // credentials, TLS trust, an unknown 4xx): pause the sink, keep the data,
  // probe periodically, report not ready until a probe succeeds.
  kPause,
  // The endpoint says the credentials expired (ExpiredToken) before we
  // knew: fetch new ones at once and retry the same records after their
  // backoff. Not a pause: a refresh usually fixes it.
  kRefreshCredentials,
  // There is no "refresh the shard map" action: no PutRecords error says
  // the map is stale. Kinesis routes each record by hash key itself, and a
  // ResourceNotFoundException names the stream, not a shard (a shard-level
  // case cannot be told apart from a deleted or misnamed stream, so it
  // pauses). The sink lists shards again itself when an accepted record
  // lands in a shard its map lacks (ShardLister).
};

std::string_view errorActionName(ErrorAction action);  // "retry", "throttle", ... for logs

struct ErrorClass {
  ErrorAction action;
  // Metric label: the AWS error type when the table knows it, else
  // "http_<status>", else "transport_<kind>". Unknown AWS types are NOT
  // used as labels, so a misbehaving peer cannot grow the label set; the
  // caller logs the raw answer.
  std::string label;
};

// What went wrong below HTTP, as the transport reports it.
using aws::TransportFailure;
using aws::transportFailureName;

// Classifies one request-level failure.
//   httpStatus:   the HTTP status, 0 when no answer arrived.
//   awsErrorType: the "__type" of the answer, as errorTypeOf() in
//                 put_records_response.h returns it; a "namespace#" prefix
//                 left on is ignored. May be empty.
//   transport:    kNone unless the exchange failed below HTTP.
// Precedence: a transport failure wins over any status (an answer cut off
// midway is a transport failure); then a known AWS type wins over the
// status (Kinesis sends throttling as 400); then the status. A status of 0
// without a transport failure is treated as TransportFailure::kOther.
ErrorClass classifyRequestError(int httpStatus, std::string_view awsErrorType, TransportFailure transport);

// Classifies the ErrorCode of one failed record in a 200 PutRecords answer.
// The API documents only ProvisionedThroughputExceededException (kThrottle)
// and InternalFailure (kRetry); any other code the table knows gets its
// table action (kBisect then means "this record is invalid": it needs no
// splitting, it is the dead letter), and an unknown code is retried with
// label "other", as it is today.
ErrorClass classifyRecordError(std::string_view errorCode);

}  // namespace kinship::kinesis
