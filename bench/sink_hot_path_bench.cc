// sink_hot_path_bench: the Kinesis sink's per-request work, one part at a
// time, on requests of 500 records of 200 bytes (about 100 KB of data), for
// each protocol (JSON, CBOR): encoding the PutRecords body, signing it
// (SHA-256 of the body plus the HMAC chain), reading a PutRecords answer;
// then hashing partition keys. One
// line per part: ns per record and MB/s of record data. The parts run alone
// on a warm cache, so they show what each costs at best; bench/run.sh shows
// the whole daemon.
//
//   sink_hot_path_bench [requests per part, default 4000]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sinks/kinesis/hash_key.h"
#include "sinks/kinesis/put_records_encoder.h"
#include "sinks/kinesis/put_records_response.h"
#include "aws/sigv4.h"

namespace {

using namespace kinship::kinesis;
using Clock = std::chrono::steady_clock;

constexpr size_t kRecords = 500;
constexpr size_t kRecordBytes = 200;

struct Request {
  std::vector<std::string> data;
  std::vector<std::string> keys;
  size_t bytes = 0;
};

Request makeRequest() {
  Request r;
  for (size_t i = 0; i < kRecords; ++i) {
    std::string line = "{\"seq\":" + std::to_string(i) + ",\"service\":\"svc" + std::to_string(i % 7) +
                       "\",\"msg\":\"";
    line.resize(kRecordBytes - 2, 'x');
    line += "\"}";
    r.data.push_back(line);
    r.keys.push_back("svc" + std::to_string(i % 7) + "-h" + std::to_string(i % 13));
    r.bytes += r.data.back().size() + r.keys.back().size();
  }
  return r;
}

// What Kinesis answers when every record is accepted.
std::string acceptedJsonAnswer() {
  std::string body = "{\"FailedRecordCount\":0,\"Records\":[";
  for (size_t i = 0; i < kRecords; ++i) {
    if (i != 0) body += ',';
    body += "{\"SequenceNumber\":\"49590338271490256608559692538361571095921575989136588898\","
            "\"ShardId\":\"shardId-000000000007\"}";
  }
  body += "],\"EncryptionType\":\"NONE\"}";
  return body;
}

// The same answer in CBOR (definite lengths; sequence numbers are text).
std::string acceptedCborAnswer() {
  auto text = [](std::string& out, std::string_view value) {
    if (value.size() < 24) {
      out.push_back(static_cast<char>(0x60 + value.size()));
    } else {
      out.push_back(static_cast<char>(0x78));
      out.push_back(static_cast<char>(value.size()));
    }
    out += value;
  };
  std::string body = "\xa3";
  text(body, "FailedRecordCount");
  body.push_back('\0');
  text(body, "Records");
  body += "\x99\x01\xf4";  // array of 500
  for (size_t i = 0; i < kRecords; ++i) {
    body += "\xa2";
    text(body, "SequenceNumber");
    text(body, "49590338271490256608559692538361571095921575989136588898");
    text(body, "ShardId");
    text(body, "shardId-000000000007");
  }
  text(body, "EncryptionType");
  text(body, "NONE");
  return body;
}

void report(const char* part, Clock::duration elapsed, size_t requests) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  double records = static_cast<double>(requests * kRecords);
  std::printf("%-32s %8.1f ns/record %9.1f MB/s of record data\n", part, seconds * 1e9 / records,
              records * kRecordBytes / seconds / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  size_t requests = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4000;
  if (requests == 0) {
    std::fprintf(stderr, "usage: sink_hot_path_bench [requests per part > 0]\n");
    return 2;
  }
  const Request request = makeRequest();
  size_t sink = 0;  // keeps results alive

  for (WireProtocol protocol : {WireProtocol::kJson, WireProtocol::kCbor}) {
    const char* name = protocol == WireProtocol::kJson ? "json" : "cbor";
    PutRecordsEncoder encoder("StreamName", "bench", protocol);
    auto start = Clock::now();
    for (size_t n = 0; n < requests; ++n) {
      encoder.begin();
      for (size_t i = 0; i < kRecords; ++i) encoder.add(request.data[i], request.keys[i]);
      sink += encoder.finish().size();
    }
    report((std::string(name) + ": encode body").c_str(), Clock::now() - start, requests);

    encoder.begin();
    for (size_t i = 0; i < kRecords; ++i) encoder.add(request.data[i], request.keys[i]);
    const std::string body(encoder.finish());
    std::printf("%s: body %zu bytes for %zu bytes of data and keys\n", name, body.size(), request.bytes);
    kinship::aws::SigV4Signer signer("us-east-1", "kinesis");
    kinship::aws::Credentials credentials{"AKIDEXAMPLE", "secret", ""};
    start = Clock::now();
    for (size_t n = 0; n < requests; ++n) {
      kinship::aws::SigningRequest signing{.method = "POST", .path = "/", .query = "",
                             .headers = {{"Host", "kinesis.us-east-1.amazonaws.com"},
                                         {"Content-Type", std::string(contentTypeOf(protocol))},
                                         {"X-Amz-Target", "Kinesis_20131202.PutRecords"}},
                             .payload = body};
      sink += signer.sign(signing, credentials, std::chrono::system_clock::now()).size();
    }
    report((std::string(name) + ": sign (SHA-256 of body)").c_str(), Clock::now() - start, requests);

    PutRecordsResponse response;
    const std::string answer = protocol == WireProtocol::kJson ? acceptedJsonAnswer() : acceptedCborAnswer();
    std::string copy;
    start = Clock::now();
    for (size_t n = 0; n < requests; ++n) {
      copy = answer;
      if (kinship::Status parsed = response.parse(copy, kRecords); !parsed) {
        std::fprintf(stderr, "sink_hot_path_bench: the %s answer did not parse: %s\n", name, parsed.message().c_str());
        return 1;
      }
      sink += response.results().size();
    }
    report((std::string(name) + ": read the answer").c_str(), Clock::now() - start, requests);
  }

  PartitionKeyHasher hasher;
  auto start = Clock::now();
  for (size_t n = 0; n < requests; ++n) {
    for (size_t i = 0; i < kRecords; ++i) sink += static_cast<size_t>(hasher.hash(request.keys[i]) & 1);
  }
  report("hash partition keys (91)", Clock::now() - start, requests);

  std::printf("(checksum %zu)\n", sink);
  return 0;
}
