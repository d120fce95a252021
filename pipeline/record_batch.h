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
  };

  // Appends a record; the data and key are copied into the batch buffer.
  void append(std::string_view data, std::string_view key) {
    Entry e;
    e.dataOffset = static_cast<uint32_t>(buffer_.size());
    e.dataSize = static_cast<uint32_t>(data.size());
    buffer_.append(data);
    e.keyOffset = static_cast<uint32_t>(buffer_.size());
    e.keySize = static_cast<uint32_t>(key.size());
    buffer_.append(key);
    entries_.push_back(e);
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Bytes of data and keys together: what counts against Kinesis limits.
  size_t bytes() const { return buffer_.size(); }

  std::string_view data(size_t i) const {
    const Entry& e = entries_[i];
    return {buffer_.data() + e.dataOffset, e.dataSize};
  }
  std::string_view key(size_t i) const {
    const Entry& e = entries_[i];
    return {buffer_.data() + e.keyOffset, e.keySize};
  }

  // Keeps the capacity of the buffer and index for reuse.
  void clear() {
    buffer_.clear();
    entries_.clear();
    unacknowledged_ = 0;
  }

  // Acknowledgement bookkeeping, owned by the sink once the batch is queued.
  void setUnacknowledged(size_t n) { unacknowledged_ = n; }
  // Returns true when the last record of the batch has been acknowledged.
  bool acknowledgeOne() { return --unacknowledged_ == 0; }

 private:
  std::string buffer_;
  std::vector<Entry> entries_;
  size_t unacknowledged_ = 0;
};

}  // namespace kinship::pipeline
