#pragma once
// The Kinesis sink's test harness: ScriptedKinesis (a PutRecords and
// ListShards endpoint in-process, whose answers a test scripts, keeping what
// it accepted), answering through a ScriptedTransport, and the
// KinesisSinkTest fixture: a queue, a registry, a manual clock, and a sink
// whose loop the test drives turn by turn on its own thread, moving the
// clock to the next instant something is due (runUntil). No sockets, no
// threads, no sleeps: every instant is exact. Shared by the sink's test files.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <prometheus/registry.h>
#include <simdjson.h>
#include <cbor.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "sinks/kinesis/hash_key.h"
#include "sinks/kinesis/kinesis_sink.h"
#include "tests/support/fake_http_server.h"
#include "tests/support/manual_clock.h"
#include "tests/support/metrics_reader.h"
#include "tests/support/scripted_transport.h"

namespace kinship::kinesis::test {

using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;
using kinship::testing::ManualClock;
using kinship::testing::metricValue;
using kinship::testing::ScriptedReply;
using kinship::testing::ScriptedTransport;
using namespace std::chrono_literals;

inline std::string base64Decode(std::string_view in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) throw std::runtime_error("bad base64");
  size_t pad = 0;
  if (in.size() >= 1 && in[in.size() - 1] == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

struct SentRecord {
  std::string data;
  std::string key;
};

inline std::string_view cborText(cbor_item_t* item) {
  return {reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item)};
}

inline cbor_item_t* cborFieldOf(cbor_item_t* map, std::string_view name) {
  for (size_t i = 0; i < cbor_map_size(map); ++i) {
    cbor_pair pair = cbor_map_handle(map)[i];
    if (cbor_isa_string(pair.key) && cborText(pair.key) == name) return pair.value;
  }
  throw std::runtime_error("no field " + std::string(name));
}

// A CBOR PutRecords body (the sink writes definite-length strings).
inline std::vector<SentRecord> decodeCborRecords(const std::string& body) {
  cbor_load_result result;
  cbor_item_t* root = cbor_load(reinterpret_cast<cbor_data>(body.data()), body.size(), &result);
  if (root == nullptr || result.read != body.size()) throw std::runtime_error("bad CBOR body");
  std::vector<SentRecord> records;
  cbor_item_t* array = cborFieldOf(root, "Records");
  for (size_t i = 0; i < cbor_array_size(array); ++i) {
    cbor_item_t* r = cbor_array_handle(array)[i];
    cbor_item_t* data = cborFieldOf(r, "Data");
    if (!cbor_isa_bytestring(data)) throw std::runtime_error("Data is not a byte string");
    records.push_back({std::string(reinterpret_cast<const char*>(cbor_bytestring_handle(data)),
                                   cbor_bytestring_length(data)),
                       std::string(cborText(cborFieldOf(r, "PartitionKey")))});
  }
  cbor_decref(&root);
  return records;
}

inline std::string serializeCbor(cbor_item_t* item) {
  unsigned char* buffer = nullptr;
  size_t size = 0;
  size_t written = cbor_serialize_alloc(item, &buffer, &size);
  std::string out(reinterpret_cast<char*>(buffer), written);
  free(buffer);
  cbor_decref(&item);
  return out;
}

inline void addCborText(cbor_item_t* map, std::string_view key, std::string_view value) {
  (void)cbor_map_add(map, {cbor_move(cbor_build_stringn(key.data(), key.size())),
                           cbor_move(cbor_build_stringn(value.data(), value.size()))});
}

inline std::vector<SentRecord> decodeRecords(const std::string& body) {
  if (!body.empty() && static_cast<unsigned char>(body[0]) == 0xbf) return decodeCborRecords(body);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  std::vector<SentRecord> records;
  for (simdjson::dom::element r : parser.parse(padded)["Records"].get_array()) {
    records.push_back({base64Decode(std::string_view(r["Data"])), std::string(std::string_view(r["PartitionKey"]))});
  }
  return records;
}

class StaticCredentials final : public aws::CredentialsProvider {
 public:
  Result<aws::Credentials> current() override { return aws::Credentials{"AKIDTEST", "secret", ""}; }
};

// Decides the fate of each record of each request; records it accepts are
// remembered in order. Answers through a ScriptedTransport (respond()).
class ScriptedKinesis {
 public:
  // Return "" to accept the record, or an error code to fail it.
  using RecordScript = std::function<std::string(size_t request, size_t position, const SentRecord&)>;
  // Return a status other than 200 (with a body) to fail the whole request.
  using RequestScript =
      std::function<std::optional<HttpReply>(size_t request, const std::vector<SentRecord>& records)>;

  ScriptedKinesis(RecordScript records = {}, RequestScript requests = {})
      : recordScript_(std::move(records)), requestScript_(std::move(requests)) {}

  // Never dialled: the transport is in-process.
  std::string url() const { return "http://127.0.0.1:4567"; }

  // The answer to a request the sink sent; what the ScriptedTransport calls.
  ScriptedReply respond(const aws::HttpRequest& sent) {
    HttpRequest request;
    request.method = "POST";
    request.target = sent.url.substr(sent.url.find('/', sent.url.find("//") + 2));
    for (const auto& [name, value] : sent.headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[lower] = value;
    }
    request.body = std::string(sent.body);
    if (request.headers.count("x-amz-target") &&
        request.headers.at("x-amz-target").ends_with(".DescribeStreamSummary")) {
      std::lock_guard lock(mutex_);
      if (describeUnanswered_) {
        ++describeCalls_;
        return ScriptedReply::never();
      }
    }
    std::optional<ScriptedReply> timing;
    std::chrono::milliseconds latency{0};
    {
      std::lock_guard lock(mutex_);
      timing = std::move(next_);
      next_.reset();
      latency = latency_;
    }
    if (timing && (timing->unanswered || timing->failure != aws::TransportFailure::kNone)) {
      // It never reached the scripts: counted as sent, nothing accepted.
      std::lock_guard lock(mutex_);
      raw_.push_back(request);
      requests_.push_back(decodeRecords(request.body));
      return *timing;
    }
    HttpReply reply = handle(request);
    ScriptedReply scripted{reply.status, std::move(reply.body)};
    if (reply.closeConnection) scripted.failure = aws::TransportFailure::kReset;
    scripted.latency = timing ? timing->latency : latency;
    return scripted;
  }
  // Every PutRecords request not scripted by delayNext() is answered this
  // long after it went out (0: at once).
  void answerAfter(std::chrono::milliseconds latency) {
    std::lock_guard lock(mutex_);
    latency_ = latency;
  }
  // The next PutRecords request is answered with this latency (its records
  // scripted as usual), or not at all, or fails below HTTP (then nothing of
  // it is accepted).
  void delayNext(ScriptedReply timing) {
    std::lock_guard lock(mutex_);
    next_ = std::move(timing);
  }

  size_t acceptedCount() {
    std::lock_guard lock(mutex_);
    return accepted_.size();
  }
  std::vector<SentRecord> accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  std::vector<std::vector<SentRecord>> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // Splits the hash-key space into `count` equal ranges (two by default).
  void setShardCount(unsigned count) {
    const HashKey width = ~HashKey{0} / count + 1;
    std::string answer = R"({"Shards":[)";
    for (unsigned i = 0; i < count; ++i) {
      const HashKey start = width * i;
      const HashKey end = i + 1 == count ? ~HashKey{0} : start + width - 1;
      answer += (i == 0 ? "" : ",") + std::string(R"({"ShardId":"shardId-)") + std::to_string(i) +
                R"(","HashKeyRange":{"StartingHashKey":")" + formatHashKey(start) + R"(","EndingHashKey":")" +
                formatHashKey(end) + R"("},"SequenceNumberRange":{"StartingSequenceNumber":"1"}})";
    }
    std::lock_guard lock(mutex_);
    listShardsAnswer_ = answer + "]}";
  }
  // Sees each PutRecords request whole (headers included) before the
  // scripts; an answer returned here is sent instead.
  void setRequestFilter(std::function<std::optional<HttpReply>(const HttpRequest&)> filter) {
    std::lock_guard lock(mutex_);
    filter_ = std::move(filter);
  }
  // DescribeStreamSummary is answered with `reply` (by default a summary
  // without MaxRecordSizeInKiB, as kinesalite gives).
  void setDescribeReply(HttpReply reply) {
    std::lock_guard lock(mutex_);
    describeReply_ = std::move(reply);
  }
  // DescribeStreamSummary is never answered (it times out).
  void leaveDescribeUnanswered() {
    std::lock_guard lock(mutex_);
    describeUnanswered_ = true;
  }
  size_t describeCalls() {
    std::lock_guard lock(mutex_);
    return describeCalls_;
  }
  // ListShards is answered with `reply` instead of the shard map.
  void setListShardsReply(HttpReply reply) {
    std::lock_guard lock(mutex_);
    listShardsReply_ = std::move(reply);
  }
  void setAcceptedShardId(std::string id) {
    std::lock_guard lock(mutex_);
    acceptedShardId_ = std::move(id);
  }
  size_t listShardsCalls() {
    std::lock_guard lock(mutex_);
    return listShardsCalls_;
  }
  // PutRecords requests answered by the filter.
  size_t filteredCount() {
    std::lock_guard lock(mutex_);
    return filtered_;
  }
  size_t requestCount() {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  std::vector<HttpRequest> rawRequests() {
    std::lock_guard lock(mutex_);
    return raw_;
  }
  // For a test that runs the sink on its own thread (the system clock).
  bool waitForAccepted(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [&] { return accepted_.size() >= count; });
  }

 private:
  HttpReply handle(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    if (request.headers.count("x-amz-target") && request.headers.at("x-amz-target").ends_with(".ListShards")) {
      ++listShardsCalls_;
      return listShardsReply_ ? *listShardsReply_ : HttpReply{200, listShardsAnswer_};
    }
    if (request.headers.count("x-amz-target") &&
        request.headers.at("x-amz-target").ends_with(".DescribeStreamSummary")) {
      ++describeCalls_;
      return describeReply_;
    }
    if (filter_) {
      if (auto reply = filter_(request)) {
        ++filtered_;
        return *reply;
      }
    }
    size_t index = requests_.size();
    raw_.push_back(request);
    auto records = decodeRecords(request.body);
    requests_.push_back(records);
    if (requestScript_) {
      if (auto reply = requestScript_(index, records)) return *reply;
    }
    if (request.headers.at("content-type") == "application/x-amz-cbor-1.1") return cborAnswer(index, records);
    std::string body = "{\"FailedRecordCount\":0,\"Records\":[";
    for (size_t i = 0; i < records.size(); ++i) {
      std::string error = recordScript_ ? recordScript_(index, i, records[i]) : "";
      if (i != 0) body += ",";
      if (error.empty()) {
        accepted_.push_back(records[i]);
        body += "{\"SequenceNumber\":\"1\",\"ShardId\":\"" + acceptedShardId_ + "\"}";
      } else {
        body += "{\"ErrorCode\":\"" + error + "\",\"ErrorMessage\":\"scripted\"}";
      }
    }
    body += "]}";
    changed_.notify_all();
    return HttpReply{200, body};
  }

  // Indefinite-length containers, as an SDK-built answer may have.
  HttpReply cborAnswer(size_t index, const std::vector<SentRecord>& records) {
    cbor_item_t* answer = cbor_new_indefinite_map();
    cbor_item_t* results = cbor_new_indefinite_array();
    size_t failed = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      std::string error = recordScript_ ? recordScript_(index, i, records[i]) : "";
      cbor_item_t* result = cbor_new_definite_map(2);
      if (error.empty()) {
        accepted_.push_back(records[i]);
        addCborText(result, "SequenceNumber", "1");
        addCborText(result, "ShardId", acceptedShardId_);
      } else {
        ++failed;
        addCborText(result, "ErrorCode", error);
        addCborText(result, "ErrorMessage", "scripted");
      }
      (void)cbor_array_push(results, cbor_move(result));
    }
    (void)cbor_map_add(answer, {cbor_move(cbor_build_string("FailedRecordCount")), cbor_move(cbor_build_uint64(failed))});
    (void)cbor_map_add(answer, {cbor_move(cbor_build_string("Records")), cbor_move(results)});
    changed_.notify_all();
    HttpReply reply{200, serializeCbor(answer)};
    reply.contentType = "application/x-amz-cbor-1.1";
    return reply;
  }

  RecordScript recordScript_;
  RequestScript requestScript_;
  std::function<std::optional<HttpReply>(const HttpRequest&)> filter_;
  size_t filtered_ = 0;
  size_t listShardsCalls_ = 0;
  std::optional<HttpReply> listShardsReply_;
  std::string acceptedShardId_ = "shardId-000000000000";
  // Two shards splitting the hash-key space in halves.
  std::string listShardsAnswer_ =
      R"({"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0",)"
      R"("EndingHashKey":"170141183460469231731687303715884105727"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}},)"
      R"({"ShardId":"shardId-000000000001","HashKeyRange":{"StartingHashKey":"170141183460469231731687303715884105728",)"
      R"("EndingHashKey":"340282366920938463463374607431768211455"},"SequenceNumberRange":{"StartingSequenceNumber":"2"}}]})";
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<SentRecord> accepted_;
  std::vector<std::vector<SentRecord>> requests_;
  std::vector<HttpRequest> raw_;
  std::optional<ScriptedReply> next_;
  std::chrono::milliseconds latency_{0};
  HttpReply describeReply_{200, R"({"StreamDescriptionSummary":{"StreamName":"test-stream","StreamStatus":"ACTIVE"}})"};
  size_t describeCalls_ = 0;
  bool describeUnanswered_ = false;
};

class KinesisSinkTest : public ::testing::Test {
 protected:
  // A config for a sink that `kinesis` answers.
  KinesisConfig configFor(ScriptedKinesis& kinesis) {
    kinesis_ = &kinesis;
    KinesisConfig c;
    c.stream = "test-stream";
    c.region = "us-east-1";
    c.endpoint = kinesis.url();
    c.linger = std::chrono::milliseconds(20);
    c.retryBackoffMin = std::chrono::milliseconds(1);
    c.retryBackoffMax = std::chrono::milliseconds(20);
    c.pacing = false;  // the tests of pacing say so
    c.protocol = WireProtocol::kJson;  // the CBOR tests say so
    c.maxRecordSizeSet = true;         // no DescribeStreamSummary: the record size tests ask for it
    return c;
  }

  // Makes the sink and opens it; the test then drives it with runUntil()
  // and stopSink().
  std::unique_ptr<KinesisSink> startSink(const KinesisConfig& config,
                                         std::unique_ptr<aws::CredentialsProvider> credentials = nullptr) {
    if (!credentials) credentials = std::make_unique<StaticCredentials>();
    auto sink = std::make_unique<KinesisSink>(sinks::SinkContext{queue_, registry_, "p", clock_}, config,
                                              std::move(credentials), transportFactory());
    EXPECT_TRUE(sink->open().isOk());
    sink_ = sink.get();
    return sink;
  }

  // Makes ScriptedTransports on the test's clock, answered by the
  // ScriptedKinesis of the last configFor().
  KinesisSink::TransportFactory transportFactory() {
    return [this](const aws::HttpOptions& options) {
      ScriptedKinesis* kinesis = kinesis_;
      auto transport = std::make_unique<ScriptedTransport>(
          clock_, options, [kinesis](const aws::HttpRequest& request) { return kinesis->respond(request); });
      transport_ = transport.get();
      return transport;
    };
  }

  // Turns the sink's loop until `done()` holds, moving the clock to the
  // next instant something is due (the sink's wakeAt(), an answer's
  // arrival); false if the loop ended or `limit` of clock time passed
  // first.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::minutes(10)) {
    const auto end = clock_.now() + limit;
    int stalled = 0;
    for (;;) {
      if (!sink_->turn()) return done();
      if (done()) return true;
      auto next = sink_->wakeAt();
      if (auto answer = transport_->nextAnswerAt()) next = std::min(next, *answer);
      if (next > end) return false;
      if (next > clock_.now()) {
        clock_.advance(next - clock_.now());
        stalled = 0;
      } else if (++stalled > 1000) {
        ADD_FAILURE() << "the sink's loop turns without anything to do";
        return false;
      }
    }
  }
  bool runUntilAccepted(ScriptedKinesis& kinesis, size_t count) {
    return runUntil([&] { return kinesis.acceptedCount() >= count; });
  }
  bool runUntilRequests(ScriptedKinesis& kinesis, size_t count) {
    return runUntil([&] { return kinesis.requestCount() >= count; });
  }
  bool runUntilListShards(ScriptedKinesis& kinesis, size_t count) {
    return runUntil([&] { return kinesis.listShardsCalls() >= count; });
  }
  // stop() with a deadline `timeout` from now, then the loop's last turns.
  void stopSink(KinesisSink& sink, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    sink.stop(clock_.now() + timeout);
    EXPECT_FALSE(runUntil([] { return false; }, timeout + std::chrono::seconds(1)));
    EXPECT_FALSE(sink.turn()) << "the loop did not end by the deadline";
  }

  // Queues `count` records "r<i>" with key "k<i % 7>", in batches of `perBatch`.
  void push(size_t count, size_t perBatch = 100, size_t dataSize = 0) {
    for (size_t i = 0; i < count;) {
      auto batch = queue_.acquire();
      for (size_t j = 0; j < perBatch && i < count; ++j, ++i) {
        std::string data = "r" + std::to_string(i);
        if (data.size() < dataSize) data.resize(dataSize, 'x');
        batch->append(data, "k" + std::to_string(i % 7));
      }
      queue_.push(std::move(batch));
    }
  }

  static std::set<std::string> dataOf(const std::vector<SentRecord>& records) {
    std::set<std::string> out;
    for (const auto& r : records) out.insert(r.data);
    return out;
  }

  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return metricValue(registry_, name, labels);
  }

  ManualClock clock_;
  prometheus::Registry registry_;
  pipeline::BatchQueue queue_{64 * 1024 * 1024};
  ScriptedKinesis* kinesis_ = nullptr;
  KinesisSink* sink_ = nullptr;
  ScriptedTransport* transport_ = nullptr;
};

}  // namespace kinship::kinesis::test
