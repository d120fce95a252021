#pragma once
// RecordEncoder: the bytes a record ships (`encoding` on a pipeline), which
// are also what the disk spool stores and what counts against Kinesis's
// record size (a record over it is a counted dead letter in the sink).
//
//   raw   the line as read (the default)
//   json  one JSON object: the record's own fields, then the added fields
//         (see added_fields.h) in the order the config lists them, every
//         value escaped, bytes that are not UTF-8 replaced with U+FFFD.
//         The record's own fields, by parser:
//           json     the line's object as written, when no added field
//                    takes one of its top-level names (the added fields
//                    are put before its closing brace); else its members
//                    in order, less those names, written anew
//           logfmt, regex, syslog   their fields (see each parser's
//                    writeJson(): strings, syslog's numbers, "sd")
//           raw, and any line that did not parse: {"message": LINE}; an
//                    added field named `message` is then left out, so the
//                    line is never lost
//         Keys come in an order that depends only on the line and the
//         config, so equal lines encode equally (but for the per-record
//         added fields: ingest_time, record_id).
// `trailing_newline` ends each record's data with "\n", for consumers that
// split a stream of records on it (Firehose to S3, `cat` of a dump).
//
// Writes into the caller's buffer (the batch's, RecordBatch::dataBuffer()),
// so encoding allocates nothing per record once its scratch has grown.
// One per pipeline, on its thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/added_fields.h"
#include "pipeline/json_fields.h"
#include "pipeline/record_fields.h"

namespace kinship::pipeline {

enum class Encoding : uint8_t { kRaw, kJson };

struct EncodingOptions {
  Encoding encoding = Encoding::kRaw;
  bool trailingNewline = false;
};

class RecordEncoder {
 public:
  // `enrichment` (the pipeline's; may have no fields) must outlive the
  // encoder.
  RecordEncoder(EncodingOptions options, const Enrichment& enrichment);

  // The data is the line as read: the pipeline copies it, with no encoder.
  bool copiesLine() const { return options_.encoding == Encoding::kRaw && !options_.trailingNewline; }
  // The encoding lists the parsed fields: lines must be parsed.
  bool needsFields() const { return options_.encoding == Encoding::kJson; }

  // Appends the data of the record of `line` to `out`. `fields`: what the
  // parser found (null: not parsed, or did not parse); `jsonObject`: the
  // line parsed as a JSON object, if it was (its bytes are then kept when
  // it is `fields` itself). The enrichment
  // must have begun this record. Returns true when bytes that are not
  // UTF-8 were replaced.
  bool encode(std::string_view line, const RecordFields* fields, const JsonFields* jsonObject,
              Enrichment& enrichment, std::string& out);

 private:
  bool encodeJson(std::string_view line, const RecordFields* fields, const JsonFields* jsonObject,
                  Enrichment& enrichment, std::string& out);
  // Writes the added fields that have a value, less `message` when the
  // line is the message.
  void writeAdded(JsonWriter& writer, Enrichment& enrichment, bool lineIsMessage);

  EncodingOptions options_;
  // Per added field: its name escaped with a colon, `"name":`; for a text
  // field the whole member, `"name":"value"`, escaped once at startup.
  std::vector<std::string> members_;
  std::string scratch_;
  std::string value_;
};

}  // namespace kinship::pipeline
