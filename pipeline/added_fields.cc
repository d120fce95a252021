#include "pipeline/added_fields.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <ctime>

namespace kinship::pipeline {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void writeHex(XXH128_hash_t hash, std::array<char, kRecordIdSize>& out) {
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(hash.high64 >> (60 - 4 * i)) & 0xF];
    out[16 + i] = kHex[(hash.low64 >> (60 - 4 * i)) & 0xF];
  }
}

void writeDigits(char* at, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::optional<AddedField::Kind> addedFieldKind(std::string_view name) {
  if (name == "source") return AddedField::Kind::kSource;
  if (name == "ingest_time") return AddedField::Kind::kIngestTime;
  if (name == "record_id") return AddedField::Kind::kRecordId;
  if (name == "line_hash") return AddedField::Kind::kLineHash;
  return std::nullopt;
}

bool isAddedFieldName(std::string_view name) {
  return !name.empty() && name.find_first_of(".[]|{}'") == std::string_view::npos;
}

Enrichment::Enrichment(std::vector<AddedField> fields, const Clock& clock, uint64_t instance)
    : fields_(std::move(fields)), clock_(clock), instance_(instance) {
  for (const AddedField& field : fields_) {
    signatures_ |= signatureBit(field.name);
    wantsSource_ = wantsSource_ || field.kind == AddedField::Kind::kSource;
    wantsOrigin_ = wantsOrigin_ || field.kind == AddedField::Kind::kSource || field.kind == AddedField::Kind::kRecordId;
  }
}

std::optional<size_t> Enrichment::scan(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return i;
  }
  return std::nullopt;
}

void Enrichment::begin(std::string_view line, const RecordOrigin& origin) {
  line_ = line;
  origin_ = &origin;
  haveTime_ = haveId_ = haveHash_ = false;
  ++sequence_;
}

bool Enrichment::appendValue(size_t i, std::string& out) {
  const AddedField& field = fields_[i];
  switch (field.kind) {
    case AddedField::Kind::kText:
      out += field.text;
      return true;
    case AddedField::Kind::kSource:
      if (origin_->source.empty()) return false;
      out += origin_->source;
      return true;
    case AddedField::Kind::kIngestTime:
      out += ingestTime();
      return true;
    case AddedField::Kind::kRecordId:
      out += recordId();
      return true;
    case AddedField::Kind::kLineHash:
      out += lineHash();
      return true;
  }
  return false;
}

std::string_view Enrichment::ingestTime() {
  if (!haveTime_) {
    haveTime_ = true;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wallNow().time_since_epoch()).count();
    // Floor division: a time before 1970 (a test clock) stays well formed.
    int64_t second = ms / 1000;
    int millis = static_cast<int>(ms % 1000);
    if (millis < 0) {
      millis += 1000;
      --second;
    }
    if (second != timeSecond_) {
      timeSecond_ = second;
      const std::time_t t = static_cast<std::time_t>(second);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char* p = time_.data();
      writeDigits(p, tm.tm_year + 1900, 4);
      p[4] = '-';
      writeDigits(p + 5, tm.tm_mon + 1, 2);
      p[7] = '-';
      writeDigits(p + 8, tm.tm_mday, 2);
      p[10] = 'T';
      writeDigits(p + 11, tm.tm_hour, 2);
      p[13] = ':';
      writeDigits(p + 14, tm.tm_min, 2);
      p[16] = ':';
      writeDigits(p + 17, tm.tm_sec, 2);
      p[19] = '.';
      p[23] = 'Z';
    }
    writeDigits(time_.data() + 20, millis, 3);
  }
  return {time_.data(), time_.size()};
}

std::string_view Enrichment::recordId() {
  if (!haveId_) {
    haveId_ = true;
    uint64_t seed = 0;
    if (origin_->hasPosition) {
      const uint64_t position[3] = {origin_->device, origin_->inode, origin_->endOffset};
      seed = XXH3_64bits(position, sizeof(position));
    } else {
      const uint64_t instance[2] = {instance_, sequence_};
      seed = XXH3_64bits(instance, sizeof(instance));
    }
    writeHex(XXH3_128bits_withSeed(line_.data(), line_.size(), seed), id_);
  }
  return {id_.data(), id_.size()};
}

std::string_view Enrichment::lineHash() {
  if (!haveHash_) {
    haveHash_ = true;
    writeHex(XXH3_128bits(line_.data(), line_.size()), hash_);
  }
  return {hash_.data(), hash_.size()};
}

bool EnrichedFields::appendValue(const FieldPath& path, std::string& out) const {
  if (path.steps.size() == 1 && !path.steps[0].isIndex) {
    if (auto i = enrichment_.find(path.steps[0].name)) {
      if (enrichment_.appendValue(*i, out)) return true;
    }
  }
  return parsed_.appendValue(path, out);
}

}  // namespace kinship::pipeline
