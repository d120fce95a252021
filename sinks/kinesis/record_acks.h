#pragma once
// RecordAcks: the acknowledgements the Kinesis sink sends back. It holds
// each admitted batch (the records' bytes live there) until every record of
// it is done, then tells the batch's source (AckReceiver::acknowledged) and
// lets the batch go back to its pool. As each record is done, accepted or
// given up as a dead letter, it tells the source at once
// (RecordBatch::notifyRecordDone); settle() then lets every source told so
// since the last settle() make that durable (AckReceiver::recordsSettled),
// once for all of them. The sink settles once per turn of its loop, after
// the answers and admissions of the turn and before any freed request
// slot sends again, so at most max_in_flight requests' worth of records is
// ever sent and not yet settled.
// Not thread-safe: the sink's sender thread.

#include <cstddef>
#include <memory>
#include <vector>

#include "pipeline/batch_queue.h"
#include "sinks/kinesis/pending_record.h"

namespace kinship::kinesis {

class RecordAcks {
 public:
  // Holds `batch`, of which `kept` records were admitted (the others are
  // done already); a batch with none is acknowledged and let go at once.
  void hold(pipeline::BatchPtr batch, size_t kept);
  // A held record is done.
  void done(const PendingRecord& record);
  // A record done before it was held (a dead letter at admission).
  void doneAtAdmission(const pipeline::RecordBatch& batch, uint32_t index);
  // Lets each source told of records since the last call settle them.
  void settle();
  // Batches still held.
  size_t held() const { return held_.size(); }
  // Lets every held batch go without acknowledging it (at shutdown).
  void clear() { held_.clear(); }

 private:
  void told(const pipeline::RecordBatch& batch);

  std::vector<pipeline::BatchPtr> held_;
  // Sources told of single records since the last settle().
  std::vector<std::shared_ptr<pipeline::AckReceiver>> unsettled_;
};

}  // namespace kinship::kinesis
