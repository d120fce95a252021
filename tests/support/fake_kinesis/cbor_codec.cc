#include "tests/support/fake_kinesis/cbor_codec.h"

#include <cbor.h>
#include <simdjson.h>

#include <array>
#include <memory>

namespace kinship::fake {
namespace {

// Our requests nest three deep (map, Records array, record map) plus string
// chunks; anything much deeper is an attack on libcbor, whose item teardown
// recurses.
constexpr size_t kMaxDepth = 16;

// A well-formedness pre-pass over the item headers with libcbor's streaming
// decoder: exactly one item, no trailing bytes, bounded nesting, and no
// definite count larger than the bytes left (so cbor_load never allocates for
// items that cannot be there).
struct Scan {
  // What the last callback saw.
  enum class Event : uint8_t { kLeaf, kDefinite, kIndefinite, kBreak, kTag };
  Event event = Event::kLeaf;
  uint64_t count = 0;  // items of a definite container
  bool badCount = false;
};

Scan& scanOf(void* context) { return *static_cast<Scan*>(context); }
void onLeaf(void* c) { scanOf(c).event = Scan::Event::kLeaf; }
void onU8(void* c, uint8_t) { onLeaf(c); }
void onU16(void* c, uint16_t) { onLeaf(c); }
void onU32(void* c, uint32_t) { onLeaf(c); }
void onU64(void* c, uint64_t) { onLeaf(c); }
void onString(void* c, cbor_data, size_t) { onLeaf(c); }
void onFloat(void* c, float) { onLeaf(c); }
void onDouble(void* c, double) { onLeaf(c); }
void onBool(void* c, bool) { onLeaf(c); }
void onIndefinite(void* c) { scanOf(c).event = Scan::Event::kIndefinite; }
void onArray(void* c, size_t n) {
  scanOf(c).event = Scan::Event::kDefinite;
  scanOf(c).count = n;
}
void onMap(void* c, size_t n) {
  Scan& scan = scanOf(c);
  scan.event = Scan::Event::kDefinite;
  // Two items a pair; a count this large is refused below anyway.
  scan.badCount = n > (SIZE_MAX >> 1);
  scan.count = static_cast<uint64_t>(n) * 2;
}
void onTag(void* c, uint64_t) { scanOf(c).event = Scan::Event::kTag; }
void onBreak(void* c) { scanOf(c).event = Scan::Event::kBreak; }

cbor_callbacks makeScanCallbacks() {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = onU8;
  cb.uint16 = onU16;
  cb.uint32 = onU32;
  cb.uint64 = onU64;
  cb.negint8 = onU8;
  cb.negint16 = onU16;
  cb.negint32 = onU32;
  cb.negint64 = onU64;
  cb.byte_string = onString;
  cb.string = onString;
  cb.byte_string_start = onIndefinite;
  cb.string_start = onIndefinite;
  cb.indef_array_start = onIndefinite;
  cb.indef_map_start = onIndefinite;
  cb.array_start = onArray;
  cb.map_start = onMap;
  cb.tag = onTag;
  cb.float2 = onFloat;
  cb.float4 = onFloat;
  cb.float8 = onDouble;
  cb.undefined = onLeaf;
  cb.null = onLeaf;
  cb.boolean = onBool;
  cb.indef_break = onBreak;
  return cb;
}

bool wellFormed(std::string_view body) {
  static const cbor_callbacks callbacks = makeScanCallbacks();
  constexpr uint64_t kIndefinite = UINT64_MAX;
  std::array<uint64_t, kMaxDepth> open{};  // items left in each open container
  size_t depth = 0;
  auto* at = reinterpret_cast<cbor_data>(body.data());
  size_t left = body.size();
  do {
    if (left == 0) return false;  // truncated
    Scan scan;
    cbor_decoder_result result = cbor_stream_decode(at, left, &callbacks, &scan);
    if (result.status != CBOR_DECODER_FINISHED || result.read == 0) return false;
    at += result.read;
    left -= result.read;
    if (scan.event == Scan::Event::kBreak) {
      if (depth == 0 || open[depth - 1] != kIndefinite) return false;
      --depth;
    } else {
      if (depth > 0 && open[depth - 1] != kIndefinite) --open[depth - 1];
      if (scan.event == Scan::Event::kDefinite || scan.event == Scan::Event::kIndefinite ||
          scan.event == Scan::Event::kTag) {
        if (depth == kMaxDepth) return false;
        uint64_t items = scan.event == Scan::Event::kIndefinite ? kIndefinite
                         : scan.event == Scan::Event::kTag      ? 1
                                                                : scan.count;
        if (scan.badCount || (items != kIndefinite && items > left)) return false;
        open[depth++] = items;
      }
    }
    while (depth > 0 && open[depth - 1] == 0) --depth;
  } while (depth > 0);
  return left == 0;
}

struct ItemDeleter {
  void operator()(cbor_item_t* item) const {
    if (item != nullptr) cbor_decref(&item);
  }
};
using Item = std::unique_ptr<cbor_item_t, ItemDeleter>;

bool isAbsent(const cbor_item_t* item) { return cbor_is_null(item) || cbor_is_undef(item); }

// Appends a text string's bytes (all chunks) to `text` and views them.
// False for another type or invalid UTF-8.
bool readText(cbor_item_t* item, std::string& text, std::string_view& out) {
  if (!cbor_isa_string(item)) return false;
  size_t at = text.size();
  if (cbor_string_is_definite(item)) {
    text.append(reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item));
  } else {
    cbor_item_t** chunks = cbor_string_chunks_handle(item);
    for (size_t i = 0; i < cbor_string_chunk_count(item); ++i) {
      if (!cbor_isa_string(chunks[i]) || !cbor_string_is_definite(chunks[i])) return false;
      text.append(reinterpret_cast<const char*>(cbor_string_handle(chunks[i])), cbor_string_length(chunks[i]));
    }
  }
  out = std::string_view(text).substr(at);
  return simdjson::validate_utf8(out.data(), out.size());
}

bool readBytes(cbor_item_t* item, std::string& data, size_t& offset, size_t& size) {
  if (!cbor_isa_bytestring(item)) return false;
  offset = data.size();
  if (cbor_bytestring_is_definite(item)) {
    data.append(reinterpret_cast<const char*>(cbor_bytestring_handle(item)), cbor_bytestring_length(item));
  } else {
    cbor_item_t** chunks = cbor_bytestring_chunks_handle(item);
    for (size_t i = 0; i < cbor_bytestring_chunk_count(item); ++i) {
      if (!cbor_isa_bytestring(chunks[i]) || !cbor_bytestring_is_definite(chunks[i])) return false;
      data.append(reinterpret_cast<const char*>(cbor_bytestring_handle(chunks[i])),
                  cbor_bytestring_length(chunks[i]));
    }
  }
  size = data.size() - offset;
  return true;
}

// Whether a map key is the text `name` (keys of other types never match).
bool keyIs(cbor_item_t* key, std::string_view name) {
  if (!cbor_isa_string(key)) return false;
  if (cbor_string_is_definite(key)) {
    return std::string_view(reinterpret_cast<const char*>(cbor_string_handle(key)), cbor_string_length(key)) == name;
  }
  cbor_item_t** chunks = cbor_string_chunks_handle(key);
  for (size_t i = 0; i < cbor_string_chunk_count(key); ++i) {
    if (!cbor_isa_string(chunks[i]) || !cbor_string_is_definite(chunks[i])) return false;
    std::string_view chunk(reinterpret_cast<const char*>(cbor_string_handle(chunks[i])),
                           cbor_string_length(chunks[i]));
    if (!name.starts_with(chunk)) return false;
    name.remove_prefix(chunk.size());
  }
  return name.empty();
}

// The first value under `name` in a map, or null if there is none (JSON
// objects answer their first duplicate too).
cbor_item_t* find(cbor_item_t* map, std::string_view name) {
  cbor_pair* pairs = cbor_map_handle(map);
  for (size_t i = 0; i < cbor_map_size(map); ++i) {
    if (keyIs(pairs[i].key, name)) return isAbsent(pairs[i].value) ? nullptr : pairs[i].value;
  }
  return nullptr;
}

// Reads an optional text field; false (badField set) for a wrong type.
bool textField(cbor_item_t* map, std::string_view name, std::string& text, std::string_view& out, bool& has,
               std::string_view& badField) {
  cbor_item_t* value = find(map, name);
  has = value != nullptr;
  if (has && !readText(value, text, out)) {
    badField = name;
    return false;
  }
  return true;
}

bool readRecord(cbor_item_t* map, std::string& text, std::string& data, CborRecord& out,
                std::string_view& badField) {
  if (cbor_item_t* value = find(map, "Data")) {
    if (!readBytes(value, data, out.dataOffset, out.dataSize)) {
      badField = "Data";
      return false;
    }
    out.hasData = true;
  }
  return textField(map, "PartitionKey", text, out.key, out.hasKey, badField) &&
         textField(map, "ExplicitHashKey", text, out.hashKey, out.hasHashKey, badField);
}

}  // namespace

void CborPutRequest::clear() {
  streamName = streamArn = ordering = {};
  hasName = hasArn = hasOrdering = hasRecords = false;
  records.clear();
  record = CborRecord{};
}

CborDecode decodeCborPut(std::string_view body, bool batch, std::string& text, std::string& data,
                         CborPutRequest& out, std::string_view& badField) {
  out.clear();
  static constexpr char kEmptyMap[] = "\xa0";
  if (body.empty()) body = std::string_view(kEmptyMap, 1);
  if (!wellFormed(body)) return CborDecode::kMalformed;
  cbor_load_result result;
  Item root(cbor_load(reinterpret_cast<cbor_data>(body.data()), body.size(), &result));
  if (root == nullptr || result.error.code != CBOR_ERR_NONE || result.read != body.size()) {
    return CborDecode::kMalformed;
  }
  // The JSON path refuses a body that is not an object outright.
  if (!cbor_isa_map(root.get())) return CborDecode::kMalformed;
  cbor_item_t* map = root.get();
  if (!textField(map, "StreamName", text, out.streamName, out.hasName, badField) ||
      !textField(map, "StreamARN", text, out.streamArn, out.hasArn, badField)) {
    return CborDecode::kWrongType;
  }
  if (!batch) {
    if (!readRecord(map, text, data, out.record, badField) ||
        !textField(map, "SequenceNumberForOrdering", text, out.ordering, out.hasOrdering, badField)) {
      return CborDecode::kWrongType;
    }
    return CborDecode::kOk;
  }
  cbor_item_t* records = find(map, "Records");
  out.hasRecords = records != nullptr;
  if (records == nullptr) return CborDecode::kOk;
  badField = "Records";
  if (!cbor_isa_array(records)) return CborDecode::kWrongType;
  cbor_item_t** items = cbor_array_handle(records);
  out.records.reserve(cbor_array_size(records));
  for (size_t i = 0; i < cbor_array_size(records); ++i) {
    if (!cbor_isa_map(items[i])) {
      badField = "Records";
      return CborDecode::kWrongType;
    }
    CborRecord& record = out.records.emplace_back();
    if (!readRecord(items[i], text, data, record, badField)) return CborDecode::kWrongType;
  }
  badField = {};
  return CborDecode::kOk;
}

namespace {

// The longest CBOR head: one byte and an 8-byte argument.
constexpr size_t kMaxHead = 9;

template <typename Encode>
void appendHead(std::string& out, Encode encode) {
  unsigned char head[kMaxHead];
  size_t n = encode(head, sizeof(head));
  out.append(reinterpret_cast<const char*>(head), n);
}

}  // namespace

void CborWriter::mapStart(size_t pairs) {
  appendHead(out_, [&](unsigned char* b, size_t n) { return cbor_encode_map_start(pairs, b, n); });
}

void CborWriter::arrayStart(size_t items) {
  appendHead(out_, [&](unsigned char* b, size_t n) { return cbor_encode_array_start(items, b, n); });
}

void CborWriter::text(std::string_view value) {
  appendHead(out_, [&](unsigned char* b, size_t n) { return cbor_encode_string_start(value.size(), b, n); });
  out_ += value;
}

void CborWriter::uint(uint64_t value) {
  appendHead(out_, [&](unsigned char* b, size_t n) { return cbor_encode_uint(value, b, n); });
}

void appendCborError(std::string& out, std::string_view type, std::string_view message) {
  CborWriter writer(out);
  writer.mapStart(2);
  writer.text("__type");
  writer.text(type);
  writer.text("message");
  writer.text(message);
}

}  // namespace kinship::fake
