#pragma once
// RecordBatch: records in one contiguous buffer plus an index, so the hot
// path moves batches, never one heap allocation per record. A batch is
// filled by one input (on the input thread), then handed whole to the sink
// through the BatchQueue; it is reused through the BatchPool once every
// record in it has been acknowledged. Not thread-safe: one owner at a time.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kinship::pipeline {

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
    Entry e;
    e.dataOffset = static_cast<uint32_t>(buffer_.size());
    e.dataSize = static_cast<uint32_t>(data.size());
    buffer_.append(data);
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
  }

  // Acknowledgement bookkeeping, owned by the sink once the batch is queued.
  void setUnacknowledged(size_t n) { unacknowledged_ = n; }
  // Returns true when the last record of the batch has been acknowledged.
  bool acknowledgeOne() { return --unacknowledged_ == 0; }

 private:
  std::string buffer_;
  std::vector<Entry> entries_;
  size_t explicitHashKeyBytes_ = 0;
  size_t unacknowledged_ = 0;
};

}  // namespace kinship::pipeline
