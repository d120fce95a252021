#pragma once
// PendingRecord: one record the Kinesis sink holds, from admission until it
// is accepted or dead-lettered: where it lives (its batch stays held, so a
// record is never copied), its size against the limits, its admission order
// and its attempts. Small and trivially copyable: the stages pass records
// by value through rings and vectors that keep their capacity.

#include <cstdint>

#include "common/clock.h"
#include "pipeline/record_batch.h"

namespace kinship::kinesis {

struct PendingRecord {
  pipeline::RecordBatch* batch;
  uint32_t index;
  uint32_t bytes;  // data plus partition key: kept here so that sending and
                   // answers need not touch the batch's index again
  uint64_t seq;    // admission order, kept across retries
  uint16_t attempts;
  // aggregation: kpl. On the first user record of an aggregated record that
  // is retried whole, how many user records (this one and those after it)
  // go again as one aggregated record; 0 otherwise.
  uint16_t group;
  Clock::TimePoint arrival;
  Clock::TimePoint notBefore;  // a retry waits until then

  std::string_view data() const { return batch->data(index); }
  std::string_view key() const { return batch->key(index); }
  std::string_view explicitHashKey() const { return batch->explicitHashKey(index); }
};

// A record taken into a request, with the shard line it came from (an index
// into the ShardRouter's lines of the shard map it was taken under) and the
// position of the Kinesis record that carries it in the request: its own
// position, or under aggregation that of its aggregated record, shared by
// the user records in it (which are next to each other in the request).
struct TakenRecord {
  PendingRecord record;
  uint32_t line;
  uint32_t slot;
};

}  // namespace kinship::kinesis
