#pragma once
// BatchQueue: the bounded hand-off between a pipeline's inputs (producers,
// on the I/O thread) and its sink (the consumer, on the sink thread), plus
// the pool that recycles batches. Bounded by bytes: once `capacityBytes` are
// queued, `full()` turns true and producers stop reading until the consumer
// makes room, when the space callbacks fire (on the consumer's thread).
// A push is never refused, so a producer may overshoot by the batch it has
// already filled; memory stays bounded by capacity + one batch per input.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "pipeline/record_batch.h"

namespace kinship::pipeline {

class BatchQueue;

// Returns a batch to its pool when the last owner lets go.
struct BatchRecycler {
  BatchQueue* queue = nullptr;
  void operator()(RecordBatch* batch) const;
};
using BatchPtr = std::unique_ptr<RecordBatch, BatchRecycler>;

class BatchQueue {
 public:
  explicit BatchQueue(size_t capacityBytes);
  ~BatchQueue();
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // An empty batch, from the pool when one is free.
  BatchPtr acquire();

  void push(BatchPtr batch);
  // Waits until a batch is queued, the deadline passes, or close() is
  // called; returns nullptr in the last two cases.
  BatchPtr popUntil(std::chrono::steady_clock::time_point deadline);
  BatchPtr tryPop();

  bool full() const;
  size_t queuedBytes() const;
  size_t queuedBatches() const;
  // Adds a callback run (on the consumer's thread) when the queue drops
  // below half its capacity after having been full. Every producer that
  // pauses on full() adds one; they stay for the queue's life, so each must
  // cope with its owner being gone (capture a weak reference).
  void addSpaceCallback(std::function<void()> callback);
  // Wakes a waiting consumer; later pops still drain what is queued.
  void close();
  bool closed() const;

 private:
  friend struct BatchRecycler;
  void recycle(RecordBatch* batch);

  const size_t capacityBytes_;
  mutable std::mutex mutex_;
  std::condition_variable notEmpty_;
  std::deque<BatchPtr> batches_;
  size_t queuedBytes_ = 0;
  bool wasFull_ = false;
  bool closed_ = false;
  std::vector<std::function<void()>> spaceCallbacks_;
  std::vector<std::unique_ptr<RecordBatch>> freeBatches_;
};

}  // namespace kinship::pipeline
