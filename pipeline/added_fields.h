#pragma once
// Enrichment: the fields a pipeline adds to every record (`add_fields`,
// `add_metadata`), and the overlay through which key templates, filters
// and the json encoding see them above the parser's fields.
//
// An added field is a fixed text (a value written in the config, `${ENV}`
// already substituted by the loader, or the host name read at startup) or
// a value of the record's own:
//   source       the input's view of where the line came from (RecordOrigin)
//   ingest_time  when the pipeline took the line, RFC 3339 UTC with
//                milliseconds ("2026-05-01T12:34:56.789Z")
//   record_id    32 hex digits, the same every time this record is
//                delivered (see recordId() for the guarantee)
//   line_hash    32 hex digits of the line's 128-bit XXH3: equal lines,
//                equal hashes (a consumer that drops repeats drops them all)
// A record's values are made once, when first read, and reused by the key,
// the filters and the encoding alike (one clock reading per record).
//
// Built once at startup (pipeline_builder.cc reads the options); used on
// the pipeline's thread only; allocates nothing per record once its
// buffers have grown.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "pipeline/record_fields.h"
#include "pipeline/record_origin.h"

namespace kinship::pipeline {

struct AddedField {
  enum class Kind : uint8_t { kText, kSource, kIngestTime, kRecordId, kLineHash };
  std::string name;
  Kind kind = Kind::kText;
  std::string text;  // kText
};

// The `add_metadata` kind named `name` ("hostname" is resolved to a kText
// field by the caller), or nothing.
std::optional<AddedField::Kind> addedFieldKind(std::string_view name);

// Whether `name` can name an added field: what a template reference can
// name in one step (not empty; none of `.`, `[`, `]`, `|`, `{`, `}`, `'`).
bool isAddedFieldName(std::string_view name);

// 32 hex digits, as record_id and line_hash write them.
inline constexpr size_t kRecordIdSize = 32;

class Enrichment {
 public:
  // `fields` in the order the encoding writes them; names unique (the
  // builder checks). `instance` tells this process's record ids apart from
  // another's for inputs without positions (random at startup).
  Enrichment(std::vector<AddedField> fields, const Clock& clock, uint64_t instance);

  bool empty() const { return fields_.empty(); }
  const std::vector<AddedField>& fields() const { return fields_; }
  // Some field is a `source`: inputs that must format it (UDP peers) do.
  bool wantsSource() const { return wantsSource_; }
  // Some field reads the record's origin (`source`, `record_id`).
  bool wantsOrigin() const { return wantsOrigin_; }
  // The index of the field named `name`, or nothing. Asked for every
  // top-level name of a JSON line and every field a template or filter
  // reads, most of which are not added fields: those are told at once.
  std::optional<size_t> find(std::string_view name) const {
    if ((signatures_ & signatureBit(name)) == 0) return std::nullopt;
    return scan(name);
  }
  // Whether field `i` has a value for the current record (all but a
  // `source` the input did not give have one).
  bool hasValue(size_t i) const {
    return fields_[i].kind != AddedField::Kind::kSource || !origin_->source.empty();
  }
  // Whether a field named `name` has a value for the current record: it
  // then hides a parsed field of that name.
  bool hides(std::string_view name) const {
    auto i = find(name);
    return i && hasValue(*i);
  }

  // Starts a record: its line and origin (both must outlive the record's
  // use) and forgets the previous record's values.
  void begin(std::string_view line, const RecordOrigin& origin);
  // Appends field `i`'s value for the current record to `out`; false (out
  // unchanged) when the record has none (a source the input did not give).
  bool appendValue(size_t i, std::string& out);

  // The record id: for a record with a position (files), XXH3-128 of the
  // file's device and inode, the offset just past the record and the
  // record's bytes, so reading the file again after a crash (from an older
  // checkpoint, or a spool that had not kept the record yet) gives the same
  // id; the record's bytes in it keep a file truncated and written again
  // from repeating an id for other text at the same offset. Without a
  // position (sockets, which are never read again): XXH3-128 of the line
  // with this process's instance and a count of its records; its
  // redeliveries (Kinesis retries, the disk spool after a restart) carry
  // the bytes made the first time, id included.
  std::string_view recordId();

 private:
  std::string_view ingestTime();
  std::string_view lineHash();
  // One bit of 64 for a name, of its length and first byte (which a
  // record's names and the added ones rarely share both).
  static uint64_t signatureBit(std::string_view name) {
    const size_t first = name.empty() ? 0 : static_cast<unsigned char>(name[0]);
    return uint64_t{1} << ((name.size() * 31 + first) & 63);
  }
  std::optional<size_t> scan(std::string_view name) const;

  std::vector<AddedField> fields_;
  const Clock& clock_;
  uint64_t instance_;
  uint64_t sequence_ = 0;
  bool wantsSource_ = false;
  bool wantsOrigin_ = false;
  uint64_t signatures_ = 0;  // the names' signatureBit()s

  std::string_view line_;
  const RecordOrigin* origin_ = nullptr;
  bool haveTime_ = false;
  bool haveId_ = false;
  bool haveHash_ = false;
  std::array<char, 24> time_{};  // "YYYY-MM-DDTHH:MM:SS.mmmZ"
  std::array<char, kRecordIdSize> id_{};
  std::array<char, kRecordIdSize> hash_{};
  // The date and time to the second of the last reading, reformatted only
  // when the second changes.
  int64_t timeSecond_ = INT64_MIN;
};

// The fields of one record as templates and filters see them: the added
// fields over the parser's (an added field hides a parsed one of the same
// top-level name; one without a value for this record hides nothing).
// Lives for one record, on the pipeline's stack.
class EnrichedFields final : public RecordFields {
 public:
  EnrichedFields(Enrichment& enrichment, const RecordFields& parsed) : enrichment_(enrichment), parsed_(parsed) {}
  bool appendValue(const FieldPath& path, std::string& out) const override;

 private:
  Enrichment& enrichment_;
  const RecordFields& parsed_;
};

}  // namespace kinship::pipeline
