// The CBOR readers: PutRecords answers and the error type of error answers.
// Both are one pass of libcbor's streaming decoder over the body (a walker
// keeps the stack of open containers; each reader only says what an item
// means where it stands). Nothing is allocated per item, and nothing in
// proportion to a length the body declares: a declared length is a counter
// here, never a size to reserve, and the answer reader refuses a Records
// array longer than the request before reading it. (cbor_load, a tree,
// allocates 8 bytes per declared item: 6 bytes of body asked it for 539 MB.)
// Only the fields the sink uses are kept, and texts only up to
// kMaxKeptText; everything else (SequenceNumber, EncryptionType, unknown
// fields) is skipped, whatever its type. Definite and indefinite lengths
// are both accepted.
// The common answer, FailedRecordCount 0 ahead of a counted Records array,
// is read only up to the first record: the decoder's cost is per item, and
// walking 500 records of 5 items each cost more than the whole JSON read.

#include <cbor.h>

#include <array>

#include "sinks/kinesis/put_records_response.h"

namespace kinship::kinesis {

namespace {

// Where an item stands: the container it is in.
struct Frame {
  bool map = false;
  bool indefinite = false;
  bool atKey = false;      // maps: the next item is a key
  uint8_t role = 0;        // the reader's name for this container (0: none)
  uint8_t key = 0;         // maps: the reader's id of the key whose value comes next (0: other)
  uint64_t remaining = 0;  // definite: items still to come (2 per map pair)
};

// True when the next item of `parent` is the value of `key` in a container
// of role `role`.
bool isValueOf(const Frame* parent, uint8_t role, uint8_t key) {
  return parent != nullptr && parent->role == role && parent->map && !parent->atKey && parent->key == key;
}

// Reads one CBOR item (what follows it is ignored) and tells a reader about
// each part with the container it stands in. Containers nest at most
// kMaxDepth deep; a text in chunks is gathered up to kMaxKeptText bytes.
// `Reader` derives from CborWalker<Reader> and defines the hooks below
// (static dispatch: with a virtual call per item, reading an answer of 500
// records, half of them failed, took 24 us instead of 20).
template <typename Reader>
class CborWalker {
 public:
  static constexpr size_t kMaxDepth = 16;

  // Empty if the item was read (or the reader stopped early), else the
  // problem, to follow the name of what was read ("... is truncated CBOR").
  std::string_view walk(std::string_view body);

  // libcbor's callbacks land here.
  void scalar(std::string_view text, bool isText, uint64_t number = 0, bool isUnsigned = false);
  void startContainer(bool map, bool indefinite, uint64_t items);
  void startChunked(bool text);
  void chunk(std::string_view piece, bool text);
  void onBreak();
  bool skipping() const { return !problem_.empty() || stopped_; }

 protected:
  // The hooks, which Reader defines (or hides):
  //   uint8_t keyId(std::string_view name) const: the id of a map key (0: a
  //     key the reader ignores).
  //   uint8_t onContainer(const Frame* parent, bool map, bool indefinite,
  //     uint64_t items): a container opens in `parent` (null at the top
  //     level; a map's key if parent->atKey); returns the role it gets; may
  //     fail() or stop().
  // A value that is neither a container nor a map key:
  void onText(const Frame* /*parent*/, std::string_view /*text*/) {}
  void onUnsigned(const Frame* /*parent*/, uint64_t /*value*/) {}
  void onOther(const Frame* /*parent*/) {}
  // A container (of any role) closed; may stop().
  void onEnd(const Frame& /*closed*/) {}

  void fail(std::string problem) {
    if (problem_.empty()) problem_ = std::move(problem);
  }
  void stop() { stopped_ = true; }

 private:
  enum class Chunked : uint8_t { kNone, kText, kBytes };

  Reader& reader() { return static_cast<Reader&>(*this); }
  void afterItem();
  void endContainer();

  std::array<Frame, kMaxDepth> stack_;
  size_t depth_ = 0;
  bool stopped_ = false;
  bool finished_ = false;
  std::string problem_;
  Chunked chunked_ = Chunked::kNone;
  std::string chunks_;
};

template <typename Reader>
void CborWalker<Reader>::scalar(std::string_view text, bool isText, uint64_t number, bool isUnsigned) {
  if (skipping()) return;
  if (chunked_ != Chunked::kNone) return fail("is not valid CBOR");
  Frame* parent = depth_ == 0 ? nullptr : &stack_[depth_ - 1];
  if (parent != nullptr && parent->map && parent->atKey) {
    parent->key = isText ? reader().keyId(text) : 0;
  } else if (isText) {
    reader().onText(parent, text);
  } else if (isUnsigned) {
    reader().onUnsigned(parent, number);
  } else {
    reader().onOther(parent);
  }
  afterItem();
}

template <typename Reader>
void CborWalker<Reader>::startContainer(bool map, bool indefinite, uint64_t items) {
  if (skipping()) return;
  if (chunked_ != Chunked::kNone) return fail("is not valid CBOR");
  Frame* parent = depth_ == 0 ? nullptr : &stack_[depth_ - 1];
  if (parent != nullptr && parent->map && parent->atKey) parent->key = 0;
  const uint8_t role = reader().onContainer(parent, map, indefinite, items);
  if (skipping()) return;
  if (depth_ == stack_.size()) return fail("nests too deeply");
  Frame& c = stack_[depth_++];
  c = Frame{};
  c.map = map;
  c.indefinite = indefinite;
  c.atKey = map;
  c.role = role;
  // A declared length is only counted down: a map's is doubled, and one
  // above 2^63 could never be met by the body anyway.
  c.remaining = map ? (items > UINT64_MAX / 2 ? UINT64_MAX : 2 * items) : items;
  if (!indefinite && c.remaining == 0) endContainer();
}

template <typename Reader>
void CborWalker<Reader>::startChunked(bool text) {
  if (skipping()) return;
  if (chunked_ != Chunked::kNone) return fail("is not valid CBOR");
  chunked_ = text ? Chunked::kText : Chunked::kBytes;
  chunks_.clear();
}

template <typename Reader>
void CborWalker<Reader>::chunk(std::string_view piece, bool text) {
  if (skipping()) return;
  if (chunked_ == Chunked::kNone) return scalar(piece, text);
  if (text != (chunked_ == Chunked::kText)) return fail("is not valid CBOR");
  if (text && chunks_.size() < PutRecordsResponse::kMaxKeptText) {
    chunks_.append(piece.substr(0, PutRecordsResponse::kMaxKeptText - chunks_.size()));
  }
}

template <typename Reader>
void CborWalker<Reader>::onBreak() {
  if (skipping()) return;
  if (chunked_ != Chunked::kNone) {
    const bool text = chunked_ == Chunked::kText;
    chunked_ = Chunked::kNone;
    return scalar(text ? std::string_view(chunks_) : std::string_view(), text);
  }
  if (depth_ == 0 || !stack_[depth_ - 1].indefinite) return fail("is not valid CBOR");
  endContainer();
}

template <typename Reader>
void CborWalker<Reader>::afterItem() {
  if (depth_ == 0) {
    finished_ = true;
    return;
  }
  Frame& c = stack_[depth_ - 1];
  if (c.map) c.atKey = !c.atKey;
  if (!c.indefinite && --c.remaining == 0) endContainer();
}

template <typename Reader>
void CborWalker<Reader>::endContainer() {
  const Frame closed = stack_[--depth_];
  reader().onEnd(closed);
  if (!skipping()) afterItem();
}

template <typename Reader>
CborWalker<Reader>& walkerOf(void* context) {
  return *static_cast<CborWalker<Reader>*>(context);
}

template <typename Reader>
void onAny(void* context) {
  walkerOf<Reader>(context).scalar({}, false);
}
template <typename Reader, typename T>
void onNumber(void* context, T) {
  walkerOf<Reader>(context).scalar({}, false);
}
template <typename Reader, typename T>
void onUnsignedNumber(void* context, T value) {
  walkerOf<Reader>(context).scalar({}, false, value, true);
}
template <typename Reader>
void onTextString(void* context, cbor_data data, size_t size) {
  walkerOf<Reader>(context).chunk(std::string_view(reinterpret_cast<const char*>(data), size), true);
}
template <typename Reader>
void onByteString(void* context, cbor_data data, size_t size) {
  walkerOf<Reader>(context).chunk(std::string_view(reinterpret_cast<const char*>(data), size), false);
}

template <typename Reader>
const cbor_callbacks& walkerCallbacks() {
  static const cbor_callbacks callbacks = [] {
    cbor_callbacks c = cbor_empty_callbacks;
    c.uint8 = onUnsignedNumber<Reader, uint8_t>;
    c.uint16 = onUnsignedNumber<Reader, uint16_t>;
    c.uint32 = onUnsignedNumber<Reader, uint32_t>;
    c.uint64 = onUnsignedNumber<Reader, uint64_t>;
    c.negint8 = onNumber<Reader, uint8_t>;
    c.negint16 = onNumber<Reader, uint16_t>;
    c.negint32 = onNumber<Reader, uint32_t>;
    c.negint64 = onNumber<Reader, uint64_t>;
    c.float2 = onNumber<Reader, float>;
    c.float4 = onNumber<Reader, float>;
    c.float8 = onNumber<Reader, double>;
    c.boolean = onNumber<Reader, bool>;
    c.null = onAny<Reader>;
    c.undefined = onAny<Reader>;
    c.string = onTextString<Reader>;
    c.byte_string = onByteString<Reader>;
    c.string_start = [](void* context) { walkerOf<Reader>(context).startChunked(true); };
    c.byte_string_start = [](void* context) { walkerOf<Reader>(context).startChunked(false); };
    c.array_start = [](void* context, size_t n) { walkerOf<Reader>(context).startContainer(false, false, n); };
    c.indef_array_start = [](void* context) { walkerOf<Reader>(context).startContainer(false, true, 0); };
    c.map_start = [](void* context, size_t n) { walkerOf<Reader>(context).startContainer(true, false, n); };
    c.indef_map_start = [](void* context) { walkerOf<Reader>(context).startContainer(true, true, 0); };
    c.indef_break = [](void* context) { walkerOf<Reader>(context).onBreak(); };
    // Tags only qualify the next item; the item itself is read as usual.
    return c;
  }();
  return callbacks;
}

template <typename Reader>
std::string_view CborWalker<Reader>::walk(std::string_view body) {
  const auto* data = reinterpret_cast<cbor_data>(body.data());
  size_t offset = 0;
  while (!finished_ && !skipping()) {
    if (offset == body.size()) {
      fail("is truncated CBOR");
      break;
    }
    cbor_decoder_result step = cbor_stream_decode(data + offset, body.size() - offset, &walkerCallbacks<Reader>(), this);
    if (step.status == CBOR_DECODER_NEDATA) {
      fail("is truncated CBOR");
    } else if (step.status != CBOR_DECODER_FINISHED) {
      fail("is not valid CBOR");
    }
    offset += step.read;
  }
  return problem_;
}

// -- PutRecords answers -------------------------------------------------------

enum Role : uint8_t { kNoRole, kTop, kRecords, kRecord };
enum AnswerKey : uint8_t { kOtherKey, kFailedRecordCount, kRecordsKey, kErrorCode, kErrorMessage, kShardId };

class AnswerReader final : public CborWalker<AnswerReader> {
 public:
  AnswerReader(PutRecordsResponse::CborFields& out, size_t expectedRecords)
      : out_(out), expectedRecords_(expectedRecords) {}

 private:
  friend class CborWalker<AnswerReader>;

  uint8_t keyId(std::string_view name) const {
    if (name == "ShardId") return kShardId;
    if (name == "ErrorCode") return kErrorCode;
    if (name == "ErrorMessage") return kErrorMessage;
    if (name == "Records") return kRecordsKey;
    if (name == "FailedRecordCount") return kFailedRecordCount;
    return kOtherKey;
  }

  uint8_t onContainer(const Frame* parent, bool map, bool indefinite, uint64_t items) {
    if (parent == nullptr) {
      if (!map) fail("is not a map");
      return kTop;
    }
    if (isValueOf(parent, kTop, kRecordsKey)) {
      if (map) {
        fail("has no Records array");
        return kNoRole;
      }
      out_.sawRecords = true;
      // Checked before anything is read or grown: the count is the
      // request's, and the body can claim any length.
      if (!indefinite && items != expectedRecords_) {
        countMismatch(std::to_string(items));
        return kNoRole;
      }
      // FailedRecordCount 0, read before a counted array: every record was
      // accepted, so only the first one (its ShardId) needs reading.
      if (noFailures_ && !indefinite) acceptedRecords_ = items;
      return kRecords;
    }
    if (parent->role == kRecords) {
      if (!map) {
        fail("has a record that is not an object");
        return kNoRole;
      }
      if (recordsRead_ == expectedRecords_) {
        countMismatch("more than " + std::to_string(expectedRecords_));
        return kNoRole;
      }
      out_.errorCode.clear();
      out_.errorMessage.clear();
      out_.shardId.clear();
      return kRecord;
    }
    return kNoRole;
  }

  void onText(const Frame* parent, std::string_view text) {
    if (parent == nullptr) return fail("is not a map");
    if (parent->role == kRecords) return fail("has a record that is not an object");
    if (parent->role != kRecord) return;
    if (parent->key == kErrorCode) keepBoundedText(out_.errorCode, text);
    else if (parent->key == kErrorMessage) keepBoundedText(out_.errorMessage, text);
    else if (parent->key == kShardId) keepBoundedText(out_.shardId, text);
  }

  void onUnsigned(const Frame* parent, uint64_t value) {
    if (isValueOf(parent, kTop, kFailedRecordCount)) noFailures_ = value == 0;
    onOther(parent);
  }

  void onOther(const Frame* parent) {
    if (parent == nullptr) return fail("is not a map");
    if (parent->role == kRecords) return fail("has a record that is not an object");
  }

  void onEnd(const Frame& closed) {
    if (closed.role != kRecord) return;
    ++recordsRead_;
    out_.onRecord();
    if (acceptedRecords_ > 0) {
      out_.addAccepted(acceptedRecords_ - 1);
      stop();
    }
  }

  void countMismatch(const std::string& answered) {
    fail("answered " + answered + " records for " + std::to_string(expectedRecords_) + " sent");
  }

  PutRecordsResponse::CborFields& out_;
  const size_t expectedRecords_;
  size_t recordsRead_ = 0;
  bool noFailures_ = false;
  uint64_t acceptedRecords_ = 0;  // > 0: the fast path is on
};

// -- Error answers ------------------------------------------------------------

enum ErrorKey : uint8_t { kIgnored, kType, kCode };

// Finds the top-level "__type" (or, without one, "code") text; stops at
// "__type".
class ErrorTypeReader final : public CborWalker<ErrorTypeReader> {
 public:
  std::string type;
  std::string code;

 private:
  friend class CborWalker<ErrorTypeReader>;

  uint8_t keyId(std::string_view name) const {
    if (name == "__type") return kType;
    if (name == "code") return kCode;
    return kIgnored;
  }

  uint8_t onContainer(const Frame* parent, bool map, bool, uint64_t) {
    if (parent == nullptr) {
      if (!map) fail("is not a map");
      return kTop;
    }
    return kNoRole;
  }

  void onText(const Frame* parent, std::string_view text) {
    if (isValueOf(parent, kTop, kType)) {
      keepBoundedText(type, text);
      stop();
    } else if (isValueOf(parent, kTop, kCode) && code.empty()) {
      keepBoundedText(code, text);
    }
  }

  void onOther(const Frame* parent) {
    if (parent == nullptr) fail("is not a map");
  }
  void onUnsigned(const Frame* parent, uint64_t) { onOther(parent); }
};

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

Status PutRecordsResponse::parseCbor(std::string_view body, size_t expectedRecords) {
  cbor_.owner = this;
  cbor_.sawRecords = false;
  AnswerReader reader(cbor_, expectedRecords);
  std::string_view problem = reader.walk(body);
  if (!problem.empty()) {
    return Status::corruption(std::string(problem.starts_with("answered") ? "PutRecords " : "PutRecords answer ") +
                              std::string(problem));
  }
  if (!cbor_.sawRecords) return Status::corruption("PutRecords answer has no Records array");
  return Status::ok();
}

std::string errorTypeOfCbor(std::string_view body) {
  ErrorTypeReader reader;
  if (!reader.walk(body).empty()) return {};
  return reader.type.empty() ? std::move(reader.code) : std::move(reader.type);
}

}  // namespace kinship::kinesis
