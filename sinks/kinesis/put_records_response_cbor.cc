// PutRecordsResponse for CBOR answers: one pass of libcbor's streaming
// decoder over the body, with no allocation per record once the buffers
// have grown. Only the fields the sink uses are kept; everything else
// (SequenceNumber, EncryptionType, unknown fields) is skipped, whatever its
// type. Definite and indefinite lengths are both accepted.
// The common answer, FailedRecordCount 0 ahead of a counted Records array,
// is read only up to the first record: the decoder's cost is per item, and
// walking 500 records of 5 items each cost more than the whole JSON read.

#include <cbor.h>

#include "sinks/kinesis/put_records_response.h"

namespace kinship::kinesis {

namespace {

enum class Role : uint8_t { kTop, kRecords, kRecord, kOther };
enum class Key : uint8_t { kOther, kFailedRecordCount, kRecords, kErrorCode, kErrorMessage, kShardId };

Key keyOf(std::string_view name) {
  if (name == "ShardId") return Key::kShardId;
  if (name == "ErrorCode") return Key::kErrorCode;
  if (name == "ErrorMessage") return Key::kErrorMessage;
  if (name == "Records") return Key::kRecords;
  if (name == "FailedRecordCount") return Key::kFailedRecordCount;
  return Key::kOther;
}

struct Container {
  bool map = false;
  bool indefinite = false;
  bool atKey = false;  // maps: the next item is a key
  Role role = Role::kOther;
  Key key = Key::kOther;   // maps: the key of the value being read
  uint64_t remaining = 0;  // definite: items still to come (2 per map pair)
};

// Holds the decoding state; the callbacks below forward to it.
class AnswerReader {
 public:
  explicit AnswerReader(PutRecordsResponse::CborFields& out) : out_(out) {}

  bool done() const { return done_; }
  const char* problem() const { return problem_; }

  void scalar(std::string_view text, bool isText) {
    if (problem_ != nullptr || done_) return;
    if (depth_ == 0) return fail("PutRecords answer is not a map");
    Container& c = stack_[depth_ - 1];
    if (c.map && c.atKey) {
      c.key = isText ? keyOf(text) : Key::kOther;
    } else if (c.role == Role::kRecords) {
      return fail("PutRecords answer has a record that is not an object");
    } else if (c.role == Role::kRecord && isText) {
      if (c.key == Key::kErrorCode) out_.errorCode.assign(text);
      else if (c.key == Key::kErrorMessage) out_.errorMessage.assign(text);
      else if (c.key == Key::kShardId) out_.shardId.assign(text);
    }
    afterItem();
  }

  void unsignedValue(uint64_t value) {
    if (problem_ == nullptr && !done_ && depth_ == 1 && !stack_[0].atKey &&
        stack_[0].key == Key::kFailedRecordCount) {
      noFailures_ = value == 0;
    }
    scalar({}, false);
  }

  void startContainer(bool map, bool indefinite, uint64_t items) {
    if (problem_ != nullptr || done_) return;
    Role role = Role::kOther;
    if (depth_ == 0) {
      if (!map) return fail("PutRecords answer is not a map");
      role = Role::kTop;
    } else {
      const Container& parent = stack_[depth_ - 1];
      const bool isValue = !(parent.map && parent.atKey);
      if (parent.role == Role::kTop && isValue && parent.key == Key::kRecords) {
        if (map) return fail("PutRecords answer has no Records array");
        role = Role::kRecords;
        out_.sawRecords = true;
        // FailedRecordCount 0, read before a counted array: every record was
        // accepted, so only the first one (its ShardId) needs reading.
        if (noFailures_ && !indefinite) acceptedRecords_ = items;
      } else if (parent.role == Role::kRecords) {
        if (!map) return fail("PutRecords answer has a record that is not an object");
        role = Role::kRecord;
        out_.errorCode.clear();
        out_.errorMessage.clear();
        out_.shardId.clear();
      }
    }
    if (depth_ == stack_.size()) return fail("PutRecords answer nests too deeply");
    Container& c = stack_[depth_++];
    c.map = map;
    c.indefinite = indefinite;
    c.atKey = map;
    c.role = role;
    c.remaining = map ? 2 * items : items;
    c.key = Key::kOther;
    if (!indefinite && c.remaining == 0) endContainer();
  }

  void startChunked(bool text) {
    chunked_ = text ? Chunked::kText : Chunked::kBytes;
    chunks_.clear();
  }
  bool inChunked() const { return chunked_ != Chunked::kNone; }
  void chunk(std::string_view piece) {
    if (chunked_ == Chunked::kText) chunks_ += piece;
  }

  void onBreak() {
    if (problem_ != nullptr || done_) return;
    if (chunked_ != Chunked::kNone) {
      const bool text = chunked_ == Chunked::kText;
      chunked_ = Chunked::kNone;
      return scalar(chunks_, text);
    }
    if (depth_ == 0 || !stack_[depth_ - 1].indefinite) return fail("PutRecords answer is not valid CBOR");
    endContainer();
  }

 private:
  enum class Chunked : uint8_t { kNone, kText, kBytes };

  void fail(const char* problem) {
    if (problem_ == nullptr) problem_ = problem;
  }

  void afterItem() {
    if (depth_ == 0) {
      done_ = true;
      return;
    }
    Container& c = stack_[depth_ - 1];
    if (c.map) c.atKey = !c.atKey;
    if (!c.indefinite && --c.remaining == 0) endContainer();
  }

  void endContainer() {
    const Container& c = stack_[--depth_];
    if (c.role == Role::kRecord) {
      out_.onRecord();
      if (acceptedRecords_ > 0) {
        out_.addAccepted(acceptedRecords_ - 1);
        done_ = true;
        return;
      }
    }
    afterItem();
  }

  PutRecordsResponse::CborFields& out_;
  std::array<Container, 16> stack_;
  size_t depth_ = 0;
  bool done_ = false;
  const char* problem_ = nullptr;
  bool noFailures_ = false;
  uint64_t acceptedRecords_ = 0;  // > 0: the fast path is on
  Chunked chunked_ = Chunked::kNone;
  std::string chunks_;
};

AnswerReader& readerOf(void* context) { return *static_cast<AnswerReader*>(context); }

void onAny(void* context) { readerOf(context).scalar({}, false); }
template <typename T>
void onNumber(void* context, T) {
  readerOf(context).scalar({}, false);
}
template <typename T>
void onUnsigned(void* context, T value) {
  readerOf(context).unsignedValue(value);
}
void onText(void* context, cbor_data data, size_t size) {
  auto& reader = readerOf(context);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (reader.inChunked()) return reader.chunk(text);
  reader.scalar(text, true);
}
void onBytes(void* context, cbor_data data, size_t size) {
  auto& reader = readerOf(context);
  if (reader.inChunked()) return reader.chunk({});
  reader.scalar(std::string_view(reinterpret_cast<const char*>(data), size), false);
}

const cbor_callbacks& answerCallbacks() {
  static const cbor_callbacks callbacks = [] {
    cbor_callbacks c = cbor_empty_callbacks;
    c.uint8 = onUnsigned<uint8_t>;
    c.uint16 = onUnsigned<uint16_t>;
    c.uint32 = onUnsigned<uint32_t>;
    c.uint64 = onUnsigned<uint64_t>;
    c.negint8 = onNumber<uint8_t>;
    c.negint16 = onNumber<uint16_t>;
    c.negint32 = onNumber<uint32_t>;
    c.negint64 = onNumber<uint64_t>;
    c.float2 = onNumber<float>;
    c.float4 = onNumber<float>;
    c.float8 = onNumber<double>;
    c.boolean = onNumber<bool>;
    c.null = onAny;
    c.undefined = onAny;
    c.string = onText;
    c.byte_string = onBytes;
    c.string_start = [](void* context) { readerOf(context).startChunked(true); };
    c.byte_string_start = [](void* context) { readerOf(context).startChunked(false); };
    c.array_start = [](void* context, size_t n) { readerOf(context).startContainer(false, false, n); };
    c.indef_array_start = [](void* context) { readerOf(context).startContainer(false, true, 0); };
    c.map_start = [](void* context, size_t n) { readerOf(context).startContainer(true, false, n); };
    c.indef_map_start = [](void* context) { readerOf(context).startContainer(true, true, 0); };
    c.indef_break = [](void* context) { readerOf(context).onBreak(); };
    // Tags only qualify the next item; the item itself is read as usual.
    return c;
  }();
  return callbacks;
}

}  // namespace

void PutRecordsResponse::CborFields::onRecord() {
  RecordError result = RecordError::kNone;
  if (!errorCode.empty()) {
    result = recordErrorOf(errorCode);
    ++owner->failed_;
    if (owner->firstErrorCode_.empty()) {
      owner->firstErrorCode_ = errorCode;
      owner->firstErrorMessage_ = errorMessage;
    }
  } else if (owner->firstShardId_.empty()) {
    owner->firstShardId_ = shardId;
  }
  owner->results_.push_back(result);
}

void PutRecordsResponse::CborFields::addAccepted(uint64_t count) {
  owner->results_.insert(owner->results_.end(), count, RecordError::kNone);
}

Status PutRecordsResponse::parseCbor(std::string_view body) {
  cbor_.owner = this;
  cbor_.sawRecords = false;
  AnswerReader reader(cbor_);
  const auto* data = reinterpret_cast<cbor_data>(body.data());
  size_t offset = 0;
  while (!reader.done() && reader.problem() == nullptr) {
    if (offset == body.size()) return Status::corruption("PutRecords answer is truncated CBOR");
    cbor_decoder_result step = cbor_stream_decode(data + offset, body.size() - offset, &answerCallbacks(), &reader);
    if (step.status == CBOR_DECODER_NEDATA) return Status::corruption("PutRecords answer is truncated CBOR");
    if (step.status != CBOR_DECODER_FINISHED) return Status::corruption("PutRecords answer is not valid CBOR");
    offset += step.read;
  }
  if (reader.problem() != nullptr) return Status::corruption(reader.problem());
  if (!cbor_.sawRecords) return Status::corruption("PutRecords answer has no Records array");
  return Status::ok();
}

std::string errorTypeOfCbor(std::string_view body) {
  // Error answers are rare and small: a tree is simpler than a stream here.
  cbor_load_result loaded;
  cbor_item_t* root = cbor_load(reinterpret_cast<cbor_data>(body.data()), body.size(), &loaded);
  if (root == nullptr) return {};
  std::string type;
  if (cbor_isa_map(root)) {
    const cbor_pair* pairs = cbor_map_handle(root);
    for (size_t i = 0; i < cbor_map_size(root) && type.empty(); ++i) {
      cbor_item_t* key = pairs[i].key;
      cbor_item_t* value = pairs[i].value;
      if (!cbor_isa_string(key) || !cbor_string_is_definite(key) || !cbor_isa_string(value) ||
          !cbor_string_is_definite(value)) {
        continue;
      }
      std::string_view name(reinterpret_cast<const char*>(cbor_string_handle(key)), cbor_string_length(key));
      if (name == "__type" || name == "code") {
        type.assign(reinterpret_cast<const char*>(cbor_string_handle(value)), cbor_string_length(value));
      }
    }
  }
  cbor_decref(&root);
  return type;
}

}  // namespace kinship::kinesis
