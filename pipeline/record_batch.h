#pragma once
// RecordBatch: records in one contiguous buffer plus an index, so the hot
// path moves batches, never one heap allocation per record. A batch is
// filled by one input (on the input thread), then handed whole to the sink
// through the BatchQueue; it is reused through the BatchPool once every
// record in it has been acknowledged. Not thread-safe: one owner at a time.
// A batch may name the source it was read from (an AckReceiver, a source id
// and the source's offset after its last record), so that the sink can tell
// the source when the whole batch is done and the source can checkpoint.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/source_file.h"

namespace kinship::pipeline {

// Where a batch's acknowledgement goes: the input that read it, which
// advances its checkpoint past the batch. Implementations must be
// thread-safe: the sink calls them on its own thread.
class AckReceiver {
 public:
  virtual ~AckReceiver() = default;
  // Called from the sink's thread when every record of a batch is done
  // (accepted, or given up as a dead letter). Records still undelivered at
  // shutdown are never acknowledged, so they are read again after a restart.
  virtual void acknowledged(uint64_t sourceId, uint64_t endOffset) = 0;
  // For a receiver that keeps progress inside a batch (the disk spool, so
  // that a restart re-sends only the records of a half-delivered batch that
  // were not answered yet): record `index` of the batch is done (accepted,
  // or given up as a dead letter). Called on the sink's thread, before
  // acknowledged() for the batch. recordsSettled() follows once the sink has
  // processed the answer those records came in: that is when the receiver
  // should make the progress survive a crash of the process. The defaults
  // do nothing: whole batches are enough for a file input's checkpoint.
  virtual void recordDone(uint64_t /*sourceId*/, uint64_t /*endOffset*/, uint32_t /*index*/) {}
  virtual void recordsSettled() {}
};

// A batch's source and position, kept apart from the batch: a stage that
// must acknowledge later (the spool, once an fsync covers the batch) keeps
// this and lets the batch go back to its pool.
struct BatchSource {
  std::shared_ptr<AckReceiver> receiver;
  uint64_t sourceId = 0;
  uint64_t endOffset = 0;
  void notifyAcknowledged() const {
    if (receiver) receiver->acknowledged(sourceId, endOffset);
  }
};

class RecordBatch {
 public:
  struct Entry {
    uint32_t dataOffset;
    uint32_t dataSize;
    uint32_t keyOffset;
    uint32_t keySize;
    uint32_t explicitHashKeyOffset;
    uint32_t explicitHashKeySize;  // 0: the record has none
  };

  // Appends a record without an explicit hash key; the data and key are
  // copied into the batch buffer.
  void append(std::string_view data, std::string_view key) { append(data, key, {}); }

  // Appends a record whose shard is chosen by `explicitHashKey` (empty:
  // none, MD5 of the key decides). The batch stores it as given: the caller
  // has checked it is what Kinesis accepts (see canonicalExplicitHashKey() in
  // pipeline.h).
  void append(std::string_view data, std::string_view key, std::string_view explicitHashKey) {
    const size_t dataOffset = buffer_.size();
    buffer_.append(data);
    appendWritten(dataOffset, key, explicitHashKey);
  }

  // For a record whose data the caller writes into the batch itself (an
  // encoder), with no copy: take `start = dataBuffer().size()`, append the
  // data to dataBuffer() (appending only), then call appendWritten(start,
  // key, explicitHashKey). `key` and `explicitHashKey` must not point into
  // the buffer.
  std::string& dataBuffer() { return buffer_; }
  void appendWritten(size_t dataOffset, std::string_view key, std::string_view explicitHashKey) {
    Entry e;
    e.dataOffset = static_cast<uint32_t>(dataOffset);
    e.dataSize = static_cast<uint32_t>(buffer_.size() - dataOffset);
    e.keyOffset = static_cast<uint32_t>(buffer_.size());
    e.keySize = static_cast<uint32_t>(key.size());
    buffer_.append(key);
    e.explicitHashKeyOffset = static_cast<uint32_t>(buffer_.size());
    e.explicitHashKeySize = static_cast<uint32_t>(explicitHashKey.size());
    buffer_.append(explicitHashKey);
    explicitHashKeyBytes_ += explicitHashKey.size();
    entries_.push_back(e);
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Every byte the batch holds (data, partition keys and explicit hash
  // keys): what the queue and the inputs' flush thresholds account.
  size_t bytes() const { return buffer_.size(); }
  // Bytes of data and partition keys only: what counts against Kinesis's
  // record, request and shard-throughput limits (explicit hash keys do not).
  size_t limitBytes() const { return buffer_.size() - explicitHashKeyBytes_; }

  std::string_view data(size_t i) const {
    const Entry& e = entries_[i];
    return {buffer_.data() + e.dataOffset, e.dataSize};
  }
  std::string_view key(size_t i) const {
    const Entry& e = entries_[i];
    return {buffer_.data() + e.keyOffset, e.keySize};
  }
  // Empty when the record has no explicit hash key.
  std::string_view explicitHashKey(size_t i) const {
    const Entry& e = entries_[i];
    return {buffer_.data() + e.explicitHashKeyOffset, e.explicitHashKeySize};
  }

  // Keeps the capacity of the buffer and index for reuse.
  void clear() {
    buffer_.clear();
    entries_.clear();
    explicitHashKeyBytes_ = 0;
    unacknowledged_ = 0;
    ackReceiver_.reset();
    sourceId_ = 0;
    endOffset_ = 0;
    sourceFile_.reset();
    sourceTail_.clear();
  }

  // Names the source of every record in the batch (set by the input before
  // submitting; a batch holds records of one source only). `endOffset` is
  // the source's position just after the batch's last record.
  void setSource(std::shared_ptr<AckReceiver> receiver, uint64_t sourceId, uint64_t endOffset) {
    ackReceiver_ = std::move(receiver);
    sourceId_ = sourceId;
    endOffset_ = endOffset;
  }
  uint64_t sourceId() const { return sourceId_; }
  // The file the records came from, for the disk spool to record with
  // endOffset(); null for sources that cannot be resumed (sockets).
  void setSourceFile(std::shared_ptr<const SourceFile> file) { sourceFile_ = std::move(file); }
  const SourceFile* sourceFile() const { return sourceFile_.get(); }
  const std::shared_ptr<const SourceFile>& sharedSourceFile() const { return sourceFile_; }
  // The file's bytes just before endOffset() (at most 64), recorded with
  // it (see SourcePosition::tail); empty when not known. Copied into a
  // buffer the batch keeps across reuse: no allocation once it has grown.
  void setSourceTail(std::string_view tail) { sourceTail_.assign(tail); }
  std::string_view sourceTail() const { return sourceTail_; }
  BatchSource source() const { return {ackReceiver_, sourceId_, endOffset_}; }
  uint64_t endOffset() const { return endOffset_; }
  // Called by the sink once every record of the batch is done; tells the
  // source (if the batch has one). Call at most once per fill.
  void notifyAcknowledged() const {
    if (ackReceiver_) ackReceiver_->acknowledged(sourceId_, endOffset_);
  }
  // Called by the sink as each record is done (see AckReceiver::recordDone).
  void notifyRecordDone(uint32_t index) const {
    if (ackReceiver_) ackReceiver_->recordDone(sourceId_, endOffset_, index);
  }
  const std::shared_ptr<AckReceiver>& ackReceiver() const { return ackReceiver_; }

  // Acknowledgement bookkeeping, owned by the sink once the batch is queued.
  void setUnacknowledged(size_t n) { unacknowledged_ = n; }
  // Returns true when the last record of the batch has been acknowledged.
  bool acknowledgeOne() { return --unacknowledged_ == 0; }

 private:
  std::string buffer_;
  std::vector<Entry> entries_;
  size_t explicitHashKeyBytes_ = 0;
  size_t unacknowledged_ = 0;
  std::shared_ptr<AckReceiver> ackReceiver_;
  uint64_t sourceId_ = 0;
  uint64_t endOffset_ = 0;
  std::shared_ptr<const SourceFile> sourceFile_;
  std::string sourceTail_;
};

}  // namespace kinship::pipeline
