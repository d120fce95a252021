#include "tests/support/fake_kinesis/service.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <iterator>
#include <optional>

#include "common/log.h"
#include "tests/support/fake_kinesis/cbor_codec.h"
#include "tests/support/fake_kinesis/codec.h"

namespace kinship::fake {
namespace {

constexpr std::string_view kComponent = "fake-kinesis";
constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
constexpr std::string_view kAuthPrefix = "AWS4-HMAC-SHA256 Credential=";
constexpr size_t kMaxRecordsPerRequest = 500;
constexpr size_t kMaxPartitionKeyChars = 256;
constexpr int kMaxShards = 10000;
constexpr uint64_t kDefaultListShards = 1000;
constexpr std::chrono::seconds kWindow{1};
constexpr std::string_view kJson = "application/json";

// Bodies are parsed in place: the HTTP server leaves this much readable
// memory after each body.
static_assert(simdjson::SIMDJSON_PADDING <= HttpServer::kBodyPadding);

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string_view setError(HttpReply& reply, ApiError error, std::string_view message,
                          Protocol protocol = Protocol::kJson) {
  const auto& info = errorInfo(error);
  reply.status = info.status;
  reply.body.clear();
  if (protocol == Protocol::kCbor) {
    reply.contentType = kCborContentType;
    if (error != ApiError::kPayloadTooLarge) {
      appendCborError(reply.body, info.type, message.empty() ? info.message : message);
    }
    return info.type;
  }
  reply.contentType = "application/x-amz-json-1.1";
  if (error != ApiError::kPayloadTooLarge) {
    reply.body += "{\"__type\":\"";
    reply.body += info.type;
    reply.body += "\",\"message\":";
    appendJsonString(reply.body, message.empty() ? info.message : message);
    reply.body += '}';
  }
  return info.type;
}

void setControlError(HttpReply& reply, int status, std::string_view message) {
  reply.status = status;
  reply.contentType = kJson;
  reply.body = "{\"error\":";
  appendJsonString(reply.body, message);
  reply.body += "}\n";
}

// Per-thread scratch space for one request: the JSON parser (whose buffers
// grow to the largest body seen, so sharing it per thread rather than per
// connection bounds memory), decoded data and per-record state. Reused, so a
// steady load allocates nothing per record.
struct RecordIn {
  std::string_view key;
  std::string_view hashKeyText;  // ExplicitHashKey as sent
  size_t dataOffset = 0;
  size_t dataSize = 0;
  bool hasKey = false;
  bool hasData = false;
  bool hasHashKey = false;
  HashKey hash = 0;
  uint64_t fingerprint = 0;
  std::optional<uint64_t> stamp;  // write time in unix ns (FakeOptions::latencyField)
};

enum class Outcome : uint8_t { kAccepted, kThrottled, kInjectedThrottle, kInjectedInternal };

struct RecordOut {
  Outcome outcome = Outcome::kAccepted;
  uint32_t shard = 0;
  uint64_t counter = 0;
};

struct Scratch {
  simdjson::dom::parser parser;
  std::string data;
  std::vector<RecordIn> in;
  std::vector<RecordOut> out;
  std::vector<std::string> errors;
  // The CBOR protocol's decoded request and its strings.
  CborPutRequest cbor;
  std::string text;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Parses a request body (empty means {}) into an object, in place: the
// HTTP server leaves padding after every body.
bool parseObject(simdjson::dom::parser& parser, std::string_view body, object& out) {
  element root;
  auto parsed = body.empty() ? parser.parse("{}", 2, true) : parser.parse(body.data(), body.size(), false);
  if (parsed.get(root) != simdjson::SUCCESS) return false;
  return root.get(out) == simdjson::SUCCESS;
}

enum class Field { kAbsent, kOk, kWrongType };

// JSON null counts as absent, as in the AWS JSON protocol.
Field getString(object obj, std::string_view key, std::string_view& out) {
  element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return Field::kAbsent;
  return value.get(out) == simdjson::SUCCESS ? Field::kOk : Field::kWrongType;
}

Field getInt(object obj, std::string_view key, int64_t& out) {
  element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return Field::kAbsent;
  return value.get(out) == simdjson::SUCCESS ? Field::kOk : Field::kWrongType;
}

std::string_view serializationError(HttpReply& reply, std::string_view field, Protocol protocol = Protocol::kJson) {
  return setError(reply, ApiError::kSerialization, fmt::format("Unexpected value type for field '{}'", field),
                  protocol);
}

Protocol protocolOf(const HttpRequest& request) {
  return request.contentType.starts_with(kCborContentType) ? Protocol::kCbor : Protocol::kJson;
}

RecordIn recordFromCbor(const CborRecord& r) {
  RecordIn in;
  in.key = r.key;
  in.hashKeyText = r.hashKey;
  in.dataOffset = r.dataOffset;
  in.dataSize = r.dataSize;
  in.hasKey = r.hasKey;
  in.hasData = r.hasData;
  in.hasHashKey = r.hasHashKey;
  return in;
}

// Decodes a CBOR PutRecords / PutRecord body into s.cbor, its strings into
// s.text and its data into s.data; on failure answers as the JSON path does
// for a body that does not parse or a field of the wrong type.
bool decodeCbor(std::string_view body, bool batch, Scratch& s, HttpReply& reply, std::string_view& outcome) {
  // Decoded strings never outgrow the body, so views into these stay valid.
  s.text.clear();
  s.text.reserve(body.size());
  s.data.reserve(s.data.size() + body.size());
  std::string_view badField;
  switch (decodeCborPut(body, batch, s.text, s.data, s.cbor, badField)) {
    case CborDecode::kOk:
      return true;
    case CborDecode::kMalformed:
      outcome = setError(reply, ApiError::kSerialization, "", Protocol::kCbor);
      return false;
    case CborDecode::kWrongType:
      outcome = serializationError(reply, badField, Protocol::kCbor);
      return false;
  }
  return false;
}

bool isStreamNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// Kinesis's pattern for ExplicitHashKey: 0|([1-9]\d{0,38}).
bool matchesHashKeyPattern(std::string_view text) {
  if (text == "0") return true;
  if (text.empty() || text.size() > 39 || text[0] < '1' || text[0] > '9') return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// SequenceNumberForOrdering: 0|([1-9]\d{0,128}).
bool matchesSequencePattern(std::string_view text) {
  if (text == "0") return true;
  if (text.empty() || text.size() > 129 || text[0] < '1' || text[0] > '9') return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string validationMessage(const std::vector<std::string>& errors) {
  std::string out = fmt::format("{} validation error{} detected: ", errors.size(), errors.size() == 1 ? "" : "s");
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i != 0) out += "; ";
    out += errors[i];
  }
  return out;
}

// A value shown in a validation message, cut like the service's messages are
// not, so a 1 MiB key does not make a 1 MiB answer.
std::string_view shown(std::string_view value) { return value.substr(0, std::min<size_t>(value.size(), 300)); }

struct StreamRef {
  std::string_view name;
  std::string_view arn;
  bool arnMatchesUs = true;
};

// Checks StreamName / StreamARN against the API's constraints, adding
// validation messages; `ref.name` is what to look up.
void validateStreamRef(std::string_view name, std::string_view arn, bool hasName, bool hasArn,
                       const FakeOptions& options, std::vector<std::string>& errors, StreamRef& ref) {
  if (hasName) {
    if (name.empty()) {
      errors.push_back(
          "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or "
          "equal to 1");
    } else if (name.size() > 128) {
      errors.push_back(
          fmt::format("Value '{}' at 'streamName' failed to satisfy constraint: Member must have length "
                      "less than or equal to 128",
                      shown(name)));
    } else if (!std::all_of(name.begin(), name.end(), isStreamNameChar)) {
      errors.push_back(
          fmt::format("Value '{}' at 'streamName' failed to satisfy constraint: Member must satisfy "
                      "regular expression pattern: [a-zA-Z0-9_.-]+",
                      shown(name)));
    }
    ref.name = name;
  }
  if (hasArn) {
    // arn:aws*:kinesis:<region>:<12 digits>:stream/<name>
    std::string_view parts[6];
    std::string_view rest = arn;
    bool ok = true;
    for (int i = 0; i < 5 && ok; ++i) {
      auto colon = rest.find(':');
      ok = colon != std::string_view::npos;
      if (ok) {
        parts[i] = rest.substr(0, colon);
        rest.remove_prefix(colon + 1);
      }
    }
    parts[5] = rest;
    ok = ok && parts[0] == "arn" && parts[1].starts_with("aws") && parts[2] == "kinesis" && parts[4].size() == 12 &&
         std::all_of(parts[4].begin(), parts[4].end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         parts[5].starts_with("stream/") && parts[5].size() > 7;
    if (!ok) {
      errors.push_back(
          fmt::format("Value '{}' at 'streamARN' failed to satisfy constraint: Member must satisfy "
                      "regular expression pattern: arn:aws.*:kinesis:.*:\\d{{12}}:stream/\\S+",
                      shown(arn)));
      return;
    }
    std::string_view arnName = parts[5].substr(7);
    if (hasName && arnName != name) {
      errors.push_back(fmt::format("StreamARN '{}' does not name stream '{}'", shown(arn), shown(name)));
    }
    ref.name = arnName;
    ref.arn = arn;
    ref.arnMatchesUs = parts[3] == options.region && parts[4] == options.accountId;
  }
}

struct Window {
  struct Slot {
    Clock::TimePoint expires;
    uint64_t records;
    uint64_t bytes;
  };
  std::deque<Slot> slots;
  uint64_t records = 0;
  uint64_t bytes = 0;

  void expire(Clock::TimePoint now) {
    while (!slots.empty() && now >= slots.front().expires) {
      records -= slots.front().records;
      bytes -= slots.front().bytes;
      slots.pop_front();
    }
  }
  // A record counts for a second, or longer when it is larger than a
  // second's bytes: then for as long as the shard's rate takes to refill it.
  void add(Clock::TimePoint now, uint64_t size, Clock::TimePoint::duration counted) {
    const Clock::TimePoint expires = now + counted;
    if (!slots.empty() && slots.back().expires == expires) {
      slots.back().records += 1;
      slots.back().bytes += size;
    } else {
      slots.push_back({expires, 1, size});
    }
    records += 1;
    bytes += size;
  }
  void clear() {
    slots.clear();
    records = bytes = 0;
  }
};

void bump(Counts& counts, std::string_view key, uint64_t by = 1) {
  auto it = counts.find(key);
  if (it == counts.end()) {
    counts.emplace(std::string(key), by);
  } else {
    it->second += by;
  }
}

// NextToken of ListShards: opaque to clients; ours encodes where to go on.
std::string makeShardToken(uint64_t generation, size_t offset, std::string_view stream) {
  std::string plain = fmt::format("fake1:{}:{}:{}", generation, offset, stream);
  std::string token;
  base64Append(token, plain);
  return token;
}

bool parseShardToken(std::string_view token, uint64_t& generation, size_t& offset, std::string& stream) {
  std::string plain;
  if (!base64Decode(token, plain) || !plain.starts_with("fake1:")) return false;
  std::string_view rest = std::string_view(plain).substr(6);
  auto c1 = rest.find(':');
  if (c1 == std::string_view::npos) return false;
  auto c2 = rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return false;
  auto r1 = std::from_chars(rest.data(), rest.data() + c1, generation);
  auto r2 = std::from_chars(rest.data() + c1 + 1, rest.data() + c2, offset);
  if (r1.ec != std::errc() || r2.ec != std::errc()) return false;
  stream = std::string(rest.substr(c2 + 1));
  return true;
}

std::string_view queryValue(std::string_view query, std::string_view key, bool& present) {
  present = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    auto eq = item.find('=');
    if (item.substr(0, eq) == key) {
      present = true;
      return eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

size_t queryNumber(std::string_view query, std::string_view key, size_t fallback) {
  bool present = false;
  std::string_view text = queryValue(query, key, present);
  size_t value = fallback;
  if (present) std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// Reads a record's fields (PutRecords item or PutRecord body). Returns the
// name of a field with the wrong type or bad base64, or empty when fine.
std::string_view readRecord(object obj, Scratch& s, RecordIn& in) {
  std::string_view data;
  switch (getString(obj, "Data", data)) {
    case Field::kWrongType:
      return "Data";
    case Field::kOk: {
      size_t at = s.data.size();
      if (!base64Decode(data, s.data)) return "Data";
      in.hasData = true;
      in.dataOffset = at;
      in.dataSize = s.data.size() - at;
      break;
    }
    case Field::kAbsent:
      break;
  }
  switch (getString(obj, "PartitionKey", in.key)) {
    case Field::kWrongType:
      return "PartitionKey";
    case Field::kOk:
      in.hasKey = true;
      break;
    case Field::kAbsent:
      break;
  }
  switch (getString(obj, "ExplicitHashKey", in.hashKeyText)) {
    case Field::kWrongType:
      return "ExplicitHashKey";
    case Field::kOk:
      in.hasHashKey = true;
      break;
    case Field::kAbsent:
      break;
  }
  return {};
}

// Where a record's members are in validation messages: "records.3.member."
// for the third record of a PutRecords, "" for PutRecord. Built only when a
// message needs it.
std::string memberPath(size_t position) {
  return position == 0 ? std::string() : fmt::format("records.{}.member.", position);
}

// The API model's constraints on one record (ValidationException).
void validateRecord(const RecordIn& r, size_t position, const FakeOptions& options, std::vector<std::string>& errors) {
  if (!r.hasKey) {
    errors.push_back(fmt::format("Value null at '{}partitionKey' failed to satisfy constraint: Member must not be null",
                                 memberPath(position)));
  } else {
    size_t chars = countUtf16Units(r.key);
    if (chars < 1) {
      errors.push_back(
          fmt::format("Value '' at '{}partitionKey' failed to satisfy constraint: Member must have "
                      "length greater than or equal to 1",
                      memberPath(position)));
    } else if (chars > kMaxPartitionKeyChars) {
      errors.push_back(
          fmt::format("Value '{}' at '{}partitionKey' failed to satisfy constraint: Member must have "
                      "length less than or equal to {}",
                      shown(r.key), memberPath(position), kMaxPartitionKeyChars));
    }
  }
  if (!r.hasData) {
    errors.push_back(fmt::format("Value null at '{}data' failed to satisfy constraint: Member must not be null",
                                 memberPath(position)));
  } else if (r.dataSize > options.maxRecordSize) {
    errors.push_back(
        fmt::format("Value 'java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]' at '{1}data' failed to "
                    "satisfy constraint: Member must have length less than or equal to {2}",
                    r.dataSize, memberPath(position), options.maxRecordSize));
  }
  if (r.hasHashKey && !matchesHashKeyPattern(r.hashKeyText)) {
    errors.push_back(
        fmt::format("Value '{}' at '{}explicitHashKey' failed to satisfy constraint: Member must satisfy "
                    "regular expression pattern: 0|([1-9]\\d{{0,38}})",
                    shown(r.hashKeyText), memberPath(position)));
  }
}

// The service's own checks after the model's (InvalidArgumentException).
// Also sets the record's hash key. Empty when fine.
std::string checkRecord(RecordIn& r, size_t position, const FakeOptions& options) {
  if (r.hasHashKey) {
    if (parseHashKey(r.hashKeyText, r.hash) != HashKeyParse::kOk) {
      return fmt::format(
          "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, {}]. Specified value was {}",
          hashKeyToDecimal(kMaxHashKey), shown(r.hashKeyText));
    }
  }
  size_t size = r.dataSize + r.key.size();
  if (size > options.maxRecordSize) {
    return fmt::format("Record{} size of {} bytes (data plus partition key) exceeds the limit of {} bytes",
                       position == 0 ? std::string() : fmt::format(" {}", position), size, options.maxRecordSize);
  }
  return {};
}

// Reads StreamName / StreamARN; a wrong type sets SerializationException.
bool readStreamFields(object root, std::string_view& name, std::string_view& arn, bool& hasName, bool& hasArn,
                      HttpReply& reply, std::string_view& outcome) {
  Field nameField = getString(root, "StreamName", name);
  Field arnField = getString(root, "StreamARN", arn);
  if (nameField == Field::kWrongType) {
    outcome = serializationError(reply, "StreamName");
    return false;
  }
  if (arnField == Field::kWrongType) {
    outcome = serializationError(reply, "StreamARN");
    return false;
  }
  hasName = nameField == Field::kOk;
  hasArn = arnField == Field::kOk;
  return true;
}

std::string notFoundMessage(std::string_view name, const FakeOptions& options) {
  return fmt::format("Stream {} under account {} not found.", shown(name), options.accountId);
}

void appendThrottleMessage(std::string& out, uint32_t shard, std::string_view stream, const FakeOptions& options) {
  fmt::format_to(std::back_inserter(out), "Rate exceeded for shard shardId-{:012} in stream {} under account {}.",
                 shard, stream, options.accountId);
}

// The answer to an accepted CBOR PutRecords / PutRecord, shaped like the
// JSON one. Text whose length is known only once formatted goes through
// `field`, which keeps its capacity between records.
void answerCbor(HttpReply& reply, const std::vector<RecordOut>& outs, bool batch, std::string_view streamName,
                uint64_t generation, size_t failed, const FakeOptions& options) {
  std::string& body = reply.body;
  reply.contentType = kCborContentType;
  CborWriter writer(body);
  std::string field;
  auto accepted = [&](const RecordOut& out) {
    writer.text("SequenceNumber");
    field.clear();
    appendSequenceNumber(field, generation, out.shard, out.counter);
    writer.text(field);
    writer.text("ShardId");
    field.clear();
    appendShardId(field, out.shard);
    writer.text(field);
  };
  if (!batch) {
    writer.mapStart(3);
    accepted(outs[0]);
    writer.text("EncryptionType");
    writer.text("NONE");
    return;
  }
  body.reserve(64 + outs.size() * 120);
  writer.mapStart(3);
  writer.text("FailedRecordCount");
  writer.uint(failed);
  writer.text("Records");
  writer.arrayStart(outs.size());
  for (const RecordOut& out : outs) {
    writer.mapStart(2);
    switch (out.outcome) {
      case Outcome::kAccepted:
        accepted(out);
        break;
      case Outcome::kThrottled:
      case Outcome::kInjectedThrottle:
        writer.text("ErrorCode");
        writer.text("ProvisionedThroughputExceededException");
        writer.text("ErrorMessage");
        field.clear();
        appendThrottleMessage(field, out.shard, streamName, options);
        writer.text(field);
        break;
      case Outcome::kInjectedInternal:
        writer.text("ErrorCode");
        writer.text("InternalFailure");
        writer.text("ErrorMessage");
        writer.text("Internal service failure.");
        break;
    }
  }
  writer.text("EncryptionType");
  writer.text("NONE");
}

}  // namespace

struct KinesisService::Shard {
  HashKey start = 0;
  HashKey end = 0;
  uint64_t counter = 0;  // last sequence counter handed out
  Window window;
  uint64_t accepted = 0;
  uint64_t bytes = 0;
  uint64_t throttled = 0;
};

struct KinesisService::Stream {
  std::string name;
  std::string arn;
  uint64_t generation = 0;
  uint32_t logId = 0;
  double createdAt = 0;         // epoch seconds
  std::vector<HashKey> starts;  // shards[i].start, for binary search
  std::vector<Shard> shards;

  uint32_t route(HashKey hash) const {
    auto it = std::upper_bound(starts.begin(), starts.end(), hash);
    return static_cast<uint32_t>(it - starts.begin() - 1);
  }
};

std::string Stats::toJson() const {
  auto appendCounts = [](std::string& out, const Counts& counts) {
    out += '{';
    bool first = true;
    for (const auto& [key, value] : counts) {
      if (!first) out += ',';
      first = false;
      appendJsonString(out, key);
      out += fmt::format(":{}", value);
    }
    out += '}';
  };
  std::string out = fmt::format("{{\"requests\":{},\"requestsByOutcome\":", requests);
  appendCounts(out, requestsByOutcome);
  out += ",\"requestsByOperation\":";
  appendCounts(out, requestsByOperation);
  out += fmt::format(",\"recordsAccepted\":{},\"bytesAccepted\":{},\"recordsThrottled\":{},\"recordsFailed\":",
                     recordsAccepted, bytesAccepted, recordsThrottled);
  appendCounts(out, recordsFailed);
  out += fmt::format(",\"duplicates\":{},\"recordsStored\":{},\"shards\":[", duplicates, recordsStored);
  for (size_t i = 0; i < shards.size(); ++i) {
    if (i != 0) out += ',';
    out += "{\"stream\":";
    appendJsonString(out, shards[i].stream);
    out += fmt::format(",\"shardId\":\"{}\",\"accepted\":{},\"bytes\":{},\"throttled\":{}}}", shards[i].shardId,
                       shards[i].accepted, shards[i].bytes, shards[i].throttled);
  }
  out += "]";
  // Milliseconds with microsecond digits: what a benchmark prints.
  auto ms = [](uint64_t nanos) { return static_cast<double>(nanos) / 1e6; };
  out += fmt::format(
      ",\"latency\":{{\"count\":{},\"future\":{},\"p50Ms\":{:.3f},\"p90Ms\":{:.3f},\"p99Ms\":{:.3f},"
      "\"p999Ms\":{:.3f},\"maxMs\":{:.3f},\"meanMs\":{:.3f}}}}}",
      latency.count, latency.future, ms(latency.p50Nanos), ms(latency.p90Nanos), ms(latency.p99Nanos),
      ms(latency.p999Nanos), ms(latency.maxNanos), ms(latency.meanNanos));
  return out;
}

KinesisService::KinesisService(FakeOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &SystemClock::instance()),
      stamps_(options_.latencyField),
      recordsPerSecond_(options_.recordsPerSecond),
      bytesPerSecond_(options_.bytesPerSecond),
      injector_(options_.seed),
      log_(options_.maxStoredRecords) {}

KinesisService::~KinesisService() = default;

Status KinesisService::start() {
  std::lock_guard lock(mutex_);
  if (!options_.recordLogPath.empty()) {
    if (auto status = log_.openFile(options_.recordLogPath); !status) return status;
  }
  for (const auto& spec : options_.streams) {
    if (auto status = createStreamLocked(spec); !status) return status;
  }
  injector_.set(options_.faults);
  return Status::ok();
}

Status KinesisService::createStreamLocked(const StreamSpec& spec) {
  if (spec.name.empty() || spec.name.size() > 128 ||
      !std::all_of(spec.name.begin(), spec.name.end(), isStreamNameChar)) {
    return Status::invalidArgument(fmt::format("bad stream name \"{}\"", spec.name));
  }
  if (spec.shardCount < 1 || spec.shardCount > kMaxShards) {
    return Status::invalidArgument(fmt::format("shard count {} is not in [1, {}]", spec.shardCount, kMaxShards));
  }
  if (findLocked(spec.name) != nullptr) {
    return Status::invalidArgument(
        fmt::format("Stream {} under account {} already exists.", spec.name, options_.accountId));
  }
  std::vector<HashKey> splits = spec.splits.empty() ? evenSplits(spec.shardCount) : spec.splits;
  if (splits.size() != static_cast<size_t>(spec.shardCount - 1)) {
    return Status::invalidArgument(
        fmt::format("{} split points for {} shards (need one less than the shards)", splits.size(), spec.shardCount));
  }
  if (auto status = validateSplits(splits); !status) return status;

  auto stream = std::make_unique<Stream>();
  stream->name = spec.name;
  stream->arn = fmt::format("arn:aws:kinesis:{}:{}:stream/{}", options_.region, options_.accountId, spec.name);
  stream->generation = ++generation_;
  stream->logId = log_.addStream(spec.name, stream->generation);
  stream->createdAt = std::chrono::duration<double>(clock_->wallNow().time_since_epoch()).count();
  stream->shards.resize(static_cast<size_t>(spec.shardCount));
  for (size_t i = 0; i < stream->shards.size(); ++i) {
    Shard& shard = stream->shards[i];
    shard.start = i == 0 ? 0 : splits[i - 1];
    shard.end = i + 1 < stream->shards.size() ? splits[i] - 1 : kMaxHashKey;
    stream->starts.push_back(shard.start);
  }
  auto at = std::lower_bound(streams_.begin(), streams_.end(), spec.name,
                             [](const std::unique_ptr<Stream>& s, const std::string& name) { return s->name < name; });
  streams_.insert(at, std::move(stream));
  return Status::ok();
}

KinesisService::Stream* KinesisService::findLocked(std::string_view name) {
  auto at = std::lower_bound(streams_.begin(), streams_.end(), name,
                             [](const std::unique_ptr<Stream>& s, std::string_view n) { return s->name < n; });
  return at != streams_.end() && (*at)->name == name ? at->get() : nullptr;
}

Status KinesisService::createStream(const StreamSpec& spec) {
  std::lock_guard lock(mutex_);
  return createStreamLocked(spec);
}

Status KinesisService::deleteStream(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto at = std::find_if(streams_.begin(), streams_.end(), [&](const auto& s) { return s->name == name; });
  if (at == streams_.end()) return Status::notFound(fmt::format("no stream {}", name));
  streams_.erase(at);
  return Status::ok();
}

std::string KinesisService::streamArn(std::string_view name) const {
  return fmt::format("arn:aws:kinesis:{}:{}:stream/{}", options_.region, options_.accountId, name);
}

Stats KinesisService::stats() const {
  std::lock_guard lock(mutex_);
  Stats out = counters_;
  out.recordsStored = log_.stored();
  out.latency.count = latency_.count();
  out.latency.p50Nanos = latency_.quantileNanos(0.5);
  out.latency.p90Nanos = latency_.quantileNanos(0.9);
  out.latency.p99Nanos = latency_.quantileNanos(0.99);
  out.latency.p999Nanos = latency_.quantileNanos(0.999);
  out.latency.maxNanos = latency_.maxNanos();
  out.latency.meanNanos = latency_.meanNanos();
  for (const auto& stream : streams_) {
    for (size_t i = 0; i < stream->shards.size(); ++i) {
      const Shard& shard = stream->shards[i];
      out.shards.push_back(
          {stream->name, formatShardId(static_cast<uint32_t>(i)), shard.accepted, shard.bytes, shard.throttled});
    }
  }
  return out;
}

std::vector<StoredRecord> KinesisService::records(size_t from, size_t limit) const {
  std::lock_guard lock(mutex_);
  return log_.records(from, limit);
}

Faults KinesisService::faults() const {
  std::lock_guard lock(mutex_);
  return injector_.faults();
}

void KinesisService::setFaults(Faults faults) {
  std::lock_guard lock(mutex_);
  injector_.set(std::move(faults));
}

void KinesisService::setLimits(uint64_t recordsPerSecond, uint64_t bytesPerSecond) {
  std::lock_guard lock(mutex_);
  recordsPerSecond_ = recordsPerSecond;
  bytesPerSecond_ = bytesPerSecond;
}

void KinesisService::reset() {
  std::lock_guard lock(mutex_);
  resetLocked();
}

void KinesisService::resetLocked() {
  streams_.clear();
  for (const auto& spec : options_.streams) {
    if (auto status = createStreamLocked(spec); !status) {
      log::warn(kComponent, "reset: cannot create stream {}: {}", spec.name, status.message());
    }
  }
  recordsPerSecond_ = options_.recordsPerSecond;
  bytesPerSecond_ = options_.bytesPerSecond;
  injector_.reseed(options_.seed);
  injector_.set(options_.faults);
  log_.clear();
  fingerprints_.clear();
  counters_ = Stats{};
  latency_.clear();
}

void KinesisService::flush() {
  std::lock_guard lock(mutex_);
  log_.flush();
}

void KinesisService::appendShardJson(std::string& out, const Stream& stream, size_t index) const {
  const Shard& shard = stream.shards[index];
  out += fmt::format(
      "{{\"ShardId\":\"{}\",\"HashKeyRange\":{{\"StartingHashKey\":\"{}\",\"EndingHashKey\":\"{}\"}},"
      "\"SequenceNumberRange\":{{\"StartingSequenceNumber\":\"{}\"}}}}",
      formatShardId(static_cast<uint32_t>(index)), hashKeyToDecimal(shard.start), hashKeyToDecimal(shard.end),
      formatSequenceNumber(stream.generation, static_cast<uint32_t>(index), 0));
}

void KinesisService::handle(const HttpRequest& request, HttpReply& reply) {
  if (request.target == "/_fake" || request.target.starts_with("/_fake/") || request.target.starts_with("/_fake?")) {
    handleControl(request, reply);
    return;
  }

  std::string_view operation = "unknown";
  std::string_view outcome;
  FaultDecision decision;
  // A CBOR client gets its errors in CBOR too.
  const Protocol protocol = protocolOf(request);
  if (request.method != "POST") {
    outcome = setError(reply, ApiError::kUnknownOperation, "", protocol);
  } else if (options_.requireAuthorization && !request.authorization.starts_with(kAuthPrefix)) {
    outcome = setError(reply, ApiError::kMissingAuthenticationToken, "", protocol);
  } else if (!request.amzTarget.starts_with(kTargetPrefix) ||
             !(request.contentType.starts_with("application/x-amz-json-1.") ||
               request.contentType.starts_with("application/json") || protocol == Protocol::kCbor)) {
    outcome = setError(reply, ApiError::kUnknownOperation, "", protocol);
  } else {
    std::string_view op = request.amzTarget.substr(kTargetPrefix.size());
    using Handler = std::string_view (KinesisService::*)(const HttpRequest&, HttpReply&, FaultDecision&);
    Handler handler = nullptr;
    if (op == "PutRecords") {
      handler = &KinesisService::putRecords;
    } else if (op == "PutRecord") {
      handler = &KinesisService::putRecord;
    } else if (op == "ListShards") {
      handler = &KinesisService::listShards;
    } else if (op == "DescribeStreamSummary") {
      handler = &KinesisService::describeStreamSummary;
    } else if (op == "DescribeStream") {
      handler = &KinesisService::describeStream;
    } else if (op == "CreateStream") {
      handler = &KinesisService::createStreamOp;
    } else if (op == "DeleteStream") {
      handler = &KinesisService::deleteStreamOp;
    }
    // CBOR is spoken for the two put operations only; to the others it is an
    // unsupported content type.
    if (protocol == Protocol::kCbor && handler != &KinesisService::putRecords &&
        handler != &KinesisService::putRecord) {
      handler = nullptr;
    }
    if (handler == nullptr) {
      outcome = setError(reply, ApiError::kUnknownOperation, "", protocol);
    } else {
      operation = op;
      {
        std::lock_guard lock(mutex_);
        if (injector_.inScope(op)) decision = injector_.decide();
      }
      if (decision.drop) {
        reply.drop = true;
        outcome = "dropped";
      } else if (decision.error) {
        outcome = setError(reply, *decision.error,
                           fmt::format("{} (injected by fake-kinesis)", errorInfo(*decision.error).message), protocol);
      } else {
        outcome = (this->*handler)(request, reply, decision);
        if (decision.dropAfterProcessing) {
          reply.drop = true;
          outcome = "droppedAfterProcessing";
        }
      }
      reply.delay = decision.delay;
    }
  }

  std::lock_guard lock(mutex_);
  counters_.requests += 1;
  bump(counters_.requestsByOperation, operation);
  bump(counters_.requestsByOutcome, outcome);
}

std::string_view KinesisService::putRecords(const HttpRequest& request, HttpReply& reply, FaultDecision& faults) {
  Scratch& s = scratch();
  s.in.clear();
  s.data.clear();
  s.errors.clear();
  s.data.reserve(request.body.size());
  const Protocol protocol = protocolOf(request);
  std::string_view name, arn, outcome;
  bool hasName = false, hasArn = false, hasRecords = false;
  if (protocol == Protocol::kCbor) {
    if (!decodeCbor(request.body, true, s, reply, outcome)) return outcome;
    name = s.cbor.streamName;
    arn = s.cbor.streamArn;
    hasName = s.cbor.hasName;
    hasArn = s.cbor.hasArn;
    hasRecords = s.cbor.hasRecords;
    for (const CborRecord& r : s.cbor.records) s.in.push_back(recordFromCbor(r));
  } else {
    object root;
    if (!parseObject(s.parser, request.body, root)) return setError(reply, ApiError::kSerialization, "");
    if (!readStreamFields(root, name, arn, hasName, hasArn, reply, outcome)) return outcome;
    element recordsValue;
    hasRecords = root.at_key("Records").get(recordsValue) == simdjson::SUCCESS && !recordsValue.is_null();
    array records;
    if (hasRecords) {
      if (recordsValue.get(records) != simdjson::SUCCESS) return serializationError(reply, "Records");
      for (element item : records) {
        object record;
        if (item.get(record) != simdjson::SUCCESS) return serializationError(reply, "Records");
        RecordIn in;
        if (auto bad = readRecord(record, s, in); !bad.empty()) return serializationError(reply, bad);
        s.in.push_back(in);
      }
    }
  }

  StreamRef ref;
  validateStreamRef(name, arn, hasName, hasArn, options_, s.errors, ref);
  if (!hasRecords) {
    s.errors.push_back("Value null at 'records' failed to satisfy constraint: Member must not be null");
  } else if (s.in.empty()) {
    s.errors.push_back(
        "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or "
        "equal to 1");
  } else if (s.in.size() > kMaxRecordsPerRequest) {
    s.errors.push_back(
        fmt::format("Value '[{} records]' at 'records' failed to satisfy constraint: Member must have "
                    "length less than or equal to {}",
                    s.in.size(), kMaxRecordsPerRequest));
  }
  if (s.in.size() <= kMaxRecordsPerRequest) {
    for (size_t i = 0; i < s.in.size(); ++i) validateRecord(s.in[i], i + 1, options_, s.errors);
  }
  if (!s.errors.empty()) return setError(reply, ApiError::kValidation, validationMessage(s.errors), protocol);
  if (!hasName && !hasArn) {
    return setError(reply, ApiError::kInvalidArgument, "Either StreamName or StreamARN must be provided.", protocol);
  }

  size_t total = 0;
  for (size_t i = 0; i < s.in.size(); ++i) {
    if (auto message = checkRecord(s.in[i], i + 1, options_); !message.empty()) {
      return setError(reply, ApiError::kInvalidArgument, message, protocol);
    }
    total += s.in[i].dataSize + s.in[i].key.size();
  }
  if (total > options_.maxRequestSize) {
    return setError(reply, ApiError::kInvalidArgument,
                    fmt::format("Records size exceeds {} MB limit", options_.maxRequestSize >> 20), protocol);
  }
  for (RecordIn& r : s.in) {
    if (!r.hasHashKey) r.hash = md5HashKey(r.key);
    if (options_.trackDuplicates) {
      r.fingerprint = recordFingerprint(r.key, std::string_view(s.data).substr(r.dataOffset, r.dataSize));
    }
    r.stamp = stamps_.find(std::string_view(s.data).substr(r.dataOffset, r.dataSize));
  }
  return commit(ref.name, ref.arnMatchesUs, faults, reply, true, protocol);
}

std::string_view KinesisService::putRecord(const HttpRequest& request, HttpReply& reply, FaultDecision& faults) {
  Scratch& s = scratch();
  s.in.clear();
  s.data.clear();
  s.errors.clear();
  const Protocol protocol = protocolOf(request);
  std::string_view name, arn, outcome, ordering;
  bool hasName = false, hasArn = false;
  RecordIn in;
  Field orderingField = Field::kAbsent;
  if (protocol == Protocol::kCbor) {
    if (!decodeCbor(request.body, false, s, reply, outcome)) return outcome;
    name = s.cbor.streamName;
    arn = s.cbor.streamArn;
    hasName = s.cbor.hasName;
    hasArn = s.cbor.hasArn;
    in = recordFromCbor(s.cbor.record);
    ordering = s.cbor.ordering;
    orderingField = s.cbor.hasOrdering ? Field::kOk : Field::kAbsent;
  } else {
    object root;
    if (!parseObject(s.parser, request.body, root)) return setError(reply, ApiError::kSerialization, "");
    if (!readStreamFields(root, name, arn, hasName, hasArn, reply, outcome)) return outcome;
    if (auto bad = readRecord(root, s, in); !bad.empty()) return serializationError(reply, bad);
    orderingField = getString(root, "SequenceNumberForOrdering", ordering);
    if (orderingField == Field::kWrongType) return serializationError(reply, "SequenceNumberForOrdering");
  }

  StreamRef ref;
  validateStreamRef(name, arn, hasName, hasArn, options_, s.errors, ref);
  validateRecord(in, 0, options_, s.errors);
  if (orderingField == Field::kOk && !matchesSequencePattern(ordering)) {
    s.errors.push_back(
        fmt::format("Value '{}' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member "
                    "must satisfy regular expression pattern: 0|([1-9]\\d{{0,128}})",
                    shown(ordering)));
  }
  if (!s.errors.empty()) return setError(reply, ApiError::kValidation, validationMessage(s.errors), protocol);
  if (!hasName && !hasArn) {
    return setError(reply, ApiError::kInvalidArgument, "Either StreamName or StreamARN must be provided.", protocol);
  }
  if (auto message = checkRecord(in, 0, options_); !message.empty()) {
    return setError(reply, ApiError::kInvalidArgument, message, protocol);
  }
  if (!in.hasHashKey) in.hash = md5HashKey(in.key);
  if (options_.trackDuplicates) {
    in.fingerprint = recordFingerprint(in.key, std::string_view(s.data).substr(in.dataOffset, in.dataSize));
  }
  in.stamp = stamps_.find(std::string_view(s.data).substr(in.dataOffset, in.dataSize));
  // Ordering is what a single writer to one shard gets anyway here: each
  // shard's sequence numbers only grow. The value is accepted and unused.
  s.in.push_back(in);
  return commit(ref.name, ref.arnMatchesUs, faults, reply, false, protocol);
}

std::string_view KinesisService::commit(std::string_view name, bool arnMatches, const FaultDecision& faults,
                                        HttpReply& reply, bool batch, Protocol protocol) {
  Scratch& s = scratch();
  s.out.resize(s.in.size());
  std::string streamName;
  uint64_t generation = 0;
  size_t failed = 0;
  {
    std::lock_guard lock(mutex_);
    Stream* stream = arnMatches ? findLocked(name) : nullptr;
    if (stream == nullptr) {
      return setError(reply, ApiError::kResourceNotFound, notFoundMessage(name, options_), protocol);
    }
    auto now = clock_->now();
    // Stamps are wall time (written by another process), so latency is too.
    uint64_t wallNanos = 0;
    if (stamps_.enabled()) {
      wallNanos = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->wallNow().time_since_epoch()).count());
    }
    for (size_t i = 0; i < s.in.size(); ++i) {
      const RecordIn& in = s.in[i];
      RecordOut& out = s.out[i];
      out.shard = stream->route(in.hash);
      Shard& shard = stream->shards[out.shard];
      if (auto injected = injector_.recordFault(i, faults)) {
        out.outcome =
            *injected == RecordError::kInternalFailure ? Outcome::kInjectedInternal : Outcome::kInjectedThrottle;
        ++failed;
        bump(counters_.recordsFailed, recordErrorCode(*injected));
        continue;
      }
      uint64_t size = in.key.size() + in.dataSize;
      shard.window.expire(now);
      // A record larger than a second's bytes (a stream configured for
      // records over 1 MiB) goes when the shard's window is empty, as
      // Kinesis lets such a record burst past the rate and refills after.
      const bool large = bytesPerSecond_ != 0 && size > bytesPerSecond_;
      const bool overBytes =
          bytesPerSecond_ != 0 && shard.window.bytes + size > bytesPerSecond_ && !(large && shard.window.bytes == 0);
      if ((recordsPerSecond_ != 0 && shard.window.records + 1 > recordsPerSecond_) || overBytes) {
        out.outcome = Outcome::kThrottled;
        ++failed;
        ++shard.throttled;
        ++counters_.recordsThrottled;
        bump(counters_.recordsFailed, recordErrorCode(RecordError::kProvisionedThroughputExceeded));
        continue;
      }
      shard.window.add(now, size,
                       large ? std::chrono::duration_cast<Clock::TimePoint::duration>(
                                   kWindow * (static_cast<double>(size) / static_cast<double>(bytesPerSecond_)))
                             : Clock::TimePoint::duration(kWindow));
      out.outcome = Outcome::kAccepted;
      out.counter = ++shard.counter;
      ++shard.accepted;
      shard.bytes += size;
      ++counters_.recordsAccepted;
      counters_.bytesAccepted += size;
      if (options_.trackDuplicates && !fingerprints_.insert(in.fingerprint)) ++counters_.duplicates;
      if (in.stamp) {
        if (*in.stamp > wallNanos) ++counters_.latency.future;
        latency_.record(*in.stamp > wallNanos ? 0 : wallNanos - *in.stamp);
      }
      log_.append(stream->logId, out.shard, out.counter, in.key,
                  std::string_view(s.data).substr(in.dataOffset, in.dataSize),
                  in.hasHashKey ? in.hashKeyText : std::string_view());
    }
    streamName = stream->name;
    generation = stream->generation;
  }

  std::string& body = reply.body;
  body.clear();
  if (!batch) {
    const RecordOut& out = s.out[0];
    if (out.outcome == Outcome::kInjectedInternal) return setError(reply, ApiError::kInternalFailure, "", protocol);
    if (out.outcome != Outcome::kAccepted) {
      std::string message;
      appendThrottleMessage(message, out.shard, streamName, options_);
      return setError(reply, ApiError::kProvisionedThroughputExceeded, message, protocol);
    }
  }
  if (protocol == Protocol::kCbor) {
    answerCbor(reply, s.out, batch, streamName, generation, failed, options_);
    return failed == 0 ? "ok" : "partial";
  }
  if (!batch) {
    const RecordOut& out = s.out[0];
    body += "{\"ShardId\":\"";
    appendShardId(body, out.shard);
    body += "\",\"SequenceNumber\":\"";
    appendSequenceNumber(body, generation, out.shard, out.counter);
    body += "\",\"EncryptionType\":\"NONE\"}";
    return "ok";
  }
  body.reserve(64 + s.out.size() * 140);
  fmt::format_to(std::back_inserter(body), "{{\"FailedRecordCount\":{},\"Records\":[", failed);
  for (size_t i = 0; i < s.out.size(); ++i) {
    const RecordOut& out = s.out[i];
    if (i != 0) body += ',';
    switch (out.outcome) {
      case Outcome::kAccepted:
        body += "{\"SequenceNumber\":\"";
        appendSequenceNumber(body, generation, out.shard, out.counter);
        body += "\",\"ShardId\":\"";
        appendShardId(body, out.shard);
        body += "\"}";
        break;
      case Outcome::kThrottled:
      case Outcome::kInjectedThrottle:
        body += "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"";
        appendThrottleMessage(body, out.shard, streamName, options_);
        body += "\"}";
        break;
      case Outcome::kInjectedInternal:
        body += "{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":\"Internal service failure.\"}";
        break;
    }
  }
  body += "],\"EncryptionType\":\"NONE\"}";
  return failed == 0 ? "ok" : "partial";
}

std::string_view KinesisService::listShards(const HttpRequest& request, HttpReply& reply, FaultDecision&) {
  Scratch& s = scratch();
  s.errors.clear();
  object root;
  if (!parseObject(s.parser, request.body, root)) return setError(reply, ApiError::kSerialization, "");
  std::string_view name, arn, outcome, token, exclusiveStart;
  bool hasName = false, hasArn = false;
  if (!readStreamFields(root, name, arn, hasName, hasArn, reply, outcome)) return outcome;
  Field tokenField = getString(root, "NextToken", token);
  Field startField = getString(root, "ExclusiveStartShardId", exclusiveStart);
  int64_t maxResults = static_cast<int64_t>(kDefaultListShards);
  Field maxField = getInt(root, "MaxResults", maxResults);
  if (tokenField == Field::kWrongType) return serializationError(reply, "NextToken");
  if (startField == Field::kWrongType) return serializationError(reply, "ExclusiveStartShardId");
  if (maxField == Field::kWrongType) return serializationError(reply, "MaxResults");

  StreamRef ref;
  validateStreamRef(name, arn, hasName, hasArn, options_, s.errors, ref);
  if (maxField == Field::kOk && maxResults < 1) {
    s.errors.push_back(
        fmt::format("Value '{}' at 'maxResults' failed to satisfy constraint: Member must have value "
                    "greater than or equal to 1",
                    maxResults));
  } else if (maxField == Field::kOk && maxResults > 10000) {
    s.errors.push_back(
        fmt::format("Value '{}' at 'maxResults' failed to satisfy constraint: Member must have value "
                    "less than or equal to 10000",
                    maxResults));
  }
  if (!s.errors.empty()) return setError(reply, ApiError::kValidation, validationMessage(s.errors));
  if (tokenField == Field::kOk && (hasName || hasArn)) {
    return setError(reply, ApiError::kInvalidArgument, "NextToken and StreamName cannot be provided together.");
  }
  if (tokenField != Field::kOk && !hasName && !hasArn) {
    return setError(reply, ApiError::kInvalidArgument, "Either NextToken or StreamName should be provided.");
  }
  size_t limit = static_cast<size_t>(std::min<int64_t>(maxResults, static_cast<int64_t>(kDefaultListShards)));

  std::lock_guard lock(mutex_);
  size_t offset = 0;
  Stream* stream = nullptr;
  if (tokenField == Field::kOk) {
    uint64_t generation = 0;
    std::string tokenStream;
    if (!parseShardToken(token, generation, offset, tokenStream)) {
      return setError(reply, ApiError::kInvalidArgument, fmt::format("Invalid NextToken: {}", shown(token)));
    }
    stream = findLocked(tokenStream);
    if (stream == nullptr) return setError(reply, ApiError::kResourceNotFound, notFoundMessage(tokenStream, options_));
    if (stream->generation != generation) {
      return setError(reply, ApiError::kExpiredNextToken, "The stream was deleted and created again.");
    }
  } else {
    stream = ref.arnMatchesUs ? findLocked(ref.name) : nullptr;
    if (stream == nullptr) return setError(reply, ApiError::kResourceNotFound, notFoundMessage(ref.name, options_));
  }
  if (startField == Field::kOk) {
    // Shards after the one named (ids sort like their indexes).
    offset = 0;
    while (offset < stream->shards.size() && formatShardId(static_cast<uint32_t>(offset)) <= exclusiveStart) ++offset;
  }
  size_t end = std::min(stream->shards.size(), offset + limit);
  reply.body = "{\"Shards\":[";
  for (size_t i = offset; i < end; ++i) {
    if (i != offset) reply.body += ',';
    appendShardJson(reply.body, *stream, i);
  }
  reply.body += ']';
  if (end < stream->shards.size()) {
    reply.body += ",\"NextToken\":";
    appendJsonString(reply.body, makeShardToken(stream->generation, end, stream->name));
  }
  reply.body += '}';
  return "ok";
}

std::string_view KinesisService::describeStreamSummary(const HttpRequest& request, HttpReply& reply, FaultDecision&) {
  Scratch& s = scratch();
  s.errors.clear();
  object root;
  if (!parseObject(s.parser, request.body, root)) return setError(reply, ApiError::kSerialization, "");
  std::string_view name, arn, outcome;
  bool hasName = false, hasArn = false;
  if (!readStreamFields(root, name, arn, hasName, hasArn, reply, outcome)) return outcome;
  StreamRef ref;
  validateStreamRef(name, arn, hasName, hasArn, options_, s.errors, ref);
  if (!s.errors.empty()) return setError(reply, ApiError::kValidation, validationMessage(s.errors));
  if (!hasName && !hasArn) {
    return setError(reply, ApiError::kInvalidArgument, "Either StreamName or StreamARN must be provided.");
  }
  std::lock_guard lock(mutex_);
  Stream* stream = ref.arnMatchesUs ? findLocked(ref.name) : nullptr;
  if (stream == nullptr) return setError(reply, ApiError::kResourceNotFound, notFoundMessage(ref.name, options_));
  reply.body = fmt::format(
      "{{\"StreamDescriptionSummary\":{{\"StreamName\":\"{}\",\"StreamARN\":\"{}\",\"StreamStatus\":\"ACTIVE\","
      "\"StreamModeDetails\":{{\"StreamMode\":\"PROVISIONED\"}},\"RetentionPeriodHours\":24,"
      "\"StreamCreationTimestamp\":{:.3f},\"EnhancedMonitoring\":[{{\"ShardLevelMetrics\":[]}}],"
      "\"EncryptionType\":\"NONE\",\"OpenShardCount\":{},\"ConsumerCount\":0,\"MaxRecordSizeInKiB\":{}}}}}",
      stream->name, stream->arn, stream->createdAt, stream->shards.size(), options_.maxRecordSize / 1024);
  return "ok";
}

std::string_view KinesisService::describeStream(const HttpRequest& request, HttpReply& reply, FaultDecision&) {
  Scratch& s = scratch();
  s.errors.clear();
  object root;
  if (!parseObject(s.parser, request.body, root)) return setError(reply, ApiError::kSerialization, "");
  std::string_view name, arn, outcome, exclusiveStart;
  bool hasName = false, hasArn = false;
  if (!readStreamFields(root, name, arn, hasName, hasArn, reply, outcome)) return outcome;
  int64_t limit = 100;
  Field limitField = getInt(root, "Limit", limit);
  Field startField = getString(root, "ExclusiveStartShardId", exclusiveStart);
  if (limitField == Field::kWrongType) return serializationError(reply, "Limit");
  if (startField == Field::kWrongType) return serializationError(reply, "ExclusiveStartShardId");
  StreamRef ref;
  validateStreamRef(name, arn, hasName, hasArn, options_, s.errors, ref);
  if (limit < 1 || limit > 10000) {
    s.errors.push_back(
        fmt::format("Value '{}' at 'limit' failed to satisfy constraint: Member must have value between "
                    "1 and 10000",
                    limit));
  }
  if (!s.errors.empty()) return setError(reply, ApiError::kValidation, validationMessage(s.errors));
  if (!hasName && !hasArn) {
    return setError(reply, ApiError::kInvalidArgument, "Either StreamName or StreamARN must be provided.");
  }
  std::lock_guard lock(mutex_);
  Stream* stream = ref.arnMatchesUs ? findLocked(ref.name) : nullptr;
  if (stream == nullptr) return setError(reply, ApiError::kResourceNotFound, notFoundMessage(ref.name, options_));
  size_t offset = 0;
  if (startField == Field::kOk) {
    while (offset < stream->shards.size() && formatShardId(static_cast<uint32_t>(offset)) <= exclusiveStart) ++offset;
  }
  size_t end = std::min(stream->shards.size(), offset + static_cast<size_t>(limit));
  reply.body = fmt::format(
      "{{\"StreamDescription\":{{\"StreamName\":\"{}\",\"StreamARN\":\"{}\",\"StreamStatus\":"
      "\"ACTIVE\",\"StreamModeDetails\":{{\"StreamMode\":\"PROVISIONED\"}},\"Shards\":[",
      stream->name, stream->arn);
  for (size_t i = offset; i < end; ++i) {
    if (i != offset) reply.body += ',';
    appendShardJson(reply.body, *stream, i);
  }
  reply.body += fmt::format(
      "],\"HasMoreShards\":{},\"RetentionPeriodHours\":24,\"StreamCreationTimestamp\":{:.3f},"
      "\"EnhancedMonitoring\":[{{\"ShardLevelMetrics\":[]}}],\"EncryptionType\":\"NONE\"}}}}",
      end < stream->shards.size(), stream->createdAt);
  return "ok";
}

std::string_view KinesisService::createStreamOp(const HttpRequest& request, HttpReply& reply, FaultDecision&) {
  Scratch& s = scratch();
  s.errors.clear();
  object root;
  if (!parseObject(s.parser, request.body, root)) return setError(reply, ApiError::kSerialization, "");
  std::string_view name;
  Field nameField = getString(root, "StreamName", name);
  if (nameField == Field::kWrongType) return serializationError(reply, "StreamName");
  int64_t shardCount = 0;
  Field countField = getInt(root, "ShardCount", shardCount);
  if (countField == Field::kWrongType) return serializationError(reply, "ShardCount");
  StreamRef ref;
  if (nameField != Field::kOk) {
    s.errors.push_back("Value null at 'streamName' failed to satisfy constraint: Member must not be null");
  } else {
    validateStreamRef(name, {}, true, false, options_, s.errors, ref);
  }
  if (countField == Field::kOk && shardCount < 1) {
    s.errors.push_back(
        fmt::format("Value '{}' at 'shardCount' failed to satisfy constraint: Member must have value "
                    "greater than or equal to 1",
                    shardCount));
  }
  if (!s.errors.empty()) return setError(reply, ApiError::kValidation, validationMessage(s.errors));
  // Without ShardCount (on-demand mode) a new stream starts with 4 shards.
  if (countField != Field::kOk) shardCount = 4;
  if (shardCount > kMaxShards) {
    return setError(reply, ApiError::kLimitExceeded,
                    fmt::format("This request would exceed the shard limit for the account {} ({} shards).",
                                options_.accountId, kMaxShards));
  }
  std::lock_guard lock(mutex_);
  if (findLocked(name) != nullptr) {
    return setError(reply, ApiError::kResourceInUse,
                    fmt::format("Stream {} under account {} already exists.", name, options_.accountId));
  }
  StreamSpec spec{std::string(name), static_cast<int>(shardCount), {}};
  if (auto status = createStreamLocked(spec); !status) {
    return setError(reply, ApiError::kInvalidArgument, status.message());
  }
  reply.body = "{}";
  return "ok";
}

std::string_view KinesisService::deleteStreamOp(const HttpRequest& request, HttpReply& reply, FaultDecision&) {
  Scratch& s = scratch();
  s.errors.clear();
  object root;
  if (!parseObject(s.parser, request.body, root)) return setError(reply, ApiError::kSerialization, "");
  std::string_view name, arn, outcome;
  bool hasName = false, hasArn = false;
  if (!readStreamFields(root, name, arn, hasName, hasArn, reply, outcome)) return outcome;
  StreamRef ref;
  validateStreamRef(name, arn, hasName, hasArn, options_, s.errors, ref);
  if (!s.errors.empty()) return setError(reply, ApiError::kValidation, validationMessage(s.errors));
  if (!hasName && !hasArn) {
    return setError(reply, ApiError::kInvalidArgument, "Either StreamName or StreamARN must be provided.");
  }
  std::lock_guard lock(mutex_);
  auto at = std::find_if(streams_.begin(), streams_.end(), [&](const auto& st) { return st->name == ref.name; });
  if (!ref.arnMatchesUs || at == streams_.end()) {
    return setError(reply, ApiError::kResourceNotFound, notFoundMessage(ref.name, options_));
  }
  streams_.erase(at);
  reply.body = "{}";
  return "ok";
}

void KinesisService::handleControl(const HttpRequest& request, HttpReply& reply) {
  std::string_view target = request.target;
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  bool get = request.method == "GET";
  bool post = request.method == "POST";
  reply.contentType = kJson;

  if (path == "/_fake/health") {
    reply.body = "{\"ok\":true}\n";
    return;
  }
  if (path == "/_fake/stats" && get) {
    flush();
    reply.body = stats().toJson();
    reply.body += '\n';
    return;
  }
  if (path == "/_fake/records" && get) {
    bool countOnly = false;
    queryValue(query, "count", countOnly);
    std::lock_guard lock(mutex_);
    log_.flush();
    if (countOnly) {
      reply.body = fmt::format("{{\"accepted\":{},\"stored\":{}}}\n", log_.total(), log_.stored());
      return;
    }
    reply.contentType = "application/x-ndjson";
    reply.body.clear();
    log_.appendJsonLines(reply.body, queryNumber(query, "from", 0),
                         queryNumber(query, "limit", std::numeric_limits<size_t>::max()));
    return;
  }
  if (path == "/_fake/faults" && get) {
    reply.body = faultsToJson(faults());
    reply.body += '\n';
    return;
  }
  if (path == "/_fake/faults" && post) {
    auto parsed = parseFaults(request.body.empty() ? std::string_view("{}") : request.body);
    if (!parsed) {
      setControlError(reply, 400, parsed.error().message());
      return;
    }
    reply.body = faultsToJson(*parsed);
    reply.body += '\n';
    setFaults(std::move(*parsed));
    return;
  }
  if (path == "/_fake/reset" && post) {
    reset();
    reply.body = "{\"ok\":true}\n";
    return;
  }
  if ((path == "/_fake/limits" || path == "/_fake/streams") && post) {
    simdjson::dom::parser parser;
    element root;
    object obj;
    if (parser.parse(request.body.data(), request.body.size()).get(root) != simdjson::SUCCESS ||
        root.get(obj) != simdjson::SUCCESS) {
      setControlError(reply, 400, "expected a JSON object");
      return;
    }
    if (path == "/_fake/limits") {
      uint64_t rps = 0, bps = 0;
      {
        std::lock_guard lock(mutex_);
        rps = recordsPerSecond_;
        bps = bytesPerSecond_;
      }
      for (auto field : obj) {
        uint64_t value = 0;
        if (field.value.get(value) != simdjson::SUCCESS) {
          setControlError(reply, 400, fmt::format("\"{}\" must be a non-negative integer", field.key));
          return;
        }
        if (field.key == "recordsPerSecond") {
          rps = value;
        } else if (field.key == "bytesPerSecond") {
          bps = value;
        } else {
          setControlError(reply, 400, fmt::format("unknown key \"{}\"", field.key));
          return;
        }
      }
      setLimits(rps, bps);
      reply.body = fmt::format("{{\"recordsPerSecond\":{},\"bytesPerSecond\":{}}}\n", rps, bps);
      return;
    }
    // /_fake/streams: {"name": "s", "shards": 4, "uneven": true} or
    // {"name": "s", "shards": 3, "splits": [0.25, "170141183460469231731687303715884105728"]}
    StreamSpec spec;
    bool uneven = false;
    std::vector<HashKey> splits;
    for (auto field : obj) {
      bool ok = true;
      if (field.key == "name") {
        std::string_view name;
        ok = field.value.get(name) == simdjson::SUCCESS;
        spec.name = std::string(name);
      } else if (field.key == "shards") {
        int64_t shards = 0;
        ok = field.value.get(shards) == simdjson::SUCCESS && shards >= 1 && shards <= kMaxShards;
        spec.shardCount = static_cast<int>(shards);
      } else if (field.key == "uneven") {
        ok = field.value.get(uneven) == simdjson::SUCCESS;
      } else if (field.key == "splits") {
        array items;
        ok = field.value.get(items) == simdjson::SUCCESS;
        for (element item : items) {
          if (!ok) break;
          double fraction = 0;
          std::string_view text;
          HashKey key = 0;
          if (item.get(text) == simdjson::SUCCESS) {
            ok = parseHashKey(text, key) == HashKeyParse::kOk;
          } else if (item.get(fraction) == simdjson::SUCCESS) {
            auto converted = splitsFromFractions(std::span<const double>(&fraction, 1));
            ok = converted.has_value();
            if (ok) key = converted->front();
          } else {
            ok = false;
          }
          splits.push_back(key);
        }
      } else {
        setControlError(reply, 400, fmt::format("unknown key \"{}\"", field.key));
        return;
      }
      if (!ok) {
        setControlError(reply, 400, fmt::format("bad value for \"{}\"", field.key));
        return;
      }
    }
    spec.splits = uneven ? unevenSplits(spec.shardCount) : std::move(splits);
    if (auto status = createStream(spec); !status) {
      setControlError(reply, 400, status.message());
      return;
    }
    reply.body = fmt::format("{{\"StreamARN\":\"{}\"}}\n", streamArn(spec.name));
    return;
  }
  bool known = path == "/_fake/stats" || path == "/_fake/records" || path == "/_fake/faults" ||
               path == "/_fake/reset" || path == "/_fake/limits" || path == "/_fake/streams";
  setControlError(reply, known ? 405 : 404, known ? "method not allowed" : "no such control endpoint");
}

}  // namespace kinship::fake
