#include "tests/support/fake_kinesis/record_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "tests/support/fake_kinesis/codec.h"

namespace kinship::fake {

namespace {

// `value` in `width` decimal digits, zero-padded (and cut to its last
// `width` digits). fmt::format_to through a back_inserter grows the string
// a character at a time: it was a quarter of the fake's CPU in answers of
// 500 records, and the fake shares the benchmark's cores with kinship.
void appendDigits(std::string& out, uint64_t value, size_t width) {
  const size_t start = out.size();
  out.resize(start + width, '0');
  for (size_t i = start + width; i > start && value != 0; value /= 10) out[--i] = static_cast<char>('0' + value % 10);
}

}  // namespace

std::string formatShardId(uint32_t shardIndex) {
  std::string out;
  appendShardId(out, shardIndex);
  return out;
}

void appendShardId(std::string& out, uint32_t shardIndex) {
  out += "shardId-";
  appendDigits(out, shardIndex, 12);
}

void appendSequenceNumber(std::string& out, uint64_t generation, uint32_t shardIndex, uint64_t counter) {
  // "49" + 10 digits of stream incarnation + 6 of shard + 38 of counter: the
  // same length for every number, so they compare as strings too.
  out += "49";
  appendDigits(out, generation, 10);
  appendDigits(out, shardIndex, 6);
  appendDigits(out, counter, 38);
}

std::string formatSequenceNumber(uint64_t generation, uint32_t shardIndex, uint64_t counter) {
  std::string out;
  appendSequenceNumber(out, generation, shardIndex, counter);
  return out;
}

bool FingerprintSet::insert(uint64_t fingerprint) {
  if (fingerprint == 0) fingerprint = 1;  // 0 marks empty slots
  if ((size_ + 1) * 2 > slots_.size()) grow();
  size_t mask = slots_.size() - 1;
  // The fingerprint is an MD5 prefix: already uniform, usable as the index.
  for (size_t i = fingerprint & mask;; i = (i + 1) & mask) {
    if (slots_[i] == fingerprint) return false;
    if (slots_[i] == 0) {
      slots_[i] = fingerprint;
      ++size_;
      return true;
    }
  }
}

void FingerprintSet::grow() {
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(std::max<size_t>(1024, old.size() * 2), 0);
  size_t mask = slots_.size() - 1;
  for (uint64_t f : old) {
    if (f == 0) continue;
    size_t i = f & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = f;
  }
}

void FingerprintSet::clear() {
  slots_.clear();
  slots_.shrink_to_fit();
  size_ = 0;
}

RecordLog::~RecordLog() {
  if (file_ != nullptr) std::fclose(file_);
}

Status RecordLog::openFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return Status::ioError(fmt::format("cannot open record log {}: {}", path, std::strerror(errno)));
  // Large buffer: the log is written under the service lock.
  std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
  if (file_ != nullptr) std::fclose(file_);
  file_ = file;
  return Status::ok();
}

uint32_t RecordLog::addStream(std::string name, uint64_t generation) {
  streams_.push_back({std::move(name), generation});
  return static_cast<uint32_t>(streams_.size() - 1);
}

char* RecordLog::reserve(size_t size, uint32_t& chunk, uint32_t& offset) {
  if (chunkUsed_ + size > chunkCapacity_) {
    chunkCapacity_ = std::max(kChunkSize, size);
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(chunkCapacity_));
    chunkUsed_ = 0;
  }
  chunk = static_cast<uint32_t>(chunks_.size() - 1);
  offset = static_cast<uint32_t>(chunkUsed_);
  chunkUsed_ += size;
  return chunks_.back().get() + offset;
}

void RecordLog::append(uint32_t streamId, uint32_t shardIndex, uint64_t counter, std::string_view partitionKey,
                       std::string_view data, std::string_view explicitHashKey) {
  ++total_;
  if (file_ != nullptr) {
    line_.clear();
    appendJsonLine(line_, streamId, shardIndex, counter, partitionKey, data, explicitHashKey);
    std::fwrite(line_.data(), 1, line_.size(), file_);
  }
  if (entries_.size() >= maxStored_) return;
  Entry entry{streamId,
              shardIndex,
              counter,
              0,
              0,
              static_cast<uint32_t>(partitionKey.size()),
              static_cast<uint32_t>(data.size()),
              static_cast<uint32_t>(explicitHashKey.size())};
  char* at = reserve(partitionKey.size() + data.size() + explicitHashKey.size(), entry.chunk, entry.offset);
  // memcpy from an empty view's null pointer is undefined even for 0 bytes.
  auto copy = [](char* to, std::string_view from) {
    if (!from.empty()) std::memcpy(to, from.data(), from.size());
  };
  copy(at, partitionKey);
  copy(at + partitionKey.size(), data);
  copy(at + partitionKey.size() + data.size(), explicitHashKey);
  entries_.push_back(entry);
}

std::vector<StoredRecord> RecordLog::records(size_t from, size_t limit) const {
  std::vector<StoredRecord> out;
  size_t end = from >= entries_.size() ? from : from + std::min(limit, entries_.size() - from);
  for (size_t i = from; i < end; ++i) {
    const Entry& e = entries_[i];
    const char* at = chunks_[e.chunk].get() + e.offset;
    StoredRecord r;
    r.stream = streams_[e.streamId].name;
    r.shardId = formatShardId(e.shardIndex);
    r.sequenceNumber = formatSequenceNumber(streams_[e.streamId].generation, e.shardIndex, e.counter);
    r.partitionKey.assign(at, e.keySize);
    r.data.assign(at + e.keySize, e.dataSize);
    if (e.hashKeySize != 0) r.explicitHashKey.emplace(at + e.keySize + e.dataSize, e.hashKeySize);
    out.push_back(std::move(r));
  }
  return out;
}

void RecordLog::appendJsonLine(std::string& out, const Entry& e) const {
  const char* at = chunks_[e.chunk].get() + e.offset;
  appendJsonLine(out, e.streamId, e.shardIndex, e.counter, std::string_view(at, e.keySize),
                 std::string_view(at + e.keySize, e.dataSize),
                 std::string_view(at + e.keySize + e.dataSize, e.hashKeySize));
}

void RecordLog::appendJsonLine(std::string& out, uint32_t streamId, uint32_t shardIndex, uint64_t counter,
                               std::string_view key, std::string_view data, std::string_view hashKey) const {
  const Stream& stream = streams_[streamId];
  out += "{\"stream\":";
  appendJsonString(out, stream.name);
  out += fmt::format(",\"shardId\":\"{}\",\"sequenceNumber\":\"{}\",\"partitionKey\":", formatShardId(shardIndex),
                     formatSequenceNumber(stream.generation, shardIndex, counter));
  appendJsonString(out, key);
  out += ",\"data\":\"";
  base64Append(out, data);
  out += '"';
  if (!hashKey.empty()) {
    out += ",\"explicitHashKey\":\"";
    out += hashKey;
    out += '"';
  }
  out += "}\n";
}

void RecordLog::appendJsonLines(std::string& out, size_t from, size_t limit) const {
  size_t end = from >= entries_.size() ? from : from + std::min(limit, entries_.size() - from);
  for (size_t i = from; i < end; ++i) appendJsonLine(out, entries_[i]);
}

void RecordLog::clear() {
  total_ = 0;
  entries_.clear();
  entries_.shrink_to_fit();
  chunks_.clear();
  chunkUsed_ = chunkCapacity_ = kChunkSize;
  if (file_ != nullptr) {
    std::fflush(file_);
    if (ftruncate(fileno(file_), 0) != 0) {
      // Nothing to do but keep appending: the file then holds the old run too.
    }
    std::rewind(file_);
  }
}

void RecordLog::flush() {
  if (file_ != nullptr) std::fflush(file_);
}

}  // namespace kinship::fake
