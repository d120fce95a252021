#pragma once
// KPL aggregation (`aggregation: kpl`): many user records bound for one
// shard travel as one Kinesis record, so a shard's 1,000 records/s no
// longer caps small records below its 1 MiB/s. The byte layout is
// kpl_format.h.
//
// KplAggregator encodes one aggregated record: user records are added in
// order (their partition keys and explicit hash keys deduplicated into the
// tables), and finish() writes magic, message and MD5 into one buffer that
// is reused for the next. KplPacker groups the records of one shard line,
// in the order given, into Kinesis records of a PutRecordsRequest: an
// aggregate up to its size limit, or a record alone as it is (as the KPL
// sends it: an aggregate of one only adds bytes, and every deaggregator
// passes plain records through).
//
// Neither allocates per record once its buffers have grown. Not
// thread-safe: the sink's sender thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/md5_digest.h"
#include "sinks/kinesis/pending_record.h"
#include "sinks/kinesis/request_builder.h"

namespace kinship::kinesis {

class KplAggregator {
 public:
  // User records per aggregate: a retried aggregate is remembered by its
  // count in 16 bits (PendingRecord::group).
  static constexpr size_t kMaxRecords = 65535;

  // Starts an empty aggregate.
  void begin();
  // The aggregated record's size (magic, message, checksum) if a record
  // with these fields were added.
  size_t sizeWith(std::string_view data, std::string_view partitionKey, std::string_view explicitHashKey) const;
  // Adds a user record; `explicitHashKey` empty: none.
  void add(std::string_view data, std::string_view partitionKey, std::string_view explicitHashKey);
  size_t records() const { return records_; }
  // The aggregated record's size as finish() would write it.
  size_t size() const;
  // Writes the aggregated record; valid until the next begin().
  std::string_view finish();

 private:
  // The distinct strings of one table, in the order they first came, and
  // an open-addressing index over them.
  class Table {
   public:
    static constexpr uint32_t kNone = UINT32_MAX;
    uint32_t find(std::string_view s) const;
    // Appends `s` (not in the table) and returns its index.
    uint32_t insert(std::string_view s);
    size_t size() const { return strings_.size(); }
    void clear();

   private:
    void grow();
    size_t slotOf(std::string_view s) const;

    std::vector<std::string_view> strings_;  // into the records' batches
    std::vector<uint32_t> slots_;            // index + 1, 0 when free; a power of two
    std::vector<uint32_t> used_;             // the slots to free at clear()
  };

  size_t recordEntrySize(size_t dataSize, uint32_t keyIndex, uint32_t hashKeyIndex) const;

  Table keys_;
  Table hashKeys_;
  // The message's three repeated fields, each written as records come;
  // finish() joins them in field order.
  std::string keyTable_;
  std::string hashKeyTable_;
  std::string recordEntries_;
  std::string out_;
  size_t records_ = 0;
  pipeline::Md5Digest md5_;
};

class KplPacker {
 public:
  // `maxSize`: the largest aggregated record, data plus its partition key;
  // 0 for the request's record limit, which also caps any other value.
  explicit KplPacker(size_t maxSize) : maxSize_(maxSize) {}

  // Starts a Kinesis record for the shard whose hash-key range starts at
  // `shardHashKey` (decimal; it must outlive the record; empty: none, and
  // an aggregate lands where its partition key hashes), of at most `cap`
  // bytes if it is aggregated (a paced shard's burst: see ShardRouter).
  void open(std::string_view shardHashKey, size_t cap = SIZE_MAX);

  enum class Added {
    kAdded,
    kRecordFull,   // the record would pass its size or count limit: close it, open another
    kRequestFull,  // the request has no room for it: close the record and send
  };
  // Adds `p` to the open record unless it does not fit.
  Added add(const PendingRecord& p, const RequestBuilder& request);
  // User records in the open record.
  size_t records() const { return count_; }
  // Adds the open record to `request` (nothing when it is empty) and returns
  // its bytes (data plus partition key: what pacing charges).
  size_t close(RequestBuilder& request);

  // The size limit of an aggregated record in `request`.
  size_t limitIn(const RequestBuilder& request) const;

 private:
  size_t maxSize_;
  size_t cap_ = SIZE_MAX;
  std::string_view shardHashKey_;
  PendingRecord first_{};  // sent as it is when alone; its key is the aggregate's
  size_t count_ = 0;
  KplAggregator aggregator_;
};

}  // namespace kinship::kinesis
