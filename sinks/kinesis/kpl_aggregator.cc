#include "sinks/kinesis/kpl_aggregator.h"

#include <algorithm>
#include <functional>

#include "sinks/kinesis/kpl_format.h"

namespace kinship::kinesis {

namespace {

void appendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void appendLenField(std::string& out, uint8_t tag, std::string_view payload) {
  out.push_back(static_cast<char>(tag));
  appendVarint(out, payload.size());
  out.append(payload);
}

}  // namespace

size_t KplAggregator::Table::slotOf(std::string_view s) const {
  return std::hash<std::string_view>{}(s) & (slots_.size() - 1);
}

uint32_t KplAggregator::Table::find(std::string_view s) const {
  if (slots_.empty()) return kNone;
  for (size_t slot = slotOf(s);; slot = (slot + 1) & (slots_.size() - 1)) {
    const uint32_t entry = slots_[slot];
    if (entry == 0) return kNone;
    if (strings_[entry - 1] == s) return entry - 1;
  }
}

uint32_t KplAggregator::Table::insert(std::string_view s) {
  // At most half full, so that probes stay short and always end.
  if (2 * (strings_.size() + 1) > slots_.size()) grow();
  const auto index = static_cast<uint32_t>(strings_.size());
  strings_.push_back(s);
  size_t slot = slotOf(s);
  while (slots_[slot] != 0) slot = (slot + 1) & (slots_.size() - 1);
  slots_[slot] = index + 1;
  used_.push_back(static_cast<uint32_t>(slot));
  return index;
}

void KplAggregator::Table::grow() {
  slots_.assign(std::max<size_t>(16, 2 * slots_.size()), 0);
  used_.clear();
  for (uint32_t i = 0; i < strings_.size(); ++i) {
    size_t slot = slotOf(strings_[i]);
    while (slots_[slot] != 0) slot = (slot + 1) & (slots_.size() - 1);
    slots_[slot] = i + 1;
    used_.push_back(static_cast<uint32_t>(slot));
  }
}

void KplAggregator::Table::clear() {
  for (uint32_t slot : used_) slots_[slot] = 0;
  used_.clear();
  strings_.clear();
}

void KplAggregator::begin() {
  keys_.clear();
  hashKeys_.clear();
  keyTable_.clear();
  hashKeyTable_.clear();
  recordEntries_.clear();
  records_ = 0;
}

size_t KplAggregator::size() const {
  return kpl::kMagicSize + keyTable_.size() + hashKeyTable_.size() + recordEntries_.size() + kpl::kChecksumSize;
}

size_t KplAggregator::recordEntrySize(size_t dataSize, uint32_t keyIndex, uint32_t hashKeyIndex) const {
  size_t inner = 1 + kpl::varintSize(keyIndex) + kpl::lenFieldSize(dataSize);
  if (hashKeyIndex != Table::kNone) inner += 1 + kpl::varintSize(hashKeyIndex);
  return kpl::lenFieldSize(inner);
}

size_t KplAggregator::sizeWith(std::string_view data, std::string_view partitionKey,
                               std::string_view explicitHashKey) const {
  size_t added = 0;
  uint32_t keyIndex = keys_.find(partitionKey);
  if (keyIndex == Table::kNone) {
    keyIndex = static_cast<uint32_t>(keys_.size());
    added += kpl::lenFieldSize(partitionKey.size());
  }
  uint32_t hashKeyIndex = Table::kNone;
  if (!explicitHashKey.empty()) {
    hashKeyIndex = hashKeys_.find(explicitHashKey);
    if (hashKeyIndex == Table::kNone) {
      hashKeyIndex = static_cast<uint32_t>(hashKeys_.size());
      added += kpl::lenFieldSize(explicitHashKey.size());
    }
  }
  return size() + added + recordEntrySize(data.size(), keyIndex, hashKeyIndex);
}

void KplAggregator::add(std::string_view data, std::string_view partitionKey, std::string_view explicitHashKey) {
  uint32_t keyIndex = keys_.find(partitionKey);
  if (keyIndex == Table::kNone) {
    keyIndex = keys_.insert(partitionKey);
    appendLenField(keyTable_, kpl::kPartitionKeyTableTag, partitionKey);
  }
  uint32_t hashKeyIndex = Table::kNone;
  if (!explicitHashKey.empty()) {
    hashKeyIndex = hashKeys_.find(explicitHashKey);
    if (hashKeyIndex == Table::kNone) {
      hashKeyIndex = hashKeys_.insert(explicitHashKey);
      appendLenField(hashKeyTable_, kpl::kExplicitHashKeyTableTag, explicitHashKey);
    }
  }
  size_t inner = 1 + kpl::varintSize(keyIndex) + kpl::lenFieldSize(data.size());
  if (hashKeyIndex != Table::kNone) inner += 1 + kpl::varintSize(hashKeyIndex);
  recordEntries_.push_back(static_cast<char>(kpl::kRecordsTag));
  appendVarint(recordEntries_, inner);
  recordEntries_.push_back(static_cast<char>(kpl::kPartitionKeyIndexTag));
  appendVarint(recordEntries_, keyIndex);
  if (hashKeyIndex != Table::kNone) {
    recordEntries_.push_back(static_cast<char>(kpl::kExplicitHashKeyIndexTag));
    appendVarint(recordEntries_, hashKeyIndex);
  }
  appendLenField(recordEntries_, kpl::kDataTag, data);
  ++records_;
}

std::string_view KplAggregator::finish() {
  out_.clear();
  out_.reserve(size());
  out_.append(reinterpret_cast<const char*>(kpl::kMagic), kpl::kMagicSize);
  out_ += keyTable_;
  out_ += hashKeyTable_;
  out_ += recordEntries_;
  const auto checksum = md5_.digest(std::string_view(out_).substr(kpl::kMagicSize));
  out_.append(reinterpret_cast<const char*>(checksum.data()), checksum.size());
  return out_;
}

void KplPacker::open(std::string_view shardHashKey, size_t cap) {
  shardHashKey_ = shardHashKey;
  cap_ = cap;
  count_ = 0;
}

size_t KplPacker::limitIn(const RequestBuilder& request) const {
  const size_t recordLimit = request.limits().maxRecordSize;
  return std::min(cap_, maxSize_ == 0 ? recordLimit : std::min(maxSize_, recordLimit));
}

KplPacker::Added KplPacker::add(const PendingRecord& p, const RequestBuilder& request) {
  if (count_ == 0) {
    // Alone it goes as it is: it fits wherever a plain record does.
    if (!request.hasRoomFor(p.bytes)) return Added::kRequestFull;
    first_ = p;
    aggregator_.begin();
    aggregator_.add(p.data(), p.key(), p.explicitHashKey());
    count_ = 1;
    return Added::kAdded;
  }
  if (count_ >= KplAggregator::kMaxRecords) return Added::kRecordFull;
  // Data plus the aggregate's partition key, as Kinesis counts a record.
  const size_t bytes = aggregator_.sizeWith(p.data(), p.key(), p.explicitHashKey()) + first_.key().size();
  if (bytes > limitIn(request)) return Added::kRecordFull;
  if (request.records() != 0 && request.bytes() + bytes > request.limits().maxBytes) return Added::kRequestFull;
  aggregator_.add(p.data(), p.key(), p.explicitHashKey());
  ++count_;
  return Added::kAdded;
}

size_t KplPacker::close(RequestBuilder& request) {
  const size_t count = count_;
  count_ = 0;
  if (count == 0) return 0;
  if (count == 1) {
    request.add(first_);
    return first_.bytes;
  }
  const std::string_view data = aggregator_.finish();
  request.addKinesisRecord(data, first_.key(), shardHashKey_);
  return data.size() + first_.key().size();
}

}  // namespace kinship::kinesis
