#pragma once
// ShardRouter: admission and routing, the first stage of the Kinesis sink.
// It numbers each admitted record (admission order), routes it to the line
// of the shard that will receive it (MD5 of the partition key, or its
// explicit hash key, against the ShardMap's ranges), and keeps it there
// until a request takes it. Each line holds its new records in the order
// read and, apart, the records to send again, each after its own backoff,
// so a retry never holds back the new records behind it; each line of a
// shard map has the shard's ShardPacer, so a hot or throttled shard never
// holds back the others.
//
// fill() takes records into a request: halves of a refused request first
// (split()), then the due retries of every line, then new records, oldest
// first across lines (a merge by admission order), skipping lines whose
// shard is out of tokens. Under per_key ordering a key with a record in
// flight or waiting to be retried is busy: its later records wait, and
// lines are filled one after the other instead of merged.
//
// Without a shard map (pacing off, or ListShards denied) there is one
// unpaced line.
//
// With aggregation (kpl), fill() packs each shard line's records into
// aggregated records (KplPacker), one line after the other, the line with
// the oldest record first: an aggregate is written into the request whole,
// so its records cannot be merged with other lines'. Each aggregated record
// carries the shard's starting hash key as its explicit hash key and is
// paced as one record of its size; on a paced shard it stays within the
// pacer's burst (a pacer may go into debt by one record, and aggregates of
// a shard's whole second overran Kinesis's sliding second: 8.8x instead of
// 10.6x the records/s of plain records, throttled). A retried aggregated record goes again
// whole (PendingRecord::group), unless the shard map changed since: then
// its records are routed again and re-packed for their new shards. Until a
// shard map is known there are no shards to aggregate for: records go as
// they are (awaitShardMap holds them while the first listing runs).
//
// Not thread-safe: the sink's sender thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/ring_queue.h"
#include "sinks/kinesis/hash_key.h"
#include "sinks/kinesis/kpl_aggregator.h"
#include "sinks/kinesis/pending_record.h"
#include "sinks/kinesis/request_builder.h"
#include "sinks/kinesis/shard_map.h"
#include "sinks/kinesis/shard_pacer.h"

namespace kinship::kinesis {

struct RouterOptions {
  bool orderingPerKey = false;
  // A new record waits at most this long for others to fill its request.
  std::chrono::milliseconds linger{200};
  // A request is due at once when this many records, or bytes of data plus
  // keys, wait (the request limits).
  size_t dueRecords = 500;
  size_t dueBytes = 5 * 1024 * 1024;
  // Shard lines get a ShardPacer (else they are unpaced).
  bool pacing = true;
  // aggregation: kpl, with aggregated records of at most this many bytes
  // (data plus partition key; 0: the request's record limit).
  bool aggregate = false;
  size_t aggregateMaxSize = 0;
};

class ShardRouter {
 public:
  explicit ShardRouter(const RouterOptions& options);

  // A new record: numbered and routed to its shard's line.
  void admit(pipeline::RecordBatch* batch, uint32_t index, uint32_t bytes, Clock::TimePoint now);
  // A record to send again once p.notBefore has passed, back to `line` if
  // it was taken under the current shard map (`generation`), else to the
  // line its key routes to now.
  void retry(const PendingRecord& p, uint32_t line, uint64_t generation);
  // Half of a request refused as invalid or too large, to be sent as it is
  // (before any line) until the bad record is isolated. The last group
  // given goes first.
  void split(std::vector<TakenRecord> group);
  bool splitWaiting() const { return !splitGroups_.empty(); }

  // Whether a request should go now: enough records wait to fill one, the
  // oldest new record has lingered, a retry is due, a split group waits, or
  // `flush` (shutting down).
  bool due(Clock::TimePoint now, bool flush) const;
  // While true, nothing is due but a flush: the first shard map is being
  // listed, and records wait for it to be aggregated.
  void awaitShardMap(bool wait) { awaitingShardMap_ = wait; }
  // Fills `request` (begun, empty) and `taken`: a split group if one waits,
  // else due retries and new records (see above). Returns true when the
  // request was filled to its limits. Charges each shard's pacer.
  bool fill(RequestBuilder& request, std::vector<TakenRecord>& taken, Clock::TimePoint now);

  // A record is done (accepted, or given up as a dead letter): under
  // per_key its key is free for the next record.
  void release(const PendingRecord& p) {
    if (options_.orderingPerKey) releaseKey(p);
  }

  // The pacer of `line` under shard map `generation`; null when the line
  // is unpaced or the map has changed since.
  ShardPacer* pacer(uint32_t line, uint64_t generation) {
    return generation == generation_ && line < lines_.size() ? lines_[line].pacer.get() : nullptr;
  }
  // Replaces the shard map: one paced line per shard (a shard that stays
  // keeps its pacer, and what it learnt of throttling); every waiting
  // record moves to the line its key routes to now, new records in
  // admission order.
  void applyShardMap(ShardMap map, const PacingLimits& limits, Clock::TimePoint now);
  bool knowsShard(std::string_view shardId) const;
  // Bumped by every applyShardMap(): a request remembers the generation it
  // was filled under, and its answer maps lines back only under the same.
  uint64_t generation() const { return generation_; }
  size_t lineCount() const { return lines_.size(); }
  // The line's shard ("" for the single unpaced line).
  const std::string& shardId(uint32_t line) const { return lines_[line].shardId; }
  size_t shardCount() const { return shardMap_.size(); }

  // The earliest of `next` and what the lines wait for after `now`: a new
  // record's linger, a retry's backoff, a shard's tokens.
  Clock::TimePoint nextEvent(Clock::TimePoint now, Clock::TimePoint next);

  // Records waiting (new, retries and split groups; not those in flight).
  size_t pendingRecords() const { return pendingRecords_; }
  size_t pendingBytes() const { return pendingBytes_; }
  void clear();

 private:
  struct Line {
    std::string shardId;          // empty for the single unpaced line
    std::string startingHashKey;  // decimal; the explicit hash key of its aggregated records
    RingQueue<PendingRecord> records;  // new records, in admission order
    RingQueue<PendingRecord> retries;  // each after its own backoff
    std::unique_ptr<ShardPacer> pacer;  // null when unpaced
    uint64_t joinedRequest = 0;         // the last request (requestSerial_) it has records in
  };
  enum class TakeOutcome { kTaken, kSkipped, kRequestFull, kShardOutOfTokens };

  uint32_t lineFor(const PendingRecord& p);
  void route(const PendingRecord& p);
  void putBack(const PendingRecord& p, uint32_t line);
  uint64_t keyIdentity(const PendingRecord& p) const;
  void releaseKey(const PendingRecord& p);
  TakeOutcome take(RequestBuilder& request, std::vector<TakenRecord>& taken, uint32_t li, const PendingRecord& p,
                   bool retry, Clock::TimePoint now);
  bool takeFromLine(RequestBuilder& request, std::vector<TakenRecord>& taken, uint32_t li, Clock::TimePoint now,
                    bool newRecords);
  bool takeInAdmissionOrder(RequestBuilder& request, std::vector<TakenRecord>& taken, Clock::TimePoint now);
  // aggregation: kpl.
  bool fillAggregated(RequestBuilder& request, std::vector<TakenRecord>& taken, Clock::TimePoint now);
  TakeOutcome packLine(RequestBuilder& request, std::vector<TakenRecord>& taken, uint32_t li, Clock::TimePoint now,
                       bool retries);
  bool openPacked(RequestBuilder& request, uint32_t li, Clock::TimePoint now, TakeOutcome& refused);
  void closePacked(RequestBuilder& request, uint32_t li);
  void fillSplitGroup(RequestBuilder& request, std::vector<TakenRecord>& taken);

  RouterOptions options_;
  PartitionKeyHasher hasher_;
  ShardMap shardMap_;
  std::vector<Line> lines_;
  uint64_t generation_ = 0;
  size_t nextLine_ = 0;  // round-robin start for retries
  uint64_t nextSeq_ = 0;
  // Lines by the admission order of their oldest new record, while a
  // request is filled; kept to reuse its memory.
  std::vector<std::pair<uint64_t, uint32_t>> lineFronts_;
  std::deque<std::vector<TakenRecord>> splitGroups_;
  KplPacker packer_;
  size_t pacedAggregateMax_ = SIZE_MAX;  // paced lines' aggregates
  bool awaitingShardMap_ = false;
  // per_key: keys (by a 64-bit hash; a collision only serializes two keys)
  // with a record in flight or waiting to be retried.
  std::unordered_map<uint64_t, uint32_t> busyKeys_;
  // Each pacer's holds are jittered by its own seed: daemons, and shards,
  // do not adapt in step.
  std::minstd_rand pacerSeeds_{std::random_device{}()};
  uint64_t requestSerial_ = 0;  // counts fill()s
  size_t pendingRecords_ = 0;
  size_t pendingBytes_ = 0;
};

}  // namespace kinship::kinesis
