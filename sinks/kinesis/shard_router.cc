#include "sinks/kinesis/shard_router.h"

#include <algorithm>
#include <functional>

namespace kinship::kinesis {

namespace {

bool sameShards(const ShardMap& a, const ShardMap& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const ShardRange& x = a.shard(i);
    const ShardRange& y = b.shard(i);
    if (x.shardId != y.shardId || x.startingHashKey != y.startingHashKey || x.endingHashKey != y.endingHashKey) {
      return false;
    }
  }
  return true;
}

}  // namespace

ShardRouter::ShardRouter(const RouterOptions& options) : options_(options), packer_(options.aggregateMaxSize) {
  lines_.emplace_back();  // the single unpaced line, until a shard map arrives
}

uint32_t ShardRouter::lineFor(const PendingRecord& p) {
  if (shardMap_.empty()) return 0;
  // The pipeline only keeps explicit hash keys that parse.
  std::string_view explicitHashKey = p.explicitHashKey();
  HashKey hash = explicitHashKey.empty() ? hasher_.hash(p.key()) : parseHashKey(explicitHashKey).value_or(0);
  int shard = shardMap_.find(hash);
  // A gap in the ranges only happens mid-resharding; any line will do until
  // the next refresh.
  return shard < 0 ? 0 : static_cast<uint32_t>(shard);
}

void ShardRouter::route(const PendingRecord& p) {
  lines_[lineFor(p)].records.push_back(p);
  ++pendingRecords_;
  pendingBytes_ += p.bytes;
}

void ShardRouter::putBack(const PendingRecord& p, uint32_t line) {
  if (line < lines_.size()) {
    lines_[line].retries.push_back(p);
  } else {
    // Routed afresh (the shard map changed): re-packed for its new shard.
    PendingRecord again = p;
    again.group = 0;
    lines_[lineFor(again)].retries.push_back(again);
  }
  ++pendingRecords_;
  pendingBytes_ += p.bytes;
}

void ShardRouter::admit(pipeline::RecordBatch* batch, uint32_t index, uint32_t bytes, Clock::TimePoint now) {
  route({batch, index, bytes, nextSeq_++, 0, 0, now, now});
}

void ShardRouter::retry(const PendingRecord& p, uint32_t line, uint64_t generation) {
  putBack(p, generation == generation_ ? line : UINT32_MAX);
}

void ShardRouter::split(std::vector<TakenRecord> group) {
  for (const TakenRecord& t : group) {
    ++pendingRecords_;
    pendingBytes_ += t.record.bytes;
  }
  splitGroups_.push_front(std::move(group));
}

bool ShardRouter::due(Clock::TimePoint now, bool flush) const {
  if (pendingRecords_ == 0) return false;
  if (awaitingShardMap_ && !flush) return false;
  if (flush || !splitGroups_.empty() || pendingRecords_ >= options_.dueRecords ||
      pendingBytes_ >= options_.dueBytes) {
    return true;
  }
  for (const Line& line : lines_) {
    if (!line.records.empty() && line.records.front().arrival + options_.linger <= now) return true;
    if (!line.retries.empty() && line.retries.front().notBefore <= now) return true;
  }
  return false;
}

bool ShardRouter::fill(RequestBuilder& request, std::vector<TakenRecord>& taken, Clock::TimePoint now) {
  taken.clear();
  if (!splitGroups_.empty()) {
    // Sent as it is: it was within the limits when it was first filled, and
    // its shards were charged then.
    taken = std::move(splitGroups_.front());
    splitGroups_.pop_front();
    fillSplitGroup(request, taken);
    for (const TakenRecord& t : taken) {
      --pendingRecords_;
      pendingBytes_ -= t.record.bytes;
    }
    return false;
  }
  bool full = false;
  const size_t lineCount = lines_.size();
  // A shard's records join this request only once its bucket holds a
  // quantum (ShardPacer); a line that has joined it is marked with its serial.
  ++requestSerial_;
  if (options_.aggregate && !shardMap_.empty()) {
    full = fillAggregated(request, taken, now);
  } else {
    // Due retries first; then new records, oldest first across lines (under
    // per_key ordering, line by line, skipping busy keys).
    for (size_t k = 0; k < lineCount && !full; ++k) {
      full = takeFromLine(request, taken, static_cast<uint32_t>((nextLine_ + k) % lineCount), now,
                          options_.orderingPerKey);
    }
    if (!full && !options_.orderingPerKey) full = takeInAdmissionOrder(request, taken, now);
  }
  nextLine_ = lineCount == 0 ? 0 : (nextLine_ + 1) % lineCount;
  pendingRecords_ -= taken.size();
  // User records' bytes: an aggregated request's bytes() are its Kinesis records'.
  for (const TakenRecord& t : taken) pendingBytes_ -= t.record.bytes;
  return full;
}

void ShardRouter::fillSplitGroup(RequestBuilder& request, std::vector<TakenRecord>& group) {
  // Sent as it is: it was within the limits when it was first filled, and
  // its shards were charged then. User records that shared an aggregated
  // record (a slot) share one again.
  for (size_t i = 0; i < group.size();) {
    size_t end = i + 1;
    while (end < group.size() && group[end].slot == group[i].slot) ++end;
    if (end - i == 1) {
      group[i].slot = static_cast<uint32_t>(request.records());
      request.add(group[i].record);
      i = end;
      continue;
    }
    const uint32_t line = shardMap_.empty() ? UINT32_MAX : lineFor(group[i].record);
    packer_.open(line < lines_.size() ? std::string_view(lines_[line].startingHashKey) : std::string_view());
    for (; i < end; ++i) {
      if (packer_.add(group[i].record, request) != KplPacker::Added::kAdded) {
        // Only if the limits changed since: the rest goes in another.
        packer_.close(request);
        if (packer_.add(group[i].record, request) != KplPacker::Added::kAdded) {
          group[i].slot = static_cast<uint32_t>(request.records());
          request.add(group[i].record);
          continue;
        }
      }
      group[i].slot = static_cast<uint32_t>(request.records());
    }
    packer_.close(request);
  }
}

bool ShardRouter::fillAggregated(RequestBuilder& request, std::vector<TakenRecord>& taken, Clock::TimePoint now) {
  const size_t lineCount = lines_.size();
  // Due retries first, from a line that turns, so no shard's always go last.
  for (size_t k = 0; k < lineCount; ++k) {
    const auto li = static_cast<uint32_t>((nextLine_ + k) % lineCount);
    if (packLine(request, taken, li, now, /*retries=*/true) == TakeOutcome::kRequestFull) return true;
  }
  // Then new records, line after line, the line with the oldest first.
  std::vector<std::pair<uint64_t, uint32_t>>& order = lineFronts_;
  order.clear();
  for (uint32_t li = 0; li < lineCount; ++li) {
    if (!lines_[li].records.empty()) order.emplace_back(lines_[li].records.front().seq, li);
  }
  std::sort(order.begin(), order.end());
  for (const auto& front : order) {
    if (packLine(request, taken, front.second, now, /*retries=*/false) == TakeOutcome::kRequestFull) return true;
  }
  return false;
}

bool ShardRouter::openPacked(RequestBuilder& request, uint32_t li, Clock::TimePoint now, TakeOutcome& refused) {
  if (request.full()) {
    refused = TakeOutcome::kRequestFull;
    return false;
  }
  Line& line = lines_[li];
  if (line.pacer && !line.pacer->ready(now, line.joinedRequest == requestSerial_)) {
    refused = TakeOutcome::kShardOutOfTokens;
    return false;
  }
  packer_.open(line.startingHashKey, line.pacer ? pacedAggregateMax_ : SIZE_MAX);
  return true;
}

void ShardRouter::closePacked(RequestBuilder& request, uint32_t li) {
  const size_t bytes = packer_.close(request);
  // One Kinesis record, however many user records it carries.
  if (bytes != 0 && lines_[li].pacer) {
    lines_[li].pacer->take(1, bytes);
    lines_[li].joinedRequest = requestSerial_;
  }
}

ShardRouter::TakeOutcome ShardRouter::packLine(RequestBuilder& request, std::vector<TakenRecord>& taken, uint32_t li,
                                               Clock::TimePoint now, bool retries) {
  RingQueue<PendingRecord>& queue = retries ? lines_[li].retries : lines_[li].records;
  // per_key: skip past records whose key is busy, within a bounded scan.
  constexpr size_t kMaxScan = 4096;
  size_t skipped = 0;
  bool open = false;
  TakeOutcome refused = TakeOutcome::kTaken;
  for (size_t i = 0; i < queue.size();) {
    const PendingRecord& p = queue[i];
    if (retries && p.notBefore > now) break;
    if (retries && p.group > 1) {
      // A retried aggregated record goes again whole, as a Kinesis record of its own.
      if (open) {
        closePacked(request, li);
        open = false;
      }
      if (!openPacked(request, li, now, refused)) return refused;
      const size_t n = std::min<size_t>(p.group, queue.size());
      KplPacker::Added added = KplPacker::Added::kAdded;
      for (size_t k = 0; k < n && added == KplPacker::Added::kAdded; ++k) added = packer_.add(queue[k], request);
      if (added == KplPacker::Added::kRequestFull) {
        packer_.open({});  // nothing taken: it waits for the next request
        return TakeOutcome::kRequestFull;
      }
      if (added == KplPacker::Added::kRecordFull) {
        // The record limit shrank since: re-packed like any retries.
        packer_.open({});
        queue[0].group = 0;
        continue;
      }
      const auto slot = static_cast<uint32_t>(request.records());
      for (size_t k = 0; k < n; ++k) {
        taken.push_back({queue.front(), li, slot});
        queue.pop_front();
      }
      closePacked(request, li);
      continue;
    }
    if (!retries && options_.orderingPerKey && busyKeys_.contains(keyIdentity(p))) {
      if (++skipped >= kMaxScan) break;
      ++i;
      continue;
    }
    if (!open) {
      if (!openPacked(request, li, now, refused)) return refused;
      open = true;
    }
    switch (packer_.add(p, request)) {
      case KplPacker::Added::kAdded:
        // A retry keeps the mark its first attempt took.
        if (options_.orderingPerKey && !retries) ++busyKeys_[keyIdentity(p)];
        taken.push_back({p, li, static_cast<uint32_t>(request.records())});
        queue.erase(i);
        break;
      case KplPacker::Added::kRecordFull:
        closePacked(request, li);
        open = false;
        break;
      case KplPacker::Added::kRequestFull:
        closePacked(request, li);
        return TakeOutcome::kRequestFull;
    }
  }
  if (open) closePacked(request, li);
  return TakeOutcome::kTaken;
}

uint64_t ShardRouter::keyIdentity(const PendingRecord& p) const { return std::hash<std::string_view>{}(p.key()); }

void ShardRouter::releaseKey(const PendingRecord& p) {
  auto it = busyKeys_.find(keyIdentity(p));
  if (it != busyKeys_.end() && --it->second == 0) busyKeys_.erase(it);
}

ShardRouter::TakeOutcome ShardRouter::take(RequestBuilder& request, std::vector<TakenRecord>& taken, uint32_t li,
                                           const PendingRecord& p, bool retry, Clock::TimePoint now) {
  if (!request.hasRoomFor(p.bytes)) return TakeOutcome::kRequestFull;
  if (options_.orderingPerKey && !retry && busyKeys_.contains(keyIdentity(p))) return TakeOutcome::kSkipped;
  Line& line = lines_[li];
  if (line.pacer) {
    if (!line.pacer->ready(now, line.joinedRequest == requestSerial_)) return TakeOutcome::kShardOutOfTokens;
    line.pacer->take(1, p.bytes);
    line.joinedRequest = requestSerial_;
  }
  // A retry keeps the mark its first attempt took.
  if (options_.orderingPerKey && !retry) ++busyKeys_[keyIdentity(p)];
  taken.push_back({p, li, static_cast<uint32_t>(request.records())});
  request.add(p);
  return TakeOutcome::kTaken;
}

bool ShardRouter::takeFromLine(RequestBuilder& request, std::vector<TakenRecord>& taken, uint32_t li,
                               Clock::TimePoint now, bool newRecords) {
  Line& line = lines_[li];
  // Due retries first: under per_key ordering each one holds its key until
  // it is accepted.
  while (!line.retries.empty() && line.retries.front().notBefore <= now) {
    TakeOutcome outcome = take(request, taken, li, line.retries.front(), /*retry=*/true, now);
    if (outcome != TakeOutcome::kTaken) return outcome == TakeOutcome::kRequestFull;
    line.retries.pop_front();
  }
  if (!newRecords) return false;
  // per_key: skip past records whose key is busy (their later records stay
  // behind them), within a bounded scan.
  constexpr size_t kMaxScan = 4096;
  size_t scanned = 0;
  for (size_t i = 0; i < line.records.size() && scanned < kMaxScan; ++scanned) {
    TakeOutcome outcome = take(request, taken, li, line.records[i], /*retry=*/false, now);
    if (outcome == TakeOutcome::kRequestFull || outcome == TakeOutcome::kShardOutOfTokens) {
      return outcome == TakeOutcome::kRequestFull;
    }
    if (outcome == TakeOutcome::kTaken) {
      line.records.erase(i);
    } else {
      ++i;
    }
  }
  return false;
}

// Taking whole lines in turn would send records far from the order they
// were read: a batch stays held until its last record goes (memory), and
// the encoder reads record data scattered across many batches (cache
// misses cost more than the encoding). A merge by admission order keeps
// reads sequential and releases batches in order.
bool ShardRouter::takeInAdmissionOrder(RequestBuilder& request, std::vector<TakenRecord>& taken,
                                       Clock::TimePoint now) {
  // A min-heap of each line's oldest sequence number. When consecutive
  // records go to different shards there is a heap step per record, so the
  // line just taken from is re-keyed in place and sifted down once, rather
  // than popped and pushed.
  auto later = [](const std::pair<uint64_t, uint32_t>& a, const std::pair<uint64_t, uint32_t>& b) {
    return a.first > b.first;
  };
  std::vector<std::pair<uint64_t, uint32_t>>& heap = lineFronts_;
  heap.clear();
  for (uint32_t li = 0; li < lines_.size(); ++li) {
    if (!lines_[li].records.empty()) heap.emplace_back(lines_[li].records.front().seq, li);
  }
  std::make_heap(heap.begin(), heap.end(), later);
  while (!heap.empty()) {
    const uint32_t li = heap.front().second;
    // Take this line's records up to the next line's oldest, the smaller of
    // the root's children.
    uint64_t until = UINT64_MAX;
    if (heap.size() > 1) until = heap[1].first;
    if (heap.size() > 2) until = std::min(until, heap[2].first);
    RingQueue<PendingRecord>& records = lines_[li].records;
    bool outOfTokens = false;
    while (!records.empty() && records.front().seq <= until) {
      TakeOutcome outcome = take(request, taken, li, records.front(), /*retry=*/false, now);
      if (outcome == TakeOutcome::kRequestFull) return true;
      if (outcome == TakeOutcome::kShardOutOfTokens) {
        outOfTokens = true;
        break;
      }
      records.pop_front();
    }
    if (outOfTokens || records.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      heap.pop_back();
      continue;
    }
    heap.front().first = records.front().seq;
    for (size_t at = 0;;) {
      size_t child = 2 * at + 1;
      if (child >= heap.size()) break;
      if (child + 1 < heap.size() && heap[child + 1].first < heap[child].first) ++child;
      if (heap[at].first <= heap[child].first) break;
      std::swap(heap[at], heap[child]);
      at = child;
    }
  }
  return false;
}

bool ShardRouter::knowsShard(std::string_view shardId) const {
  return std::any_of(lines_.begin(), lines_.end(), [&](const Line& l) { return l.shardId == shardId; });
}

void ShardRouter::applyShardMap(ShardMap map, const PacingLimits& limits, Clock::TimePoint now) {
  // A paced shard's aggregates stay within its burst (but at least four
  // times the bytes per record at which its two limits meet, so that the
  // records/s limit does not bind first).
  pacedAggregateMax_ = static_cast<size_t>(std::max(limits.bytesPerSecond * limits.burstSeconds,
                                                    4 * limits.bytesPerSecond / limits.recordsPerSecond));
  // A listing that finds the map as it was changes nothing, so what was
  // taken under it stays on its lines (a retried aggregate goes whole).
  if (!shardMap_.empty() && sameShards(shardMap_, map)) return;
  std::vector<Line> old = std::move(lines_);
  lines_.clear();
  for (size_t i = 0; i < map.size(); ++i) {
    Line line;
    line.shardId = map.shard(i).shardId;
    line.startingHashKey = formatHashKey(map.shard(i).startingHashKey);
    // A shard that stays keeps what it learnt about throttling.
    for (auto& o : old) {
      if (o.shardId == line.shardId && o.pacer) line.pacer = std::move(o.pacer);
    }
    if (!line.pacer && options_.pacing) line.pacer = std::make_unique<ShardPacer>(limits, now, pacerSeeds_());
    lines_.push_back(std::move(line));
  }
  if (lines_.empty()) lines_.emplace_back();
  shardMap_ = std::move(map);
  ++generation_;
  nextLine_ = 0;
  // Split groups stay as they are, but the lines they name were the old
  // map's: their answers route them afresh.
  pendingRecords_ = 0;
  pendingBytes_ = 0;
  for (auto& group : splitGroups_) {
    for (TakenRecord& t : group) {
      t.line = UINT32_MAX;
      ++pendingRecords_;
      pendingBytes_ += t.record.bytes;
    }
  }
  // New records go to their new lines in admission order, which
  // takeInAdmissionOrder expects of every line.
  std::vector<PendingRecord> records;
  for (auto& line : old) {
    line.retries.forEach([&](const PendingRecord& p) { putBack(p, UINT32_MAX); });
    line.records.forEach([&](const PendingRecord& p) { records.push_back(p); });
  }
  std::sort(records.begin(), records.end(),
            [](const PendingRecord& a, const PendingRecord& b) { return a.seq < b.seq; });
  for (const PendingRecord& p : records) route(p);
}

Clock::TimePoint ShardRouter::nextEvent(Clock::TimePoint now, Clock::TimePoint next) {
  auto consider = [&](Clock::TimePoint t) {
    if (t > now && t < next) next = t;
  };
  for (Line& line : lines_) {
    if (line.records.empty() && line.retries.empty()) continue;
    if (!line.records.empty()) consider(line.records.front().arrival + options_.linger);
    if (!line.retries.empty()) consider(line.retries.front().notBefore);
    if (line.pacer) consider(line.pacer->readyAt(now));
  }
  return next;
}

void ShardRouter::clear() {
  for (Line& line : lines_) {
    line.records = {};
    line.retries = {};
  }
  splitGroups_.clear();
  busyKeys_.clear();
  pendingRecords_ = 0;
  pendingBytes_ = 0;
}

}  // namespace kinship::kinesis
