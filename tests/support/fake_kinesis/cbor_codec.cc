#include "tests/support/fake_kinesis/cbor_codec.h"

#include <cbor.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <utility>

namespace kinship::fake {
namespace {

// Our requests nest three deep (map, Records array, record map) plus string
// chunks; deeper bodies are refused, which keeps the reader's stack an array.
constexpr size_t kMaxDepth = 16;
constexpr uint64_t kIndefinite = UINT64_MAX;

// The fields read. When several have the wrong type, the first in this order
// is named (in Records, the first bad record's, as later ones are not read).
enum Field : uint8_t {
  kStreamName,
  kStreamArn,
  kRecords,
  kData,
  kPartitionKey,
  kExplicitHashKey,
  kOrdering,
  kNoField,
  kKey,  // a chunked string being matched against the names
};
constexpr std::array<std::string_view, kNoField> kNames = {
    "StreamName", "StreamARN", "Records", "Data", "PartitionKey", "ExplicitHashKey", "SequenceNumberForOrdering"};
constexpr uint8_t bit(uint8_t field) { return static_cast<uint8_t>(1u << field); }
constexpr uint8_t kBatchFields = bit(kStreamName) | bit(kStreamArn) | bit(kRecords);
constexpr uint8_t kRecordFields = bit(kData) | bit(kPartitionKey) | bit(kExplicitHashKey);
constexpr uint8_t kSingleFields = bit(kStreamName) | bit(kStreamArn) | kRecordFields | bit(kOrdering);

// One head (with its bytes, for a definite string) as cbor_stream_decode
// reports it; numbers, booleans and floats leave it a kScalar.
struct Item {
  // kBytesChunks to kTag open a container.
  enum Type : uint8_t { kScalar, kAbsent, kBytes, kText, kBytesChunks, kTextChunks, kArray, kMap, kTag, kBreak };
  Type type = kScalar;
  uint64_t count = kIndefinite;  // a container's items, two a map pair
  bool badCount = false;
  std::string_view string;

  bool container() const { return type >= kBytesChunks && type <= kTag; }
};

Item& itemOf(void* context) { return *static_cast<Item*>(context); }
void onAbsent(void* c) { itemOf(c).type = Item::kAbsent; }
void onString(Item& item, Item::Type type, cbor_data bytes, size_t size) {
  item.type = type;
  item.string = std::string_view(reinterpret_cast<const char*>(bytes), size);
}
void onBytes(void* c, cbor_data bytes, size_t size) { onString(itemOf(c), Item::kBytes, bytes, size); }
void onText(void* c, cbor_data bytes, size_t size) { onString(itemOf(c), Item::kText, bytes, size); }
void onBytesChunks(void* c) { itemOf(c).type = Item::kBytesChunks; }
void onTextChunks(void* c) { itemOf(c).type = Item::kTextChunks; }
void onIndefiniteArray(void* c) { itemOf(c).type = Item::kArray; }
void onIndefiniteMap(void* c) { itemOf(c).type = Item::kMap; }
void onArray(void* c, size_t n) {
  itemOf(c).type = Item::kArray;
  itemOf(c).count = n;
}
void onMap(void* c, size_t n) {
  Item& item = itemOf(c);
  item.type = Item::kMap;
  // Two items a pair; a count this large is refused anyway.
  item.badCount = n > (SIZE_MAX >> 1);
  item.count = static_cast<uint64_t>(n) * 2;
}
void onTag(void* c, uint64_t) {
  itemOf(c).type = Item::kTag;
  itemOf(c).count = 1;
}
void onBreak(void* c) { itemOf(c).type = Item::kBreak; }

cbor_callbacks makeCallbacks() {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.byte_string = onBytes;
  cb.string = onText;
  cb.byte_string_start = onBytesChunks;
  cb.string_start = onTextChunks;
  cb.indef_array_start = onIndefiniteArray;
  cb.indef_map_start = onIndefiniteMap;
  cb.array_start = onArray;
  cb.map_start = onMap;
  cb.tag = onTag;
  cb.undefined = onAbsent;
  cb.null = onAbsent;
  cb.indef_break = onBreak;
  return cb;
}

// An open container (a tag counts as one of one item) and what its items
// are to us.
struct Frame {
  enum Role : uint8_t { kSkip, kRequest, kRecords, kRecord, kChunks };
  Role role = kSkip;
  bool map = false;
  bool valueNext = false;                // a map's next item is a value
  Item::Type chunkType = Item::kScalar;  // kChunks: the type every chunk must have
  Field field = kNoField;                // kRequest / kRecord: the next value's; kChunks: the string's
  uint8_t fields = 0;                    // kRequest / kRecord: names not met yet; a key's chunks: names matching
  uint64_t left = 0;                     // items to come, or kIndefinite
  size_t start = 0;                      // kChunks: where the string starts in text / data, or a key's length
};

// Reads a body in one pass of libcbor's streaming decoder rather than with
// cbor_load, whose item tree costs an allocation per item. It refuses what
// cbor_load refused: not exactly one item, chunks that are not definite
// strings of their string's type, an indefinite map ending after a key; and
// counts larger than the bytes left, which cbor_load would have allocated for.
class PutReader {
 public:
  PutReader(bool batch, std::string& text, std::string& data, CborPutRequest& out)
      : batch_(batch), text_(text), data_(data), out_(out) {}

  CborDecode read(std::string_view body, std::string_view& badField) {
    static const cbor_callbacks callbacks = makeCallbacks();
    auto* at = reinterpret_cast<cbor_data>(body.data());
    size_t left = body.size();
    do {
      if (left == 0) return CborDecode::kMalformed;  // truncated
      Item item;
      cbor_decoder_result result = cbor_stream_decode(at, left, &callbacks, &item);
      if (result.status != CBOR_DECODER_FINISHED || result.read == 0) return CborDecode::kMalformed;
      at += result.read;
      left -= result.read;
      if (!step(item, left)) return CborDecode::kMalformed;
    } while (depth_ > 0);
    if (left != 0) return CborDecode::kMalformed;
    if (errorField_ != kNoField) {
      badField = kNames[errorField_];
      return CborDecode::kWrongType;
    }
    if (batch_ && out_.hasRecords) badField = {};
    return CborDecode::kOk;
  }

 private:
  // False if the body is malformed.
  bool step(const Item& item, size_t left) {
    if (item.type == Item::kBreak) {
      if (depth_ == 0) return false;
      Frame& top = stack_[depth_ - 1];
      if (top.left != kIndefinite || (top.map && top.valueNext)) return false;
      if (top.role == Frame::kChunks) endString(top);
      --depth_;
    } else {
      // cbor_load refused text that is not UTF-8, anywhere in the body.
      if (item.type == Item::kText && !simdjson::validate_utf8(item.string.data(), item.string.size())) return false;
      if (item.container() &&
          (depth_ == kMaxDepth || item.badCount || (item.count != kIndefinite && item.count > left))) {
        return false;
      }
      Frame opened;
      if (depth_ == 0) {
        // The JSON path refuses a body that is not an object outright.
        if (item.type != Item::kMap) return false;
        opened.role = Frame::kRequest;
        opened.fields = batch_ ? kBatchFields : kSingleFields;
      } else if (!place(stack_[depth_ - 1], item, opened)) {
        return false;
      }
      if (item.container()) {
        opened.map = item.type == Item::kMap;
        opened.left = item.count;
        stack_[depth_++] = opened;
      }
    }
    while (depth_ > 0 && stack_[depth_ - 1].left == 0) --depth_;
    return true;
  }

  // Takes an item inside `parent`; `opened` is what it is if a container.
  bool place(Frame& parent, const Item& item, Frame& opened) {
    if (parent.left != kIndefinite) --parent.left;
    bool isValue = parent.map && parent.valueNext;
    parent.valueNext = parent.map && !isValue;
    switch (parent.role) {
      case Frame::kChunks:
        if (item.type != parent.chunkType) return false;
        chunk(parent, item.string);
        break;
      case Frame::kSkip:
        skip(item, opened);
        break;
      case Frame::kRecords:
        element(item, opened);
        break;
      case Frame::kRequest:
      case Frame::kRecord:
        if (isValue) {
          value(std::exchange(parent.field, kNoField), item, opened);
        } else {
          key(parent, item, opened);
        }
        break;
    }
    return true;
  }

  // What is of no interest is still read through, chunks checked.
  static void skip(const Item& item, Frame& opened) {
    if (item.type == Item::kBytesChunks || item.type == Item::kTextChunks) chunks(item, kNoField, 0, opened);
  }

  static void chunks(const Item& item, Field field, size_t start, Frame& opened) {
    opened.role = Frame::kChunks;
    opened.chunkType = item.type == Item::kTextChunks ? Item::kText : Item::kBytes;
    opened.field = field;
    opened.start = start;
  }

  static void key(Frame& map, const Item& item, Frame& opened) {
    if (item.type == Item::kText) {
      for (uint8_t f = 0; f < kNoField; ++f) {
        if ((map.fields & bit(f)) != 0 && kNames[f] == item.string) return claim(map, f);
      }
    } else if (item.type == Item::kTextChunks) {
      chunks(item, kKey, 0, opened);
      opened.fields = map.fields;
    } else {
      skip(item, opened);
    }
  }

  // The first key with a name takes the field (null or not), as a JSON
  // object's lookup answers the first duplicate; later ones are skipped.
  static void claim(Frame& map, uint8_t field) {
    map.fields &= static_cast<uint8_t>(~bit(field));
    map.field = static_cast<Field>(field);
  }

  void element(const Item& item, Frame& opened) {
    // Once a field is wrong, no later record can be the one named.
    if (errorField_ != kNoField) return skip(item, opened);
    if (item.type != Item::kMap) return wrong(kRecords, item, opened);
    out_.records.emplace_back();
    opened.role = Frame::kRecord;
    opened.fields = kRecordFields;
  }

  void value(Field field, const Item& item, Frame& opened) {
    if (field == kNoField) return skip(item, opened);
    if (item.type == Item::kAbsent) return;
    if (field == kRecords) {
      out_.hasRecords = true;
      if (item.type != Item::kArray) return wrong(field, item, opened);
      if (item.count != kIndefinite) out_.records.reserve(item.count);
      opened.role = Frame::kRecords;
    } else if (field == kData) {
      if (item.type != Item::kBytes && item.type != Item::kBytesChunks) return wrong(field, item, opened);
      CborRecord& r = record();
      r.hasData = true;
      r.dataOffset = data_.size();
      data_ += item.string;
      r.dataSize = item.string.size();
      if (item.type == Item::kBytesChunks) chunks(item, field, r.dataOffset, opened);
    } else {
      if (item.type != Item::kText && item.type != Item::kTextChunks) return wrong(field, item, opened);
      size_t start = text_.size();
      text_ += item.string;
      if (item.type == Item::kTextChunks) return chunks(item, field, start, opened);
      endText(field, start);
    }
  }

  void wrong(Field field, const Item& item, Frame& opened) {
    errorField_ = std::min(errorField_, field);
    skip(item, opened);
  }

  void chunk(Frame& string, std::string_view bytes) {
    if (string.field == kKey) {
      // A name still matching is at least string.start long.
      for (uint8_t f = 0; f < kNoField; ++f) {
        if ((string.fields & bit(f)) != 0 && !kNames[f].substr(string.start).starts_with(bytes)) {
          string.fields &= static_cast<uint8_t>(~bit(f));
        }
      }
      string.start += bytes.size();
    } else if (string.field == kData) {
      data_ += bytes;
    } else if (string.field != kNoField) {
      text_ += bytes;
    }
  }

  void endString(const Frame& string) {
    if (string.field == kKey) {
      Frame& map = stack_[depth_ - 2];
      for (uint8_t f = 0; f < kNoField; ++f) {
        if ((string.fields & bit(f)) != 0 && kNames[f].size() == string.start) claim(map, f);
      }
    } else if (string.field == kData) {
      record().dataSize = data_.size() - string.start;
    } else if (string.field != kNoField) {
      endText(string.field, string.start);
    }
  }

  void endText(Field field, size_t start) {
    std::string_view value = std::string_view(text_).substr(start);
    if (field == kStreamName) {
      out_.streamName = value;
      out_.hasName = true;
    } else if (field == kStreamArn) {
      out_.streamArn = value;
      out_.hasArn = true;
    } else if (field == kOrdering) {
      out_.ordering = value;
      out_.hasOrdering = true;
    } else if (field == kPartitionKey) {
      record().key = value;
      record().hasKey = true;
    } else {
      record().hashKey = value;
      record().hasHashKey = true;
    }
  }

  // Data, PartitionKey and ExplicitHashKey's record.
  CborRecord& record() { return batch_ ? out_.records.back() : out_.record; }

  bool batch_;
  std::string& text_;
  std::string& data_;
  CborPutRequest& out_;
  std::array<Frame, kMaxDepth> stack_;
  size_t depth_ = 0;
  Field errorField_ = kNoField;  // the first wrong one
};

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
  return PutReader(batch, text, data, out).read(body, badField);
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
