#include "pipeline/batch_queue.h"

namespace kinship::pipeline {

namespace {
// Keep a few spare batches so a steady flow allocates nothing; beyond this,
// freed batches go back to the heap so a burst does not pin its peak memory.
constexpr size_t kMaxFreeBatches = 4;
}  // namespace

void BatchRecycler::operator()(RecordBatch* batch) const {
  if (queue != nullptr) {
    queue->recycle(batch);
  } else {
    delete batch;
  }
}

BatchQueue::BatchQueue(size_t capacityBytes) : capacityBytes_(capacityBytes) {}

BatchQueue::~BatchQueue() {
  // Queued batches point back at this queue; release them before the pool.
  std::deque<BatchPtr> drained;
  {
    std::lock_guard lock(mutex_);
    drained.swap(batches_);
  }
  for (auto& b : drained) b.get_deleter().queue = nullptr;
}

BatchPtr BatchQueue::acquire() {
  std::unique_ptr<RecordBatch> batch;
  {
    std::lock_guard lock(mutex_);
    if (!freeBatches_.empty()) {
      batch = std::move(freeBatches_.back());
      freeBatches_.pop_back();
    }
  }
  if (!batch) batch = std::make_unique<RecordBatch>();
  return BatchPtr(batch.release(), BatchRecycler{this});
}

void BatchQueue::recycle(RecordBatch* batch) {
  batch->clear();
  std::unique_ptr<RecordBatch> owned(batch);
  std::lock_guard lock(mutex_);
  if (freeBatches_.size() < kMaxFreeBatches) freeBatches_.push_back(std::move(owned));
}

void BatchQueue::push(BatchPtr batch) {
  {
    std::lock_guard lock(mutex_);
    queuedBytes_ += batch->bytes();
    batches_.push_back(std::move(batch));
    if (queuedBytes_ >= capacityBytes_) wasFull_ = true;
  }
  notEmpty_.notify_one();
}

BatchPtr BatchQueue::popUntil(std::chrono::steady_clock::time_point deadline) {
  BatchPtr batch;
  std::vector<std::function<void()>> callbacks;
  {
    std::unique_lock lock(mutex_);
    notEmpty_.wait_until(lock, deadline, [&] { return !batches_.empty() || closed_; });
    if (batches_.empty()) return nullptr;
    batch = std::move(batches_.front());
    batches_.pop_front();
    queuedBytes_ -= batch->bytes();
    if (wasFull_ && queuedBytes_ < capacityBytes_ / 2) {
      wasFull_ = false;
      callbacks = spaceCallbacks_;  // copied only on this rare transition
    }
  }
  // Called without the lock: a callback may look at the queue.
  for (const auto& callback : callbacks) callback();
  return batch;
}

BatchPtr BatchQueue::tryPop() { return popUntil(std::chrono::steady_clock::time_point::min()); }

bool BatchQueue::full() const {
  std::lock_guard lock(mutex_);
  return queuedBytes_ >= capacityBytes_;
}

size_t BatchQueue::queuedBytes() const {
  std::lock_guard lock(mutex_);
  return queuedBytes_;
}

size_t BatchQueue::queuedBatches() const {
  std::lock_guard lock(mutex_);
  return batches_.size();
}

void BatchQueue::addSpaceCallback(std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  spaceCallbacks_.push_back(std::move(callback));
}

void BatchQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  notEmpty_.notify_all();
}

bool BatchQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace kinship::pipeline
