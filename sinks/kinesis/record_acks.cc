#include "sinks/kinesis/record_acks.h"

#include <algorithm>

namespace kinship::kinesis {

void RecordAcks::hold(pipeline::BatchPtr batch, size_t kept) {
  if (kept == 0) {
    batch->notifyAcknowledged();  // every record was a dead letter: the batch is done
    return;                       // and goes back to the pool here
  }
  batch->setUnacknowledged(kept);
  held_.push_back(std::move(batch));
}

void RecordAcks::told(const pipeline::RecordBatch& batch) {
  const auto& receiver = batch.ackReceiver();
  if (!receiver) return;
  if (!unsettled_.empty() && unsettled_.back() == receiver) return;
  if (std::find(unsettled_.begin(), unsettled_.end(), receiver) == unsettled_.end()) unsettled_.push_back(receiver);
}

void RecordAcks::doneAtAdmission(const pipeline::RecordBatch& batch, uint32_t index) {
  batch.notifyRecordDone(index);
  told(batch);
}

void RecordAcks::done(const PendingRecord& record) {
  pipeline::RecordBatch& batch = *record.batch;
  batch.notifyRecordDone(record.index);
  told(batch);
  if (!batch.acknowledgeOne()) return;
  batch.notifyAcknowledged();
  for (size_t i = 0; i < held_.size(); ++i) {
    if (held_[i].get() == &batch) {
      std::swap(held_[i], held_.back());
      held_.pop_back();  // recycles the batch
      return;
    }
  }
}

void RecordAcks::settle() {
  for (const auto& receiver : unsettled_) receiver->recordsSettled();
  unsettled_.clear();
}

}  // namespace kinship::kinesis
