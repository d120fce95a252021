#pragma once
// RecordLog: every record the fake accepted, in acceptance order, so tests can
// check what landed where; plus the fingerprints that count duplicates.
//
// Records are copied into large arena chunks with a fixed-size index entry
// each (no allocation per record), and the in-memory part can be capped for
// long benchmark runs; the optional file gets every record as a JSON line
// whatever the cap.
//
// Threading: not thread-safe; KinesisService calls it under its lock.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kinship::fake {

struct StoredRecord {
  std::string stream;
  std::string shardId;
  std::string sequenceNumber;
  std::string partitionKey;
  std::string data;  // decoded bytes
  std::optional<std::string> explicitHashKey;
};

// "shardId-000000000003"
std::string formatShardId(uint32_t shardIndex);
void appendShardId(std::string& out, uint32_t shardIndex);
// 56 decimal digits like the service's, increasing with `counter` within a
// shard and unique across shards and stream incarnations.
std::string formatSequenceNumber(uint64_t generation, uint32_t shardIndex, uint64_t counter);
void appendSequenceNumber(std::string& out, uint64_t generation, uint32_t shardIndex, uint64_t counter);

// An insert-only set of 64-bit fingerprints: open addressing, linear probing,
// 8 bytes a slot, so tracking millions of records stays cheap.
class FingerprintSet {
 public:
  // Returns false if the fingerprint was already there.
  bool insert(uint64_t fingerprint);
  void clear();
  size_t size() const { return size_; }

 private:
  void grow();
  std::vector<uint64_t> slots_;  // 0 marks an empty slot
  size_t size_ = 0;
};

class RecordLog {
 public:
  explicit RecordLog(size_t maxStored) : maxStored_(maxStored) {}
  ~RecordLog();
  RecordLog(const RecordLog&) = delete;
  RecordLog& operator=(const RecordLog&) = delete;

  // Also write every accepted record as a JSON line to `path` (truncated).
  Status openFile(const std::string& path);
  // Each stream incarnation gets an id that log entries refer to.
  uint32_t addStream(std::string name, uint64_t generation);

  void append(uint32_t streamId, uint32_t shardIndex, uint64_t counter, std::string_view partitionKey,
              std::string_view data, std::string_view explicitHashKey);

  uint64_t total() const { return total_; }          // accepted since the last clear
  size_t stored() const { return entries_.size(); }  // kept in memory
  std::vector<StoredRecord> records(size_t from, size_t limit) const;
  // JSON lines: {"stream","shardId","sequenceNumber","partitionKey","data","explicitHashKey"?}
  void appendJsonLines(std::string& out, size_t from, size_t limit) const;

  // Forgets every record (and truncates the file).
  void clear();
  void flush();

 private:
  struct Entry {
    uint32_t streamId;
    uint32_t shardIndex;
    uint64_t counter;
    uint32_t chunk;
    uint32_t offset;
    uint32_t keySize;
    uint32_t dataSize;
    uint32_t hashKeySize;
  };
  struct Stream {
    std::string name;
    uint64_t generation;
  };
  static constexpr size_t kChunkSize = 8 << 20;

  char* reserve(size_t size, uint32_t& chunk, uint32_t& offset);
  void appendJsonLine(std::string& out, const Entry& entry) const;
  void appendJsonLine(std::string& out, uint32_t streamId, uint32_t shardIndex, uint64_t counter, std::string_view key,
                      std::string_view data, std::string_view hashKey) const;

  size_t maxStored_;
  uint64_t total_ = 0;
  std::vector<Stream> streams_;
  std::vector<Entry> entries_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t chunkUsed_ = kChunkSize;  // bytes used in the last chunk; full means "allocate"
  size_t chunkCapacity_ = kChunkSize;
  std::FILE* file_ = nullptr;
  std::string line_;  // scratch for the file
};

}  // namespace kinship::fake
